/**
 * The state of translating a region: JavaScript source being written, which
 * guest registers live in locals, where the arithmetic flags are, and the
 * helpers every instruction translation uses (registers at a size, effective
 * addresses, memory accesses with the inlined TLB probe, fallbacks).
 *
 * Conventions of the generated code (see compile.ts for the frame):
 * - Guest register n lives in the int32 locals NAME (low half) and NAMEh
 *   (high half), loaded at entry and written back at every exit and before
 *   fallbacks (those assigned since the last sync).
 * - An instruction performs all its memory accesses (whose slow path leaves
 *   the region just before the instruction) before it assigns any local, so
 *   the state the interpreter resumes from is the one before it.
 * - Values follow the interpreter: 8/16-bit values are zero-extended, 32-bit
 *   values int32, 64-bit values two int32 halves.
 */
import { addWindow, pickWindow, rebaseWindows, type BaseWindow } from './page-windows.js';
import { SEG_FS, SEG_NONE, type Instr } from '../instr.js';
import { tlbIndexSource, tlbTagSource } from '../../mem/address-space.js';
import { type Producer, Res, WithCfOf, ARITH_FLAGS, cfInt, cond as condOf, materialize } from './flag-exprs.js';

export const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];

/**
 * The general registers an instruction run through a fallback may assign, or
 * null for "any". Legacy-encoded SSE and x87 instructions assign at most
 * their ModRM registers, plus ecx for pcmpestri/pcmpistri and ax for fnstsw ax.
 */
export function gprsWritten(i: Instr): number[] | null {
  const op = i.op;
  if (i.vex) return null; // BMI and friends: mulx, blsr… also write VEX.vvvv
  if (i.map === 0 && op >= 0xd8 && op <= 0xdf) return [0];
  const sse =
    i.map === 0x0f3a ||
    (i.map === 0x0f38 && !(op === 0xf0 || op === 0xf1)) ||
    (i.map === 0x0f && ((op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) || (op >= 0x50 && op <= 0x7f) || op === 0xc2 || (op >= 0xc4 && op <= 0xc6) || op >= 0xd0));
  if (!sse) return null;
  const w = [i.reg & 15];
  if (!i.isMem && i.rm >= 0) w.push(i.rm & 15);
  if (i.map === 0x0f3a && op >= 0x60 && op <= 0x63) w.push(1);
  return w;
}

/** Where the arithmetic flags are at a point of the generated code. */
export type FlagState =
  /** In the Cpu's lazy-flag fields (after fallbacks and explicit updates). */
  | { kind: 'cpu' }
  /** In the locals, produced by an operation known at translation time. */
  | { kind: 'pending'; p: Producer }
  /**
   * Block entry: described at run time by the local fk — 0: in the Cpu,
   * otherwise the producer id (see producerId) whose operands are in the locals.
   */
  | { kind: 'dyn' };

/** The run-time id of a producer (op, size): never 0. */
export function producerId(p: Producer): number {
  return p.op * 16 + p.size;
}

/** A probed page (see BaseWindow): host = the host offset of the anchor address, pofs = its page offset. */
interface PageWindow extends BaseWindow {
  depth: number;
  scope: number;
  host: string;
  pofs: string;
}

interface BaseAddress {
  reg: number;
  disp: number;
  line: number;
}

/** How a block's last instruction leaves it. */
export type Terminator =
  | { kind: 'jump'; target: number }
  | { kind: 'cond'; cond: string; target: number; next: number }
  /** rip computed at run time: the double `expr`. */
  | { kind: 'indirect'; expr: string }
  /** A fallback (interpreter exec) already set c.rip; registers and flags are in the Cpu. */
  | { kind: 'fallback' };

/** Marks in the body replaced once the whole region is known. */
export const SYNC_OUT = '/*@SYNC_OUT@*/';
export const RELOAD = '/*@RELOAD@*/';
/** Stores the flags described by fk into the Cpu. */
export const DYN_SYNC = '/*@DYN_SYNC@*/';

