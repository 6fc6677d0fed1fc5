/**
 * Builds the WebAssembly function of one region: guest registers in i64
 * locals, memory accesses probing the address space's TLB (which lives in
 * the pool), the flags as a producer known at translation time or, at block
 * entry, described at run time by the locals gop/gsz/ga/gb/gr/gcin/fl (the
 * Cpu's lazy-flag fields), and the region's exits.
 *
 * Every access that cannot be done inline (TLB miss, page crossing) leaves
 * the region just before the instruction, with the registers and flags as
 * they were before it: the instruction's translation probes every address
 * it touches before it changes anything.
 */
import { FlagOp, ARITH_FLAGS } from '../cpu.js';
import { SEG_FS, SEG_NONE, type Instr } from '../instr.js';
import { TLB_BYTES, TLB_INDEX_MASK, TLB_TAG_SHIFT } from '../../mem/address-space.js';
import { FunctionBody, I32, I64, Op } from './encoder.js';
import { type Operands, SIZE_MASK, pushCF, pushFlags, pushOF, pushSign, pushZF, pushPF } from './flags.js';
import * as S from './state.js';
import { FALLBACK_SLOT, FALLBACK_TYPE_INDEX, MAT_SLOT, MAT_TYPE_INDEX, NEST_SLOT, NEST_TYPE_INDEX } from './helpers.js';
import { addWindow, pickWindow, rebaseWindows, type BaseWindow } from '../jit/page-windows.js';

/** The 16 general registers. */
const ALL_REGS = Array.from({ length: 16 }, (_, n) => n);

/** The flags at the current point of the translation. */
type FlagState =
  /** Described at run time by the locals gop… (block entry). */
  | { kind: 'dyn' }
  /** All six bits in the local fl. */
  | { kind: 'explicit' }
  /** Produced by op at size from the operand locals o. */
  | { kind: 'lazy'; op: FlagOp; size: number; o: Operands };

/** How a block's last instruction leaves it. */
export type Terminator =
  /** ret: a call's return address. */
  | { kind: 'jump'; target: number; ret?: number }
  /** To target when the i32 local cond is nonzero, else to next. */
  | { kind: 'cond'; cond: number; target: number; next: number }
  /** To the address in the i64 local (ret: a call's return address). */
  | { kind: 'indirect'; local: number; ret?: number }
  /** Already left (for the interpreter to run the instruction). */
  | { kind: 'left' };

/**
 * A probed page (see BaseWindow): the host offset h (i32 local) and page
 * offset pofs of the anchor address; bytes [lo, hi) relative to the anchor
 * are known to be in the page.
 */
interface PageWindow extends BaseWindow {
  depth: number;
  h: number;
  pofs: number;
}

export class WasmEmitter {
  readonly f = new FunctionBody([I32, I32], [I32]);
  /** Guest registers (i64 locals). */
  readonly R: number[];
  readonly used = new Set<number>();
  readonly written = new Set<number>();
  // Control: the block index to run, instructions retired, and how the region left.
  readonly bi: number;
  /** The block being emitted: exits name it as the one control left from (xb), so blocks need not set xb as they run. */
  block = 0;
  readonly done: number;
  readonly xs: number;
  readonly xb: number;
  readonly xr: number;
  // The flags as the Cpu keeps them (block entry and exits).
  readonly gop: number;
  readonly gsz: number;
  readonly gcin: number;
  readonly fl: number;
  readonly ga: number;
  readonly gb: number;
  readonly gr: number;
  readonly fsb: number;
  readonly gsb: number;
  readonly tlb: number;
  readonly regp: number;
  usesFs = false;
  usesGs = false;

  flags: FlagState = { kind: 'dyn' };
  /** Bumped at each write of a register: a page window (see probe) follows one value of its base register. */
  private readonly versions = new Array<number>(16).fill(0);
  /** Address locals known to be base register + displacement. */
  private readonly addrs = new Map<number, { reg: number; version: number; disp: number }>();
  private windows: PageWindow[] = [];
  /** Flags live after the current instruction (see compile.ts flagLiveness). */
  liveAfter = ARITH_FLAGS;
  /** The current instruction: its address and index in its block. */
  addr = 0;
  local = 0;
  private zero32 = -1;

