/**
 * Region chaining: control passes from one WebAssembly region to the next
 * without returning to JavaScript.
 *
 * Every WebAssembly region function of a pool is in one WebAssembly.Table.
 * A small dispatcher function (WebAssembly too) calls a region, and while it
 * left for an address whose region the address space's chain cache names —
 * and not for the interpreter, nor with the budget spent — calls that one
 * next. The engine's loop then sees one call where there were many: its
 * breakpoint checks do not run in between, so the engine fills the cache only
 * while no breakpoint is set (setting one flushes it).
 *
 * The chain cache (AddressSpace.chainOffset) is two-way set associative:
 * CHAIN_SETS sets of two entries of [address (i64), table index (i32), entry
 * block (i32)], the newer first; an address of -1 marks an empty entry. (It
 * was direct-mapped: in the sqlite3 bench pairs of hot blocks on one entry
 * evicted each other, and half a million region exits a run went back to
 * the engine's loop for them.) The engine adds a region's blocks
 * when it installs it, and a block again when control enters it from the
 * engine's loop (its entry was evicted by another address); a region's
 * entries go when it is dropped, all of them when the engine flushes its
 * code cache.
 */
import { CHAIN_CACHE_BYTES } from '../../mem/address-space.js';
import type { PhysicalMemory } from '../../mem/physical.js';
import { FunctionBody, I32, I64, Op, moduleOf } from './encoder.js';
import * as S from './state.js';
import { HELPER_SLOTS, NEST_SLOT, installHelpers } from './helpers.js';

export const CHAIN_SETS = CHAIN_CACHE_BYTES / 32;
export const CHAIN_BYTES = CHAIN_CACHE_BYTES;
/** The set index is the top bits of the address's low half times this (Fibonacci hashing: code addresses are aligned and clustered). */
const HASH = 0x9e3779b1;
const SET_SHIFT = 32 - Math.log2(CHAIN_SETS);

/** Byte offset of addr's set in the chain cache (the dispatcher computes the same). */
function setOf(cache: number, addr: number): number {
  return cache + ((Math.imul(addr | 0, HASH) >>> SET_SHIFT) << 5);
}

/** The type of region functions: (budget, entry block) → instructions retired. */
const REGION_TYPE = { params: [I32, I32], results: [I32] };

/**
 * Code in f that looks the i64 local rip up in the chain cache at the i32 local cache: sets index and block
 * and falls through when found, branches to `miss` otherwise. e is an i32 temporary.
 */
function lookup(f: FunctionBody, rip: number, cache: number, e: number, index: number, block: number, miss: string): void {
  f.get(rip).op(Op.i32WrapI64).i32(HASH | 0).op(Op.i32Mul).i32(SET_SHIFT).op(Op.i32ShrU);
  f.i32(5).op(Op.i32Shl).get(cache).op(Op.i32Add).set(e);
  // The newer entry of the set, else the older one.
  f.get(e).mem(Op.i64Load).get(rip).op(Op.i64Ne).open('if', 'way1');
  f.get(e).i32(16).op(Op.i32Add).tee(e).mem(Op.i64Load).get(rip).op(Op.i64Ne).brIf(miss, false);
  f.end();
  f.get(e).mem(Op.i32Load, 8).set(index).get(e).mem(Op.i32Load, 12).set(block);
}

/**
 * Code in f that runs region `index` from `block` (S_LAST names it) with what is left of the budget, and adds
 * the instructions it retired to done.
 */
function callRegion(f: FunctionBody, scratch: number, budget: number, done: number, index: number, block: number): void {
  f.i32(0).get(index).mem(Op.i32Store, scratch + S.S_LAST);
  f.i32(0).i32(0).mem(Op.i32Load, scratch + S.S_ENTRIES).i32(1).op(Op.i32Add).mem(Op.i32Store, scratch + S.S_ENTRIES);
  f.get(budget).get(done).op(Op.i32Sub).get(block).get(index).op(0x11, 1, 0); // call_indirect (type 1) (table 0)
  f.get(done).op(Op.i32Add).set(done);
}

/**
 * dispatch(budget, index, block, cache) → instructions retired: runs region
 * `index` from `block`, then the regions the chain cache names for where each
 * left (cache < 0: none). S_LAST tells which region ran last.
 */
