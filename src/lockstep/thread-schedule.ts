/**
 * The deterministic schedule of the fast lockstep differ, over the threads
 * of every followed process (forked children are scheduled like threads).
 * Both runs execute one thread at a time, the same one: the differ keeps
 * stepping the current thread and switches only where the thread could not
 * go on — a call that would block, or the thread's (or its process's) end —
 * to the next runnable thread in creation order (round robin).
 *
 * Two kinds of parking, neither of which executes the call on either side
 * (so neither kernel holds a waiter):
 * - a futex wait whose word holds the expected value: a FUTEX_WAKE/REQUEUE
 *   on its word, or the CLONE_CHILD_CLEARTID wake of an exiting thread,
 *   makes it runnable again, and it re-executes the wait when switched to
 *   (see futexAction). Futex words are per process (private futexes).
 * - any other blocking call (a read of an empty pipe, wait4 on a live child,
 *   sigsuspend, …), found out by the differ trying it on elfshim's side
 *   first: the thread is "probed" and skipped until some syscall completes
 *   anywhere (only syscalls change what such a call waits for), then it is
 *   tried again. With no other thread to run, a call that will end by
 *   itself (a sleep, a timeout) is run in place before an untimed one.
 *
 * Pure bookkeeping: no I/O, so that the decisions can be unit-tested.
 */

export interface ScheduledThread {
  /** elfshim's tid (the one both runs see: native gets elfshim's tid values, as with pids). */
  tid: number;
  /** elfshim's pid of its process (futex words and exits are per process). */
  pid: number;
  /** The native tid (ptrace addresses the thread with it). */
  nativeTid: number;
  /** CLONE_CHILD_CLEARTID / set_tid_address: the word the kernel zeroes and wakes at the thread's exit (0: none). */
  clearTid: number;
  /** Parked at a futex wait on this address; null when runnable. */
  parkedOn: number | null;
  /** A wake reached the thread while it was parked: its wait returns 0 even if the word still holds the value. */
  woken: boolean;
  /** Parked before a blocking call other than a futex wait (timed: it ends by itself); null when not. */
  blockedIn: { nr: number; timed: boolean } | null;
  /** Its blocking call was tried and blocked, and no syscall has completed since: trying again is pointless. */
  probed: boolean;
  exited: boolean;
  /** Instructions compared in this thread. */
  compared: number;
}

export const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
/** FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME are not part of the command. */
const FUTEX_CMD_MASK = 0x7f;

/** What to do with a futex call about to run in the current thread (the word is read from memory, equal on both sides). */
export type FutexAction =
  /** Step it: it will not block (the word differs, or it is not a wait). */
  | { kind: 'step' }
  /** It would block: park the thread and switch to another one. */
  | { kind: 'park'; addr: number }
  /** A woken waiter whose word still holds the value: both sides get the return value 0 without running the call. */
  | { kind: 'return-woken' }
  /** It would block and no other thread can run: step it anyway (a timeout or another process ends the wait). */
  | { kind: 'step-blocking' }
  /** It would block forever: every thread waits and none has a timeout. */
  | { kind: 'deadlock' };

/** The futex command of op (rsi). */
export function futexCommand(op: number): number {
  return op & FUTEX_CMD_MASK;
}

export class ThreadSchedule {
  readonly threads: ScheduledThread[] = [];
  current = 0;
  switches = 0;

  constructor(tid: number, nativeTid: number) {
    this.add(tid, nativeTid, 0, tid);
  }

  /** A new thread (pid: its process, by default the first one) or, with pid = tid, a forked child's main thread. */
  add(tid: number, nativeTid: number, clearTid: number, pid = this.threads[0]?.pid ?? tid): ScheduledThread {
    const t: ScheduledThread = { tid, pid, nativeTid, clearTid, parkedOn: null, woken: false, blockedIn: null, probed: false, exited: false, compared: 0 };
    this.threads.push(t);
    return t;
  }

  get cur(): ScheduledThread {
    return this.threads[this.current];
  }

  live(): ScheduledThread[] {
    return this.threads.filter((t) => !t.exited);
  }

  private runnable(t: ScheduledThread): boolean {
    return !t.exited && (t.parkedOn === null || t.woken) && !t.probed;
  }

  /** A thread whose blocking call blocked when tried, but will end by itself (a sleep or a timeout). */
  private timedFallback(t: ScheduledThread): boolean {
    return !t.exited && t.probed && t.blockedIn !== null && t.blockedIn.timed;
  }

  /**
   * The next runnable thread after the current one in creation order (the current one last), or null. With none,
   * a thread parked in a timed call (run in place: it ends by itself).
   */
  next(): number | null {
    const n = this.threads.length;
    for (const ok of [(t: ScheduledThread) => this.runnable(t), (t: ScheduledThread) => this.timedFallback(t)]) {
      for (let k = 1; k <= n; k++) {
        const i = (this.current + k) % n;
        if (ok(this.threads[i])) return i;
      }
    }
    return null;
  }

