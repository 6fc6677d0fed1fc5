/** Identity and system information: uname, ids, process groups, rlimits, scheduling, sysinfo, getrandom. */
import * as os from 'node:os';
import type { Task, Process } from '../task.js';
import type { SyscallImpl } from '../syscall-types.js';
import { argI, argU, argUI, StructWriter, readStruct, viewU64 } from '../args.js';
import { EINVAL, EPERM, ESRCH } from '../errno.js';
import { NOFILE_HARD } from '../files/file-table.js';
import { limitsOf, RLIMIT_NLIMITS, RLIMIT_NOFILE, type Rlimit } from './rlimits.js';
import { GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM } from './abi.js';
import { UNAME, bootTimeSec, cpuCount, hostEgid, hostEuid, hostGid, hostGroups, hostname, hostUid } from './system-identity.js';
import { impl, partial } from './util.js';

// ------------------------------------------------------------------ uname

function sysUname(t: Task): number {
  const f = 65;
  new StructWriter(6 * f)
    .str(0, UNAME.sysname, f)
    .str(f, hostname(), f)
    .str(2 * f, UNAME.release, f)
    .str(3 * f, UNAME.version, f)
    .str(4 * f, UNAME.machine, f)
    .str(5 * f, UNAME.domainname, f)
    .writeTo(t, argU(t, 0));
  return 0;
}

// ------------------------------------------------------------------ ids

/** set*id: only "no change" is allowed (the emulator runs as the host user). */
function sameIds(ids: number[], current: number): number {
  for (const id of ids) if (id !== -1 && id >>> 0 !== current >>> 0) return -EPERM;
  return 0;
}

function sysGetgroups(t: Task): number {
  const size = argI(t, 0);
  const groups = hostGroups();
  if (size < 0) return -EINVAL;
  if (size === 0) return groups.length;
  if (size < groups.length) return -EINVAL;
  const w = new StructWriter(4 * groups.length);
  groups.forEach((g, k) => w.u32(4 * k, g));
  if (groups.length) w.writeTo(t, argU(t, 1));
  return groups.length;
}

function writeIds3(t: Task, a: number, b: number, c: number): number {
  for (const [k, v] of [a, b, c].entries()) t.mem.write32(argU(t, k), v);
  return 0;
}

// ------------------------------------------------------------------ process groups and sessions

/** The process with this pid as seen from t (itself or one of its children), or null. */
function processOf(t: Task, pid: number): Process | null {
  if (pid === 0 || pid === t.pid) return t.proc;
  return t.proc.children.find((c) => c.pid === pid) ?? null;
}

function sysSetpgid(t: Task): number {
  const pid = argI(t, 0);
  const pgid = argI(t, 1);
  if (pgid < 0) return -EINVAL;
  const p = processOf(t, pid);
  if (!p) return -ESRCH;
  if (p.sid === p.pid) return -EPERM; // a session leader cannot change its group
  p.pgid = pgid === 0 ? p.pid : pgid;
  return 0;
}

function sysGetpgid(t: Task): number {
  const p = processOf(t, argI(t, 0));
  return p ? p.pgid : -ESRCH;
}

function sysGetsid(t: Task): number {
  const p = processOf(t, argI(t, 0));
  return p ? p.sid : -ESRCH;
}

function sysSetsid(t: Task): number {
  const p = t.proc;
  if (p.pgid === p.pid) return -EPERM;
  p.sid = p.pid;
  p.pgid = p.pid;
  return p.pid;
}

// ------------------------------------------------------------------ resource limits

const INF = Infinity; // RLIM_INFINITY (all ones on the wire)

function writeRlimit(t: Task, addr: number, r: Rlimit): void {
  const w = new StructWriter(16);
  for (const [off, v] of [[0, r.cur], [8, r.max]] as const) {
    if (v === INF) w.u32(off, 0xffffffff).u32(off + 4, 0xffffffff);
    else w.u64(off, v);
  }
  w.writeTo(t, addr);
}

function readRlimit(t: Task, addr: number): Rlimit {
  const v = readStruct(t, addr, 16);
  const get = (off: number) => (v.getUint32(off + 4, true) >= 0x80000000 || viewU64(v, off) > 2 ** 53 ? INF : viewU64(v, off));
  return { cur: get(0), max: get(8) };
}

