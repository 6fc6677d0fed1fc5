import { EMU_LAYOUT } from './native-registers.js';

/**
 * The per-instruction register check of the fast differ: both `g` blocks
 * are in one layout, so the compared registers are ranges of it (32-bit
 * words where aligned, and in elfshim's layout they all are) and a step
 * costs a loop over ~130 words, not a BigInt per register. eflags and the
 * x87 status word go through masks. Only a mismatch is worked out by name
 * (compareRegisters).
 */
export class RegisterComparator {
  /** [from, to) pairs: word indexes for aligned ranges, and byte ranges (negated) otherwise. */
  private readonly words: number[] = [];
  private readonly bytes: number[] = [];
  private readonly eflags = EMU_LAYOUT.get('eflags')!.offset / 4;
  private readonly fstat = EMU_LAYOUT.get('fstat')!.offset / 4;

  constructor(names: string[]) {
    const ranges = names
      .filter((n) => n !== 'eflags' && n !== 'fstat')
      .map((n) => EMU_LAYOUT.get(n)!)
      .map((s) => [s.offset, s.offset + s.size])
      .sort((a, b) => a[0] - b[0]);
    const merged: number[][] = [];
    for (const [lo, hi] of ranges) {
      const last = merged[merged.length - 1];
      if (last && lo <= last[1]) last[1] = Math.max(last[1], hi);
      else merged.push([lo, hi]);
    }
    for (const [lo, hi] of merged) {
      if (lo % 4 === 0 && hi % 4 === 0) this.words.push(lo / 4, hi / 4);
      else this.bytes.push(lo, hi);
    }
  }

  /** Word views of the buffers the blocks live in (each side's block ring: see block-ring.ts), made once. */
  private views = new Map<ArrayBufferLike, Int32Array>();

  private wordsOf(b: Uint8Array): Int32Array {
    let v = this.views.get(b.buffer);
    if (!v) {
      if (this.views.size > 8) this.views.clear();
      v = new Int32Array(b.buffer, 0, b.buffer.byteLength >> 2);
      this.views.set(b.buffer, v);
    }
    return v;
  }

  same(n: Uint8Array, e: Uint8Array, eflagsMask: number, fstatMask: number): boolean {
    const nw = this.wordsOf(n), ew = this.wordsOf(e), no = n.byteOffset >> 2, eo = e.byteOffset >> 2;
    const w = this.words;
    for (let k = 0; k < w.length; k += 2) for (let j = w[k]; j < w[k + 1]; j++) if (nw[no + j] !== ew[eo + j]) return false;
    const b = this.bytes;
    for (let k = 0; k < b.length; k += 2) for (let j = b[k]; j < b[k + 1]; j++) if (n[j] !== e[j]) return false;
    if ((nw[no + this.eflags] ^ ew[eo + this.eflags]) & eflagsMask) return false;
    return ((nw[no + this.fstat] ^ ew[eo + this.fstat]) & fstatMask) === 0;
  }
}
