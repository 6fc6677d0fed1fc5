import { argI, argU } from '../args.js';
import { EAGAIN, EINVAL, ENOSYS, ETIMEDOUT } from '../errno.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import type { Task } from '../task.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_CMD_MASK = ~(128 | 256); // PRIVATE and CLOCK_REALTIME flags

interface Waiter {
  task: Task;
  addr: number;
  bitset: number;
  wake: () => void;
}

/**
 * Futex wait queues, keyed by address space and address. A waiter parks its
 * task with Blocked; FUTEX_WAKE resolves it. The re-run of the waiting
 * handler sees the wake flag and returns 0 (or ETIMEDOUT).
 */
const queues = new WeakMap<object, Map<number, Waiter[]>>();
const woken = new WeakMap<Task, 'woken' | 'timeout'>();

function queueOf(t: Task, addr: number): Waiter[] {
  let m = queues.get(t.mem);
  if (!m) queues.set(t.mem, (m = new Map()));
  let q = m.get(addr);
  if (!q) m.set(addr, (q = []));
  return q;
}

export function wakeWaiters(t: Task, addr: number, n: number, bitset: number): number {
  const q = queueOf(t, addr);
  let done = 0;
  for (let k = 0; k < q.length && done < n; ) {
    if (q[k].bitset & bitset) {
      const w = q.splice(k, 1)[0];
      woken.set(w.task, 'woken');
      w.wake();
      done++;
    } else k++;
  }
  return done;
}

function wait(t: Task, addr: number, expected: number, timeoutAddr: number, bitset: number, absolute: boolean): number | Blocked {
  const state = woken.get(t);
  if (state) {
    woken.delete(t);
    return state === 'woken' ? 0 : -ETIMEDOUT;
  }
  if (addr % 4 !== 0) return -EINVAL;
  if (t.mem.read32(addr) !== expected) return -EAGAIN;
  let ms = -1;
  if (timeoutAddr) {
    const sec = t.mem.read64(timeoutAddr) + t.mem.hi * 4294967296;
    const nsec = t.mem.read64(timeoutAddr + 8);
    ms = sec * 1000 + nsec / 1e6;
    if (absolute) ms -= Date.now();
    if (ms <= 0) return -ETIMEDOUT;
  }
  const q = queueOf(t, addr);
  return new Blocked(
    new Promise<void>((resolve) => {
      const w: Waiter = { task: t, addr, bitset, wake: resolve };
      q.push(w);
      if (ms >= 0) {
        setTimeout(() => {
          const k = q.indexOf(w);
          if (k >= 0) {
            q.splice(k, 1);
            woken.set(t, 'timeout');
            resolve();
          }
        }, ms);
      }
    }),
  );
}

export const futexHandlers: Record<string, SyscallImpl> = {
  futex: {
    handler: (t: Task) => {
      const addr = argU(t, 0), op = argI(t, 1), val = argI(t, 2), timeout = argU(t, 3), addr2 = argU(t, 4), val3 = argI(t, 5);
      switch (op & FUTEX_CMD_MASK) {
        case FUTEX_WAIT:
          return wait(t, addr, val, timeout, -1, false);
        case FUTEX_WAIT_BITSET:
          if (val3 === 0) return -EINVAL;
          return wait(t, addr, val, timeout, val3, true);
        case FUTEX_WAKE:
          return wakeWaiters(t, addr, val, -1);
        case FUTEX_WAKE_BITSET:
          if (val3 === 0) return -EINVAL;
          return wakeWaiters(t, addr, val, val3);
        case FUTEX_REQUEUE:
        case FUTEX_CMP_REQUEUE: {
          if ((op & FUTEX_CMD_MASK) === FUTEX_CMP_REQUEUE && t.mem.read32(addr) !== val3) return -EAGAIN;
          const n = wakeWaiters(t, addr, val, -1);
          const from = queueOf(t, addr), to = queueOf(t, addr2);
          const moved = from.splice(0, Math.min(from.length, timeout)); // val2 (max requeued) is passed in the timeout slot
          for (const w of moved) w.addr = addr2;
          to.push(...moved);
          return n + moved.length;
        }
        case FUTEX_WAKE_OP:
          return -ENOSYS;
        default:
          return -ENOSYS;
      }
    },
    coverage: 'partial',
    note: 'WAIT, WAKE, *_BITSET, REQUEUE, CMP_REQUEUE; no PI futexes or WAKE_OP',
  },
};

/** Takes t out of the wait queues of its address space: its wait was abandoned, so a wake must reach another waiter. */
export function forgetWaiter(t: Task): void {
  const m = queues.get(t.mem);
  if (m) for (const q of m.values()) for (let k = q.length - 1; k >= 0; k--) if (q[k].task === t) q.splice(k, 1);
  woken.delete(t);
}