export class Emitter {
  readonly out: string[] = [];
  private tmp = 0;
  /** Guest registers (0..15) referenced: loaded at entry. */
  readonly cached = new Set<number>();
  /** Guest registers assigned somewhere: written back at exits. */
  readonly written = new Set<number>();
  /**
   * Registers assigned since the last fallback synced the Cpu, or null when
   * unknown (block entry: another block of the region may have assigned any).
   */
  private dirty: Set<number> | null = null;
  flags: FlagState = { kind: 'dyn' };
  /** Index of the instruction being translated, counted over the whole region (the fault exit's xk). */
  index = 0;
  /** Index of the instruction within its block. */
  local = 0;
  /** Guest address of the instruction being translated. */
  addr = 0;
  /** Flags live after the current instruction (a mask of EFLAGS bits). */
  liveAfter = ARITH_FLAGS;
  /** Producers whose state may be described by fk (for the DYN_SYNC switch). */
  readonly producers = new Map<number, Producer>();
  /** The region writes memory (self-modifying code must be noticed between blocks). */
  hasStores = false;
  /** Instruction indices (region-wide) run through fallbacks: their exec function and Instr are bound as constants. */
  readonly fallbacks: number[] = [];
  usesFs = false;
  usesGs = false;
  /** The region touches xmm registers (X = c.xmm, XB = c.xmmU8 in the prologue). */
  usesXmm = false;

  /** Per guest register (16: none, for absolute addresses), bumped at every write: a window is valid for one value of its base. */
  private readonly versions = new Int32Array(17);
  /** Pages probed in this block that later accesses through the same base register reuse. */
  private windows: PageWindow[] = [];
  /** Addresses computed by ea() or for push: "lo,hi" names → base register, displacement and the line that computed them. */
  private readonly addrs = new Map<string, BaseAddress>();
  /** Address lines of the current instruction that a window made unnecessary (removed at endInstr if nothing else reads them). */
  private spareLines: { line: number; names: string[] }[] = [];
  /** Braces opened in the block's code so far (ids): a window lives while the scope it was made in is open. */
  private scopes: number[] = [0];
  private scopeSeq = 0;

  /** Starts a block: its flags are described by fk and any register may differ from the Cpu. */
  beginBlock(): void {
    // Temporaries are block-scoped consts inside the block's case: names can repeat per block (fewer identifiers for V8 to intern).
    this.tmp = 0;
    this.flags = { kind: 'dyn' };
    this.dirty = null;
    this.windows = [];
    this.addrs.clear();
    this.scopes = [0];
  }

  markWritten(n: number): void {
    this.written.add(n);
    this.dirty?.add(n);
    this.versions[n]++;
  }

  emit(s: string): void {
    this.out.push(s);
    if (s.includes('{') || s.includes('}')) {
      for (let k = 0; k < s.length; k++) {
        const ch = s.charCodeAt(k);
        if (ch === 123) this.scopes.push(++this.scopeSeq);
        else if (ch === 125) this.scopes.pop();
      }
    }
  }
  t(): string {
    return `t${this.tmp++}`;
  }

  // ------------------------------------------------------------------ registers