function dispatcher(scratch: number): FunctionBody {
  const f = new FunctionBody([I32, I32, I32, I32], [I32]);
  const [budget, index, block, cache] = [0, 1, 2, 3];
  const done = f.local(I32), rip = f.local(I64), e = f.local(I32);
  f.open('block', 'out').open('loop', 'L');
  callRegion(f, scratch, budget, done, index, block);
  f.i32(0).mem(Op.i32Load, scratch + S.S_SLOW).get(done).get(budget).op(Op.i32GeS, Op.i32Or).get(cache).i32(0).op(0x48 /* i32.lt_s */, Op.i32Or).brIf('out', false);
  f.i32(0).mem(Op.i64Load, scratch + S.S_RIP).set(rip);
  lookup(f, rip, cache, e, index, block, 'out');
  f.br('L').end().end();
  f.get(done);
  return f;
}

/** Nested region calls allowed at once (each is a WebAssembly frame of the caller's region and of nest). */
export const NEST_DEPTH = 32;

/**
 * nest(budget, target, stop) → instructions retired, or -1 when it ran
 * nothing: a region's call out to a function of another region. It runs the
 * region the chain cache names for target, and the ones after it, as the
 * dispatcher does, until control reaches stop (the call's return address,
 * a block of the caller), or the dispatcher would stop. The caller then
 * continues at its return site itself when S_RIP is stop (no slow exit, no
 * region dropped meanwhile: S_GEN), or leaves for S_RIP otherwise. Returning
 * is then a WebAssembly return, which the host CPU predicts, instead of a trip
 * through the dispatcher's one indirect call and the caller's entry switch.
 * -1: the depth is used up (S_NEST), or target has no region (the caller
 * leaves for it as before).
 */
function nest(scratch: number): FunctionBody {
  const f = new FunctionBody([I32, I64, I64], [I32]);
  const [budget, target, stop] = [0, 1, 2];
  const done = f.local(I32), rip = f.local(I64), e = f.local(I32), index = f.local(I32), block = f.local(I32), cache = f.local(I32);
  f.open('block', 'none');
  f.i32(0).mem(Op.i32Load, scratch + S.S_NEST).i32(0).op(0x4c /* i32.le_s */).brIf('none', false);
  f.i32(0).mem(Op.i32Load, scratch + S.S_CHAIN).tee(cache).i32(0).op(0x48 /* i32.lt_s */).brIf('none', false);
  f.get(target).set(rip);
  lookup(f, rip, cache, e, index, block, 'none');
  f.i32(0).i32(0).mem(Op.i32Load, scratch + S.S_NEST).i32(1).op(Op.i32Sub).mem(Op.i32Store, scratch + S.S_NEST);
  f.open('block', 'out').open('loop', 'L');
  callRegion(f, scratch, budget, done, index, block);
  f.i32(0).mem(Op.i32Load, scratch + S.S_SLOW).get(done).get(budget).op(Op.i32GeS, Op.i32Or).brIf('out', false);
  f.i32(0).mem(Op.i64Load, scratch + S.S_RIP).tee(rip).get(stop).op(Op.i64Eq).brIf('out');
  lookup(f, rip, cache, e, index, block, 'out');
  f.br('L').end().end();
  f.i32(0).i32(0).mem(Op.i32Load, scratch + S.S_NEST).i32(1).op(Op.i32Add).mem(Op.i32Store, scratch + S.S_NEST);
  f.get(done).op(Op.return);
  f.end();
  f.i32(-1);
  return f;
}

/** The table of a pool's WebAssembly regions and its dispatcher. */
export class RegionTable {
  readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 64 });
  /**
   * The helpers region code calls (helpers.ts): a table of their own, because instantiating a module that
   * imports a table copies all its entries (the region table's hundreds, for every region compiled).
   */
  readonly helpers = new WebAssembly.Table({ element: 'anyfunc', initial: HELPER_SLOTS });
  readonly dispatch: (budget: number, index: number, block: number, cache: number) => number;
  /** What each index's region belongs to (the engine's region object), for FS.region. */
  readonly owners: (WeakRef<object> | undefined)[] = [];
  /** Each index's region's fallback (fallback.ts), called for the region that runs (S_LAST). */
  private readonly fallbacks: (((k: number) => number) | undefined)[] = [];
  private readonly free: number[] = [];
  private next = 0;
  private readonly release = new FinalizationRegistry<number>((k) => {
    this.table.set(k, null);
    this.owners[k] = undefined;
    this.fallbacks[k] = undefined;
    this.free.push(k);
  });

  constructor(memory: WebAssembly.Memory, pages: number, scratch: number) {
    const instance = (body: FunctionBody, name: string) =>
      new WebAssembly.Instance(new WebAssembly.Module(moduleOf(body, pages, [], { table: true, types: [REGION_TYPE], name })), { m: { m: memory }, t: { t: this.table } });
    this.dispatch = instance(dispatcher(scratch), 'dispatcher').exports.f as RegionTable['dispatch'];
    const last = new Int32Array(memory.buffer, scratch + S.S_LAST, 1);
    installHelpers(this.helpers, (k) => {
      const fallback = this.fallbacks[last[0]];
      if (fallback === undefined) throw new Error(`elfshim: internal error: region ${last[0]} has no fallback ${k}`);
      return fallback(k);
    });
    this.helpers.set(NEST_SLOT, instance(nest(scratch), 'nest').exports.f);
  }

  /** Adds a region function (and its fallback); its index is released once `holder` (what calls it) is collected. */
  add(fn: unknown, owner: object, holder: object, fallback?: (k: number) => number): number {
    let k = this.free.pop();
    if (k === undefined) {
      k = this.next++;
      if (k >= this.table.length) this.table.grow(this.table.length);
    }
    this.table.set(k, fn as WebAssembly.ExportValue);
    this.owners[k] = new WeakRef(owner);
    this.fallbacks[k] = fallback;
    this.release.register(holder, k);
    return k;
  }
}

