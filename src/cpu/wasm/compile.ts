/**
 * Translates a region into one WebAssembly function, when every instruction
 * of it has a WebAssembly translation (ops.ts, sse.ts) or may run through
 * the fallback (fallback.ts: anything but control and system instructions)
 * and the guest memory is a WebAssembly memory (the CLI's pool); otherwise
 * the region stays JavaScript (jit/compile.ts). Same contract as the JavaScript regions:
 *
 *   fn(c, budget, entry) → instructions retired; c.rip, FS.slow, FS.from set.
 *
 * Why: 64-bit guest arithmetic is native i64 here instead of int32 halves,
 * and V8 compiles a module in a fraction of a millisecond (Liftoff, then
 * TurboFan in the background for hot functions) where TurboFan spends tens
 * of milliseconds on the JavaScript region.
 *
 * Shape: `block exit / loop L / block c_last … block c_first / br_table` —
 * each block's code follows the end of its label, in layout order, so a
 * block falls through into its layout follower; other edges set bi and
 * continue the loop; exits set xr (rip) and xs and leave to the epilogue,
 * which writes the registers back to the Cpu's slot and the flags and rip
 * to the scratch frame.
 */
import type { Cpu } from '../cpu.js';
import * as C from '../ops/control.js';
import { flagLiveness, regionIndex, type JitBlock, type JitFn } from '../jit/compile.js';
import { FS } from '../jit/runtime.js';
import { moduleOf, Op } from './encoder.js';
import { WasmEmitter, type Terminator } from './emitter.js';
import { WASM_OPS, type WasmTranslation } from './ops.js';
import { sseWasm } from './sse.js';
import type { Instr } from '../instr.js';
import { NEST_DEPTH, regionTableOf, type RegionTable } from './chain.js';
import { blocksOf, nesting, regionSuccessors, weakTopologicalOrder, type Element } from './layout.js';
import * as S from './state.js';
import { regionFallback, mayFallBack, running } from './fallback.js';
import { HELPER_TYPES } from './helpers.js';
import { basesIn, flagsIn, flagsOut, registersIn, registersOut } from './scratch.js';
import { TRANSITIONS_FILE } from '../transitions.js';

/** ELFSHIM_WASM=0 keeps every region JavaScript (for comparison). */
const ENABLED = process.env.ELFSHIM_WASM !== '0';

/** Milliseconds on a monotonic clock (process.hrtime: the global performance would load Node's perf_hooks, ~5 ms of a short run). */
function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/**
 * Regions compiled to WebAssembly, regions left JavaScript because some
 * instruction has no WebAssembly translation, calls that ran more than one
 * region (chain.ts), instructions translated as calls to their exec
 * function (fallback.ts), and the milliseconds spent translating (emitting,
 * encoding, compiling, instantiating), for --stats and tests.
 */
export const wasmStats = { regions: 0, declined: 0, chained: 0, fallbacks: 0, ms: 0 };

/** How an instruction is translated (undefined: it keeps its region JavaScript). */
function translationOf(i: Instr): WasmTranslation | undefined {
  return WASM_OPS.get(i.exec) ?? sseWasm(i) ?? (mayFallBack(i) ? viaFallback : undefined);
}

const viaFallback: WasmTranslation = (g, i) => g.fallback(i);

/** ELFSHIM_WASM_DEBUG=1 names, on stderr, the instruction that keeps each region JavaScript. */
const DEBUG = !!process.env.ELFSHIM_WASM_DEBUG;

/** Whether every instruction of the blocks has a WebAssembly translation. */
function translatable(blocks: JitBlock[]): boolean {
  for (const b of blocks) {
    for (const i of b.instrs) {
      if (translationOf(i) !== undefined) continue;
      if (DEBUG) process.stderr.write(`elfshim: wasm: region 0x${blocks[0].start.toString(16)} stays JavaScript: ${i.exec.name || 'anonymous'} (opcode ${i.map ? i.map.toString(16) + ' ' : ''}${i.op.toString(16)}, size ${i.opsize}${i.isMem ? ', memory' : ''}) at 0x${i.addr.toString(16)}\n`);
      return false;
    }
  }
  return true;
}