const RLIMIT_STACK = 3;

function doPrlimit(t: Task, pid: number, resource: number, newAddr: number, oldAddr: number): number {
  if (resource < 0 || resource >= RLIMIT_NLIMITS) return -EINVAL;
  const p = processOf(t, pid);
  if (!p) return -ESRCH;
  const limits = limitsOf(p);
  const cur = limits[resource];
  let next: Rlimit | null = null;
  if (newAddr) {
    next = readRlimit(t, newAddr);
    if (next.cur > next.max) return -EINVAL;
    if (next.max > cur.max && hostEuid() !== 0) return -EPERM; // raising the hard limit needs privilege
    if (resource === RLIMIT_NOFILE && next.max > Math.max(NOFILE_HARD, 1048576)) return -EPERM;
  }
  if (oldAddr) writeRlimit(t, oldAddr, cur);
  if (next) {
    limits[resource] = next;
    if (resource === RLIMIT_NOFILE) p.files.limit = Math.min(next.cur, 1 << 20);
    if (resource === RLIMIT_STACK) p.mem.stackLimit = Math.min(next.cur, Number.MAX_SAFE_INTEGER); // checked at each growth, as Linux does
  }
  return 0;
}

// ------------------------------------------------------------------ scheduling

function sysSchedGetaffinity(t: Task): number {
  const size = argU(t, 1);
  if (!processOf(t, argI(t, 0)) && argI(t, 0) !== t.tid) return -ESRCH;
  const n = cpuCount();
  const bytes = Math.ceil(n / 64) * 8; // the kernel's cpumask, in longs
  if (size < bytes || size % 8 !== 0) return -EINVAL;
  const mask = new Uint8Array(bytes);
  for (let k = 0; k < n; k++) mask[k >> 3] |= 1 << (k & 7);
  t.mem.writeBytes(argU(t, 2), mask);
  return bytes;
}

function sysSchedSetaffinity(t: Task): number {
  if (!processOf(t, argI(t, 0)) && argI(t, 0) !== t.tid) return -ESRCH;
  const mask = t.mem.readBytes(argU(t, 2), Math.min(argU(t, 1), 128));
  const n = cpuCount();
  for (let k = 0; k < n; k++) if (mask[k >> 3] & (1 << (k & 7))) return 0;
  return -EINVAL; // no allowed CPU in the mask
}

function schedPolicyRange(policy: number): [number, number] | null {
  if (policy === 1 || policy === 2) return [1, 99]; // SCHED_FIFO, SCHED_RR
  if (policy === 0 || policy === 3 || policy === 5) return [0, 0]; // OTHER, BATCH, IDLE
  return null;
}

function sysSchedSetscheduler(t: Task): number {
  const policy = argI(t, 1) & ~0x40000000; // SCHED_RESET_ON_FORK
  if (!schedPolicyRange(policy)) return -EINVAL;
  if (!processOf(t, argI(t, 0)) && argI(t, 0) !== t.tid) return -ESRCH;
  return policy === 0 || policy === 3 || policy === 5 ? 0 : -EPERM;
}

function sysSchedRrGetInterval(t: Task): number {
  new StructWriter(16).u64(0, 0).u64(8, 100_000_000).writeTo(t, argU(t, 1));
  return 0;
}

/** Tasks that called sched_yield: the scheduler ends their slice after the call. */
export const yieldRequests = new WeakSet<Task>();

function sysGetcpu(t: Task): number {
  if (argU(t, 0)) t.mem.write32(argU(t, 0), 0);
  if (argU(t, 1)) t.mem.write32(argU(t, 1), 0);
  return 0;
}

// ------------------------------------------------------------------ sysinfo, random

function sysSysinfo(t: Task): number {
  const total = t.kernel.options.memoryLimit;
  const used = t.mem.phys.framesInUse * 4096;
  const load = os.loadavg().map((l) => Math.floor(l * 65536));
  new StructWriter(112)
    .u64(0, Math.max(0, Math.floor(Date.now() / 1000) - bootTimeSec()))
    .u64(8, load[0])
    .u64(16, load[1])
    .u64(24, load[2])
    .u64(32, total)
    .u64(40, Math.max(0, total - used))
    .u64(48, 0)
    .u64(56, 0)
    .u64(64, 0)
    .u64(72, 0)
    .u16(80, 1)
    .u32(104, 1)
    .writeTo(t, argU(t, 0));
  return 0;
}

