/**
 * The x87 FPU (true 80-bit extended precision in software) and the
 * fxsave/fxrstor/xsave/xrstor state instructions.
 *
 * The main decoder calls decodeX87 for D8..DF and decodeFxsaveGroup for
 * 0F AE with a memory operand; both return null for undefined encodings.
 *
 * Files: softfloat.ts (80-bit arithmetic on int32 halves), stack.ts
 * (register stack, tags, FSW bookkeeping), loadstore.ts, arith.ts,
 * compare.ts, control.ts (fldcw/fnstenv/fnsave…), transcendental.ts with
 * bigfloat.ts (BigInt, rare path), constants.ts, fxsave.ts, decode.ts
 * (the opcode tables), convert.ts (helpers for display).
 *
 * Tested bit for bit against the host CPU (test/x87.test.ts); known
 * deviations: transcendental results may differ by 1 ulp and their C1;
 * unmasked exceptions only set flags + ES/B (no #MF); unmasked overflow/
 * underflow store the masked result; fxsave/xsave alignment and reserved
 * MXCSR bits do not fault.
 */
import type { ExecFn, Instr } from '../instr.js';
import { execFxrstor, execFxsave, execXrstor, execXsave } from './fxsave.js';

export { decodeX87 } from './decode.js';
export { st80ToNumber, numberToSt80 } from './convert.js';
export { fxsaveTo, fxrstorFrom, xsaveTo, xsavecTo, xrstorFrom, execXsavec, XCR0, MXCSR_MASK } from './fxsave.js';
export { fullTagWord, fninitState } from './control.js';

/**
 * 0F AE with a memory operand: /0 fxsave, /1 fxrstor, /4 xsave, /5 xrstor,
 * /6 xsaveopt (without 66; with 66 it is clwb, not ours). REX.W selects the
 * 64-bit FIP/FDP layout (fxsave64 etc.).
 */
export function decodeFxsaveGroup(i: Instr): ExecFn | null {
  if (i.mod === 3) return null;
  switch (i.reg & 7) {
    case 0: return execFxsave;
    case 1: return execFxrstor;
    case 4: return execXsave;
    case 5: return execXrstor;
    case 6: return i.p66 ? null : execXsave;
    default: return null;
  }
}
