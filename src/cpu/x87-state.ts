/**
 * Architectural x87 state, in the layout FXSAVE uses, so the debugger, the
 * signal frame and fxsave/fxrstor all read the same bytes.
 *
 * Physical registers R0..R7 are kept as 10-byte little-endian 80-bit extended
 * values (64-bit significand with explicit integer bit, then sign+exponent).
 * ST(i) is physical register (top + i) & 7.
 */
export class X87State {
  /** R0..R7, 10 bytes each, little-endian 80-bit extended format. */
  readonly regs = new Uint8Array(80);
  readonly regsView = new DataView(this.regs.buffer);
  /** Control word (FNINIT value 0x037f: all exceptions masked, 64-bit precision, round to nearest). */
  fcw = 0x037f;
  /** Status word without TOP (bits 11-13 are taken from `top`). */
  fsw = 0;
  /** Stack top (0..7). */
  top = 0;
  /** Full tag word: 2 bits per physical register; 3 = empty. */
  ftw = 0xffff;
  /** Last instruction/data pointers and opcode (as fxsave stores them). */
  fip = 0;
  fdp = 0;
  fop = 0;

  /** FSW with TOP merged in, as fnstsw returns it. */
  get statusWord(): number {
    return (this.fsw & ~0x3800) | ((this.top & 7) << 11);
  }
  set statusWord(v: number) {
    this.fsw = v & ~0x3800 & 0xffff;
    this.top = (v >> 11) & 7;
  }

  /** Abridged tag byte (fxsave / gdb "ftag" uses the full word; this is bit-per-register). */
  get abridgedTag(): number {
    let t = 0;
    for (let k = 0; k < 8; k++) if (((this.ftw >> (2 * k)) & 3) !== 3) t |= 1 << k;
    return t;
  }

  reset(): void {
    this.regs.fill(0);
    this.fcw = 0x037f;
    this.fsw = 0;
    this.top = 0;
    this.ftw = 0xffff;
    this.fip = this.fdp = this.fop = 0;
  }

  copyFrom(o: X87State): void {
    this.regs.set(o.regs);
    this.fcw = o.fcw;
    this.fsw = o.fsw;
    this.top = o.top;
    this.ftw = o.ftw;
    this.fip = o.fip;
    this.fdp = o.fdp;
    this.fop = o.fop;
  }
}