/** The region's function body. */
function emitRegion(g: WasmEmitter, blocks: JitBlock[], targets: readonly (readonly number[])[]): void {
  const f = g.f;
  const { index, retSites } = regionIndex(blocks);
  const top = weakTopologicalOrder(regionSuccessors(blocks, index, retSites, targets));
  const { path, place } = nesting(top, blocks.length);
  const label = (e: Element) => (e.kind === 'block' ? `c${e.block}` : `k${e.head}`);

  // Block u to block v of the region: a loop's back edge to its `loop` label, a later element's label directly
  // (a loop's with the block to enter in bi, for the loop's dispatch), anything else round the outer loop L.
  const jump = (u: number, v: number) => {
    const pu = path[u], pv = path[v];
    for (let d = pu.length - 2; d >= 0; d--) {
      const e = pu[d];
      if (e.kind === 'loop' && e.head === v) {
        f.i32(v).set(g.bi).br(`L${v}`);
        return;
      }
    }
    let d = 0;
    while (d < pu.length && d < pv.length && pu[d] === pv[d]) d++;
    const eu = pu[d], ev = pv[d];
    if (eu !== undefined && ev !== undefined && place.get(ev)! > place.get(eu)!) {
      if (ev.kind === 'block') f.br(label(ev));
      else f.i32(v).set(g.bi).br(label(ev));
    } else f.i32(v).set(g.bi).br('L');
  };
  // Whether v's code directly follows u's (no branch needed).
  const follows = (u: number, v: number) => {
    const pu = path[u], pv = path[v];
    return pu.length === pv.length && pu[pu.length - 2] === pv[pv.length - 2] && place.get(pv[pv.length - 1]) === place.get(pu[pu.length - 1])! + 1;
  };
  // A level: a block label per element (the code of each follows the end of its label), and the dispatch on bi
  // that enters it (a loop's level: straight to the head when bi is the head, as on its back edges).
  const emitLevel = (level: Element[], head: number | undefined, dflt: string) => {
    for (let j = level.length - 1; j >= 0; j--) f.open('block', label(level[j]));
    if (head !== undefined) f.get(g.bi).i32(head).op(Op.i32Eq).brIf(label(level[0]));
    const owner = new Map<number, string>();
    for (const e of level) for (const b of blocksOf(e)) owner.set(b, label(e));
    const lo = Math.min(...owner.keys()), hi = Math.max(...owner.keys());
    const names: string[] = [];
    for (let k = lo; k <= hi; k++) names.push(owner.get(k) ?? dflt);
    f.get(g.bi);
    if (lo !== 0) f.i32(lo).op(Op.i32Sub);
    f.brTable(names, dflt);
    for (const e of level) {
      f.end(); // the element's label: its code follows
      if (e.kind === 'block') emitBlock(e.block);
      else {
        f.open('loop', `L${e.head}`);
        emitLevel(e.elements, e.head, label(e.elements[0]));
        f.end();
      }
    }
  };
  const emitBlock = (bi: number) => {
    const b = blocks[bi], n = b.instrs.length;
    g.block = bi;
    g.flags = { kind: 'dyn' };
    g.beginBlock();
    const live = flagLiveness(b.instrs);
    let term = { kind: 'jump', target: b.end } as Terminator;
    for (let j = 0; j < n; j++) {
      const i = b.instrs[j];
      g.addr = i.addr;
      g.local = j;
      g.liveAfter = live[j];
      const at = f.code.length;
      let t = translationOf(i)!(g, i);
      // A form its translation declines before emitting anything (e.g. a memory operand it does not take) falls back.
      if (t === false && f.code.length === at && mayFallBack(i)) t = viaFallback(g, i);
      if (t === false) throw new Error(`wasm: no translation of this form of ${i.exec.name}`);
      if (t) term = t; // the block's last instruction: its terminator's locals are used below
      else g.endInstr();
    }
    // The budget, on the way into another block of the region (exactly where the interpreter's loop would
    // stop entering blocks; the engine and the dispatcher check it before they enter a region): target on the stack.
    const budgetCheck = (target: () => void) => {
      f.get(g.done).get(0).op(Op.i32GeS).ifUnlikely('budget');
      target();
      g.exitTo();
      f.end();
    };
    // A call out of the region whose return address is one of its blocks: through nest, on there after it.
    const callOut = (target: () => void, ret: number | undefined): boolean => {
      const r = ret === undefined ? undefined : index.get(ret);
      if (r === undefined) return false;
      g.callOut(target, ret!, () => jump(bi, r));
      return true;
    };
    // An edge: count the block, hand the flags to the run-time description, go.
    const edge = (target: number, mayFall: boolean, ret?: number) => {
      g.retire(n);
      g.syncFlags();
      const k = index.get(target);
      if (k === undefined) {
        if (callOut(() => f.i64(target), ret)) return;
        f.i64(target);
        g.exitTo();
        return;
      }
      budgetCheck(() => f.i64(target));
      if (!(mayFall && follows(bi, k))) jump(bi, k);
    };
    switch (term.kind) {
      case 'jump':
        edge(term.target, true, term.ret);
        break;
      case 'cond': {
        const taken = index.get(term.target);
        const takenFalls = taken !== undefined && follows(bi, taken);
        f.get(term.cond);
        if (takenFalls) f.op(Op.i32Eqz);
        f.open('if', 'side');
        edge(takenFalls ? term.next : term.target, false);
        f.end();
        edge(takenFalls ? term.target : term.next, true);
        break;
      }
      case 'left':
        break;
      case 'indirect': {
        g.retire(n);
        g.syncFlags();
        const internal = new Set(b.instrs[n - 1].exec === C.ret ? retSites : []);
        for (const a of targets[bi] ?? []) if (index.has(a)) internal.add(a);
        if (internal.size > 0) budgetCheck(() => f.get(term.local));
        for (const a of internal) {
          f.get(term.local).i64(a).op(Op.i64Eq).open('if', 'hit');
          jump(bi, index.get(a)!);
          f.end();
        }
        if (callOut(() => f.get(term.local), term.ret)) break;
        f.get(term.local);
        g.exitTo();
      }
    }
  };
  f.open('block', 'exit').open('loop', 'L');
  emitLevel(top, undefined, 'exit');
  f.end().end();
  g.epilogue();
}

