/** Clocks and sleeps: clock_gettime/getres, gettimeofday, time, nanosleep, clock_nanosleep, times, getrusage. */
import type { Task } from '../task.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { argI, argU, readStruct, StructWriter, viewS64 } from '../args.js';
import { EFAULT, EINVAL } from '../errno.js';
import { TIMER_ABSTIME } from './abi.js';
import { bootTimeSec } from './system-identity.js';
import { impl, partial } from './util.js';

const NS_PER_SEC = 1e9;

/** A point in time as whole seconds and nanoseconds (no precision lost to doubles). */
export interface Timespec {
  sec: number;
  nsec: number;
}

function hrNow(): Timespec {
  const [sec, nsec] = process.hrtime();
  return { sec, nsec };
}

// The host's CLOCK_MONOTONIC (process.hrtime) plus an offset fixed at start gives a
// nanosecond CLOCK_REALTIME that never jumps between calls.
const start = hrNow();
const wallMs = Date.now();
const realOffset: Timespec = normalize({ sec: Math.floor(wallMs / 1000) - start.sec, nsec: (wallMs % 1000) * 1e6 - start.nsec });

function normalize(t: Timespec): Timespec {
  let { sec, nsec } = t;
  while (nsec < 0) {
    nsec += NS_PER_SEC;
    sec--;
  }
  while (nsec >= NS_PER_SEC) {
    nsec -= NS_PER_SEC;
    sec++;
  }
  return { sec, nsec };
}

function add(a: Timespec, b: Timespec): Timespec {
  return normalize({ sec: a.sec + b.sec, nsec: a.nsec + b.nsec });
}

function sub(a: Timespec, b: Timespec): Timespec {
  return normalize({ sec: a.sec - b.sec, nsec: a.nsec - b.nsec });
}

function toMs(t: Timespec): number {
  return t.sec * 1000 + t.nsec / 1e6;
}

function cpuTime(): Timespec {
  const u = process.cpuUsage();
  const us = u.user + u.system;
  return { sec: Math.floor(us / 1e6), nsec: (us % 1e6) * 1000 };
}

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCK_MONOTONIC_RAW = 4;
const CLOCK_REALTIME_COARSE = 5;
const CLOCK_MONOTONIC_COARSE = 6;
const CLOCK_BOOTTIME = 7;
const CLOCK_REALTIME_ALARM = 8;
const CLOCK_BOOTTIME_ALARM = 9;
const CLOCK_TAI = 11;

/** The value of a clock, or null for an invalid clock id. */
export function clockNow(clk: number): Timespec | null {
  switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
      return add(hrNow(), realOffset);
    case CLOCK_TAI:
      return add(add(hrNow(), realOffset), { sec: 37, nsec: 0 });
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
      return hrNow();
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
      return cpuTime();
  }
  // Dynamic CPU clocks of a pid/tid (negative ids made by MAKE_PROCESS_CPUCLOCK).
  if (clk < 0 && (clk & 7) !== 7) return cpuTime();
  return null;
}

function writeTimespec(t: Task, addr: number, ts: Timespec): void {
  new StructWriter(16).u64(0, ts.sec).u64(8, ts.nsec).writeTo(t, addr);
}

/** Reads a struct timespec; null when tv_nsec is out of range or tv_sec negative. */
export function readTimespec(t: Task, addr: number): Timespec | null {
  const v = readStruct(t, addr, 16);
  const sec = viewS64(v, 0);
  const nsec = viewS64(v, 8);
  if (nsec < 0 || nsec >= NS_PER_SEC || sec < 0) return null;
  return { sec, nsec };
}

function sysClockGettime(t: Task): number {
  const now = clockNow(argI(t, 0));
  if (!now) return -EINVAL;
  writeTimespec(t, argU(t, 1), now);
  return 0;
}

function sysClockGetres(t: Task): number {
  const clk = argI(t, 0);
  if (!clockNow(clk)) return -EINVAL;
  const addr = argU(t, 1);
  const coarse = clk === CLOCK_REALTIME_COARSE || clk === CLOCK_MONOTONIC_COARSE;
  if (addr) writeTimespec(t, addr, { sec: 0, nsec: coarse ? 4_000_000 : 1 });
  return 0;
}

function sysGettimeofday(t: Task): number {
  const tv = argU(t, 0);
  const tz = argU(t, 1);
  if (tv) {
    const now = clockNow(CLOCK_REALTIME)!;
    new StructWriter(16).u64(0, now.sec).u64(8, Math.floor(now.nsec / 1000)).writeTo(t, tv);
  }
  if (tz) new StructWriter(8).writeTo(t, tz);
  return 0;
}

function sysTime(t: Task): number {
  const sec = clockNow(CLOCK_REALTIME)!.sec;
  const p = argU(t, 0);
  if (p) new StructWriter(8).u64(0, sec).writeTo(t, p);
  return sec;
}

// ------------------------------------------------------------------ sleeping

interface Sleep {
  /** CLOCK_MONOTONIC deadline. */
  deadline: Timespec;
  /** Guest rip of the syscall, to recognise the re-run of the same call. */
  rip: number;
}

/** The sleep in progress per task: a re-run of the handler after the timer finds it here. */
const sleeping = new WeakMap<Task, Sleep>();

