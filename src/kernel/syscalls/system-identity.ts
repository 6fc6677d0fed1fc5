import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * What the emulated machine says about itself, in one place so that uname,
 * /proc, sysinfo, sched_getaffinity and the auxv agree. The kernel release
 * and version are the host's (a guest prints what it would print natively);
 * off Linux, a plausible 6.1 kernel.
 */
export const UNAME = {
  sysname: 'Linux',
  release: os.platform() === 'linux' ? os.release() : '6.1.0',
  version: os.platform() === 'linux' ? os.version() : '#1 SMP PREEMPT_DYNAMIC Debian 6.1.0',
  machine: 'x86_64',
  domainname: '(none)',
};

export function hostname(): string {
  return os.hostname();
}

/** CPUs the guest sees: the host's available parallelism (what nproc would say natively). */
export function cpuCount(): number {
  return Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 1024));
}

/** Wall-clock second the emulated machine "booted" (the host's boot time). */
export function bootTimeSec(): number {
  return Math.floor(Date.now() / 1000 - os.uptime());
}

export function hostUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}
export function hostGid(): number {
  return typeof process.getgid === 'function' ? process.getgid() : 0;
}
export function hostEuid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : hostUid();
}
export function hostEgid(): number {
  return typeof process.getegid === 'function' ? process.getegid() : hostGid();
}
let groups: number[] | null = null;

/**
 * The host's supplementary groups as getgroups(2) returns them (Node's
 * process.getgroups() adds the effective gid, which Linux does not).
 */
export function hostGroups(): number[] {
  if (groups === null) {
    try {
      const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('Groups:'));
      groups = line ? line.slice(7).trim().split(/\s+/).filter(Boolean).map(Number) : [];
    } catch {
      groups = typeof process.getgroups === 'function' ? process.getgroups() : [];
    }
  }
  return groups;
}

/** A resource limit; Infinity is RLIM_INFINITY. */
export interface HostRlimit {
  cur: number;
  max: number;
}

const RLIMIT_ROWS = [
  'Max cpu time', 'Max file size', 'Max data size', 'Max stack size', 'Max core file size', 'Max resident set',
  'Max processes', 'Max open files', 'Max locked memory', 'Max address space', 'Max file locks',
  'Max pending signals', 'Max msgqueue size', 'Max nice priority', 'Max realtime priority', 'Max realtime timeout',
];

const FALLBACK_LIMITS: HostRlimit[] = [
  [Infinity, Infinity], [Infinity, Infinity], [Infinity, Infinity], [8 << 20, Infinity], [0, Infinity], [Infinity, Infinity],
  [63704, 63704], [1024, 1048576], [8 << 20, 8 << 20], [Infinity, Infinity], [Infinity, Infinity],
  [63704, 63704], [819200, 819200], [0, 0], [0, 0], [Infinity, Infinity],
].map(([cur, max]) => ({ cur, max }));

let limits: HostRlimit[] | null = null;

/**
 * The limits a native process would start with: the host's (from
 * /proc/self/limits). Node raises its own open-files soft limit to the hard
 * limit at startup; when that looks like what happened (a large, equal pair)
 * the usual 1024 soft limit is reported instead.
 */
export function hostRlimits(): HostRlimit[] {
  if (limits) return limits.map((l) => ({ ...l }));
  limits = FALLBACK_LIMITS.map((l) => ({ ...l }));
  try {
    const text = fs.readFileSync('/proc/self/limits', 'utf8');
    for (const line of text.split('\n')) {
      const k = RLIMIT_ROWS.findIndex((r) => line.startsWith(r + ' '));
      if (k < 0) continue;
      const [soft, hard] = line.slice(26).trim().split(/\s+/);
      const val = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
      if (Number.isFinite(val(soft)) || soft === 'unlimited') limits[k] = { cur: val(soft), max: val(hard) };
    }
  } catch {
    // not Linux: keep the fallback
  }
  const nofile = limits[7];
  if (nofile.cur === nofile.max && nofile.cur > 65536) nofile.cur = 1024;
  return limits.map((l) => ({ ...l }));
}