/** Linux caps one getrandom call at 32 MiB - 1. */
const GETRANDOM_MAX = (1 << 25) - 1;

function sysGetrandom(t: Task): number {
  const flags = argUI(t, 2);
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) || (flags & GRND_RANDOM && flags & GRND_INSECURE)) return -EINVAL;
  const len = Math.min(argU(t, 1), GETRANDOM_MAX);
  if (len === 0) return 0;
  t.mem.writeBytes(argU(t, 0), t.kernel.randomBytes(len));
  return len;
}

// ------------------------------------------------------------------ prctl (the common, harmless options)

const PR_SET_PDEATHSIG = 1;
const PR_GET_PDEATHSIG = 2;
const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_GET_NO_NEW_PRIVS = 39;
const PR_SET_VMA = 0x53564d41;
const PR_CAPBSET_READ = 23;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;

/** PR_SET_NAME names, with the image they were set in (execve gives the thread its new program's name). */
const threadNames = new WeakMap<Task, { name: Uint8Array; image: object | null }>();

/** Writing /proc/PID/task/TID/comm (pthread_setname_np on another thread): up to 15 bytes, to the first NUL. */
export function setThreadComm(t: Task, data: Uint8Array): number {
  const nul = data.indexOf(0);
  threadNames.set(t, { name: data.slice(0, Math.min(15, nul >= 0 ? nul : data.length)), image: t.proc.loaded });
  return data.length;
}

/** The thread's name (comm): set by PR_SET_NAME, else the program's file name; 15 bytes at most. */
export function threadComm(t: Task): Uint8Array {
  const set = threadNames.get(t);
  if (set && set.image === t.proc.loaded) return set.name;
  const base = t.proc.exePath.slice(t.proc.exePath.lastIndexOf('/') + 1);
  return new TextEncoder().encode(base).subarray(0, 15);
}
const prctlState = new WeakMap<Task, { pdeathsig: number; dumpable: number; noNewPrivs: number; subreaper: number }>();

function sysPrctl(t: Task): number {
  const op = argI(t, 0);
  const arg = argU(t, 1);
  let s = prctlState.get(t);
  if (!s) prctlState.set(t, (s = { pdeathsig: 0, dumpable: 1, noNewPrivs: 0, subreaper: 0 }));
  switch (op) {
    case PR_SET_NAME: {
      const b = t.mem.readCString(arg, 16) ?? t.mem.readBytes(arg, 15);
      threadNames.set(t, { name: b.slice(0, 15), image: t.proc.loaded });
      return 0;
    }
    case PR_GET_NAME: {
      const out = new Uint8Array(16);
      out.set(threadComm(t).subarray(0, 15));
      t.mem.writeBytes(arg, out);
      return 0;
    }
    case PR_SET_PDEATHSIG:
      if (arg > 64) return -EINVAL;
      s.pdeathsig = arg;
      return 0;
    case PR_GET_PDEATHSIG:
      t.mem.write32(arg, s.pdeathsig);
      return 0;
    case PR_GET_DUMPABLE:
      return s.dumpable;
    case PR_SET_DUMPABLE:
      if (arg > 1) return -EINVAL;
      s.dumpable = arg;
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (arg !== 1) return -EINVAL;
      s.noNewPrivs = 1;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      return s.noNewPrivs;
    case PR_SET_CHILD_SUBREAPER:
      s.subreaper = arg ? 1 : 0;
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      t.mem.write32(arg, s.subreaper);
      return 0;
    case PR_CAPBSET_READ:
      return arg <= 40 ? 0 : -EINVAL;
    case PR_SET_VMA:
      return 0;
  }
  return -EINVAL;
}

// ------------------------------------------------------------------ table

const uid = () => hostUid();
const gid = () => hostGid();