  lo(n: number): string {
    this.cached.add(n);
    return REG_NAMES[n];
  }
  hi(n: number): string {
    this.cached.add(n);
    return REG_NAMES[n] + 'h';
  }
  /** Register n read at size (1, 2, 4: one expression; 8: the low half, see hi()). 8-bit encodings 16..19 are ah..bh. */
  get(n: number, size: number): string {
    switch (size) {
      case 1: return n < 16 ? `(${this.lo(n)} & 255)` : `((${this.lo(n - 16)} >> 8) & 255)`;
      case 2: return `(${this.lo(n)} & 65535)`;
      default: return this.lo(n);
    }
  }
  /** Writes register n at size with x86 merge / zero-extension rules. */
  set(n: number, size: number, lo: string, hi = '0'): void {
    switch (size) {
      case 1:
        if (n < 16) {
          const r = this.lo(n);
          this.markWritten(n);
          this.emit(`${r} = (${r} & -256) | (${lo} & 255);`);
        } else {
          const r = this.lo(n - 16);
          this.markWritten(n - 16);
          this.emit(`${r} = (${r} & -65281) | ((${lo} & 255) << 8);`);
        }
        return;
      case 2: {
        const r = this.lo(n);
        this.markWritten(n);
        this.emit(`${r} = (${r} & -65536) | (${lo} & 65535);`);
        return;
      }
      case 4:
        this.markWritten(n);
        this.emit(`${this.lo(n)} = ${lo}; ${this.hi(n)} = 0;`);
        return;
      default: {
        this.markWritten(n);
        // Directly when both halves are names or literals and hi does not read the register lo overwrites; else through consts.
        const simple = (e: string) => /^([A-Za-z_]\w*|-?\d+)$/.test(e);
        if (simple(lo) && simple(hi) && hi !== this.lo(n)) this.emit(`${this.lo(n)} = ${lo}; ${this.hi(n)} = ${hi};`);
        else {
          const l = this.t(), h = this.t();
          this.emit(`const ${l} = ${lo}, ${h} = ${hi}; ${this.lo(n)} = ${l}; ${this.hi(n)} = ${h};`);
        }
      }
    }
  }
  /** Copies an expression into a fresh const (so later register writes cannot change it). */
  val(e: string): string {
    if (/^(t\d+|-?\d+)$/.test(e)) return e;
    const t = this.t();
    this.emit(`const ${t} = ${e};`);
    return t;
  }

  // ------------------------------------------------------------------ 64-bit arithmetic on halves

  /** (al, ah) + (bl, bh) as two new consts. */
  add64(al: string, ah: string, bl: string, bh: string): [string, string] {
    const l = this.t(), h = this.t();
    const hs = bh === '0' ? ah : `${ah} + ${bh}`;
    this.emit(`const ${l} = (${al} + ${bl}) | 0, ${h} = (${hs} + ((${l} >>> 0) < (${al} >>> 0) ? 1 : 0)) | 0;`);
    return [l, h];
  }
  /** (al, ah) + a 64-bit constant given as a double (|v| < 2^63). */
  addConst64(al: string, ah: string, v: number): [string, string] {
    if (v === 0) return [al, ah];
    const cl = v | 0, ch = Math.floor(v / 4294967296) | 0;
    return this.add64(al, ah, String(cl), String(ch));
  }

  // ------------------------------------------------------------------ effective addresses

  /** The memory operand's address as [lo, hi] (names or literals). lea: no segment base. */
  ea(i: Instr, lea = false): [string, string] {
    const disp = i.disp;
    // base + disp (or an absolute address): later accesses through the same base may reuse a probed page.
    if (!lea && i.index < 0 && i.seg === SEG_NONE && i.adsize === 8) {
      const line = this.out.length;
      const [lo, hi] = i.base >= 0 ? this.addConst64(this.lo(i.base), this.hi(i.base), disp) : [String(disp | 0), String(Math.floor(disp / 4294967296) | 0)];
      this.noteAddress(lo, hi, i.base >= 0 ? i.base : 16, disp, this.out.length > line ? line : -1);
      return [lo, hi];
    }
    let lo: string, hi: string;
    if (i.base >= 0) {
      lo = this.lo(i.base);
      hi = this.hi(i.base);
    } else {
      lo = '0';
      hi = '0';
    }
    if (i.index >= 0) {
      const x = i.index, k = i.scale;
      let xl = this.lo(x), xh = this.hi(x);
      if (k) {
        const sl = this.t(), sh = this.t();
        this.emit(`const ${sh} = (${xh} << ${k}) | (${xl} >>> ${32 - k}), ${sl} = ${xl} << ${k};`);
        xl = sl;
        xh = sh;
      }
      if (i.base >= 0) [lo, hi] = this.add64(lo, hi, xl, xh);
      else {
        lo = xl;
        hi = xh;
      }
    }
    if (i.base < 0 && i.index < 0) {
      lo = String(disp | 0);
      hi = String(Math.floor(disp / 4294967296) | 0);
    } else [lo, hi] = this.addConst64(lo, hi, disp);
    if (i.adsize === 4) hi = '0';
    if (!lea && i.seg !== SEG_NONE) {
      const fs = i.seg === SEG_FS;
      if (fs) this.usesFs = true;
      else this.usesGs = true;
      [lo, hi] = this.add64(lo, hi, fs ? 'fsl' : 'gsl', fs ? 'fsh' : 'gsh');
    }
    return [lo, hi];
  }