  constructor(readonly scratch: number) {
    const f = this.f;
    // A window opened inside a construct (an if) is not known to have been probed after it.
    f.onEnd = (depth) => {
      this.windows = this.windows.filter((w) => w.depth <= depth);
    };
    this.R = Array.from({ length: 16 }, () => f.local(I64));
    this.bi = f.local(I32);
    this.done = f.local(I32);
    this.xs = f.local(I32);
    this.xb = f.local(I32);
    this.xr = f.local(I64);
    this.gop = f.local(I32);
    this.gsz = f.local(I32);
    this.gcin = f.local(I32);
    this.fl = f.local(I32);
    this.ga = f.local(I64);
    this.gb = f.local(I64);
    this.gr = f.local(I64);
    this.fsb = f.local(I64);
    this.gsb = f.local(I64);
    this.tlb = f.local(I32);
    this.regp = f.local(I32);
  }

  /**
   * A temporary i64 (i32) local. Temporaries live within one instruction,
   * unless the flags or a page window name them, and within one block: later
   * ones reuse them (endInstr, beginBlock). A region of 20 blocks had 330
   * locals, and TurboFan's tier-up of it merges every one at each join.
   */
  t64(): number {
    return this.temp(this.free64, this.taken64, I64);
  }
  t32(): number {
    return this.temp(this.free32, this.taken32, I32);
  }
  private temp(free: number[], taken: number[], type: number): number {
    const l = free.pop() ?? this.f.local(type);
    taken.push(l);
    return l;
  }
  private readonly free64: number[] = [];
  private readonly free32: number[] = [];
  private readonly taken64: number[] = [];
  private readonly taken32: number[] = [];
  /** Pops the i64 on the stack into a new local. */
  keep64(): number {
    const l = this.t64();
    this.f.set(l);
    return l;
  }
  keep32(): number {
    const l = this.t32();
    this.f.set(l);
    return l;
  }
  /** A new i64 local holding v. */
  const64(v: number | bigint): number {
    this.f.i64(v);
    return this.keep64();
  }

  // ------------------------------------------------------------------ registers

  reg(n: number): number {
    this.used.add(n);
    return this.R[n];
  }
  /** Pushes register n read at size, zero-extended. 8-bit encodings 16..19 are ah..bh. */
  getReg(n: number, size: number): void {
    const f = this.f;
    if (size === 1 && n >= 16) {
      f.get(this.reg(n - 16)).i64(8).op(Op.i64ShrU).i64(0xff).op(Op.i64And);
      return;
    }
    f.get(this.reg(n));
    this.mask(size);
  }
  /** Masks the i64 on the stack to size (nothing for 8). */
  mask(size: number): void {
    if (size !== 8) this.f.i64(SIZE_MASK[size]).op(Op.i64And);
  }
  private wrote(n: number): void {
    this.written.add(n);
    this.versions[n]++;
  }
  /** The version of register n's value (see rebase). */
  version(n: number): number {
    return this.versions[n];
  }
  /** Register n was just set to its value of version `was` plus delta: its page windows follow it. */
  rebase(n: number, was: number, delta: number): void {
    rebaseWindows(this.windows, n, was, this.versions[n], delta);
  }
  /**
   * After an instruction (not the block's last): its temporaries are free
   * except those the flags or a page window still name; what its addresses
   * were (noteAddress) is forgotten.
   */
  endInstr(): void {
    if (this.addrs.size > 0) this.addrs.clear();
    this.release(this.taken64, this.free64);
    this.release(this.taken32, this.free32);
  }
  /** Moves the temporaries of taken that neither the flags nor a page window name to free (no allocation: this runs per instruction). */
  private release(taken: number[], free: number[]): void {
    const s = this.flags, lazy = s.kind === 'lazy' ? s.o : null;
    let k = 0;
    for (let j = 0; j < taken.length; j++) {
      const l = taken[j];
      let kept = lazy !== null && (l === lazy.a || l === lazy.b || l === lazy.r || l === lazy.cin);
      for (let w = 0; !kept && w < this.windows.length; w++) kept = this.windows[w].h === l || this.windows[w].pofs === l;
      if (kept) taken[k++] = l;
      else free.push(l);
    }
    taken.length = k;
  }
  /** Starts a block: no page is known to be probed, and the previous block's temporaries are free. */
  beginBlock(): void {
    this.windows = [];
    this.addrs.clear();
    this.free64.push(...this.taken64.splice(0));
    this.free32.push(...this.taken32.splice(0));
  }
  /** Records that the address local a is register reg + disp (its current value). */
  noteAddress(a: number, reg: number, disp: number): void {
    this.addrs.set(a, { reg, version: this.versions[reg], disp });
  }