function cmp(a: Timespec, b: Timespec): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}

/**
 * Sleeps until a monotonic deadline without blocking the host: the first run
 * records the deadline and returns Blocked on a timer; the re-run returns 0
 * once the deadline has passed (or waits again after an early wake-up).
 */
function sleepUntil(t: Task, deadline: Timespec): number | Blocked {
  const now = hrNow();
  if (cmp(now, deadline) >= 0) {
    sleeping.delete(t);
    return 0;
  }
  sleeping.set(t, { deadline, rip: t.cpu.rip });
  const ms = Math.ceil(toMs(sub(deadline, now)));
  return new Blocked(new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 2 ** 31 - 1))));
}

/** The deadline of the sleep this task is re-running, if any. */
function resumedSleep(t: Task): Sleep | undefined {
  const s = sleeping.get(t);
  if (s && s.rip === t.cpu.rip) return s;
  sleeping.delete(t);
  return undefined;
}

/**
 * Forgets a task's sleep in progress. The scheduler calls it when it
 * interrupts a blocked sleep (signal delivery: the call then returns -EINTR).
 * Returns the time that was left, for nanosleep's rem argument.
 */
export function interruptSleep(t: Task): Timespec | null {
  const s = sleeping.get(t);
  sleeping.delete(t);
  if (!s) return null;
  const left = sub(s.deadline, hrNow());
  return left.sec < 0 ? { sec: 0, nsec: 0 } : left;
}

function sysNanosleep(t: Task): number | Blocked {
  const resumed = resumedSleep(t);
  if (resumed) return sleepUntil(t, resumed.deadline);
  const req = readTimespec(t, argU(t, 0));
  if (!req) return -EINVAL;
  return sleepUntil(t, add(hrNow(), req));
}

function sysClockNanosleep(t: Task): number | Blocked {
  const resumed = resumedSleep(t);
  if (resumed) return sleepUntil(t, resumed.deadline);
  const clk = argI(t, 0);
  const flags = argI(t, 1);
  if (clk === CLOCK_THREAD_CPUTIME_ID) return -EINVAL;
  const now = clockNow(clk);
  if (!now) return -EINVAL;
  const reqAddr = argU(t, 2);
  if (reqAddr === 0) return -EFAULT;
  const req = readTimespec(t, reqAddr);
  if (!req) return -EINVAL;
  // Convert to a monotonic deadline: absolute times are on clk's own scale.
  const rel = flags & TIMER_ABSTIME ? sub(req, now) : req;
  return sleepUntil(t, add(hrNow(), rel.sec < 0 ? { sec: 0, nsec: 0 } : rel));
}

// ------------------------------------------------------------------ accounting

const CLK_TCK = 100;

/**
 * CPU time (µs) of t's process, or of t alone: the emulator's host CPU time
 * shared out by instructions executed, among the tasks alive now.
 */
function cpuMicros(t: Task, thread: boolean): { user: number; system: number } {
  const u = process.cpuUsage();
  let mine = 0, all = 0;
  for (const x of t.kernel.tasks) {
    all += x.cpu.icount;
    if (thread ? x === t : x.proc === t.proc) mine += x.cpu.icount;
  }
  const share = all > 0 ? mine / all : 1;
  return { user: Math.floor(u.user * share), system: Math.floor(u.system * share) };
}

function sysTimes(t: Task): number {
  const u = cpuMicros(t, false);
  const buf = argU(t, 0);
  if (buf) {
    new StructWriter(32)
      .u64(0, Math.floor((u.user / 1e6) * CLK_TCK))
      .u64(8, Math.floor((u.system / 1e6) * CLK_TCK))
      .writeTo(t, buf);
  }
  return Math.floor((Date.now() / 1000 - bootTimeSec()) * CLK_TCK);
}

const RUSAGE_SELF = 0;
const RUSAGE_CHILDREN = -1;
const RUSAGE_THREAD = 1;

function sysGetrusage(t: Task): number {
  const who = argI(t, 0);
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) return -EINVAL;
  const w = new StructWriter(144);
  if (who !== RUSAGE_CHILDREN) {
    const u = cpuMicros(t, who === RUSAGE_THREAD);
    w.u64(0, Math.floor(u.user / 1e6)).u64(8, u.user % 1e6);
    w.u64(16, Math.floor(u.system / 1e6)).u64(24, u.system % 1e6);
    w.u64(32, Math.floor(t.mem.residentBytes / 1024)); // ru_maxrss in KiB (current RSS as an approximation)
  }
  w.writeTo(t, argU(t, 1));
  return 0;
}

export const timeHandlers: Record<string, SyscallImpl> = {
  clock_gettime: impl(sysClockGettime),
  clock_getres: impl(sysClockGetres),
  gettimeofday: impl(sysGettimeofday),
  time: impl(sysTime),
  nanosleep: partial(sysNanosleep, 'rem is not written (an interrupting signal is the scheduler\'s business)'),
  clock_nanosleep: impl(sysClockNanosleep),
  times: partial(sysTimes, "the emulator's CPU time shared out by instructions executed; children not counted"),
  getrusage: partial(sysGetrusage, "the emulator's CPU time shared out by instructions executed; only times and maxrss; RUSAGE_CHILDREN is zero"),
};
