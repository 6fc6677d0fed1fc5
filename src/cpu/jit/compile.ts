/**
 * Translates a region — hot decoded blocks linked by direct jumps, branches,
 * calls and returns — into one JavaScript function (compiled with
 * `new Function`):
 *
 *   fn(c, budget, entry) → instructions retired
 *
 * The function loads the guest registers the region uses into locals, then
 * runs `for (;;) switch (bi)` over the blocks, starting at block `entry`.
 * Each block is straight-line JavaScript (the common instructions
 * translated in emit-*.ts, every other one through its interpreter exec
 * function). A branch to a block of the region continues the loop — the
 * registers and the pending flags stay in locals, and a loop or a recursion
 * runs entirely inside the function — while fewer than `budget` instructions
 * have retired: exactly where the engine's run loop would have stopped
 * entering blocks. Any other exit writes the registers and the flags back,
 * sets c.rip and returns.
 *
 * Flags across blocks: a block starts with its flags described at run time by
 * the local fk (0: in the Cpu; else the id of the producer whose operands are
 * in the locals); within a block the producer is known at translation time.
 *
 * Memory slow paths (TLB miss, page crossing, anything that may fault) leave
 * the region just before the instruction, with the registers and flags as
 * they were before it, and FS.slow set: the engine runs the rest of that
 * block in the interpreter, which raises any fault precisely. A fault inside
 * a fallback (registers and flags already in the Cpu) sets c.rip to the
 * instruction and c.faultIndex to the instructions retired in this call, and
 * is rethrown for the engine.
 *
 * Generated code avoids anything V8 might first see run after it optimized
 * the function (it would deoptimize and recompile the whole region): exits
 * and edges share code, compound conditions evaluate every comparison, and
 * slow paths call nothing.
 */
import type { Cpu } from '../cpu.js';
import type { Instr } from '../instr.js';
import * as C from '../ops/control.js';
import { ARITH_FLAGS } from './flag-exprs.js';
import { DYN_SYNC, Emitter, REG_NAMES, RELOAD, SYNC_OUT, type Terminator } from './emitter.js';
import { RUNTIME } from './runtime.js';
import { TRANSLATIONS, type Translation } from './translator.js';
import { sseTranslation } from './emit-sse.js';
import './emit-alu.js';
import './emit-move.js';
import './emit-shift.js';
import './emit-control.js';
import './emit-string.js';
import './emit-bits.js';

export type JitFn = (c: Cpu, budget: number, entry: number) => number;

/** Debugging aid: ELFSHIM_JIT_SKIP=name,name… runs those exec functions through fallbacks. */
const SKIP = new Set((process.env.ELFSHIM_JIT_SKIP ?? '').split(',').filter(Boolean));


/** What the translator needs of a block. */
export interface JitBlock {
  readonly start: number;
  readonly instrs: Instr[];
  readonly end: number;
}

/** Cleared when code of the region is overwritten: the function then leaves at the next block boundary. */
export interface RegionState {
  readonly valid: boolean;
}

/** How an instruction is translated (undefined: through its exec function). */
function translationOf(i: Instr): Translation | undefined {
  if (SKIP.has(i.exec.name)) return undefined;
  return TRANSLATIONS.get(i.exec) ?? sseTranslation(i);
}

/** Flags live after each instruction of a block (its end, memory accesses — which may leave the region — and fallbacks observe all flags). */
export function flagLiveness(instrs: Instr[]): number[] {
  const live = new Array<number>(instrs.length);
  let l = ARITH_FLAGS;
  for (let j = instrs.length - 1; j >= 0; j--) {
    live[j] = l;
    const i = instrs[j];
    const t = translationOf(i);
    const [rd, wr] = t ? (t.flags?.(i) ?? [0, 0]) : [ARITH_FLAGS, 0];
    const throws = t ? (t.throws ? t.throws(i) : i.isMem) : true;
    l = rd | (l & ~wr) | (throws ? ARITH_FLAGS : 0);
  }
  return live;
}

/** Addresses where control can go after the block (direct successors and call return addresses). */
export function successors(b: JitBlock): number[] {
  const last = b.instrs[b.instrs.length - 1];
  const e = last.exec;
  if (e === C.jcc) return [last.target, last.next];
  if (e === C.jmpRel) return [last.target];
  if (e === C.callRel) return [last.target, last.next];
  if (e === C.callRm) return [last.next];
  if (e === C.ret || e === C.jmpRm) return [];
  return TRANSLATIONS.has(e) ? [b.end] : [];
}

/** The successor a block is best followed by in the layout (undefined: none). */
export function fallThrough(b: JitBlock): number | undefined {
  const last = b.instrs[b.instrs.length - 1];
  const e = last.exec;
  if (e === C.jcc) return last.next;
  if (e === C.jmpRel || e === C.callRel) return last.target;
  if (e === C.ret || e === C.jmpRm || e === C.callRm) return undefined;
  return TRANSLATIONS.has(e) ? b.end : undefined;
}