const tables = new WeakMap<PhysicalMemory, RegionTable>();

/** The region table of a WebAssembly pool. */
export function regionTableOf(phys: PhysicalMemory): RegionTable {
  let t = tables.get(phys);
  if (t === undefined) {
    t = new RegionTable(phys.memory!, phys.memory!.buffer.byteLength / 65536, phys.scratch);
    tables.set(phys, t);
  }
  return t;
}

/** Empties a chain cache. */
export function chainClear(view: Int32Array, cache: number): void {
  view.fill(-1, cache >> 2, (cache + CHAIN_BYTES) >> 2);
}
/** Names region `index`, block `block`, as where control continues at addr (the set's newer entry; the other one stays as the older). */
export function chainSet(view: Int32Array, cache: number, addr: number, index: number, block: number): void {
  const e = setOf(cache, addr) >> 2;
  const lo = addr | 0, hi = Math.floor(addr / 4294967296) | 0;
  if (view[e] !== lo || view[e + 1] !== hi) {
    // The newer entry becomes the older one (replacing addr's own, if it was the older).
    view.copyWithin(e + 4, e, e + 4);
    view[e] = lo;
    view[e + 1] = hi;
  }
  view[e + 2] = index;
  view[e + 3] = block;
}
/** The int32 index of addr's entry in view (either of its set), or -1. */
function entryOf(view: Int32Array, cache: number, addr: number): number {
  const set = setOf(cache, addr) >> 2;
  const lo = addr | 0, hi = Math.floor(addr / 4294967296) | 0;
  for (const e of [set, set + 4]) if (view[e] === lo && view[e + 1] === hi) return e;
  return -1;
}
/** What the dispatcher finds for addr: [table index, entry block], or null (for tests: the dispatcher looks up the same way). */
export function chainLookup(view: Int32Array, cache: number, addr: number): [number, number] | null {
  const e = entryOf(view, cache, addr);
  return e < 0 ? null : [view[e + 2], view[e + 3]];
}
/** The set addr is cached in (for tests). */
export function chainSetIndex(addr: number): number {
  return setOf(0, addr) >> 5;
}
/** Removes addr's entry if it names region `index`. */
export function chainDrop(view: Int32Array, cache: number, addr: number, index: number): void {
  const e = entryOf(view, cache, addr);
  if (e >= 0 && view[e + 2] === index) {
    view[e] = -1;
    view[e + 1] = -1;
  }
}
/** A region stopped being valid: a region waiting for a nested call to return must not continue (S_GEN). */
export function regionsChanged(view: Int32Array, scratch: number): void {
  view[(scratch + S.S_GEN) >> 2]++;
}
/** Calls out of a region of this pool that continued in place after the callee returned, so far (see nest). */
export function nestedReturns(phys: PhysicalMemory): number {
  return scratchCounter(phys, S.S_NESTED);
}
/** Regions entered by the dispatcher or nest in this pool, so far (modulo 2^32). */
export function regionEntries(phys: PhysicalMemory): number {
  return scratchCounter(phys, S.S_ENTRIES);
}
/** The unsigned i32 counter at offset off of a pool's scratch frame (0 in a pool without WebAssembly). */
function scratchCounter(phys: PhysicalMemory, off: number): number {
  return phys.memory === null ? 0 : new Int32Array(phys.buffer, phys.scratch + off, 1)[0] >>> 0;
}