  /** Register n read at size into a new local. */
  read(n: number, size: number): number {
    this.getReg(n, size);
    return this.keep64();
  }
  /** Pops an i64 and writes it to register n at size (x86 merge / zero-extension rules). */
  setReg(n: number, size: number): void {
    const f = this.f;
    if (size === 8) {
      this.wrote(n);
      f.set(this.reg(n));
      return;
    }
    if (size === 4) {
      this.wrote(n);
      f.i64(0xffffffffn).op(Op.i64And).set(this.reg(n));
      return;
    }
    const v = this.keep64();
    const hiByte = size === 1 && n >= 16;
    const r = hiByte ? n - 16 : n;
    this.wrote(r);
    const keep = size === 2 ? ~0xffffn : hiByte ? ~0xff00n : ~0xffn;
    f.get(this.reg(r)).i64(keep).op(Op.i64And).get(v).i64(size === 2 ? 0xffff : 0xff).op(Op.i64And);
    if (hiByte) f.i64(8).op(Op.i64Shl);
    f.op(Op.i64Or).set(this.reg(r));
  }

  // ------------------------------------------------------------------ memory

  /** The effective address of i's memory operand (or lea's value when lea) in a new i64 local. */
  ea(i: Instr, lea = false): number {
    const f = this.f;
    let any = false;
    if (i.base >= 0) {
      f.get(this.reg(i.base));
      any = true;
    }
    if (i.index >= 0) {
      f.get(this.reg(i.index));
      if (i.scale) f.i64(i.scale).op(Op.i64Shl);
      if (any) f.op(Op.i64Add);
      any = true;
    }
    if (!any) f.i64(i.disp);
    else if (i.disp !== 0) f.i64(i.disp).op(Op.i64Add);
    if (i.adsize === 4) f.i64(0xffffffffn).op(Op.i64And);
    if (!lea && i.seg !== SEG_NONE) {
      if (i.seg === SEG_FS) {
        this.usesFs = true;
        f.get(this.fsb);
      } else {
        this.usesGs = true;
        f.get(this.gsb);
      }
      f.op(Op.i64Add);
    }
    const a = this.keep64();
    // base + disp: later accesses through the same base may use its page window (see probe).
    if (!lea && i.base >= 0 && i.index < 0 && i.adsize === 8 && i.seg === SEG_NONE) this.noteAddress(a, i.base, i.disp);
    return a;
  }

  /**
   * The pool offset of size bytes at the address in local a, readable (or
   * writable), in a new i32 local; leaves the region before the instruction
   * when they are not (TLB miss, a page crossing, an address beyond user space).
   */
  probe(a: number, size: number, write: boolean): number {
    const f = this.f;
    const regOf = this.R.indexOf(a);
    const at = regOf >= 0 ? { reg: regOf, version: this.versions[regOf], disp: 0 } : this.addrs.get(a);
    const known = at !== undefined && at.version === this.versions[at.reg] ? at : undefined;
    // Through a window on the page of an earlier access by the same base register.
    const near = known ? pickWindow(this.windows, known.reg, known.version, write, known.disp, size, () => true) : null;
    if (near?.covered) {
      if (near.rel === 0) return near.w.h;
      f.get(near.w.h).i32(near.rel).op(Op.i32Add);
      return this.keep32();
    }
    const h = this.t32(), pofs = this.t32();
    if (near) {
      // In the window's page: its host offset plus the distance; otherwise (a structure across a page boundary) the TLB.
      const { w, rel } = near;
      f.get(w.pofs).i32(rel).op(Op.i32Add).tee(pofs).i32(4096 - size).op(Op.i32GtU).ifUnlikely('other-page');
      this.probeTlb(a, size, write, h, pofs);
      f.else();
      f.get(w.h).i32(rel).op(Op.i32Add).set(h);
      f.end();
    } else this.probeTlb(a, size, write, h, pofs);
    if (known) this.windows = addWindow(this.windows, { reg: known.reg, version: known.version, write, depth: f.nesting, h, pofs, off: -known.disp, lo: 0, hi: size });
    return h;
  }

