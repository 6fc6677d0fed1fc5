import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Task } from '../task.js';
import { O_ACCMODE, O_CLOEXEC, O_RDWR, O_WRONLY, S_IFDIR, S_IFLNK } from '../syscalls/abi.js';
import { formatLimits } from '../syscalls/rlimits.js';
import { setThreadComm, threadComm } from '../syscalls/info.js';
import { UNAME, bootTimeSec, cpuCount, hostname } from '../syscalls/system-identity.js';
import type { FileDescription } from './description.js';
import { EACCES, hostErrno } from '../errno.js';
import { HostFile } from './host-file.js';
import { statFromHost } from './stat.js';
import { bytesFile, dirNode, linkNode, synthIno, textFile, type SynthNode } from './synth.js';
import { vsyscallMapsLine } from '../vsyscall.js';

/**
 * CPU feature names /proc/cpuinfo lists. Should match what the emulated CPUID
 * advertises (baseline x86-64 until the CPU says more).
 */
export const cpuinfoFlags = {
  list: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall nx lm constant_tsc rep_good nopl pni cx16 lahf_lm',
};

/** A host /proc file that describes the machine rather than the process (the guest sees the same). */
function hostText(path: string, fallback: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function basename(p: string): string {
  const k = p.lastIndexOf('/');
  return k >= 0 ? p.slice(k + 1) : p;
}

function nulJoined(list: string[]): Uint8Array {
  return new TextEncoder().encode(list.map((s) => s + '\0').join(''));
}

function comm(t: Task): string {
  if (!t.proc.exePath) return basename(t.proc.argv[0] || 'elfshim').slice(0, 15);
  return Buffer.from(threadComm(t)).toString('latin1');
}

/** /proc/PID/stat: the 52 fields of Linux 6.x, with what the emulator knows. */
function procStat(t: Task): string {
  const p = t.proc;
  const maps = t.mem.mappings;
  const vsize = maps.reduce((a, v) => a + (v.end - v.start), 0);
  const rss = Math.floor(t.mem.residentBytes / 4096);
  const stack = maps.find((v) => v.name === '[stack]');
  const start = Math.floor(process.uptime() * 100); // clock ticks since "boot" ≈ since the emulator started
  const fields: (string | number)[] = [
    p.pid, `(${comm(t)})`, stateLetter(t), p.ppid, p.pgid, p.sid,
    0, -1, 4194304, // tty_nr, tpgid, flags
    0, 0, 0, 0, 0, 0, 0, 0, // minflt cminflt majflt cmajflt utime stime cutime cstime
    20, 0, 1, 0, start, vsize, rss, '18446744073709551615', // priority nice threads itrealvalue starttime vsize rss rsslim
    0, 0, stack ? stack.end : 0, 0, 0, // startcode endcode startstack kstkesp kstkeip
    0, 0, 0, 0, 0, 0, 0, // signal blocked sigignore sigcatch wchan nswap cnswap
    17, 0, 0, 0, 0, 0, 0, // exit_signal processor rt_priority policy delayacct guest_time cguest_time
    0, 0, t.mem.brkStart, 0, 0, 0, 0, 0, // start_data end_data start_brk arg_start arg_end env_start env_end exit_code
  ];
  return fields.join(' ') + '\n';
}

function procStatus(t: Task): string {
  const p = t.proc;
  const rssKb = Math.floor(t.mem.residentBytes / 1024);
  const vmKb = Math.floor(t.mem.mappings.reduce((a, v) => a + (v.end - v.start), 0) / 1024);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const gid = typeof process.getgid === 'function' ? process.getgid() : 0;
  return [
    `Name:\t${comm(t)}`,
    `Umask:\t${p.umask.toString(8).padStart(4, '0')}`,
    `State:\t${stateLetter(t)} (${t.state === 'blocked' ? 'sleeping' : 'running'})`,
    `Tgid:\t${p.pid}`,
    'Ngid:\t0',
    `Pid:\t${t.tid}`,
    `PPid:\t${p.ppid}`,
    'TracerPid:\t0',
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `Gid:\t${gid}\t${gid}\t${gid}\t${gid}`,
    'FDSize:\t256',
    `VmSize:\t${String(vmKb).padStart(8)} kB`,
    `VmRSS:\t${String(rssKb).padStart(8)} kB`,
    'Threads:\t1',
    `SigBlk:\t${(t.sigmaskHi >>> 0).toString(16).padStart(8, '0')}${(t.sigmaskLo >>> 0).toString(16).padStart(8, '0')}`,
    `Cpus_allowed_list:\t0-${cpuCount() - 1}`,
    '',
  ].join('\n');
}

function cpuinfo(): string {
  const n = cpuCount();
  let out = '';
  for (let k = 0; k < n; k++) {
    out += [
      `processor\t: ${k}`,
      'vendor_id\t: GenuineIntel',
      'cpu family\t: 6',
      'model\t\t: 0',
      'model name\t: elfshim virtual x86-64 CPU',
      'stepping\t: 0',
      'cpu MHz\t\t: 1000.000',
      `physical id\t: 0`,
      `siblings\t: ${n}`,
      `core id\t\t: ${k}`,
      `cpu cores\t: ${n}`,
      'fpu\t\t: yes',
      'fpu_exception\t: yes',
      'cpuid level\t: 13',
      'wp\t\t: yes',
      `flags\t\t: ${cpuinfoFlags.list}`,
      'bogomips\t: 2000.00',
      'clflush size\t: 64',
      'cache_alignment\t: 64',
      'address sizes\t: 48 bits physical, 48 bits virtual',
      '',
      '',
    ].join('\n');
  }
  return out;
}

function meminfo(t: Task): string {
  const totalKb = Math.floor(t.kernel.options.memoryLimit / 1024);
  const usedKb = Math.floor(t.mem.phys.framesInUse * 4);
  const freeKb = Math.max(0, totalKb - usedKb);
  const line = (k: string, v: number) => `${(k + ':').padEnd(16)}${String(v).padStart(8)} kB`;
  return [line('MemTotal', totalKb), line('MemFree', freeKb), line('MemAvailable', freeKb), line('Buffers', 0), line('Cached', 0), line('SwapCached', 0), line('SwapTotal', 0), line('SwapFree', 0), ''].join('\n');
}

function procStatFile(): string {
  const n = cpuCount();
  const lines = ['cpu  0 0 0 0 0 0 0 0 0 0'];
  for (let k = 0; k < n; k++) lines.push(`cpu${k} 0 0 0 0 0 0 0 0 0 0`);
  lines.push(`btime ${bootTimeSec()}`, 'processes 1', 'procs_running 1', 'procs_blocked 0', '');
  return lines.join('\n');
}

const MOUNTS = '/dev/root / ext4 rw,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\ndevtmpfs /dev devtmpfs rw,relatime 0 0\n';

/** A magic link to an open description (/proc/self/fd/N). */
function fdLink(path: string, d: FileDescription): SynthNode {
  // Host files and directories are reopened by their guest path; streams, pipes and devices directly.
  const direct = d.hostPath === null;
  const node = linkNode(path, () => d.path, direct ? { open: () => d.reopen(d.flags), targetStat: () => d.stat() } : undefined);
  // The link's permissions show the fd's access mode (lr-x, l-wx, lrwx), its size is 64.
  const acc = d.flags & O_ACCMODE;
  node.mode = S_IFLNK | (acc === O_WRONLY ? 0o300 : acc === O_RDWR ? 0o700 : 0o500);
  node.size = 64;
  return node;
}

function fdDir(t: Task, base: string): SynthNode {
  const files = t.files;
  return {
    type: 'dir',
    ino: synthIno(base),
    mode: S_IFDIR | 0o500,
    list: () => files.fds().map((fd) => ({ name: String(fd), ino: synthIno(`${base}/${fd}`), type: 10 })),
    lookup: (name) => {
      if (!/^\d+$/.test(name)) return null;
      const d = files.get(Number(name));
      return d ? fdLink(`${base}/${name}`, d) : null;
    },
  };
}

/**
 * /proc/PID/exe: shows the guest path, but opens the file the process was
 * loaded from even when it lies outside the guest root (like Linux, which
 * opens the mapped inode).
 */
function exeLink(t: Task, path: string): SynthNode {
  const p = t.proc;
  if (!p.hostExePath) return linkNode(path, () => p.exePath);
  return linkNode(path, () => p.exePath, {
    open: (flags) => {
      if ((flags & O_ACCMODE) !== 0) return -EACCES; // ETXTBSY for a running program; never writable here
      try {
        return new HostFile(fs.openSync(p.hostExePath, fs.constants.O_RDONLY | O_CLOEXEC), p.exePath, p.hostExePath, flags);
      } catch (e) {
        return hostErrno(e);
      }
    },
    targetStat: () => {
      try {
        return statFromHost(fs.statSync(p.hostExePath, { bigint: true }));
      } catch (e) {
        return hostErrno(e);
      }
    },
  });
}

/** The state letter of /proc/<pid>/stat: R runs (the caller itself, or a thread ready to), S waits in a syscall. */
function stateLetter(t: Task): string {
  return t.state === 'blocked' ? 'S' : 'R';
}

/** The files of /proc/<pid> (or of /proc/<pid>/task/<tid>) for task t. */
function pidDir(t: Task, base: string): SynthNode {
  const p = t.proc;
  return dirNode(base, {
    exe: () => (p.exePath ? exeLink(t, `${base}/exe`) : null),
    cwd: () => linkNode(`${base}/cwd`, () => p.fs.cwd),
    root: () => linkNode(`${base}/root`, () => '/'),
    fd: () => fdDir(t, `${base}/fd`),
    maps: () => textFile(`${base}/maps`, () => t.mem.formatMaps() + (vsyscallMapsLine() ?? '')),
    cmdline: () => bytesFile(`${base}/cmdline`, () => nulJoined(p.argv), 0o444),
    environ: () => bytesFile(`${base}/environ`, () => nulJoined(p.envp)),
    auxv: () => bytesFile(`${base}/auxv`, () => p.auxv.slice()),
    stat: () => textFile(`${base}/stat`, () => procStat(t)),
    status: () => textFile(`${base}/status`, () => procStatus(t)),
    statm: () => textFile(`${base}/statm`, () => `${Math.floor(t.mem.mappings.reduce((a, v) => a + v.end - v.start, 0) / 4096)} ${t.mem.residentBytes / 4096} 0 0 0 0 0\n`),
    comm: () => ({ ...textFile(`${base}/comm`, () => comm(t) + '\n', 0o644), store: (data: Uint8Array) => setThreadComm(t, data) }),
    mounts: () => textFile(`${base}/mounts`, () => MOUNTS),
    limits: () => textFile(`${base}/limits`, () => formatLimits(p)),
  });
}

/** The root of /proc, as the calling task sees it. */
export function procRoot(t: Task): SynthNode {
  const pid = String(t.pid);
  const sys = dirNode('/proc/sys', {
    kernel: () =>
      dirNode('/proc/sys/kernel', {
        osrelease: () => textFile('/proc/sys/kernel/osrelease', () => UNAME.release + '\n'),
        ostype: () => textFile('/proc/sys/kernel/ostype', () => UNAME.sysname + '\n'),
        hostname: () => textFile('/proc/sys/kernel/hostname', () => hostname() + '\n', 0o644),
        pid_max: () => textFile('/proc/sys/kernel/pid_max', () => '4194304\n', 0o644),
        ngroups_max: () => textFile('/proc/sys/kernel/ngroups_max', () => '65536\n'),
        random: () => dirNode('/proc/sys/kernel/random', { boot_id: () => textFile('/proc/sys/kernel/random/boot_id', () => '00000000-0000-4000-8000-000000000000\n') }),
      }),
    vm: () =>
      dirNode('/proc/sys/vm', {
        overcommit_memory: () => textFile('/proc/sys/vm/overcommit_memory', () => '0\n', 0o644),
        max_map_count: () => textFile('/proc/sys/vm/max_map_count', () => '65530\n', 0o644),
      }),
  });
  const root = dirNode('/proc', {
    self: () => linkNode('/proc/self', () => pid),
    'thread-self': () => linkNode('/proc/thread-self', () => `${pid}/task/${t.tid}`),
    [pid]: () => processDir(t),
    cpuinfo: () => textFile('/proc/cpuinfo', cpuinfo),
    meminfo: () => textFile('/proc/meminfo', () => meminfo(t)),
    stat: () => textFile('/proc/stat', procStatFile),
    uptime: () => textFile('/proc/uptime', () => `${os.uptime().toFixed(2)} ${(os.uptime() * cpuCount()).toFixed(2)}\n`),
    loadavg: () => textFile('/proc/loadavg', () => '0.00 0.00 0.00 1/1 ' + pid + '\n'),
    version: () => textFile('/proc/version', () => `Linux version ${UNAME.release} (elfshim) ${UNAME.version}\n`),
    filesystems: () => textFile('/proc/filesystems', () => hostText('/proc/filesystems', 'nodev\tproc\nnodev\ttmpfs\n\text4\n')),
    mounts: () => linkNode('/proc/mounts', () => 'self/mounts'),
    sys: () => sys,
  });
  // The other guest processes (ps, /proc/$PPID/...): each seen through one of its live threads, the
  // thread-group leader while it runs. The calling process is seen through the calling thread.
  const others = (): Map<string, Task> => {
    const m = new Map<string, Task>();
    for (const x of t.kernel.tasks) {
      if (x.state === 'exited' || x.proc === t.proc) continue;
      const k = String(x.pid);
      if (!m.has(k) || x.tid === x.pid) m.set(k, x);
    }
    return m;
  };
  const rootLookup = root.lookup!, rootList = root.list!;
  root.lookup = (name) => {
    if (name === pid || !/^[1-9][0-9]*$/.test(name)) return rootLookup(name);
    const x = others().get(name);
    return x ? processDir(x) : null;
  };
  root.list = () => [...rootList(), ...[...others().values()].map((x) => ({ name: String(x.pid), ino: synthIno(`/proc/${x.pid}`), type: 4 }))];
  return root;
}

/** /proc/<pid> of task t's process, seen by t, with task/<tid> for each of the process's live threads. */
function processDir(t: Task): SynthNode {
  const pid = String(t.pid);
  const pidNode = pidDir(t, `/proc/${pid}`);
  const baseLookup = pidNode.lookup!;
  const taskDir = () => {
    const threads: Record<string, () => SynthNode> = {};
    for (const x of t.kernel.tasks) {
      if (x.proc === t.proc && x.state !== 'exited') threads[String(x.tid)] = () => pidDir(x, `/proc/${pid}/task/${x.tid}`);
    }
    return dirNode(`/proc/${pid}/task`, threads);
  };
  pidNode.lookup = (name) => (name === 'task' ? taskDir() : baseLookup(name));
  const baseList = pidNode.list!;
  pidNode.list = () => [...baseList(), { name: 'task', ino: taskDir().ino, type: 4 }];
  return pidNode;
}