/**
 * The block indices by start address, and the return addresses of the
 * region's calls that are region blocks (a ret dispatches on them).
 */
export function regionIndex(blocks: JitBlock[]): { index: Map<number, number>; retSites: number[] } {
  const index = new Map<number, number>();
  blocks.forEach((b, j) => index.set(b.start, j));
  const retSites: number[] = [];
  for (const b of blocks) {
    const last = b.instrs[b.instrs.length - 1];
    if ((last.exec === C.callRel || last.exec === C.callRm) && index.has(last.next) && !retSites.includes(last.next)) retSites.push(last.next);
  }
  return { index, retSites };
}

/**
 * regionIndex, and the JavaScript region's layout: each block followed, where
 * possible, by its fall-through successor (not-taken side of a branch, jump
 * or call target, next address), which it then enters without going through
 * the dispatch. (WebAssembly regions nest their blocks instead: wasm/layout.ts.)
 */
export function regionLayout(blocks: JitBlock[]): { index: Map<number, number>; retSites: number[]; order: number[]; follower: Map<number, number> } {
  const { index, retSites } = regionIndex(blocks);
  const order: number[] = [];
  const placed = new Set<number>();
  for (let s0 = 0; s0 < blocks.length; s0++) {
    for (let bi: number | undefined = s0; bi !== undefined && !placed.has(bi); ) {
      placed.add(bi);
      order.push(bi);
      const ft = fallThrough(blocks[bi]);
      bi = ft === undefined ? undefined : index.get(ft);
    }
  }
  const follower = new Map<number, number>();
  for (let k = 0; k + 1 < order.length; k++) follower.set(order[k], order[k + 1]);

  return { index, retSites, order, follower };
}

/**
 * The JavaScript source of the region's factory and what it binds.
 * targets[j]: addresses block j's indirect branch was seen going to; those
 * that are region blocks are dispatched inside the function.
 */