  /**
   * Sets h and pofs (i32 locals) to the pool offset and page offset of size bytes at a, leaving the region on a
   * TLB miss or a page crossing. Each test is its own br_if: V8 then emits a compare and a branch for each,
   * where an i32.or of the conditions cost a setcc, a zero-extension and an or apiece.
   */
  private probeTlb(a: number, size: number, write: boolean, h: number, pofs: number): void {
    const f = this.f;
    const lo = this.t32(), e = this.t32(), tag = this.t64();
    const T = write ? TLB_BYTES : 0;
    f.open('block', 'hit').open('block', 'slow');
    f.get(a).op(Op.i32WrapI64).tee(lo).i32(4095).op(Op.i32And).set(pofs);
    if (size > 1) f.get(pofs).i32(4096 - size).op(Op.i32GtU).brIf('slow', false);
    // The set (tlbIndex), then way 0's tag against the address >> TLB_TAG_SHIFT; addresses at or above 2^47
    // never match (tags are below 2^24, or -1).
    f.get(lo).i32(10).op(Op.i32ShrU).i32(TLB_INDEX_MASK).op(Op.i32And).i32(2).op(Op.i32Shl).get(this.tlb).op(Op.i32Add).tee(e);
    f.mem(Op.i32Load, T).op(Op.i64ExtendI32U).get(a).i64(TLB_TAG_SHIFT).op(Op.i64ShrU).tee(tag).op(Op.i64Eq).brIf('hit');
    // Way 1 (the page way 0 held before).
    f.get(e).mem(Op.i32Load, T + 8).op(Op.i64ExtendI32U).get(tag).op(Op.i64Ne).brIf('slow', false);
    f.get(e).i32(8).op(Op.i32Add).set(e).br('hit');
    f.end();
    this.slowExit();
    f.end();
    f.get(e).mem(Op.i32Load, T + 4).get(pofs).op(Op.i32Add).set(h);
  }
  /** Pushes size bytes at pool offset h (i32 local), zero-extended to i64. */
  load(size: number, h: number): void {
    const op = size === 1 ? Op.i64Load8U : size === 2 ? Op.i64Load16U : size === 4 ? Op.i64Load32U : Op.i64Load;
    this.f.get(h).mem(op);
  }
  /** Loads into a new local. */
  loadTo(size: number, h: number): number {
    this.load(size, h);
    return this.keep64();
  }
  /** Stores the low size bytes of the i64 local v at pool offset h. */
  store(size: number, h: number, v: number): void {
    const op = size === 1 ? Op.i64Store8 : size === 2 ? Op.i64Store16 : size === 4 ? Op.i64Store32 : Op.i64Store;
    this.f.get(h).get(v).mem(op);
  }

  /** Leaves for the interpreter unless DF is clear (string instructions run forward only here). */
  requireForward(): void {
    this.f.i32(0).mem(Op.i32Load, this.scratch + S.S_DF).ifUnlikely('df');
    this.slowExit();
    this.f.end();
  }

  // ------------------------------------------------------------------ flags

