/** The registry of instruction translations, keyed by the interpreter's exec function. */
import type { ExecFn, Instr } from '../instr.js';
import type { Emitter, Terminator } from './emitter.js';

export interface Translation {
  /**
   * Emits the instruction. Returns a Terminator for control transfers
   * (always the last instruction of a block), or nothing; returning false
   * asks for the interpreter fallback instead.
   */
  emit(g: Emitter, i: Instr, last: boolean): Terminator | void | false;
  /** [flags read, flags written] (EFLAGS bit masks) for liveness. Default: none. */
  flags?(i: Instr): [number, number];
  /** Whether the instruction can fault. Default: it has a memory operand. */
  throws?(i: Instr): boolean;
}

export const TRANSLATIONS = new Map<ExecFn, Translation>();

export function translate(fn: ExecFn, t: Translation): void {
  TRANSLATIONS.set(fn, t);
}
