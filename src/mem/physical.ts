import { PAGE_SIZE } from './fault.js';
import { wasmBulk, type Bulk } from './bulk.js';

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
 * makes many kernels (the in-process tests, fuzzers) keeps the default (V8
 * also caps the address space all WebAssembly memories may reserve).
 *
 * The shared pool is a shared WebAssembly.Memory, whose buffer is such a
 * SharedArrayBuffer, so that bulk copies and fills go through memory.copy /
 * memory.fill (see bulk.ts): typed-array copies on a shared buffer are up to
 * 15 times slower when source and destination are not equally aligned.
 */
/** WebAssembly's page size. */
const WASM_PAGE = 65536;

/**
 * A shared WebAssembly memory of `pages` pages, or null where V8 cannot reserve
 * one: it reserves several times the size for guard regions, which a virtual
 * memory limit (ulimit -v) may refuse where a plain SharedArrayBuffer fits.
 */
function wasmMemory(pages: number): WebAssembly.Memory | null {
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** Bytes of a register slot (see allocRegisterSlot): 16 general registers of 8 bytes, then 16 xmm registers of 16. */
export const REGISTER_SLOT = 384;

export class PhysicalMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  private next = 0;
  private readonly free: number[] = [];
  private inUse = 0;

  private readonly bulk: Bulk | null = null;
  /** The shared WebAssembly memory the pool is, or null (then translated regions stay JavaScript). */
  readonly memory: WebAssembly.Memory | null;
  /** Blocks of TLB_BLOCK_FRAMES frames given back by dead address spaces (see allocTlbBlock). */
  private readonly tlbBlocks: number[] = [];
  private scratchOff = -1;
  private readonly regSlots: number[] = [];
  /** Bytes the frames may use (the buffer of a shared pool is rounded up to whole WebAssembly pages). */
  readonly capacity: number;

  constructor(readonly limitBytes: number = 2 ** 31 - PAGE_SIZE, shared = false) {
    const size = Math.min(limitBytes, 2 ** 31 - PAGE_SIZE);
    this.capacity = size - (size % PAGE_SIZE);
    const memory = shared ? wasmMemory(Math.ceil(this.capacity / WASM_PAGE)) : null;
    this.memory = memory;
    if (memory !== null) {
      this.buffer = memory.buffer;
      this.bulk = wasmBulk(memory, memory.buffer.byteLength / WASM_PAGE);
    } else this.buffer = shared ? new SharedArrayBuffer(this.capacity) : new ArrayBuffer(this.capacity);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Copies n bytes inside the pool (memmove). */
  copy(dst: number, src: number, n: number): void {
    if (this.bulk !== null) this.bulk.copy(dst, src, n);
    else this.bytes.copyWithin(dst, src, src + n);
  }

  /** Sets n bytes at off to v. */
  fill(off: number, n: number, v: number): void {
    if (this.bulk !== null) this.bulk.fill(off, v, n);
    else this.bytes.fill(v, off, off + n);
  }

  /** Allocates a zeroed frame and returns its byte offset, or -1 when the pool is exhausted. */
  alloc(): number {
    this.inUse++;
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.next + PAGE_SIZE > this.capacity) {
      this.inUse--;
      return -1;
    }
    const off = this.next;
    this.next += PAGE_SIZE;
    return off;
  }

  /** Returns a frame to the pool; it is zeroed so the next owner sees fresh memory. */
  release(off: number): void {
    this.fill(off, PAGE_SIZE, 0);
    this.free.push(off);
    this.inUse--;
  }

  /**
   * Consecutive frames for an address space's TLBs, which WebAssembly code
   * probes, so they live in the pool (-1 when it is exhausted). Blocks are
   * reused only as TLB blocks: a dead address space's views may still be
   * flushed, and must not alias a guest page.
   */
  allocTlbBlock(frames: number): number {
    const f = this.tlbBlocks.pop();
    if (f !== undefined) return f;
    if (this.next + frames * PAGE_SIZE > this.capacity) return -1;
    const off = this.next;
    this.next += frames * PAGE_SIZE;
    return off;
  }
  releaseTlbBlock(off: number): void {
    this.tlbBlocks.push(off);
  }

  /**
   * A REGISTER_SLOT-byte slot for a Cpu's registers (which WebAssembly code
   * reads and writes in place), 16-byte aligned, from frames used for
   * nothing else; -1 when the pool is exhausted.
   */
  allocRegisterSlot(): number {
    if (this.regSlots.length === 0) {
      if (this.next + PAGE_SIZE > this.capacity) return -1;
      for (let o = PAGE_SIZE - REGISTER_SLOT - (PAGE_SIZE % REGISTER_SLOT); o >= 0; o -= REGISTER_SLOT) this.regSlots.push(this.next + o);
      this.next += PAGE_SIZE;
    }
    return this.regSlots.pop()!;
  }
  releaseRegisterSlot(off: number): void {
    this.regSlots.push(off);
  }

  /** One frame where translated WebAssembly code and the engine exchange the CPU state (see cpu/wasm/state.ts). */
  get scratch(): number {
    if (this.scratchOff < 0) {
      if (this.next + PAGE_SIZE > this.capacity) throw new Error('elfshim: memory pool exhausted');
      this.scratchOff = this.next;
      this.next += PAGE_SIZE;
    }
    return this.scratchOff;
  }

  get framesInUse(): number {
    return this.inUse;
  }

  /** Bytes at the start of the pool that were ever handed out: everything a guest can have written lies below. */
  get highWater(): number {
    return this.next;
  }
}
