/**
 * Byte blocks handed out from one preallocated buffer, round robin: the fast differ makes two register blocks
 * per instruction (each side's `g` block, filled in place), and allocating each as its own typed array costs a
 * backing store (about 1 µs on this machine), a copy from a scratch block a native call. A block stays valid until
 * `slots` more blocks of the same ring were handed out; the differ keeps a block only for the instruction it
 * belongs to and the next one (the "before" state), never thousands of instructions, so a ring of thousands is
 * ample.
 */
export class BlockRing {
  private readonly buf: Uint8Array;
  private next = 0;

  constructor(
    private readonly size: number,
    private readonly slots = 8192,
  ) {
    // 8-byte aligned blocks: the differ reads them as 32-bit words.
    this.size = (size + 7) & ~7;
    this.buf = new Uint8Array(this.size * slots);
  }

  /** Each slot's view of `length` bytes, made on its first use (a subarray per call costs an allocation). */
  private readonly views: Uint8Array[] = [];
  private length = -1;

  /** The buffer the blocks live in (a writer fills a claimed block through its own views of it). */
  get buffer(): ArrayBuffer {
    return this.buf.buffer as ArrayBuffer;
  }

  /**
   * The next block (n bytes), to be filled in place: it holds what it held `slots` blocks ago (bytes a writer never
   * writes stay zero when the ring only ever holds one kind of block).
   */
  claim(n: number): Uint8Array {
    const k = this.next;
    this.next = k + 1 === this.slots ? 0 : k + 1;
    // Every block of a ring has one length in practice (a register structure): a different one drops the views.
    if (n !== this.length) {
      this.views.length = 0;
      this.length = n;
    }
    let b = this.views[k];
    if (b === undefined) {
      const o = k * this.size;
      b = this.views[k] = this.buf.subarray(o, o + n);
    }
    return b;
  }

}
