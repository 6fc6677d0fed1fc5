import { EINVAL, ENOMEM, EPERM } from './errno.js';
import type { Task } from './task.js';

/**
 * The alternate signal stack as Linux keeps it per task (sas_ss_sp,
 * sas_ss_size, sas_ss_flags; include/linux/sched/signal.h). The flags are
 * stored as sigaltstack() was given them and copied verbatim into a signal
 * frame's uc_stack.ss_flags, so a process that never called sigaltstack
 * shows 0 there (threads start with SS_DISABLE), while sigaltstack()'s old
 * value is computed (SS_DISABLE without a stack, SS_ONSTACK while on it).
 */
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 0x80000000 | 0;
/** MINSIGSTKSZ: the smallest stack sigaltstack accepts. */
export const MINSIGSTKSZ = 2048;

/** __on_sig_stack: sp inside (ss_sp, ss_sp + ss_size]. */
function insideAltStack(t: Task, sp: number): boolean {
  return sp > t.altStackSp && sp - t.altStackSp <= t.altStackSize;
}

/** on_sig_stack: with SS_AUTODISARM the task is never considered on its alternate stack. */
export function onAltStack(t: Task, sp: number): boolean {
  if (t.altStackFlags & SS_AUTODISARM) return false;
  return insideAltStack(t, sp);
}

/** sas_ss_flags(sp): SS_DISABLE without a stack, SS_ONSTACK on it, else 0. */
export function altStackState(t: Task, sp: number): number {
  if (!t.altStackSize) return SS_DISABLE;
  return onAltStack(t, sp) ? SS_ONSTACK : 0;
}

/** sas_ss_reset: no alternate stack (new threads, SS_AUTODISARM after a delivery). */
export function resetAltStack(t: Task): void {
  t.altStackSp = 0;
  t.altStackSize = 0;
  t.altStackFlags = SS_DISABLE;
}

/** Where a frame that must lie on the alternate stack may go: false when it would overflow it. */
export function fitsAltStack(t: Task, sp: number): boolean {
  return insideAltStack(t, sp);
}

/**
 * do_sigaltstack's update part: returns 0 or a negative errno. sp is the
 * caller's stack pointer (changing the stack while running on it is EPERM).
 */
export function setAltStack(t: Task, sp: number, ssSp: number, size: number, flags: number, minSize = MINSIGSTKSZ): number {
  if (onAltStack(t, sp)) return -EPERM;
  const mode = flags & ~SS_AUTODISARM;
  if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) return -EINVAL;
  if (t.altStackSp === ssSp && t.altStackSize === size && t.altStackFlags === flags) return 0;
  if (mode === SS_DISABLE) {
    size = 0;
    ssSp = 0;
  } else if (size < minSize) return -ENOMEM;
  t.altStackSp = ssSp;
  t.altStackSize = size;
  t.altStackFlags = flags;
  return 0;
}
