/**
 * SSE … SSE4.2 decode extension. The main decoder calls decodeSse once the
 * ModRM/SIB/displacement/imm8 are parsed; it returns an exec function chosen
 * (and specialised) for this one encoding, or null for an undefined or
 * unimplemented encoding (→ SIGILL). See table.ts for the opcode map.
 */
import type { ExecFn, Instr } from '../instr.js';
import { lookup } from './table.js';

export function decodeSse(i: Instr, prefix: number): ExecFn | null {
  const f = lookup(i.map, prefix, i.op);
  return f ? f(i) : null;
}

export { SSE_FEATURES } from './table.js';