  live(mask: number): boolean {
    return (this.liveAfter & mask) !== 0;
  }
  /** An i32 local holding 0 (the carry in of producers without one). */
  private zero(): number {
    if (this.zero32 < 0) this.zero32 = this.f.local(I32); // never written: not a temporary
    return this.zero32;
  }
  /** Records a flag producer (operands: i64 locals zero-extended to size; cin: i32 local). */
  produce(op: FlagOp, size: number, a: number, b: number, r: number, cin = -1): void {
    this.flags = { kind: 'lazy', op, size, o: { a, b, r, cin: cin >= 0 ? cin : this.zero() } };
  }
  /** Pops EFLAGS bits (all six arithmetic flags) into fl. */
  setExplicit(): void {
    this.f.set(this.fl);
    this.flags = { kind: 'explicit' };
  }
  /** Makes fl hold all six flags. */
  materialize(): void {
    const s = this.flags, f = this.f;
    if (s.kind === 'explicit') return;
    if (s.kind === 'lazy') pushFlags(f, s.op, s.size, s.o);
    else this.callMat();
    this.setExplicit();
  }
  /** Pushes CF (i32 0/1). */
  pushCarry(): void {
    this.pushFlag(0);
  }
  /** Pushes the flag at EFLAGS bit `bit` (CF 0, PF 2, ZF 6, SF 7, OF 11) as i32 0/1, from the flags as they are described now. */
  private pushFlag(bit: number): void {
    const s = this.flags, f = this.f;
    if (s.kind === 'lazy') {
      const { op, size, o } = s;
      if (bit === 0) pushCF(f, op, o);
      else if (bit === 2) pushPF(f, o.r);
      else if (bit === 6) pushZF(f, o.r);
      else if (bit === 7) pushSign(f, o.r, size);
      else pushOF(f, op, size, o);
    } else if (s.kind === 'dyn' && bit !== 2) this.dynFlag(bit);
    else {
      this.materialize();
      this.bit(bit);
    }
  }