  // ------------------------------------------------------------------ memory

  /** After a fallback: leave for the fault exit if it raised a fault. */
  private faultCheck(): string {
    return `if (FS.fault !== null) { xk = ${this.index}; break run; }`;
  }

  /**
   * Leaves the region just before the current instruction, which the engine
   * then runs in the interpreter: the slow path of every inlined memory
   * access (TLB miss, page crossing, a fault to raise precisely). Registers
   * and flags hold the state before the instruction, and the exit path is
   * shared code — no call sites that V8 would first see run after it
   * optimized the region (and deoptimize it for).
   */
  slowExit(): string {
    return `${this.flagsToFk()} xn = ${this.local}; xr = ${this.addr}; xs = 1; break run;`;
  }

  /** Loads size bytes at (al, ah): returns [lo, hi] names (hi '0' below 8 bytes). */
  load(size: number, al: string, ah: string): [string, string] {
    const o = this.hostOffset(false, size, al, ah);
    const v = this.t();
    switch (size) {
      case 1: this.emit(`const ${v} = U8[${o}];`); return [v, '0'];
      case 2: this.emit(`const ${v} = DV.getUint16(${o}, true);`); return [v, '0'];
      case 4: this.emit(`const ${v} = DV.getInt32(${o}, true);`); return [v, '0'];
      default: {
        const vh = this.t();
        this.emit(`const ${v} = DV.getInt32(${o}, true), ${vh} = DV.getInt32(${o} + 4, true);`);
        return [v, vh];
      }
    }
  }

  /** Stores size bytes of (lo, hi) at (al, ah). */
  store(size: number, al: string, ah: string, lo: string, hi = '0'): void {
    this.hasStores = true;
    const o = this.hostOffset(true, size, al, ah);
    switch (size) {
      case 1: this.emit(`U8[${o}] = ${lo};`); break;
      case 2: this.emit(`DV.setUint16(${o}, ${lo}, true);`); break;
      case 4: this.emit(`DV.setInt32(${o}, ${lo}, true);`); break;
      default: this.emit(`DV.setInt32(${o}, ${lo}, true); DV.setInt32(${o} + 4, ${hi}, true);`);
    }
  }

  /**
   * The host offset of size bytes at (al, ah), readable (or writable), as an
   * expression; leaves the region before the instruction when they are not.
   * The first access through a base register in a block probes the TLB and
   * opens a window on that page; later accesses through the same base (same
   * value, or moved by push/pop/add/sub imm) that the window has already covered cost
   * nothing, and others in the same page one comparison.
   */
  private hostOffset(write: boolean, size: number, al: string, ah: string): string {
    const a = this.addrs.get(`${al},${ah}`) ?? this.registerAddress(al, ah);
    const near = a ? pickWindow(this.windows, a.reg, this.versions[a.reg], write, a.disp, size, (w) => this.inScope(w)) : null;
    if (a && near?.covered) {
      const { w, rel } = near;
      if (a.line >= 0) this.spareLines.push({ line: a.line, names: [al, ah] });
      return rel === 0 ? w.host : rel > 0 ? `(${w.host} + ${rel})` : `(${w.host} - ${-rel})`;
    }
    const p = this.t(), h = this.t();
    if (near) {
      // In the window's page: its host offset plus the distance; otherwise (a structure across a page boundary) the TLB.
      const { w, rel } = near;
      this.emit(`let ${p} = ${w.pofs} + ${rel}, ${h};`);
      this.emit(`if ((${p} >>> 0) > ${4096 - size}) {`);
      this.probeTlb(write, size, al, ah, p, h);
      this.emit(`} else ${h} = ${w.host} + ${rel};`);
    } else {
      this.emit(`let ${p}, ${h};`);
      this.probeTlb(write, size, al, ah, p, h);
    }
    if (a) {
      const depth = this.scopes.length - 1;
      this.windows = addWindow(this.windows, { reg: a.reg, version: this.versions[a.reg], write, depth, scope: this.scopes[depth], host: h, pofs: p, off: -a.disp, lo: 0, hi: size });
    }
    return h;
  }

