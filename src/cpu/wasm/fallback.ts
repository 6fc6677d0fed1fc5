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
 *   1 — the instruction raised a fault (or anything else): it changed nothing
 *       (exec functions check before they write), and the region leaves
 *       before it for the interpreter, which raises it precisely;
 *   2 — leave after it: it wrote code and the region may be gone.
 * Control flow and system instructions (control.ts, system.ts: those that
 * stop the run or move rip) never fall back.
 */
import { ARITH_FLAGS, type Cpu } from '../cpu.js';
import type { Instr } from '../instr.js';
import * as C from '../ops/control.js';
import * as Y from '../ops/system.js';
import { I32 } from './encoder.js';
import * as S from './state.js';

export const FALLBACK_IMPORT = { module: 'h', name: 'fb', params: [I32], results: [I32] };
/** The function index of the fallback import (after mat). */
export const FALLBACK = 1;

/** The Cpu whose region runs now (the runner sets it before each dispatch). */
export const running: { cpu: Cpu | null } = { cpu: null };

const NEVER = new Set<unknown>([...Object.values(C), ...Object.values(Y)].filter((v) => typeof v === 'function'));

/** Whether i may run through the fallback inside a WebAssembly region. */
export function mayFallBack(i: Instr): boolean {
  return !NEVER.has(i.exec);
}

const w = (off: number) => off / 4;

/** The region's flags (and registers, for a Cpu whose registers are not in the pool) from the scratch frame into the Cpu. */
function toCpu(c: Cpu, V: Int32Array): void {
  if (c.rOffset < 0) {
    c.r.set(V.subarray(w(S.S_REGS), w(S.S_REGS) + 32));
    c.xmm.set(V.subarray(w(S.S_REGS + S.XMM_OFFSET), w(S.S_REGS + S.XMM_OFFSET) + 64));
  }
  c.fop = V[w(S.S_FOP)];
  c.fsz = V[w(S.S_FSZ)];
  c.fcin = V[w(S.S_FCIN)];
  c.fexp = V[w(S.S_FL)] & ARITH_FLAGS;
  c.fres = V[w(S.S_FRES)];
  c.fresh = V[w(S.S_FRES) + 1];
  c.fa = V[w(S.S_FA)];
  c.fah = V[w(S.S_FA) + 1];
  c.fb = V[w(S.S_FB)];
  c.fbh = V[w(S.S_FB) + 1];
}

/** The Cpu's flags, DF (and registers) back into the scratch frame. */
function fromCpu(c: Cpu, V: Int32Array): void {
  if (c.rOffset < 0) {
    V.set(c.r, w(S.S_REGS));
    V.set(c.xmm, w(S.S_REGS + S.XMM_OFFSET));
  }
  V[w(S.S_FOP)] = c.fop;
  V[w(S.S_FSZ)] = c.fsz;
  V[w(S.S_FCIN)] = c.fcin;
  V[w(S.S_FL)] = c.fexp;
  V[w(S.S_FRES)] = c.fres;
  V[w(S.S_FRES) + 1] = c.fresh;
  V[w(S.S_FA)] = c.fa;
  V[w(S.S_FA) + 1] = c.fah;
  V[w(S.S_FB)] = c.fb;
  V[w(S.S_FB) + 1] = c.fbh;
  V[w(S.S_DF)] = (c.fother >> 10) & 1;
}

/** The fallback import of a region: runs its k-th fallback instruction. `region.valid` turns false when the region is dropped. */
export function fallbackImport(instrs: readonly Instr[], buffer: ArrayBufferLike, scratch: number, region: { readonly valid: boolean }): (k: number) => number {
  const V = new Int32Array(buffer, scratch, 1024);
  return (k) => {
    const c = running.cpu!, i = instrs[k];
    toCpu(c, V);
    try {
      i.exec(c, i);
    } catch {
      return 1;
    }
    fromCpu(c, V);
    return region.valid ? 0 : 2;
  };
}