  /** Calls mat on the run-time description: pushes all six flags. */
  private callMat(): void {
    this.f.get(this.gop).get(this.gsz).get(this.ga).get(this.gb).get(this.gr).get(this.gcin).get(this.fl).i32(MAT_SLOT).op(0x11, MAT_TYPE_INDEX, 0); // call_indirect
  }
  /**
   * Pushes flag bit `bit` (CF, ZF, SF or OF) of the run-time description
   * without materializing the others: the common producers inline (their
   * operands are masked to gsz, see prologue), the rest through mat.
   */
  private dynFlag(bit: number): void {
    const f = this.f;
    const viaMat = () => {
      this.callMat();
      f.i32(bit).op(Op.i32ShrU).i32(1).op(Op.i32And);
    };
    const signBit = (v: () => void) => {
      v();
      f.get(this.gsz).i32(3).op(Op.i32Shl).i32(1).op(Op.i32Sub, Op.i64ExtendI32U, Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
    };
    const isOp = (op: number) => f.get(this.gop).i32(op).op(Op.i32Eq);
    // Explicit: the bit of fl.
    f.get(this.gop).op(Op.i32Eqz).open('if', 'explicit', I32);
    this.bit(bit);
    f.else();
    switch (bit) {
      case 6:
        f.get(this.gr).op(Op.i64Eqz);
        break;
      case 7:
        signBit(() => f.get(this.gr));
        break;
      case 0:
        isOp(FlagOp.Sub).open('if', 'sub', I32).get(this.ga).get(this.gb).op(Op.i64LtU).else();
        isOp(FlagOp.Logic).open('if', 'logic', I32).i32(0).else();
        isOp(FlagOp.Add).open('if', 'add', I32).get(this.gr).get(this.ga).op(Op.i64LtU).else();
        f.get(this.gop).i32(FlagOp.Inc).op(Op.i32GeU).open('if', 'incdec', I32).get(this.gcin).else();
        viaMat();
        f.end().end().end().end();
        break;
      default:
        isOp(FlagOp.Sub).open('if', 'sub', I32);
        signBit(() => f.get(this.ga).get(this.gb).op(Op.i64Xor).get(this.ga).get(this.gr).op(Op.i64Xor).op(Op.i64And));
        f.else();
        isOp(FlagOp.Logic).open('if', 'logic', I32).i32(0).else();
        viaMat();
        f.end().end();
    }
    f.end();
  }
  /** Pushes flag bit `bit` of fl (after materializing). */
  private bit(bit: number): void {
    this.f.get(this.fl).i32(bit).op(Op.i32ShrU).i32(1).op(Op.i32And);
  }
  /** Pushes a signed comparison of the lazy operands' a and b, sign-extended from size. */
  private signed(size: number, o: Operands, cmp: number): void {
    const f = this.f;
    const ext = size === 1 ? Op.i64Extend8S : size === 2 ? Op.i64Extend16S : size === 4 ? Op.i64Extend32S : -1;
    f.get(o.a);
    if (ext >= 0) f.op(ext);
    f.get(o.b);
    if (ext >= 0) f.op(ext);
    f.op(cmp);
  }
  /** Pushes condition code cc (Jcc/SETcc/CMOVcc) as i32 0/1. */
  pushCond(cc: number): void {
    const f = this.f;
    const s = this.flags;
    const inv = (cc & 1) !== 0;
    if (s.kind === 'lazy') {
      const { op, size, o } = s;
      const kind = cc >> 1;
      if (op === FlagOp.Sub) {
        // cmp/sub: compare the operands themselves.
        const direct: Record<number, () => void> = {
          1: () => f.get(o.a).get(o.b).op(Op.i64LtU),
          2: () => f.get(o.a).get(o.b).op(Op.i64Eq),
          3: () => f.get(o.a).get(o.b).op(Op.i64LeU),
          6: () => this.signed(size, o, Op.i64LtS),
          7: () => this.signed(size, o, Op.i64LeS),
        };
        if (direct[kind]) {
          direct[kind]();
          if (inv) f.op(Op.i32Eqz);
          return;
        }
      }
    }
    // The flags the condition reads, one by one (cmp/sub above compared its operands instead).
    switch (cc >> 1) {
      case 0: this.pushFlag(11); break;
      case 1: this.pushFlag(0); break;
      case 2: this.pushFlag(6); break;
      case 3: this.pushFlag(0); this.pushFlag(6); f.op(Op.i32Or); break;
      case 4: this.pushFlag(7); break;
      case 5: this.pushFlag(2); break;
      case 6: this.pushFlag(7); this.pushFlag(11); f.op(Op.i32Xor); break;
      default: this.pushFlag(7); this.pushFlag(11); f.op(Op.i32Xor); this.pushFlag(6); f.op(Op.i32Or);
    }
    if (inv) f.op(Op.i32Eqz);
  }
  /** The condition in a new i32 local. */
  cond(cc: number): number {
    this.pushCond(cc);
    return this.keep32();
  }

  /** Puts the current flags into the run-time description (gop…): what exits store and block heads start from. */
  syncFlags(): void {
    const s = this.flags, f = this.f;
    if (s.kind === 'dyn') return;
    if (s.kind === 'explicit') {
      f.i32(FlagOp.Explicit).set(this.gop);
      return;
    }
    f.i32(s.op).set(this.gop).i32(s.size).set(this.gsz);
    f.get(s.o.a).set(this.ga).get(s.o.b).set(this.gb).get(s.o.r).set(this.gr).get(s.o.cin).set(this.gcin);
  }

  // ------------------------------------------------------------------ exits

  /** Counts k more retired instructions. */
  retire(k: number): void {
    if (k) this.f.get(this.done).i32(k).op(Op.i32Add).set(this.done);
  }
  /**
   * Leaves the region just before the current instruction, which the engine
   * then runs in the interpreter (registers and flags as before it).
   */
  slowExit(): void {
    this.syncFlags();
    this.retire(this.local);
    this.f.i64(this.addr);
    this.leave(1);
  }
  /** Leaves the region for the address on the stack (i64), after the block's n instructions. */
  exitTo(): void {
    this.leave(0);
  }
  /** To the exit path: rip from the stack, how it left, and from which block. */
  private leave(slow: 0 | 1): void {
    this.f.set(this.xr).i32(slow).set(this.xs).i32(this.block).set(this.xb).br('exit');
  }

  /** The prologue (code in the region's local space): registers, flags and segment bases from the scratch frame. */
  prologue(): FunctionBody {
    const p = new FunctionBody([I32, I32], [I32]);
    const at = (off: number) => this.scratch + off;
    p.i32(0).mem(Op.i32Load, at(S.S_REGP)).set(this.regp);
    this.loadRegisters(p, [...this.used].sort((x, y) => x - y));
    this.loadFlags(p);
    if (this.usesFs) p.i32(0).mem(Op.i64Load, at(S.S_FS)).set(this.fsb);
    if (this.usesGs) p.i32(0).mem(Op.i64Load, at(S.S_GS)).set(this.gsb);
    p.i32(0).mem(Op.i32Load, at(S.S_TLB)).set(this.tlb);
    if (this.self >= 0) p.i32(0).mem(Op.i32Load, at(S.S_LAST)).set(this.self);
    p.get(1).set(this.bi);
    return p;
  }

  /** Code in b that loads guest registers ns from the register slot into their locals. */
  private loadRegisters(b: FunctionBody, ns: Iterable<number>): void {
    for (const n of ns) b.get(this.regp).mem(Op.i64Load, 8 * n).set(this.R[n]);
  }
  /** Stores guest registers ns from their locals into the register slot. */
  private storeRegisters(ns: Iterable<number>): void {
    for (const n of ns) this.f.get(this.regp).get(this.R[n]).mem(Op.i64Store, 8 * n);
  }

  /** Code in b that loads the run-time flag description (gop…) from the scratch frame; its operands are masked to the size already (scratch.ts), as the region's own producers leave them. */
  private loadFlags(b: FunctionBody): void {
    const at = (off: number) => this.scratch + off;
    b.i32(0).mem(Op.i32Load, at(S.S_FOP)).set(this.gop);
    b.i32(0).mem(Op.i32Load, at(S.S_FSZ)).set(this.gsz);
    b.i32(0).mem(Op.i32Load, at(S.S_FCIN)).set(this.gcin);
    b.i32(0).mem(Op.i32Load, at(S.S_FL)).set(this.fl);
    b.i32(0).mem(Op.i64Load, at(S.S_FRES)).set(this.gr);
    b.i32(0).mem(Op.i64Load, at(S.S_FA)).set(this.ga);
    b.i32(0).mem(Op.i64Load, at(S.S_FB)).set(this.gb);
  }
  /** Stores the run-time flag description (gop…) into the scratch frame. */
  private storeFlags(): void {
    const f = this.f, at = (off: number) => this.scratch + off;
    f.i32(0).get(this.gop).mem(Op.i32Store, at(S.S_FOP));
    f.i32(0).get(this.gsz).mem(Op.i32Store, at(S.S_FSZ));
    f.i32(0).get(this.gcin).mem(Op.i32Store, at(S.S_FCIN));
    f.i32(0).get(this.fl).mem(Op.i32Store, at(S.S_FL));
    f.i32(0).get(this.gr).mem(Op.i64Store, at(S.S_FRES));
    f.i32(0).get(this.ga).mem(Op.i64Store, at(S.S_FA));
    f.i32(0).get(this.gb).mem(Op.i64Store, at(S.S_FB));
  }

  /** Before a call out (fallback, callOut): every register to the slot, the (synced) flags to the scratch frame. */
  private handOver(): void {
    this.storeFlags();
    for (const n of ALL_REGS) this.reg(n); // loaded by the prologue
    this.storeRegisters(ALL_REGS);
  }
  /**
   * After it: registers and flags back as the callee left them. No page window holds (a page may map elsewhere
   * now), nor does any register's value (versions); `written`: the registers count as written by the region.
   */
  private takeBack(written: boolean): void {
    this.loadRegisters(this.f, ALL_REGS);
    for (const n of ALL_REGS) {
      if (written) this.wrote(n);
      else this.versions[n]++;
    }
    this.loadFlags(this.f);
    this.flags = { kind: 'dyn' };
    this.windows = [];
  }

  /** The region's instructions that run through the fallback, by fallback number. */
  readonly fallbacks: Instr[] = [];

  /**
   * Runs instruction i through the fallback (see fallback.ts): every register
   * and the flags go to the Cpu's slot and the scratch frame before, and come
   * back after.
   */
  fallback(i: Instr): void {
    const f = this.f;
    const k = this.fallbacks.length;
    this.fallbacks.push(i);
    this.syncFlags();
    this.handOver();
    f.i32(k).i32(FALLBACK_SLOT).op(0x11, FALLBACK_TYPE_INDEX, 0); // call_indirect
    const status = this.keep32();
    this.takeBack(true);
    f.get(status).i32(1).op(Op.i32Eq).ifUnlikely('fault');
    this.slowExit();
    f.end();
    // It wrote code: the region may be gone, leave after the instruction.
    f.get(status).ifUnlikely('code-written');
    this.retire(this.local + 1);
    f.i64(i.next);
    this.exitTo();
    f.end();
  }

  /**
   * A call out of the region, to the address pushTarget pushes (i64), whose
   * return address ret is a block of the region: through nest (chain.ts),
   * then onReturn() (the jump to ret's block) when control came back there,
   * or leaving for where control went. When nest ran nothing (no region for
   * the target, the depth used up) the region leaves for the target, as
   * without it. The block's instructions are retired and its flags synced.
   * Every register and the flags go to the slot and the scratch frame before,
   * and come back after, as for a fallback.
   */
  callOut(pushTarget: () => void, ret: number, onReturn: () => void): void {
    const f = this.f;
    const at = (off: number) => this.scratch + off;
    // The budget is checked before entering the callee's block, as before any block.
    f.get(this.done).get(0).op(Op.i32GeS).ifUnlikely('budget');
    pushTarget();
    this.exitTo();
    f.end();
    this.handOver();
    if (this.self < 0) this.self = f.local(I32); // loaded by the prologue
    const gen = this.t32();
    f.i32(0).mem(Op.i32Load, at(S.S_GEN)).set(gen);
    f.get(0).get(this.done).op(Op.i32Sub);
    pushTarget();
    f.i64(ret).i32(NEST_SLOT).op(0x11, NEST_TYPE_INDEX, 0); // call_indirect
    const ran = this.keep32();
    f.get(ran).i32(0).op(0x48 /* i32.lt_s */).ifUnlikely('ran-nothing');
    pushTarget();
    this.exitTo();
    f.end();
    f.get(this.done).get(ran).op(Op.i32Add).set(this.done);
    this.takeBack(false);
    // Back at ret, no slow exit, no region dropped meanwhile, budget left: on in place, as the region that runs.
    f.i32(0).mem(Op.i32Load, at(S.S_SLOW)).op(Op.i32Eqz);
    f.i32(0).mem(Op.i64Load, at(S.S_RIP)).i64(ret).op(Op.i64Eq, Op.i32And);
    f.i32(0).mem(Op.i32Load, at(S.S_GEN)).get(gen).op(Op.i32Eq, Op.i32And);
    f.get(this.done).get(0).op(0x48 /* i32.lt_s */, Op.i32And);
    f.ifLikely('returned');
    f.i32(0).get(this.self).mem(Op.i32Store, at(S.S_LAST));
    f.i32(0).i32(0).mem(Op.i32Load, at(S.S_NESTED)).i32(1).op(Op.i32Add).mem(Op.i32Store, at(S.S_NESTED));
    onReturn();
    f.end();
    // Elsewhere: leave as the region that ran last left (S_LAST still names it).
    f.i32(0).mem(Op.i64Load, at(S.S_RIP)).set(this.xr);
    f.i32(0).mem(Op.i32Load, at(S.S_SLOW)).set(this.xs);
    f.i32(0).mem(Op.i32Load, at(S.S_FROM)).set(this.xb);
    f.br('exit');
  }
  /** The region's own table index (S_LAST at entry), for callOut; -1 until a call out needs it. */
  private self = -1;

  /** The exit path (after the exit label): registers written and the state back to the scratch frame. */
  epilogue(): void {
    const f = this.f;
    const at = (off: number) => this.scratch + off;
    this.storeRegisters([...this.written].sort((x, y) => x - y));
    f.i32(0).get(this.xr).mem(Op.i64Store, at(S.S_RIP));
    this.storeFlags();
    f.i32(0).get(this.xs).mem(Op.i32Store, at(S.S_SLOW));
    f.i32(0).get(this.xb).mem(Op.i32Store, at(S.S_FROM));
    f.get(this.done);
  }
}
