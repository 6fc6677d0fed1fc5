/**
 * What translated regions call: fallbacks (instructions run through their
 * interpreter exec function), the wide multiply helpers, the flag store of
 * the exit path, and the status shared with the engine (FS).
 */
import type { Cpu } from '../cpu.js';
import type { ExecFn, Instr } from '../instr.js';
import { PARITY } from '../cpu.js';
import { Res, WithCfOf, cfInt } from './flag-exprs.js';
import { CF, FlagOp, OF } from '../cpu.js';
import { mul64s, mulhs32, mulhu32, out, popcnt32 } from '../arith.js';

/**
 * fault: a fault (or divide error) raised by a fallback inside translated
 * code. callFallback catches it here instead of letting it unwind through the
 * generated function: a try/catch there would give every call site an
 * exception edge merging all the guest-register locals, which makes V8's
 * optimizing compile of a region very slow. The generated code checks
 * `FS.fault !== null` after each fallback.
 *
 * slow: set by a region's exit: 1 when it left just before an instruction
 * for the interpreter to run (see Emitter.slowExit), else 0.
 *
 * from: set by a region's exit: the index of the block it left from.
 *
 * region: set by a WebAssembly region that passed control on to others
 * (wasm/chain.ts): the engine's object for the region that ran last (which
 * `from` indexes); null otherwise — the engine resets it after reading it.
 */
export const FS: { fault: unknown; slow: number; from: number; region: unknown } = { fault: null, slow: 0, from: 0, region: null };

/** Takes the pending fault (the generated code rethrows it for the engine). */
export function takeFault(): unknown {
  const e = FS.fault;
  FS.fault = null;
  return e;
}

/** Runs an instruction through its interpreter exec function; a fault it raises goes to FS. */
export function callFallback(c: Cpu, f: ExecFn, i: Instr): void {
  try {
    f(c, i);
  } catch (e) {
    FS.fault = e;
  }
}

/**
 * Stores the flags described at run time by a producer id (see producerId:
 * op * 16 + size; 0 = already in the Cpu) into the Cpu's lazy-flag fields.
 * One shared function rather than a switch in every region: the exit paths
 * of translated code are cold, and V8 deoptimizes code reaching sites it has
 * never seen run.
 */
export function storeFlags(c: Cpu, id: number, fa: number, fah: number, fb: number, fbh: number, fr: number, frh: number, fci: number, fcf: number, fof: number): void {
  if (id === 0) return;
  const op = id >> 4, size = id & 15;
  if (op > WithCfOf) {
    storeFlags(c, id - WithCfOf * 16, fa, fah, fb, fbh, fr, frh, fci, fcf, fof);
    c.setSomeFlags(CF | OF, fcf | (fof << 11));
    return;
  }
  if (op === Res) {
    const zf = size === 8 ? (fr | frh) === 0 : fr === 0;
    const sf = size === 8 ? frh >>> 31 : size === 4 ? fr >>> 31 : (fr >>> (size * 8 - 1)) & 1;
    c.fop = 0;
    c.fexp = fcf | (PARITY[fr & 255] << 2) | (zf ? 0x40 : 0) | (sf << 7) | (fof << 11);
    return;
  }
  c.fop = op;
  c.fsz = size;
  c.fres = fr;
  c.fresh = frh;
  c.fa = fa;
  c.fah = fah;
  c.fb = fb;
  c.fbh = fbh;
  c.fcin = fci;
}

/** Everything the generated factories destructure. */
/**
 * CF (0 or 1) of the flags a block starts with, described at run time by fk
 * (see storeFlags): what inc/dec and adc/sbb at a block's head read,
 * without storing every flag operand into the Cpu first to ask it. One shared
 * function (V8 inlines it) whose cases are the translator's own CF formulas.
 */
export const cfOfState = new Function(
  'c', 'fk', 'fa', 'fah', 'fb', 'fbh', 'fr', 'frh', 'fci', 'fcf',
  `switch (fk) {\n${[FlagOp.Add, FlagOp.Adc, FlagOp.Sub, FlagOp.Sbb, FlagOp.Logic, FlagOp.Inc, FlagOp.Dec, Res].flatMap((op) => (op === Res ? [op] : [op, op + WithCfOf]))
    .flatMap((op) => [1, 2, 4, 8].map((size) => `case ${op * 16 + size}: return ${cfInt({ op, size })};`))
    .join('\n')}\ndefault: return c.getCF();\n}`,
) as (c: Cpu, fk: number, fa: number, fah: number, fb: number, fbh: number, fr: number, frh: number, fci: number, fcf: number) => number;

export const RUNTIME = { PAR: PARITY, mulhs32, mulhu32, mul64s, OUT: out, POP: popcnt32, storeFlags, cfOfState, FS, takeFault, callFallback };
