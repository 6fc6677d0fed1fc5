/**
 * The functions region code calls — mat (flags.ts), the fallback
 * (fallback.ts) and nest (chain.ts) — are entries of a small table each region module imports
 * (RegionTable.helpers), called with call_indirect, not imported functions: V8 (Node 20) compiles a
 * call wrapper with TurboFan, on the main thread, for every function a module
 * imports, and those wrappers were half of the time sqlite3's 466 regions
 * spent in `new WebAssembly.Module` and `new WebAssembly.Instance` (perf
 * profile, 2026-11-28). The fallback is JavaScript: one small module imports
 * it once and its wasm function goes in the table.
 */
import { FunctionBody, I32, I64, moduleOf } from './encoder.js';
import { MAT_TYPE, matHelper } from './flags.js';
import { FALLBACK_TYPE } from './fallback.js';

/** The helpers' slots in their table (NEST_SLOT: chain.ts's nest, installed by the region table). */
export const MAT_SLOT = 0, FALLBACK_SLOT = 1, NEST_SLOT = 2, HELPER_SLOTS = 3;
/** nest(budget, target, stop) → instructions retired, or -1 when it ran nothing (see chain.ts). */
export const NEST_TYPE = { params: [I32, I64, I64], results: [I32] };
/** The helpers' types, after the region function's own in a region module's type section (MAT_TYPE_INDEX…). */
export const HELPER_TYPES = [MAT_TYPE, FALLBACK_TYPE, NEST_TYPE];
export const MAT_TYPE_INDEX = 1, FALLBACK_TYPE_INDEX = 2, NEST_TYPE_INDEX = 3;

/** Puts the helpers in their slots; `fallback(k)` runs the current region's k-th fallback instruction. */
export function installHelpers(table: WebAssembly.Table, fallback: (k: number) => number): void {
  const f = new FunctionBody([I32], [I32]);
  f.get(0).op(0x10, 0); // call the import
  const trampoline = new WebAssembly.Instance(new WebAssembly.Module(moduleOf(f, null, [{ module: 'h', name: 'fb', ...FALLBACK_TYPE }], { name: 'fallback' })), { h: { fb: fallback } });
  table.set(MAT_SLOT, matHelper() as WebAssembly.ExportValue);
  table.set(FALLBACK_SLOT, trampoline.exports.f);
}
