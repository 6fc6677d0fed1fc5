import { RAX } from '../cpu/cpu.js';
import type { Task } from './task.js';

/**
 * A thread waiting in a system call, as a debugger sees it. Under ptrace such
 * a thread is stopped inside the call: rax holds the kernel's restart code and
 * the pc is after the syscall instruction; when it resumes, Linux restarts
 * the call only if its registers still say so (orig_rax ≥ 0 and rax a restart
 * code). gdb relies on that: an inferior function call saves the registers,
 * runs the function and writes them back, and the interrupted call goes on.
 *
 * elfshim keeps such a thread parked in its call across a debugger stop. This
 * shows the restart code while stopped; at the resume, a thread the debugger
 * left alone goes on waiting, and one whose registers it changed leaves the
 * call and follows Linux's rule.
 */

const ERESTARTSYS = -512;
const ERESTARTNOINTR = -513;
const ERESTARTNOHAND = -514;
const ERESTART_RESTARTBLOCK = -516;
const RESTART_CODES = new Set([ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK]);

/** Calls Linux does not restart after a handler (ERESTARTNOHAND), and the sleeps (restart block). Others: ERESTARTSYS. */
const RESTART_CODE: ReadonlyMap<number, number> = new Map([
  [35, ERESTART_RESTARTBLOCK], // nanosleep
  [230, ERESTART_RESTARTBLOCK], // clock_nanosleep
  [7, ERESTARTNOHAND], // poll
  [23, ERESTARTNOHAND], // select
  [34, ERESTARTNOHAND], // pause
  [128, ERESTARTNOHAND], // rt_sigtimedwait
  [130, ERESTARTNOHAND], // rt_sigsuspend
  [232, ERESTARTNOHAND], // epoll_wait
  [270, ERESTARTNOHAND], // pselect6
  [271, ERESTARTNOHAND], // ppoll
  [281, ERESTARTNOHAND], // epoll_pwait
  [441, ERESTARTNOHAND], // epoll_pwait2
]);

interface Shown {
  /** rax as elfshim keeps it in a parked thread (the raw halves). */
  lo: number;
  hi: number;
  rip: number;
  nr: number;
  code: number;
}

export class ParkedCalls {
  private readonly shown = new Map<Task, Shown>();

  /** At a debugger stop: every thread parked in a call shows its restart code in rax. */
  show(tasks: readonly Task[]): void {
    for (const t of tasks) {
      if (t.state !== 'blocked' || t.restartSyscall < 0 || this.shown.has(t)) continue;
      const c = t.cpu;
      const code = RESTART_CODE.get(t.restartSyscall) ?? ERESTARTSYS;
      this.shown.set(t, { lo: c.r[2 * RAX], hi: c.r[2 * RAX + 1], rip: c.rip, nr: t.restartSyscall, code });
      c.setS(RAX, code);
    }
  }

  /**
   * Before the guest runs again. abandon(t) takes a thread out of its call
   * (the debugger changed its registers); then any thread whose registers ask
   * for a restart (a debugger wrote them back after an inferior call) goes
   * back onto its syscall instruction.
   */
  settle(tasks: readonly Task[], abandon: (t: Task) => void): void {
    const none = this.shown.size === 0; // the common case, at every step of the lockstep differ
    for (const t of tasks) {
      const c = t.cpu;
      const s = none ? undefined : this.shown.get(t);
      if (s && t.restartSyscall === s.nr) {
        if (c.rip === s.rip && c.origRax === s.nr && c.getS(RAX) === s.code) {
          // Untouched: it goes on waiting.
          c.r[2 * RAX] = s.lo;
          c.r[2 * RAX + 1] = s.hi;
          continue;
        }
        abandon(t);
      }
      if (t.state === 'exited' || t.restartSyscall >= 0 || c.origRax < 0 || !RESTART_CODES.has(c.getS(RAX))) continue;
      // restart_syscall is not emulated: a sleep starts over with its arguments.
      c.setS(RAX, c.origRax);
      c.rip -= 2;
    }
    this.shown.clear();
  }
}
