import type { GuestFault } from '../mem/fault.js';

/**
 * The CPU exception behind a synchronous signal, as Linux records it in
 * thread.trap_nr / error_code / cr2 (and shows in every later signal
 * frame's sigcontext, whatever the signal).
 */
export interface CpuException {
  /** Exception vector (X86_TRAP_*). */
  nr: number;
  err: number;
  /** Page faults only: the faulting address. */
  cr2?: number;
  /** A trap (int3) rather than a fault: the saved eflags image has no RF. */
  trap?: boolean;
}

export const TRAP_DE = 0, TRAP_BP = 3, TRAP_UD = 6, TRAP_GP = 13, TRAP_PF = 14;

const PF_PROT = 1, PF_WRITE = 2, PF_USER = 4, PF_INSTR = 16;
/** Linux's TASK_SIZE_MAX: user accesses above it are reported as protection faults (set_signal_archinfo). */
const TASK_SIZE_MAX = 0x7ffffffff000;

/** The page-fault error code a user-mode access gets (arch/x86/mm/fault.c). */
export function pageFaultError(f: GuestFault): number {
  let err = PF_USER;
  if (f.kind === 'protection' || f.addr >= TASK_SIZE_MAX) err |= PF_PROT;
  if (f.access === 'write') err |= PF_WRITE;
  if (f.access === 'exec') err |= PF_INSTR;
  return err;
}