  /** Sets p and h to the page offset and host offset of size bytes at (al, ah), leaving the region on a TLB miss or a page crossing. */
  private probeTlb(write: boolean, size: number, al: string, ah: string, p: string, h: string): void {
    const T = write ? 'TW' : 'TR';
    const x = this.t();
    const inPage = size > 1 ? ` & (${p} <= ${4096 - size})` : '';
    this.emit(`const ${x} = ${tlbIndexSource(al)}; ${p} = ${al} & 4095;`);
    this.emit(`if (((${T}[${x}] === ${tlbTagSource(al, ah)}) & ((${ah} >>> 15) === 0)${inPage}) === 0) { ${this.slowExit()} }`);
    this.emit(`${h} = ${T}[${x} + 1] + ${p};`);
  }

  /** Records that (lo, hi) is base register reg (16: none) + disp, computed by `line` (-1: no line). */
  noteAddress(lo: string, hi: string, reg: number, disp: number, line: number): void {
    this.addrs.set(`${lo},${hi}`, { reg, disp, line });
  }

  /** A register's own locals used as an address (pop, string instructions): base + 0. */
  private registerAddress(al: string, ah: string): BaseAddress | undefined {
    const n = REG_NAMES.indexOf(al);
    return n >= 0 && ah === `${al}h` ? { reg: n, disp: 0, line: -1 } : undefined;
  }

  /** The window was opened in a scope of the block's code that is still open. */
  private inScope(w: PageWindow): boolean {
    return w.depth < this.scopes.length && this.scopes[w.depth] === w.scope;
  }

  /** The current version of register n (see rebase). */
  version(n: number): number {
    return this.versions[n];
  }

  /** Register n, at version `was`, has moved by delta (push, pop, add/sub of a constant): its windows follow it. */
  rebase(n: number, was: number, delta: number): void {
    rebaseWindows(this.windows, n, was, this.versions[n], delta);
  }

  /** After an instruction: removes address computations that windows made unnecessary. */
  endInstr(): void {
    for (const { line, names } of this.spareLines) {
      if (!this.out[line]) continue;
      const later = this.out.slice(line + 1).join('\n');
      if (!names.some((nm) => /^t\d+$/.test(nm) && new RegExp(`\\b${nm}\\b`).test(later))) this.out[line] = '';
    }
    this.spareLines = [];
  }

  /** Reads the r/m operand at size: [lo, hi] (hi '0' below 8 bytes). Register values are copied when asked (copy = true). */
  readRM(i: Instr, size: number): [string, string] {
    if (i.isMem) {
      const [al, ah] = this.ea(i);
      return this.load(size, al, ah);
    }
    return [this.get(i.rm, size), size === 8 ? this.hi(i.rm) : '0'];
  }

  // ------------------------------------------------------------------ flags

