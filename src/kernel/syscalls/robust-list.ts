/**
 * Robust futex lists at thread exit (kernel/futex/core.c exit_robust_list):
 * every lock the dying thread still holds is marked FUTEX_OWNER_DIED and one
 * waiter is woken, so pthread_mutex_lock on a robust mutex returns EOWNERDEAD
 * instead of hanging.
 */
import type { Task } from '../task.js';
import { wakeWaiters } from './futex.js';

const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
const ROBUST_LIST_LIMIT = 2048;

/** A 64-bit guest value; the high half is signed, so small negative numbers come out right. */
function read64(t: Task, a: number): number {
  const lo = t.mem.read64(a) >>> 0;
  return lo + (t.mem.hi | 0) * 4294967296;
}

function futexDeath(t: Task, uaddr: number, pi: boolean, pendingOp: boolean): void {
  if (uaddr % 4 !== 0) return;
  const uval = t.mem.read32(uaddr) >>> 0;
  // A pending lock operation that never got the lock: still wake a waiter (it may have been handed the lock).
  if (pendingOp && !pi && uval === 0) {
    wakeWaiters(t, uaddr, 1, -1);
    return;
  }
  if ((uval & FUTEX_TID_MASK) !== t.tid) return;
  t.mem.write32(uaddr, ((uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED) | 0);
  if (!pi && uval & FUTEX_WAITERS) wakeWaiters(t, uaddr, 1, -1);
}

/** Walks t's robust list (set_robust_list) as the thread exits. Faults end the walk silently, like Linux. */
export function exitRobustList(t: Task): void {
  const head = t.robustList;
  if (!head) return;
  try {
    let entry = read64(t, head);
    const offset = read64(t, head + 8); // signed (the high half is): futex_offset may be negative
    const pendingRaw = read64(t, head + 16);
    const pending = pendingRaw - (pendingRaw % 2);
    for (let n = 0; entry !== head && n < ROBUST_LIST_LIMIT; n++) {
      const next = read64(t, entry - (entry % 2));
      const base = entry - (entry % 2);
      if (base !== pending) futexDeath(t, base + offset, entry % 2 === 1, false);
      entry = next;
    }
    if (pending) futexDeath(t, pending + offset, pendingRaw % 2 === 1, true);
  } catch {
    // the guest's list is broken or unmapped: stop, as the kernel does
  }
}