export function generate(blocks: JitBlock[], targets: readonly (readonly number[])[] = []): { source: string; addrs: number[]; locals: number[] } {
  const { index, retSites, order, follower } = regionLayout(blocks);

  const g = new Emitter();
  const addrs: number[] = [];
  const locals: number[] = [];
  const cases: string[] = [];
  for (let bi = 0; bi < blocks.length; bi++) {
    const b = blocks[bi];
    const instrs = b.instrs, n = instrs.length;
    const live = flagLiveness(instrs);
    g.beginBlock();
    g.out.length = 0;
    let term: Terminator = { kind: 'jump', target: b.end };
    for (let j = 0; j < n; j++) {
      const i = instrs[j];
      const last = j === n - 1;
      g.index = addrs.length;
      g.local = j;
      g.addr = i.addr;
      addrs.push(i.addr);
      locals.push(j);
      g.liveAfter = live[j];
      const t = translationOf(i);
      const res = t ? t.emit(g, i, last) : false;
      g.endInstr();
      if (res === false) {
        g.emit(`c.rip = ${b.end};`);
        g.fallback(last, i);
        if (last) term = { kind: 'fallback' };
      } else if (res) {
        term = res;
      }
    }
    // Edges only record where they go: the instruction count, the budget and
    // validity checks (at the head of each block) and every exit (after the
    // loop) are shared code, so no edge holds arithmetic V8 may first see run
    // after it optimized the function (which would deoptimize it).
    const fk = g.flagsToFk();
    const edge = (t: number) => {
      const j = index.get(t);
      if (j === undefined) return `xn = ${n}; ${fk} xr = ${t}; break run;`;
      // Into a block of the region: its head sets xr if it leaves there.
      if (j === follower.get(bi)) return `xn = ${n}; ${fk}`; // falls through into block j
      return `xn = ${n}; ${fk} bi = ${j}; continue;`;
    };
    const tail: string[] = [];
    switch (term.kind) {
      case 'fallback':
        // Registers and flags are in the Cpu, and c.rip is set: take them as they are.
        tail.push(`${RELOAD} fk = 0; xn = ${n}; xr = c.rip; break run;`);
        break;
      case 'indirect': {
        tail.push(`const pc = ${term.expr};`);
        tail.push(`xn = ${n}; ${fk} xr = pc;`);
        // A ret may return to a call site of the region; any indirect branch to where it was seen going.
        const internal = new Set(instrs[n - 1].exec === C.ret ? retSites : []);
        for (const a of targets[bi] ?? []) if (index.has(a)) internal.add(a);
        // Every comparison runs each time (type feedback for all of them before V8 optimizes).
        if (internal.size) {
          tail.push(`let nb = -1;`);
          for (const a of internal) tail.push(`if (pc === ${a}) nb = ${index.get(a)};`);
          tail.push(`if (nb >= 0) { bi = nb; continue; }`);
        }
        tail.push(`break run;`);
        break;
      }
      case 'jump':
        tail.push(edge(term.target));
        break;
      case 'cond':
        // The edge to the follower comes last: it falls through.
        if (index.get(term.target) === follower.get(bi)) {
          tail.push(`if (!${term.cond}) { ${edge(term.next)} }`);
          tail.push(edge(term.target));
        } else {
          tail.push(`if (${term.cond}) { ${edge(term.target)} }`);
          tail.push(edge(term.next));
        }
        break;
    }
    // Entered through the switch or by falling through: count the previous block, check the budget and validity.
    // xb is set once the block runs: an exit at the check leaves from the block before.
    const head = `done += xn; xn = 0; if (done >= budget/*@VALID@*/) { xr = ${b.start}; break run; } xb = ${bi};`;
    cases[bi] = `case ${bi}: { // 0x${b.start.toString(16)}\n${head}\n${g.out.join('\n')}\n${tail.join('\n')}\n}`;
  }

  // Everything that depends on the whole region: register write-back/reload, flag dispatch, validity checks.
  const writeBack = [...g.written].sort((x, y) => x - y).map((r) => `r[${2 * r}] = ${REG_NAMES[r]}; r[${2 * r + 1}] = ${REG_NAMES[r]}h;`).join(' ');
  const reload = [...g.cached].sort((x, y) => x - y).map((r) => `${REG_NAMES[r]} = r[${2 * r}]; ${REG_NAMES[r]}h = r[${2 * r + 1}];`).join(' ');
  const dynSync = g.producers.size ? `storeFlags(c, fk, fa, fah, fb, fbh, fr, frh, fci, fcf, fof);` : '';
  const validCheck = g.hasStores ? ' || !R.valid' : '';
  const body = order
    .map((bi) => cases[bi])
    .join('\n')
    .split(SYNC_OUT).join(writeBack)
    .split(RELOAD).join(reload)
    .split(DYN_SYNC).join(dynSync)
    .split('/*@VALID@*/').join(validCheck);

  // The fault exit: only fallbacks raise faults here, and they had the registers and flags in the Cpu already.
  const faultExit = `if (xk >= 0) {
  c.rip = AD[xk]; c.faultIndex = done + KL[xk]; throw takeFault();
}`;

  const regs = [...g.cached].sort((x, y) => x - y).map((r) => `${REG_NAMES[r]} = r[${2 * r}], ${REG_NAMES[r]}h = r[${2 * r + 1}]`);
  const prologue = [
    `const r = c.r, m = c.mem, TR = m.tlbR, TW = m.tlbW, DV = m.view, U8 = m.bytes;`,
    regs.length ? `let ${regs.join(', ')};` : '',
    `let fa = 0, fah = 0, fb = 0, fbh = 0, fr = 0, frh = 0, fci = 0, fcf = 0, fof = 0, fk = 0, done = 0, bi = entry, xb = entry, xr = c.rip, xn = 0, xs = 0, xk = -1;`,
    g.usesFs ? `const fsb = c.fsBase, fsl = fsb | 0, fsh = Math.floor(fsb / 4294967296) | 0;` : '',
    g.usesGs ? `const gsb = c.gsBase, gsl = gsb | 0, gsh = Math.floor(gsb / 4294967296) | 0;` : '',
    g.usesXmm ? `const X = c.xmm, XB = c.xmmU8;` : '',
  ].join('\n');
  const binds = g.fallbacks.map((j) => `const f${j} = F[${j}], i${j} = I[${j}];`).join('\n');
  const source = `const { PAR, mulhs32, mulhu32, mul64s, OUT, POP, storeFlags, cfOfState, FS, takeFault, callFallback } = H;
const R = H.region, AD = H.addrs, KL = H.locals, F = H.fns, I = H.instrs;
${binds}
// Parenthesized: V8 compiles it eagerly instead of pre-parsing it now and parsing it again at the first call.
return (function jit_${blocks[0].start.toString(16)}(c, budget, entry) {
${prologue}
// Entry -1 (warm-up call): run only the exit path, changing nothing.
if (bi >= 0) run: for (;;) {
  switch (bi) {
${body}
default: throw new Error('jit: bad block index ' + bi);
  }
}
${faultExit}
done += xn;
${writeBack}
${dynSync}
c.rip = xr;
FS.slow = xs;
FS.from = xb;
return done;
});`;
  return { source, addrs, locals };
}

/**
 * Translates and compiles a region (blocks[0] first). Throws if the
 * translator cannot handle it. The function is called once with entry -1 on
 * c: that runs only its exit path (writing back the registers it just
 * loaded), so V8 has seen that code run before it optimizes the function
 * (feedback vectors are allocated eagerly: see engine.ts).
 */
export function compileRegion(blocks: JitBlock[], region: RegionState, c: Cpu, targets: readonly (readonly number[])[] = []): JitFn {
  const { source, addrs, locals } = generate(blocks, targets);
  const all = blocks.flatMap((b) => b.instrs);
  const factory = new Function('H', source) as (h: unknown) => JitFn;
  const fn = factory({
    ...RUNTIME,
    region,
    addrs,
    locals: Int32Array.from(locals),
    fns: all.map((i) => i.exec),
    instrs: all,
  });
  fn(c, 0, -1);
  return fn;
}
