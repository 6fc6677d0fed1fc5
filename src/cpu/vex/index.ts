import type { ExecFn, Instr } from '../instr.js';

/**
 * VEX-encoded and ADX instructions. The decoder has parsed the prefix
 * (i.vex, i.vvvv, i.vexL, i.rexW, i.map, i.op), ModRM and an imm8 for map
 * 0F3A; prefix is the VEX.pp (or legacy mandatory) prefix. null = SIGILL:
 * nothing here is advertised in CPUID until it is implemented and tested.
 */
export function decodeVex(_i: Instr, _prefix: number): ExecFn | null {
  return null;
}
