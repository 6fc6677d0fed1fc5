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
