import { appendFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { AddressSpace } from '../mem/address-space.js';
import { GuestFault, PAGE_SIZE } from '../mem/fault.js';
import { Cpu, Stop } from './cpu.js';
import { Decoder } from './decoder.js';
import type { Instr } from './instr.js';
import { DIVIDE_ERROR } from './ops/alu.js';
import * as C from './ops/control.js';
import { isRepString, repIteration } from './ops/string.js';
import { compileRegion, successors, type JitFn } from './jit/compile.js';
import { compileWasmRegion, type WasmJitFn } from './wasm/compile.js';
import { chainClear, chainDrop, chainSet, regionsChanged } from './wasm/chain.js';
import { FS } from './jit/runtime.js';
import { TRANSITIONS_FILE, countTransition } from './transitions.js';

/** 'jit' translates hot blocks to JavaScript; 'interp' runs every instruction through its exec function (the reference). */
export type EngineMode = 'jit' | 'interp';

export interface EngineOptions {
  engine?: EngineMode;
  /** Executions of a block before it is translated (jit mode; default 64, tests use 1). */
  jitThreshold?: number;
  /**
   * Decoded instructions the code cache holds (default DEFAULT_CODE_CACHE_INSTRS).
   * Decoding a block beyond it first flushes the whole cache — decoded blocks,
   * their closures and translated regions — the way qemu flushes its full
   * translation buffer: simple, and the hot code is back within a few runs.
   */
  codeCacheInstrs?: number;
}

/** The default bound of the code cache, in decoded instructions (a few hundred bytes each with their closures and translations). */
export const DEFAULT_CODE_CACHE_INSTRS = 1 << 18;

/**
 * How control moved through the jit run loop (all engines of the process; `--stats` prints them):
 * translated-code calls from the loop, of those the ones that left before an instruction for the
 * interpreter (a memory slow path), and the instructions run by the interpreter.
 */
export const runStats = { regionCalls: 0, slowExits: 0, interpreted: 0 };

/** A decoded basic block: straight-line instructions ending at a control transfer (or a size limit). */
export class Block {
  /** Times entered; hot blocks get a compiled function. */
  hits = 0;
  /** The block as one JavaScript function calling each instruction's exec directly (monomorphic call sites V8 can inline). */
  fn: ((c: Cpu) => void) | null = null;
  /** Last successor seen (block chaining without a map lookup). */
  succ: Block | null = null;
  /** Second successor (the other side of a conditional branch). */
  succ2: Block | null = null;
  /** Cleared when the block is invalidated, so stale chains are not followed. */
  valid = true;
  /** The translated function of a region holding this block (jit mode), once hot; entered at jitEntry. */
  jit: JitFn | null = null;
  jitEntry = 0;
  /** Translation was attempted (and failed when jit is still null). */
  jitTried = false;
  /** Translated regions that contain this block (invalidated with it). */
  regions: JitRegion[] = [];
  /** The region whose function jit is. */
  owner: JitRegion | null = null;
  constructor(
    readonly start: number,
    readonly instrs: Instr[],
    /** Address after the last instruction: where execution continues if the last one is not a branch. */
    readonly end: number,
    /** Pages the block's bytes come from (for invalidation). */
    readonly pages: number[],
  ) {}
}

// Translated regions are large functions whose exit paths are cold. With lazy
// feedback allocation V8 gives a function its feedback vector only after a
// budget proportional to its size, so code first run after that (an exit) has
// no feedback and every optimized version deoptimizes there, over and over.
setFlagsFromString('--no-lazy-feedback-allocation');
// Most of a short run (a program's startup, the dynamic loader) is the
// emulator's own JavaScript running for the first time: Sparkplug code from the
// first call instead of after an interpreted warm-up. Main-thread CPU, median of
// 7 alternating runs: sqlite3 `select 1` 530 -> 470 ms, busybox sha1sum of 1 MB
// 430 -> 400 ms, gzip 780 -> 690 ms; qsort unchanged.
setFlagsFromString('--always-sparkplug');
// Tier up later (4x V8's defaults): the emulator's own JavaScript to TurboFan, regions from Liftoff to TurboFan.
// In the background compile threads, optimizing the emulator's JavaScript was over half of all the CPU time of
// sqlite3's `select 1` (perf, 2026-11-28), and on two cores those threads take the main thread's core in turns.
// Main-thread and total CPU (ms), medians of alternating runs under a load of ~4 from other work: sqlite3 bench
// 2661 -> 2710 and 4883 -> 4327, `select 1` 327 -> 353 and 878 -> 692, busybox sha1sum 194 -> 201 and 338 -> 272,
// gzip 496 -> 505 and 773 -> 627; qsort and fib about the same. 16x the interrupt budget made the main thread
// slower (sqlite3 +5%, sha1sum +11%) for no less total.
setFlagsFromString('--interrupt-budget=270336');
setFlagsFromString('--wasm-tiering-budget=7200000');
// A region's function body is validated when it is first called and compiled (V8 compiles lazily anyway), in
// the same pass, instead of once more by `new WebAssembly.Module`: that was a sixth of the time translating
// regions took (sqlite3 bench: 330 -> 290 ms, wall 2894 -> 2808 ms median of 5). An invalid body (a bug
// of the translator) then fails at its first call, and the run ends with an internal error naming it (onFault).
setFlagsFromString('--wasm-lazy-validation');
// Regions hint their slow exits unlikely (encoder.ts, branch hinting): TurboFan lays those paths out of line.
setFlagsFromString('--experimental-wasm-branch-hinting');

const isWasm = (fn: JitFn): fn is WasmJitFn => 'wasmIndex' in fn;

/** Hot blocks linked by direct control flow, translated into one function. */
class JitRegion {
  /** Cleared when any of its blocks is invalidated: the function leaves at its next block boundary. */
  valid = true;
  fn: JitFn | null = null;
  constructor(
    readonly blocks: Block[],
    /** Times the region was formed again to take in a block that got hot after it (see Engine.regionToGrow). */
    readonly generation = 0,
    /** The translating thread's instruction count when it was formed. */
    readonly bornAt = 0,
  ) {}
}

const MAX_BLOCK = 128;
/** Region size limits: JavaScript regions (V8 stops optimizing very large functions). */
const MAX_REGION_BLOCKS = 32;
const MAX_REGION_INSTRS = 400;
/**
 * WebAssembly regions' (TurboFan has no such limit). Twice the JavaScript
 * ones: the qsort bench's heap loop then holds its callees, 19.1M trips
 * between regions a run instead of 34.1M, while gzip's, sha1sum's and
 * sqlite3's regions stay the same size in bytes (2026-11-28).
 */
const MAX_WASM_REGION_BLOCKS = 64;
const MAX_WASM_REGION_INSTRS = 800;
/** A region this small is absorbed into a new one that reaches it (e.g. a recursive function's entry). */
const MAX_ABSORB_INSTRS = 40;
/** Times a region is formed again to take in blocks that got hot after it (each costs a V8 compile of the whole region). */
const MAX_GENERATIONS = 3;
/**
 * Only fragments this small (in blocks) are formed again, into a region of at
 * most 4 blocks more: forming gzip's mid-sized regions again (up to 20 blocks,
 * each compiled by V8 two or three times) cost 10% more CPU than it saved.
 */
const MAX_GROW_BLOCKS = 8;
/**
 * Nor once it has run this many instructions since it was formed: by then V8
 * has optimized it, and a new function starts over in V8's interpreter (gzip
 * lost more to that than it gained).
 */
const MAX_GROW_AGE = 100_000;
/** The most instructions of a block that a region copies from another (see formRegion). */
const MAX_TINY = 8;

function isTiny(b: Block): boolean {
  return b.instrs.length <= MAX_TINY;
}

/** Executions before a block is compiled to a JavaScript function. */
const HOT = 8;
/**
 * Executions before a block is translated (jit mode). Translating costs
 * about a millisecond per block (generating the source, V8 compiling it), so
 * only blocks that run often repay it; warm blocks run as closures (HOT).
 * 64 rather than 16: by then more of a loop's or a function's paths have run
 * (members need a quarter of it), so fewer and fuller regions form. Measured
 * with the bench workloads: sqlite3 466 regions of 3.8 MB source instead of
 * 737 of 6.4 MB, sha1sum 15 instead of 38 and 99 K region calls instead of
 * 1.5 M, while under 0.2% of the instructions run outside regions.
 */
const JIT_HOT = 64;
/**
 * Past JIT_HOT regions an engine's threshold (and its members' quarter) grows
 * with the regions it formed: base × formed / JIT_HOT (the number formed, at
 * the default base), up to this many times the base. A program with
 * a large code footprint has a long tail of lukewarm blocks, each costing a
 * millisecond of translation and several of V8's background compiler for
 * little run time; small programs never reach it. Counted, not timed, so
 * regions form the same way on every run. sqlite3 bench: 293 regions instead
 * of 374, main thread 2702 -> 2565 ms (median of 7 alternating runs); the
 * other bench workloads form fewer than 64 and are unchanged.
 */
const JIT_HOT_GROWTH = 16;
/** Direct-mapped cache in front of the block map (block start → block). */
const CACHE_SIZE = 4096;
const JIT_DEBUG = !!process.env.ELFSHIM_JIT_DEBUG;
/** ELFSHIM_JIT_DUMP=FILE appends the source of every translated region to FILE. */
const JIT_DUMP = process.env.ELFSHIM_JIT_DUMP ?? '';

/**
 * Compiles a block into one function. Each instruction's exec is a constant
 * call target there, so V8 can inline it; k tracks progress for faults.
 */
function compileBlock(b: Block): (c: Cpu) => void {
  const n = b.instrs.length;
  const lines: string[] = [];
  for (let j = 0; j < n; j++) lines.push(`f${j}(c, i${j}); k = ${j + 1};`);
  const decl = b.instrs.map((_, j) => `const f${j} = F[${j}], i${j} = I[${j}];`).join('\n');
  const body = `${decl}\nreturn function block(c) {\n let k = 0;\n try {\n${lines.join('\n')}\n } catch (e) { c.faultIndex = k; throw e; }\n};`;
  const factory = new Function('F', 'I', body) as (f: unknown[], i: Instr[]) => (c: Cpu) => void;
  return factory(b.instrs.map((i) => i.exec), b.instrs);
}

/**
 * The code cache and run loop of one address space: decoded blocks keyed by
 * guest address, invalidated when the pages they came from are written.
 * Threads of one process share it; fork and execve get a new one.
 */
export class Engine {
  private readonly blocks = new Map<number, Block>();
  private readonly byPage = new Map<number, Block[]>();
  private readonly decoder: Decoder;
  /** Software and hardware breakpoint addresses: execution stops before them. */
  readonly breakpoints = new Set<number>();
  /** Watchpoints: when any is set, the run loop checks for hits after every instruction. */
  readonly watchpoints: { addr: number; len: number; kind: 'watch' | 'rwatch' | 'awatch' }[] = [];
  private watchPending = false;
  private watchingCpu: Cpu | null = null;
  private readonly cache: (Block | null)[] = new Array<Block | null>(CACHE_SIZE).fill(null);
  /**
   * How blocks run. Default: Engine.defaultMode. Can be changed between runs;
   * translated code is only used in 'jit' mode.
   */
  mode: EngineMode;
  /** Executions before a block is translated: baseHot, raised as regions form (JIT_HOT_GROWTH). */
  private jitHot: number;
  private readonly baseHot: number;
  /** Regions this engine translated (installs, regions formed again included). */
  private regionsFormed = 0;
  /** Regions translated so far (for diagnostics and tests). */
  get translatedRegions(): number {
    return this.regionsFormed;
  }
  /** The executions that make a block hot now (for tests). */
  get translationThreshold(): number {
    return this.jitHot;
  }
  private readonly maxCachedInstrs: number;
  /** Instructions in the decoded blocks of the cache. */
  private cachedInstrs = 0;
  /** Times the cache was flushed because it was full (for diagnostics and tests). */
  cacheFlushes = 0;
  /** Runs (interpreted) before a block may join a region: a quarter of the translation threshold. */
  private get minMemberHits(): number {
    return Math.max(1, this.jitHot >> 2);
  }
  /** The pool as int32s, to edit the address space's region chain cache (null: not a WebAssembly pool). */
  private readonly chainView: Int32Array | null;
  /**
   * Whether warm blocks become closures (HOT) before they are translated. Not
   * with WebAssembly regions: a closure is a new Function per block, and the
   * WebAssembly translation soon after is cheap — busybox gzip compiled
   * closures for 37 ms to run 58k instructions in them, sqlite3 690k.
   */
  private readonly warmTier: boolean;
  /** Region size limits (MAX_REGION_BLOCKS/INSTRS, or the WebAssembly ones in a WebAssembly pool). */
  private readonly maxRegionBlocks: number;
  private readonly maxRegionInstrs: number;
  /** The mode of engines created without an explicit option (ELFSHIM_ENGINE=interp selects the interpreter). */
  static defaultMode: EngineMode = process.env.ELFSHIM_ENGINE === 'interp' ? 'interp' : 'jit';

  constructor(readonly mem: AddressSpace, opts: EngineOptions = {}) {
    this.decoder = new Decoder(mem);
    this.mode = opts.engine ?? Engine.defaultMode;
    this.baseHot = this.jitHot = opts.jitThreshold ?? JIT_HOT;
    this.maxCachedInstrs = Math.max(1, opts.codeCacheInstrs ?? DEFAULT_CODE_CACHE_INSTRS);
    mem.onCodeWrite = (vpn) => this.invalidatePage(vpn);
    this.chainView = mem.chainOffset >= 0 ? new Int32Array(mem.phys.buffer) : null;
    this.warmTier = this.chainView === null;
    this.maxRegionBlocks = this.chainView === null ? MAX_REGION_BLOCKS : MAX_WASM_REGION_BLOCKS;
    this.maxRegionInstrs = this.chainView === null ? MAX_REGION_INSTRS : MAX_WASM_REGION_INSTRS;
    if (this.chainView !== null) chainClear(this.chainView, mem.chainOffset);
  }

  /** Drops every decoded block (breakpoints changed, or a bulk change of code). */
  flush(): void {
    if (this.chainView !== null) {
      chainClear(this.chainView, this.mem.chainOffset);
      regionsChanged(this.chainView, this.mem.phys.scratch);
    }
    for (const b of this.blocks.values()) b.valid = false;
    this.blocks.clear();
    this.byPage.clear();
    this.cache.fill(null);
    this.cachedInstrs = 0;
  }

  /** Decoded instructions currently cached. */
  get cachedInstructions(): number {
    return this.cachedInstrs;
  }

  private invalidatePage(vpn: number): void {
    const list = this.byPage.get(vpn);
    if (!list) return;
    this.byPage.delete(vpn);
    for (const b of list) {
      b.valid = false;
      for (const r of b.regions) this.dropRegion(r);
      if (this.blocks.get(b.start) === b) {
        this.blocks.delete(b.start);
        this.cachedInstrs -= b.instrs.length;
      }
      const k = (b.start | 0) & (CACHE_SIZE - 1);
      if (this.cache[k] === b) this.cache[k] = null;
    }
  }

  /** Decodes the block starting at addr. A fetch fault on the first instruction propagates. */
  private translate(addr: number): Block {
    const instrs: Instr[] = [];
    let pc = addr;
    const d = this.decoder;
    while (instrs.length < MAX_BLOCK) {
      if (instrs.length > 0 && this.breakpoints.has(pc)) break;
      let i: Instr;
      try {
        i = d.decode(pc);
      } catch (e) {
        if (instrs.length > 0 && e instanceof GuestFault) break; // the next block will fault on its own
        throw e;
      }
      instrs.push(i);
      pc = i.next;
      if (d.endsBlock) break;
    }
    if (this.cachedInstrs + instrs.length > this.maxCachedInstrs) {
      // Full: start over (blocks being chained from are marked invalid, so no stale chain is followed).
      this.flush();
      this.cacheFlushes++;
    }
    this.cachedInstrs += instrs.length;
    const pages: number[] = [];
    for (let p = Math.floor(addr / PAGE_SIZE); p <= Math.floor((pc - 1) / PAGE_SIZE); p++) pages.push(p);
    const b = new Block(addr, instrs, pc, pages);
    this.blocks.set(addr, b);
    for (const p of pages) {
      const l = this.byPage.get(p);
      if (l) l.push(b);
      else this.byPage.set(p, [b]);
    }
    return b;
  }

  private lookup(addr: number): Block {
    const k = (addr | 0) & (CACHE_SIZE - 1);
    const c = this.cache[k];
    if (c !== null && c.start === addr) return c;
    const b = this.blocks.get(addr) ?? this.translate(addr);
    this.cache[k] = b;
    return b;
  }

  /** A region stops being entered (and leaves at its next block boundary if running). */
  private dropRegion(r: JitRegion): void {
    if (!r.valid) return;
    r.valid = false;
    const fn = r.fn;
    if (this.chainView !== null && fn !== null && isWasm(fn)) {
      for (const m of r.blocks) chainDrop(this.chainView, this.mem.chainOffset, m.start, fn.wasmIndex);
      regionsChanged(this.chainView, this.mem.phys.scratch);
    }
    for (const m of r.blocks) {
      if (m.owner === r) {
        m.jit = null;
        m.owner = null;
        m.jitTried = false;
        m.hits = 0;
      }
    }
  }

  /**
   * The hot region starting at head: blocks already run, reachable by direct
   * control flow or by indirect calls and jumps to the targets seen so far.
   * A call target another region runs pulls that whole region in when it is
   * small and both fit the size limits (the old region is then replaced: no
   * block is translated twice); any other block translated elsewhere stays
   * there, and control passes between regions through run().
   * Also returns, per member, the indirect-branch targets observed from it,
   * and the regions absorbed.
   */
  private formRegion(head: Block, replacing: JitRegion | null = null): { members: Block[]; targets: number[][]; absorbed: JitRegion[] } {
    const members: Block[] = [];
    const targets: number[][] = [];
    const absorbed: JitRegion[] = [];
    const seen = new Set<number>();
    let instrs = 0;
    const add = (b: Block) => {
      seen.add(b.start);
      members.push(b);
      instrs += b.instrs.length;
    };
    add(head);
    for (let q = 0; q < members.length; q++) {
      const m = members[q];
      const last = m.instrs[m.instrs.length - 1];
      const indirect = last.exec === C.ret || last.exec === C.callRm || last.exec === C.jmpRm;
      const observed = indirect ? [m.succ, m.succ2].filter((x): x is Block => x !== null && x.valid).map((x) => x.start) : [];
      targets[q] = observed;
      const callTargets = last.exec === C.callRel ? [last.target] : last.exec === C.callRm ? observed : [];
      // A return's targets are dispatched to when they are in the region, but do not grow it (that would pull in every caller).
      for (const t of last.exec === C.ret ? successors(m) : [...successors(m), ...observed]) {
        if (seen.has(t)) continue;
        const s = this.blocks.get(t);
        // Blocks run only a few times stay out: V8 would first see their code run after it optimized the region.
        if (s === undefined || !s.valid || this.breakpoints.has(t)) continue;
        const o = s.owner;
        // The blocks of the region being formed again ran in it (their hits were not counted there).
        if (o === replacing && o !== null) {
          if (members.length >= this.maxRegionBlocks || instrs + s.instrs.length > this.maxRegionInstrs) continue;
          add(s);
          continue;
        }
        if (s.hits < this.minMemberHits) continue;
        if (o !== null && o.valid && callTargets.includes(t)) {
          // A callee another region runs: absorb it whole when small (e.g. a recursive function's entry), else leave it there.
          const extra = o.blocks.filter((b) => b.valid && !seen.has(b.start) && !this.breakpoints.has(b.start));
          const n = extra.reduce((k, b) => k + b.instrs.length, 0);
          // Only small regions are worth translating again (a big one costs V8 much more to compile).
          if (n > MAX_ABSORB_INSTRS || members.length + extra.length > this.maxRegionBlocks || instrs + n > this.maxRegionInstrs) continue;
          absorbed.push(o);
          extra.forEach(add);
          continue;
        }
        // Blocks another region runs stay there. Translating them again here (always, or only when on a
        // loop through the head) was measured: per CPU-second qsort -15%, but gzip +25% and sha1sum +70%,
        // the bigger regions' V8 compile costing more than the trips between regions through run().
        // Except tiny blocks (PLT stubs, a comparison function called through a pointer, an interpreter's
        // dispatch jump, a loop's short head): copied in, control stays in the region instead of leaving
        // for them and coming back. Tiny blocks ending in a return or an indirect jump only, at first;
        // any tiny block (2026-11-28, medians of alternating runs): region entries in the sqlite3 bench
        // 26.9 M -> 19.3 M, wall: musl qsort 1075 -> 864 ms, busybox sha1sum 216 -> 189, sqlite3 bench
        // 3238 -> 3132, gzip 551 -> 557, sqlite3 `select 1` 376 -> 391 (more to translate).
        if (o !== null && o.valid && !isTiny(s)) continue;
        if (members.length >= this.maxRegionBlocks || instrs + s.instrs.length > this.maxRegionInstrs) continue;
        add(s);
      }
    }
    return { members, targets, absorbed };
  }

  /**
   * The region to form again, from its head, instead of giving the hot block
   * b a region of its own: the region control just left for b, when b is a
   * direct successor of one of its blocks and the region is small and young
   * (MAX_GROW_BLOCKS, MAX_GROW_AGE, MAX_GENERATIONS).
   * A loop whose paths get hot one after the other (sha1's rounds: each path
   * got hot after the region of the first was formed) otherwise ends up as a
   * handful of one-block regions, with a trip through run() between each.
   */
  private regionToGrow(b: Block, g: JitRegion | null, icount: number): JitRegion | null {
    if (g === null || !g.valid || g.generation >= MAX_GENERATIONS || g.blocks.length >= this.maxRegionBlocks) return null;
    if (icount - g.bornAt > MAX_GROW_AGE) return null;
    if (g.blocks.length > MAX_GROW_BLOCKS) return null;
    if (this.breakpoints.has(g.blocks[0].start) || !g.blocks[0].valid) return null;
    return g.blocks.some((m) => successors(m).includes(b.start)) ? g : null;
  }

  /** Translates the region around a hot block (control just left the region `left` for it); on failure the block stays interpreted. */
  private jitCompile(head: Block, c: Cpu, left: JitRegion | null): void {
    head.jitTried = true;
    const grow = this.regionToGrow(head, left, c.icount);
    if (grow !== null) {
      const formed = this.formRegion(grow.blocks[0], grow);
      if (formed.members.includes(head) && formed.members.length <= MAX_GROW_BLOCKS + 4) {
        this.install(head, formed, c, grow.generation + 1, grow);
        return;
      }
    }
    this.install(head, this.formRegion(head), c, 0, null);
  }

  /** Compiles a formed region and makes its blocks enter it; `replaces` (formed again) is dropped. */
  private install(
    head: Block,
    { members, targets, absorbed }: { members: Block[]; targets: number[][]; absorbed: JitRegion[] },
    c: Cpu,
    generation: number,
    replaces: JitRegion | null,
  ): void {
    const r = new JitRegion(members, generation, c.icount);
    try {
      r.fn = compileWasmRegion(members, c, targets, r) ?? compileRegion(members, r, c, targets);
      if (JIT_DUMP) appendFileSync(JIT_DUMP, `// region 0x${members[0].start.toString(16)}: ${members.length} blocks, ${absorbed.length} absorbed, generation ${generation}\n${r.fn.toString()}\n\n`);
    } catch (e) {
      if (JIT_DEBUG) process.stderr.write(`elfshim: jit: region 0x${head.start.toString(16)} not translated: ${(e as Error)?.stack ?? e}\n`);
      head.fn = compileBlock(head);
      return;
    }
    for (const o of absorbed) this.dropRegion(o);
    if (replaces !== null) this.dropRegion(replaces);
    this.regionsFormed++;
    const scale = Math.min(JIT_HOT_GROWTH, Math.max(1, this.regionsFormed / JIT_HOT));
    this.jitHot = Math.floor(this.baseHot * scale);
    members.forEach((m, j) => {
      m.regions.push(r);
      if (m.jit === null) {
        m.jit = r.fn;
        m.jitEntry = j;
        m.jitTried = true;
        m.owner = r;
        // WebAssembly regions pass control to each other directly while no breakpoint needs checking between them.
        if (this.chainView !== null && r.fn !== null && isWasm(r.fn) && this.breakpoints.size === 0) chainSet(this.chainView, this.mem.chainOffset, m.start, r.fn.wasmIndex, j);
      }
    });
  }

  /**
   * Runs c for up to budget instructions (block granularity). Returns the stop
   * reason (also in c.stop). skipBreakpointAt: resume over a breakpoint at the
   * current pc without stopping on it again.
   */
  run(c: Cpu, budget: number, skipBreakpointAt = -1): Stop {
    c.stop = Stop.None;
    if (this.watchpoints.length) return this.runWatched(c, budget, skipBreakpointAt);
    if (this.mode === 'jit') return this.runJit(c, budget, skipBreakpointAt);
    const bps = this.breakpoints;
    const checkBps = bps.size > 0;
    let executed = 0;
    let prev: Block | null = null;
    while (executed < budget) {
      const pc = c.rip;
      if (checkBps && bps.has(pc) && pc !== skipBreakpointAt) {
        c.stop = Stop.Breakpoint;
        break;
      }
      skipBreakpointAt = -1;
      let b: Block;
      const chained = prev !== null ? prev.succ : null;
      if (chained !== null && chained.start === pc && chained.valid) b = chained;
      else {
        try {
          b = this.lookup(pc);
        } catch (e) {
          this.onFault(c, e, pc);
          break;
        }
        if (prev !== null) prev.succ = b;
      }
      const ins = b.instrs;
      const n = ins.length;
      c.rip = b.end;
      const fn = b.fn;
      if (fn !== null) {
        try {
          fn(c);
        } catch (e) {
          const k = c.faultIndex;
          executed += k;
          c.icount += k;
          this.onFault(c, e, ins[k].addr);
          break;
        }
      } else {
        if (++b.hits >= HOT) b.fn = compileBlock(b);
        let k = 0;
        try {
          for (; k < n; k++) {
            const i = ins[k];
            i.exec(c, i);
          }
        } catch (e) {
          executed += k;
          c.icount += k;
          this.onFault(c, e, ins[k].addr);
          break;
        }
      }
      executed += n;
      c.icount += n;
      if (c.stop !== Stop.None) {
        // Illegal/privileged stops happen before the instruction retires.
        if (c.stop === Stop.Illegal || c.stop === Stop.Privileged) c.icount--;
        break;
      }
      prev = b;
    }
    if (c.stop === Stop.None) c.stop = Stop.Budget;
    return c.stop;
  }

  /**
   * run() in jit mode: hot blocks run as translated functions, which set
   * c.rip themselves and return how many instructions retired (a looping
   * block may retire many iterations, never starting one once `budget` is
   * used up — the same block-granular budget as the interpreter's loop).
   */
  private runJit(c: Cpu, budget: number, skipBreakpointAt: number): Stop {
    this.jitLoop(c, budget, skipBreakpointAt);
    // Outside the loop's function on purpose: V8 compiles that loop on-stack (OSR) during the first long
    // run, before this store has ever run, and reuses the OSR code after each deoptimization it causes —
    // once per run() call, then the rest of every run was interpreted (3000 deopts in the sqlite3 bench).
    if (c.stop === Stop.None) c.stop = Stop.Budget;
    return c.stop;
  }

  /** The loop of runJit; leaves c.stop as None when the budget ran out. */
  private jitLoop(c: Cpu, budget: number, skipBreakpointAt: number): void {
    const bps = this.breakpoints;
    const checkBps = bps.size > 0;
    let executed = 0;
    // The block control last left from (whose successor cache predicts the next block), and the region it ran in.
    let prev: Block | null = null;
    let left: JitRegion | null = null;
    while (executed < budget) {
      const pc = c.rip;
      if (checkBps && bps.has(pc) && pc !== skipBreakpointAt) {
        c.stop = Stop.Breakpoint;
        break;
      }
      skipBreakpointAt = -1;
      let b: Block | null = null;
      if (prev !== null) {
        const s1: Block | null = prev.succ;
        if (s1 !== null && s1.start === pc && s1.valid) b = s1;
        else {
          const s2: Block | null = prev.succ2;
          if (s2 !== null && s2.start === pc && s2.valid) b = s2;
        }
      }
      if (b === null) {
        try {
          b = this.lookup(pc);
        } catch (e) {
          this.onFault(c, e, pc);
          break;
        }
        if (prev !== null) {
          prev.succ2 = prev.succ;
          prev.succ = b;
        }
      }
      let fn = b.jit;
      if (fn === null) {
        // Tiers: interpreted, then (warm) a closure calling each exec, then (hot) translated.
        const h = ++b.hits;
        if (h >= this.jitHot && !b.jitTried) {
          this.jitCompile(b, c, left);
          fn = b.jit;
        } else if (h >= HOT && b.fn === null && this.warmTier) b.fn = compileBlock(b);
      }
      let from: Block = b;
      let last: JitRegion | null = null;
      if (fn !== null) {
        // Entered from here: a chain cache entry for b was missing (never made, or evicted by another address).
        if (this.chainView !== null && !checkBps && isWasm(fn) && b.owner !== null && b.owner.fn === fn) chainSet(this.chainView, this.mem.chainOffset, b.start, fn.wasmIndex, b.jitEntry);
        let n: number;
        try {
          n = fn(c, budget - executed, b.jitEntry);
        } catch (e) {
          const k = c.faultIndex;
          executed += k;
          c.icount += k;
          this.onFault(c, e, c.rip);
          break;
        }
        executed += n;
        c.icount += n;
        runStats.regionCalls++;
        // The region's block that control left from (FS.from): its successors are the ones to predict and
        // to dispatch to inside a region formed later (the block entered predicts nothing past its region).
        // A WebAssembly region may have passed control on to others: FS.region is the one that ran last.
        const o = (FS.region as JitRegion | null) ?? b.owner;
        FS.region = null;
        last = o;
        if (o !== null) from = o.blocks[FS.from] ?? b;
        if (TRANSITIONS_FILE) countTransition(o?.blocks[0].start ?? b.start, from.start, from.instrs[from.instrs.length - 1].exec.name, c.rip, FS.slow !== 0);
        if (FS.slow !== 0) {
          // The region left just before an instruction for the interpreter (a memory slow path):
          // finish that block here, so blocks end where the interpreter's do.
          let rest: Block;
          try {
            rest = this.lookup(c.rip);
          } catch (e) {
            this.onFault(c, e, c.rip);
            break;
          }
          runStats.slowExits++;
          const k = this.interpretBlock(c, rest);
          if (k < 0) {
            executed += -k - 1;
            break;
          }
          executed += k;
          runStats.interpreted += k;
          from = rest;
        }
      } else {
        const k = this.interpretBlock(c, b);
        if (k < 0) {
          executed += -k - 1;
          break;
        }
        executed += k;
        runStats.interpreted += k;
      }
      if (c.stop !== Stop.None) {
        // Illegal/privileged stops happen before the instruction retires.
        if (c.stop === Stop.Illegal || c.stop === Stop.Privileged) c.icount--;
        break;
      }
      prev = from;
      left = fn !== null ? last : null;
    }
  }

  /**
   * Runs a block through its exec functions (or its closure). Returns the
   * instructions retired (counted in c.icount too), or -(k + 1) when the k-th
   * instruction faulted (the run stops: c.stop set, c.rip at it).
   */
  private interpretBlock(c: Cpu, b: Block): number {
    const ins = b.instrs;
    const n = ins.length;
    c.rip = b.end;
    const bfn = b.fn;
    let k = 0;
    try {
      if (bfn !== null) bfn(c);
      else for (; k < n; k++) {
        const i = ins[k];
        i.exec(c, i);
      }
    } catch (e) {
      if (bfn !== null) k = c.faultIndex;
      c.icount += k;
      this.onFault(c, e, ins[k].addr);
      return -(k + 1);
    }
    c.icount += n;
    return n;
  }

  /** The last step() ran one iteration of a rep string instruction that has more to do (rip is still on it). */
  midRep = false;

  /**
   * Executes exactly one instruction (gdb stepi) — or, like the CPU's trap
   * flag, one iteration of a rep string instruction (see midRep) unless
   * wholeRep. Breakpoints at the pc are not hit.
   */
  step(c: Cpu, wholeRep = false): Stop {
    c.stop = Stop.None;
    this.midRep = false;
    let i: Instr;
    try {
      i = this.lookup(c.rip).instrs[0];
    } catch (e) {
      this.onFault(c, e, c.rip);
      return c.stop;
    }
    this.armWatch(c);
    c.rip = i.next;
    try {
      if (!wholeRep && isRepString(i)) this.midRep = repIteration(c, i);
      else i.exec(c, i);
    } catch (e) {
      this.onFault(c, e, i.addr);
      this.disarmWatch();
      return c.stop;
    }
    this.disarmWatch();
    if ((c.stop === Stop.None || c.stop === Stop.Syscall || c.stop === Stop.Trap) && !this.midRep) c.icount++;
    if (c.stop === Stop.None) c.stop = this.watchPending ? Stop.Watchpoint : Stop.Step;
    this.watchPending = false;
    return c.stop;
  }

  /** Slow loop used while watchpoints exist: one instruction at a time, checking for hits. */
  private runWatched(c: Cpu, budget: number, skipBreakpointAt: number): Stop {
    for (let n = 0; n < budget; n++) {
      if (this.breakpoints.has(c.rip) && c.rip !== skipBreakpointAt) {
        c.stop = Stop.Breakpoint;
        return c.stop;
      }
      const s = this.step(c);
      if (s !== Stop.Step) return s;
      // The rest of a rep instruction is not a new fetch: a breakpoint on it is not hit again.
      skipBreakpointAt = this.midRep ? c.rip : -1;
    }
    c.stop = Stop.Budget;
    return c.stop;
  }

  private armWatch(c: Cpu): void {
    if (!this.watchpoints.length) return;
    this.watchingCpu = c;
    this.mem.onWatchedAccess = (addr, len, write) => {
      for (const w of this.watchpoints) {
        if (addr < w.addr + w.len && addr + len > w.addr) {
          const hit = w.kind === 'awatch' || (w.kind === 'watch' ? write : !write);
          if (hit) {
            this.watchPending = true;
            const cpu = this.watchingCpu!;
            cpu.watchHit = Math.max(addr, w.addr);
            cpu.watchKind = w.kind;
          }
        }
      }
    };
  }
  private disarmWatch(): void {
    if (this.watchingCpu) this.mem.onWatchedAccess = null;
    this.watchingCpu = null;
  }

  /** Re-routes the watched pages through the slow path after the watch list changed. */
  updateWatchpoints(): void {
    const pages = new Set<number>();
    for (const w of this.watchpoints) {
      for (let p = Math.floor(w.addr / PAGE_SIZE); p <= Math.floor((w.addr + w.len - 1) / PAGE_SIZE); p++) pages.add(p);
    }
    this.mem.setWatchedPages(pages);
  }

  private onFault(c: Cpu, e: unknown, pc: number): void {
    c.rip = pc;
    if (e instanceof GuestFault) {
      c.stop = Stop.Fault;
      c.fault = e;
    } else if (e === DIVIDE_ERROR) {
      c.stop = Stop.DivideError;
    } else if (e instanceof WebAssembly.CompileError) {
      throw new Error(`elfshim: internal error: a translated region is not valid WebAssembly (ELFSHIM_WASM=0 runs without them): ${e.message}`);
    } else {
      throw e;
    }
  }

  /** The instruction bytes at addr, for diagnostics (up to 15, fewer if unmapped). */
  bytesAt(addr: number): Uint8Array {
    return this.mem.peek(addr, 15) ?? new Uint8Array(0);
  }
}