  /** The pending producer, or null when the flags are (now) in the Cpu. */
  private need(): Producer | null {
    const f = this.flags;
    if (f.kind === 'dyn') {
      this.emit(DYN_SYNC);
      this.flags = { kind: 'cpu' };
      return null;
    }
    return f.kind === 'pending' ? f.p : null;
  }
  /** Boolean expression for condition code cc. */
  cond(cc: number): string {
    const p = this.need();
    return p ? condOf(p, cc) : `c.cond(${cc})`;
  }
  /** CF as 0/1. */
  cf(): string {
    // At a block's head: computed from fk and the operand locals, which stay where they are.
    if (this.flags.kind === 'dyn') return this.val('cfOfState(c, fk, fa, fah, fb, fbh, fr, frh, fci, fcf)');
    const p = this.need();
    return p ? cfInt(p) : `c.getCF()`;
  }
  /** Whether the flags are a producer known here (in the locals). */
  flagsPending(): boolean {
    return this.flags.kind === 'pending';
  }
  /**
   * A rotate with pending flags: CF and OF become (cf, of) in fcf/fof, the
   * other flags stay the producer's (see WithCfOf), and nothing is stored
   * into the Cpu. Call after the instruction's memory accesses.
   */
  overrideCfOf(cf: string, of: string): void {
    const f = this.flags;
    if (f.kind !== 'pending') throw new Error('jit: overrideCfOf without a pending producer');
    this.emit(`fcf = ${cf}; fof = ${of};`);
    const b = f.p;
    const p = b.op === Res || b.op > WithCfOf ? b : { op: b.op + WithCfOf, size: b.size };
    this.producers.set(producerId(p), p);
    this.flags = { kind: 'pending', p };
  }
  /** Stores pending flags into the Cpu (before code that reads them there). */
  syncFlags(): void {
    const p = this.need();
    if (p) {
      this.emit(materialize(p));
      this.flags = { kind: 'cpu' };
    }
  }
  /** Whether any of the given flags is read (or observable at a fault or exit) after this instruction. */
  live(mask: number): boolean {
    return (this.liveAfter & mask) !== 0;
  }
  /**
   * Records a flag-setting operation: assigns the operand locals (call after
   * the instruction's last memory access). Only the locals the producer's
   * formulas read are assigned.
   */
  produce(op: number, size: number, v: { a?: string; ah?: string; b?: string; bh?: string; r: string; rh?: string; cin?: string; cf?: string; of?: string }): void {
    const s: string[] = [];
    if (v.a !== undefined) s.push(`fa = ${v.a};`);
    if (v.b !== undefined) s.push(`fb = ${v.b};`);
    if (size === 8) {
      if (v.ah !== undefined) s.push(`fah = ${v.ah};`);
      if (v.bh !== undefined) s.push(`fbh = ${v.bh};`);
    }
    s.push(`fr = ${v.r};`);
    if (size === 8) s.push(`frh = ${v.rh ?? '0'};`);
    if (v.cin !== undefined) s.push(`fci = ${v.cin};`);
    if (op === Res) s.push(`fcf = ${v.cf}; fof = ${v.of};`);
    this.emit(s.join(' '));
    const p = { op, size };
    this.producers.set(producerId(p), p);
    this.flags = { kind: 'pending', p };
  }

  // ------------------------------------------------------------------ fallback

  /**
   * Runs instruction `index` through its interpreter exec function: registers
   * and flags go to the Cpu first and come back after.
   */
  fallback(last: boolean, i: Instr): void {
    const j = this.index;
    this.syncFlags();
    this.fallbacks.push(j);
    this.hasStores = true;
    this.windows = []; // the interpreter may have changed what a page maps to
    // The Cpu gets the registers assigned since the last sync (all of them at block entry).
    if (this.dirty === null) this.emit(SYNC_OUT);
    else this.emit([...this.dirty].map((n) => `r[${2 * n}] = ${REG_NAMES[n]}; r[${2 * n + 1}] = ${REG_NAMES[n]}h;`).join(' '));
    this.dirty = new Set();
    this.emit(`callFallback(c, f${j}, i${j}); ${this.faultCheck()}`);
    if (!last) {
      const w = gprsWritten(i);
      if (w === null) this.emit(RELOAD);
      else this.emit(w.map((n) => `${this.lo(n)} = r[${2 * n}]; ${this.hi(n)} = r[${2 * n + 1}];`).join(' '));
      // A stop (e.g. #GP) ends the block here; registers and flags are in the Cpu.
      this.emit(`if (c.stop !== 0) { ${RELOAD} fk = 0; xn = ${this.local + 1}; xr = c.rip; break run; }`);
    }
    this.flags = { kind: 'cpu' };
  }

  /**
   * `if (cond) fast() else <leave for the interpreter>`: for fast paths that
   * only cover the common case (a memory operand inside one page, aligned).
   */
  guarded(cond: string, fast: () => void): void {
    this.emit(`if (${cond}) {`);
    fast();
    this.emit(`} else { ${this.slowExit()} }`);
  }

  /** The region writes memory other than through store(). */
  noteStore(): void {
    this.hasStores = true;
    this.windows = [];
  }

  /** The statement that records the current flag state in fk at a block's end (none when it is already there). */
  flagsToFk(): string {
    const f = this.flags;
    if (f.kind === 'pending') return `fk = ${producerId(f.p)};`;
    if (f.kind === 'cpu') return 'fk = 0;';
    return '';
  }
}
