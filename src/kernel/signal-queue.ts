/**
 * Taking pending signals out of the queue instead of delivering them
 * (rt_sigtimedwait, signalfd), and waking whoever waits for one.
 */
import type { Process, Task } from './task.js';
import type { SigInfo } from './signal-frame.js';

const waiters = new WeakMap<Process, (() => void)[]>();

/** A signal was queued for a task of proc: wake every sigtimedwait/signalfd waiter of proc. */
export function signalQueued(proc: Process): void {
  const w = waiters.get(proc);
  if (!w || !w.length) return;
  waiters.set(proc, []);
  for (const wake of w) wake();
}

/** Settles at the next signal queued for proc. */
export function nextSignal(proc: Process): Promise<void> {
  let w = waiters.get(proc);
  if (!w) waiters.set(proc, (w = []));
  const list = w;
  return new Promise<void>((resolve) => list.push(resolve));
}

const inSet = (sig: number, lo: number, hi: number) => (sig <= 32 ? (lo >>> (sig - 1)) & 1 : (hi >>> (sig - 33)) & 1) === 1;

const blockedIn = (x: Task, sig: number) => inSet(sig, x.sigmaskLo, x.sigmaskHi);

/**
 * The lowest pending signal in the set (lo, hi) that t may take: its own, or
 * one parked on another thread of its process that blocks it (Linux would
 * have kept that one in the process-wide queue). Removed from the queue.
 */
export function takeSignal(t: Task, lo: number, hi: number, peek = false): SigInfo | null {
  let best: { sig: number; owner: Task } | null = null;
  for (const x of t.kernel.tasks) {
    if (x.proc !== t.proc || x.state === 'exited') continue;
    for (const sig of x.pendingSignals.keys()) {
      if (!inSet(sig, lo, hi) || (x !== t && !blockedIn(x, sig))) continue;
      if (!best || sig < best.sig) best = { sig, owner: x };
    }
  }
  if (!best) return null;
  const info = best.owner.pendingSignals.get(best.sig)!;
  if (!peek) {
    best.owner.pendingSignals.delete(best.sig);
    best.owner.debuggerSawSignal.delete(best.sig);
  }
  return { ...info, signo: best.sig };
}