/** A WebAssembly region's JitFn: it carries its index in the pool's region table (for the chain cache). */
export type WasmJitFn = JitFn & { wasmIndex: number };

/** The region as a WebAssembly function, or null when it cannot be one. `owner` is the engine's region object (see FS.region). */
export function compileWasmRegion(blocks: JitBlock[], c: Cpu, targets: readonly (readonly number[])[], owner: { readonly valid: boolean }): WasmJitFn | null {
  const mem = c.mem, phys = mem.phys, memory = phys.memory;
  if (!ENABLED || memory === null || mem.tlbOffset < 0) return null;
  if (!translatable(blocks)) {
    wasmStats.declined++;
    return null;
  }
  const started = nowMs();
  const g = new WasmEmitter(phys.scratch);
  try {
    emitRegion(g, blocks, targets);
  } catch (e) {
    if (DEBUG) process.stderr.write(`elfshim: wasm: region 0x${blocks[0].start.toString(16)} stays JavaScript: ${(e as Error).message}\n`);
    wasmStats.declined++;
    wasmStats.ms += nowMs() - started;
    return null; // a form without a translation (e.g. 16-bit push)
  }
  wasmStats.regions++;
  const bytes = moduleOf(g.f, memory.buffer.byteLength / 65536, [], { prologue: g.prologue(), table: true, types: HELPER_TYPES, name: `region_${blocks[0].start.toString(16)}` });
  const table = regionTableOf(phys);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { m: memory }, t: { t: table.helpers } });
  const run = runnerOf(table, phys.buffer, phys.scratch);
  const fn = ((cpu: Cpu, budget: number, entry: number) => run(cpu, budget, entry, fn.wasmIndex)) as WasmJitFn;
  fn.wasmIndex = table.add(inst.exports.f, owner, fn, g.fallbacks.length ? regionFallback(g.fallbacks, phys.buffer, phys.scratch, owner) : undefined);
  wasmStats.fallbacks += g.fallbacks.length;
  wasmStats.ms += nowMs() - started;
  return fn;
}


type Runner = (c: Cpu, budget: number, entry: number, index: number) => number;
const runners = new WeakMap<RegionTable, Runner>();

/** The pool's runner (one function for all its regions: compiled, and optimized by V8, once). */
function runnerOf(table: RegionTable, buffer: ArrayBufferLike, scratch: number): Runner {
  let r = runners.get(table);
  if (r === undefined) {
    r = runner(table, buffer, scratch);
    runners.set(table, r);
  }
  return r;
}

/**
 * Runs region `index` of the table (and the regions it passes control to):
 * where the Cpu's registers are, the lazy flags and the segment bases into
 * the scratch frame, and the flags and how it left back out after.
 */
function runner(table: RegionTable, buffer: ArrayBufferLike, scratch: number): Runner {
  const V = new Int32Array(buffer, scratch, 1024);
  const REGP = S.S_REGP / 4, TLB = S.S_TLB / 4, LAST = S.S_LAST / 4, RIP = S.S_RIP / 4, SLOW = S.S_SLOW / 4, FROM = S.S_FROM / 4;
  const NEST = S.S_NEST / 4, CHAIN = S.S_CHAIN / 4;
  return function wasmRegion(c, budget, entry, index) {
    const ro = c.rOffset;
    if (ro >= 0) V[REGP] = ro;
    else {
      registersIn(c, V);
      V[REGP] = scratch + S.S_REGS;
    }
    flagsIn(c, V);
    basesIn(c, V);
    const m = c.mem;
    V[TLB] = m.tlbOffset;
    // ELFSHIM_TRANSITIONS: no chain cache (< 0), so every region returns here to be counted.
    const chain = TRANSITIONS_FILE ? -1 : m.chainOffset;
    V[CHAIN] = chain;
    V[NEST] = NEST_DEPTH;
    running.cpu = c;
    const done = table.dispatch(budget, index, entry, chain);
    const last = V[LAST];
    if (last !== index) {
      FS.region = table.owners[last]?.deref() ?? null;
      wasmStats.chained++;
    }
    if (ro < 0) registersOut(c, V);
    flagsOut(c, V);
    c.rip = (V[RIP] >>> 0) + V[RIP + 1] * 4294967296;
    FS.slow = V[SLOW];
    FS.from = V[FROM];
    return done;
  };
}
