import type { Task } from './task.js';

/**
 * A handler may not be able to finish now (a read from an empty pipe or a
 * terminal). It returns Blocked with a promise that settles when retrying may
 * succeed; the scheduler parks the task and runs the same handler again with
 * the same arguments once the promise settles. Nothing blocks Node's loop.
 */
export class Blocked {
  constructor(readonly wake: Promise<unknown>) {}
}

/** Result of a handler: the value for rax (>= 0), a negative errno, or Blocked. */
export type SyscallResult = number | Blocked;

/**
 * One system call implementation. Arguments are read from the task's
 * registers with the helpers in args.ts (rdi, rsi, rdx, r10, r8, r9).
 * Handlers never throw for guest errors: they return -errno. A GuestFault
 * thrown while touching guest memory is turned into -EFAULT by the dispatcher.
 */
export type SyscallHandler = (t: Task) => SyscallResult;

/** How complete an implementation is, for `elfshim syscalls` and the reports. */
export type Coverage = 'implemented' | 'partial' | 'missing';

export interface SyscallImpl {
  handler: SyscallHandler;
  coverage?: Coverage;
  /** Says what is missing when coverage is 'partial'. */
  note?: string;
}