  /**
   * The current thread is at a blocking call other than a futex wait (timed: it ends by itself). Whether to try
   * it and park the thread if it blocks (another thread can run, or, for an untimed call, another thread waits in
   * a timed one), rather than run it in place.
   */
  mayPark(timed: boolean): boolean {
    const t = this.cur;
    return this.threads.some((x) => x !== t && (this.runnable(x) || (!timed && this.timedFallback(x))));
  }

  /** The current thread's call (nr) blocked when tried: it parks until a syscall completes somewhere. */
  parkInCall(nr: number, timed: boolean): void {
    this.cur.blockedIn = { nr, timed };
    this.cur.probed = true;
  }

  /** A syscall completed (or a process ended): every blocked call may complete now, they are tried again. */
  syscallCompleted(): void {
    for (const t of this.threads) t.probed = false;
    this.cur.blockedIn = null;
  }

  /**
   * A futex call about to run in the current thread. word: the 32-bit value at uaddr now (null: unreadable,
   * the call fails with EFAULT on both sides). hasTimeout: a wait with a timeout argument.
   */
  futexAction(op: number, uaddr: number, val: number, word: number | null, hasTimeout: boolean): FutexAction {
    const cmd = futexCommand(op);
    const t = this.cur;
    if (cmd !== FUTEX_WAIT && cmd !== FUTEX_WAIT_BITSET) return { kind: 'step' };
    if (word === null || word !== val >>> 0) {
      t.woken = false;
      return { kind: 'step' };
    }
    if (t.woken) {
      t.woken = false;
      return { kind: 'return-woken' };
    }
    const others = this.threads.some((x) => x !== t && (this.runnable(x) || (!hasTimeout && this.timedFallback(x))));
    if (others) return { kind: 'park', addr: uaddr };
    return hasTimeout ? { kind: 'step-blocking' } : { kind: 'deadlock' };
  }

  /**
   * A signal reached thread t (not the current one) while it was parked: natively it would interrupt the wait and
   * run its handler (or its default action), so t becomes runnable. Its wait was never executed, so it takes the
   * signal before the call — as if the signal had come just before it — and then re-executes the call, which parks
   * again if it would still block (a futex wait) or is tried again (any other call). Returns whether t was parked.
   */
  interrupt(t: ScheduledThread): boolean {
    const parked = (t.parkedOn !== null && !t.woken) || t.probed;
    if (!parked || t.exited) return false;
    if (!t.woken) t.parkedOn = null;
    t.probed = false;
    return true;
  }

  /** Parks the current thread at its wait on addr. */
  park(addr: number): void {
    this.cur.parkedOn = addr;
    this.cur.woken = false;
  }

  /** Runs the thread at index i from now on. */
  switchTo(i: number): void {
    if (i !== this.current) this.switches++;
    this.current = i;
    const t = this.cur;
    // A woken thread is no longer parked; it re-executes its wait (futexAction decides what that returns).
    if (t.woken) t.parkedOn = null;
  }

  /** Up to count threads of the current thread's process parked on addr and not woken yet, in creation order. */
  private waitersOn(addr: number, count: number): ScheduledThread[] {
    const out: ScheduledThread[] = [];
    const pid = this.cur.pid;
    for (const t of this.threads) {
      if (out.length >= count) break;
      if (!t.exited && t.pid === pid && t.parkedOn === addr && !t.woken) out.push(t);
    }
    return out;
  }

  /** Wakes up to count threads (of the current process) parked on addr, oldest parking first by creation order. Returns how many. */
  wake(addr: number, count: number): number {
    const woken = this.waitersOn(addr, count);
    for (const t of woken) t.woken = true;
    return woken.length;
  }

  /** FUTEX_(CMP_)REQUEUE: wakes count waiters on addr and moves up to requeue of the others to addr2. */
  requeue(addr: number, count: number, requeue: number, addr2: number): void {
    this.wake(addr, count);
    for (const t of this.waitersOn(addr, requeue)) t.parkedOn = addr2;
  }

  /** The futex effects of a call the current thread is about to run (a wake or requeue marks parked waiters). */
  noteFutexCall(op: number, uaddr: number, val: number, val2: number, uaddr2: number, word: number | null, val3: number): void {
    const cmd = futexCommand(op);
    if (cmd === FUTEX_WAKE || cmd === FUTEX_WAKE_BITSET) this.wake(uaddr, val);
    else if (cmd === FUTEX_REQUEUE || (cmd === FUTEX_CMP_REQUEUE && word === val3 >>> 0)) this.requeue(uaddr, val, val2, uaddr2);
  }

  /** The current thread exited: its clear-tid word is woken (one waiter, as the kernel does). */
  exitCurrent(): void {
    const t = this.cur;
    t.exited = true;
    t.parkedOn = null;
    if (t.clearTid) this.wake(t.clearTid, 1);
    this.syscallCompleted();
  }

  /** Process pid ended (every thread of it), the current one's or one killed while stopped: its parent's wait may end. */
  exitProcess(pid: number): void {
    for (const t of this.threads) {
      if (t.pid !== pid) continue;
      t.exited = true;
      t.parkedOn = null;
      t.blockedIn = null;
    }
    this.syscallCompleted();
  }
}