export const infoHandlers: Record<string, SyscallImpl> = {
  uname: impl(sysUname),
  getpid: impl((t) => t.pid),
  gettid: impl((t) => t.tid),
  getppid: impl((t) => t.proc.ppid),
  getuid: impl(() => uid()),
  geteuid: impl(() => hostEuid()),
  getgid: impl(() => gid()),
  getegid: impl(() => hostEgid()),
  getresuid: impl((t) => writeIds3(t, uid(), hostEuid(), hostEuid())),
  getresgid: impl((t) => writeIds3(t, gid(), hostEgid(), hostEgid())),
  getgroups: impl(sysGetgroups),
  setgroups: partial(() => -EPERM, 'unprivileged'),
  setuid: partial((t) => sameIds([argI(t, 0)], uid()), 'only to the current id'),
  setgid: partial((t) => sameIds([argI(t, 0)], gid()), 'only to the current id'),
  setreuid: partial((t) => sameIds([argI(t, 0), argI(t, 1)], uid()), 'only to the current id'),
  setregid: partial((t) => sameIds([argI(t, 0), argI(t, 1)], gid()), 'only to the current id'),
  setresuid: partial((t) => sameIds([argI(t, 0), argI(t, 1), argI(t, 2)], uid()), 'only to the current id'),
  setresgid: partial((t) => sameIds([argI(t, 0), argI(t, 1), argI(t, 2)], gid()), 'only to the current id'),
  setfsuid: partial(() => uid(), 'returns the current id without changing it'),
  setfsgid: partial(() => gid(), 'returns the current id without changing it'),
  capget: partial((t) => {
    // struct __user_cap_header_struct { u32 version; int pid; } + data: no capabilities.
    if (argU(t, 1)) t.mem.writeBytes(argU(t, 1), new Uint8Array(24));
    return 0;
  }, 'no capabilities'),
  capset: partial(() => -EPERM, 'no capabilities'),
  getpgrp: impl((t) => t.proc.pgid),
  getpgid: impl(sysGetpgid),
  getsid: impl(sysGetsid),
  setpgid: partial(sysSetpgid, 'only the caller or its direct children'),
  setsid: impl(sysSetsid),
  prlimit64: impl((t) => doPrlimit(t, argI(t, 0), argI(t, 1), argU(t, 2), argU(t, 3))),
  getrlimit: impl((t) => doPrlimit(t, 0, argI(t, 0), 0, argU(t, 1))),
  setrlimit: impl((t) => doPrlimit(t, 0, argI(t, 0), argU(t, 1), 0)),
  sched_getaffinity: impl(sysSchedGetaffinity),
  sched_setaffinity: partial(sysSchedSetaffinity, 'accepted, no effect'),
  sched_yield: impl((t) => {
    yieldRequests.add(t);
    return 0;
  }),
  sched_getscheduler: impl(() => 0),
  sched_setscheduler: partial(sysSchedSetscheduler, 'SCHED_OTHER/BATCH/IDLE accepted without effect'),
  sched_getparam: impl((t) => {
    t.mem.write32(argU(t, 1), 0);
    return 0;
  }),
  sched_setparam: partial((t) => (t.mem.read32(argU(t, 1)) === 0 ? 0 : -EINVAL), 'priority 0 only'),
  sched_get_priority_max: impl((t) => schedPolicyRange(argI(t, 0))?.[1] ?? -EINVAL),
  sched_get_priority_min: impl((t) => schedPolicyRange(argI(t, 0))?.[0] ?? -EINVAL),
  sched_rr_get_interval: impl(sysSchedRrGetInterval),
  getpriority: partial(() => 20, 'always nice 0'),
  setpriority: partial(() => 0, 'accepted, no effect'),
  getcpu: impl(sysGetcpu),
  sysinfo: impl(sysSysinfo),
  getrandom: impl(sysGetrandom),
  personality: partial((t) => (argUI(t, 0) === 0xffffffff || argUI(t, 0) === 0 ? 0 : -EINVAL), 'PER_LINUX only'),
  prctl: partial(sysPrctl, 'PR_SET/GET_NAME, PDEATHSIG (not delivered), DUMPABLE, NO_NEW_PRIVS, CHILD_SUBREAPER'),
  membarrier: partial((t) => (argI(t, 0) === 0 ? 1 | 8 | 16 : 0), 'one host thread: every barrier is trivially satisfied'),
  sethostname: partial(() => -EPERM, 'unprivileged'),
  setdomainname: partial(() => -EPERM, 'unprivileged'),
  syslog: partial(() => -EPERM, 'no kernel log'),
};

