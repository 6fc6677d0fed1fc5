/**
 * Instructions without a WebAssembly translation inside a WebAssembly region:
 * the region calls out to JavaScript, which runs the instruction's exec
 * function (the interpreter's) on the Cpu, instead of the whole region
 * staying JavaScript. One addsd made a hot sqlite3 region JavaScript: the
 * engine's loop ran between it and its WebAssembly neighbours a million
 * times a run, where the dispatcher now passes control on.
 *
 * The region stores every guest register into the Cpu's register slot and
 * its flag state into the scratch frame before the call and reloads them
 * after (xmm registers are in the slot already). The call returns
 *   0 — go on;
 *   1 — the instruction raised a fault (or anything else): the region leaves
 *       before it for the interpreter, which raises it precisely (exec
 *       functions check before they write; a rep string instruction has done
 *       the iterations before the faulting one, and goes on from there);
 *   2 — leave after it: it wrote code and the region may be gone.
 * Control flow and system instructions (control.ts, system.ts: those that
 * stop the run or move rip) never fall back.
 */
import type { Cpu } from '../cpu.js';
import type { Instr } from '../instr.js';
import * as C from '../ops/control.js';
import * as Y from '../ops/system.js';
import { I32 } from './encoder.js';
import { flagsIn, flagsOut, modesIn, registersIn, registersOut } from './scratch.js';

/** The fallback's type: (the region's fallback number) → status (region code calls it through the helper table: helpers.ts). */
export const FALLBACK_TYPE = { params: [I32], results: [I32] };

/** The Cpu whose region runs now (the runner sets it before each dispatch). */
export const running: { cpu: Cpu | null } = { cpu: null };

const NEVER = new Set<unknown>([...Object.values(C), ...Object.values(Y)].filter((v) => typeof v === 'function'));

/** Whether i may run through the fallback inside a WebAssembly region. */
export function mayFallBack(i: Instr): boolean {
  return !NEVER.has(i.exec);
}

/** A region's fallback: runs its k-th fallback instruction. `region.valid` turns false when the region is dropped. */
export function regionFallback(instrs: readonly Instr[], buffer: ArrayBufferLike, scratch: number, region: { readonly valid: boolean }): (k: number) => number {
  const V = new Int32Array(buffer, scratch, 1024);
  return (k) => {
    const c = running.cpu!, i = instrs[k];
    const lent = c.rOffset < 0;
    if (lent) registersOut(c, V);
    flagsOut(c, V);
    let status = 0;
    try {
      i.exec(c, i);
    } catch {
      status = 1;
    }
    // Back also after a fault: a rep string instruction stops at the faulting iteration with the earlier ones done.
    if (lent) registersIn(c, V);
    flagsIn(c, V);
    modesIn(c, V);
    return status !== 0 ? status : region.valid ? 0 : 2;
  };
}
