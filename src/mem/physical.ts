import { PAGE_SIZE } from './fault.js';

/**
 * Guest "physical" memory: one large buffer carved into 4 KiB frames.
 *
 * The buffer is reserved up front but the host OS only commits the pages that
 * are touched, so a 2 GiB pool costs nothing until the guest uses it. Frame
 * offsets stay below 2^31 so that every offset is a V8 small integer and the
 * DataView accesses on the hot path stay on their fast path.
 *
 * `shared`: a SharedArrayBuffer (never shared with a worker) instead. V8 counts
 * an ArrayBuffer's whole length as external memory at once: 2 GiB of it forces
 * a full memory-reducing GC (12-25 ms of a 130 ms hello world's startup). V8
 * does not count shared backing stores, and typed arrays and DataViews over one
 * compile to the same code on the hot path. The price: V8 no longer knows what
 * the pool weighs, so a dead kernel's pool waits for an unrelated GC to be
 * freed. Right for the CLI (one kernel until the process exits); a process that
 * makes many kernels (the in-process tests, fuzzers) keeps the default.
 */
export class PhysicalMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private next = 0;
  private readonly free: number[] = [];
  private inUse = 0;

  constructor(readonly limitBytes: number = 2 ** 31 - PAGE_SIZE, shared = false) {
    const size = Math.min(limitBytes, 2 ** 31 - PAGE_SIZE);
    this.buffer = shared ? new SharedArrayBuffer(size - (size % PAGE_SIZE)) : new ArrayBuffer(size - (size % PAGE_SIZE));
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Allocates a zeroed frame and returns its byte offset, or -1 when the pool is exhausted. */
  alloc(): number {
    this.inUse++;
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.next + PAGE_SIZE > this.buffer.byteLength) {
      this.inUse--;
      return -1;
    }
    const off = this.next;
    this.next += PAGE_SIZE;
    return off;
  }

  /** Returns a frame to the pool; it is zeroed so the next owner sees fresh memory. */
  release(off: number): void {
    this.bytes.fill(0, off, off + PAGE_SIZE);
    this.free.push(off);
    this.inUse--;
  }

  get framesInUse(): number {
    return this.inUse;
  }

  /** Bytes at the start of the pool that were ever handed out: everything a guest can have written lies below. */
  get highWater(): number {
    return this.next;
  }
}
