// The CI workloads of the fast lockstep differ (issue #6 acceptance): every musl static C fixture to its end (threads
// included: the fast differ follows them), and busybox gzip/sha256sum/awk for their first 2,000,000 instructions.
// A step costs ~15-20 µs on this 2-core machine with the tracer's in-process stepping (the threads of the first
// process and of the children it forks, while none of SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL has a handler of the
// program's; see src/lockstep/README.md), nearly all of it the native #DB trap (the kernel's exc_debug_user), ~35 µs
// with a ptrace stop per instruction (glibc's rseq, vforked children). fixtureCases run in lockstep-ci-fixtures;
// fullCases (the long full runs) in lockstep-ci-full-a, -b and -c, so that node's test runner runs them beside the
// other files.
// Measured 2026-11-28 (node scripts/lockstep --fast, this 2-core machine, load 0.4-4 with the lead's benchmarks
// beside it): strings (full, 19.9M steps) 354 s; threads (20000 rounds per worker, 5.05M steps) 90 s (threads 2000
// took 17.4 s before its worker threads stepped in-process, 8.3 s after); sysmisc with every section in one run
// (1.87M steps) 36 s (69 s when its sched section, after the earlier sections' handlers, paid the ptrace stop);
// sigchld-wait (4.3M steps, mostly its forked children's busy loops) 140-155 s with the children stepped by ptrace,
// 76.5 s in-process. With the final tracer at a load of ~1.1-1.4 (the run alone): threads 75.9 s, strings 306 s.
// Earlier (load 2-5): qsort 5000 8.1M steps in 83 s, printf-float 14.3M in 164 s.
// lockstep-ci-fixtures alone: 364 s (malloc 800 89 s, libm 86 s). The whole suite (node scripts/run-tests.mjs)
// with the three full runs added, children still by ptrace, under a load of 2-5.6 from the lead's benchmarks:
// 1573 s, all passing; strings 474 s, sigchld-wait 404 s, printf-float 394 s, qsort 5000 246 s, malloc 800 185 s,
// libm 156 s, threads 153 s, sysmisc 34 s (every run ~1.8x its time on a quiet machine).
// The full runs replace the reduced workloads CI ran before (strings quick, threads 2000, sysmisc sched alone and
// its other sections together), which they include. Forked and vforked children are followed like threads
// (sysmisc's children signal their parent by the pid they learned; locks' children wait for the parent's file
// locks; vfork's exec).
// udp's ephemeral ports are translated (src/lockstep/ports.ts); sigsys
// seccomp runs with the filter natively and elfshim's --on-unimplemented=sigsys. tcpserver runs to its usage exit, and as an echo server
// for host clients (test/helpers/lockstep-peer.ts: the same ping-pong conversation with each run's server); netclient
// fetches from a host server. fileio works in "." with each side started in its own empty directory. hardening
// runs its one bounded mode (flood: 1 MB to stdout); the others exhaust memory or processes, natively too.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './scratch-dir.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const TRACER = `${ROOT}/test/fixtures/build/tools/lockstep-tracer`;
const musl = (name: string) => `${ROOT}/test/fixtures/build/musl/${name}`;
const glibcStatic = (name: string) => `${ROOT}/test/fixtures/build/glibc-static/${name}`;
const glibcDynamic = (name: string) => `${ROOT}/test/fixtures/build/glibc-dynamic/${name}`;

export interface LockstepCase {
  title: string;
  program: string;
  args: string[];
  stdin?: string;
  max?: number;
  /** How the run must end (the differ's `end` text). */
  end: RegExp;
  /** Threads the run must have followed (created ones included). */
  threads?: number;
  /** Each side starts in its own empty directory (FastLockstepOptions.workDirs). */
  workDirs?: boolean;
  /** What the run must print (where the differ's own handling decides it, not only elfshim's). */
  output?: RegExp;
  /** The environment of both runs (default: empty). */
  env?: Record<string, string>;
  /** Both runs with elfshim's vDSO (FastLockstepOptions.vdso). */
  vdso?: boolean;
  /** elfshim's --on-unimplemented (FastLockstepOptions.onUnimplemented). */
  onUnimplemented?: 'sigsys';
  /**
   * A host peer (test/helpers/lockstep-peer.ts, its own process): 'server' serves "GET n", 'udp-echo' answers
   * datagrams (their port replaces PEER_PORT in args); 'echo' connects to both runs' servers with the same conversation (ports learned by the differ).
   */
  peer?: 'server' | 'udp-echo' | 'echo';
}

/** In args: the port of the case's host server. */
export const PEER_PORT = '{peer-port}';

const ENDED = /exited with status|killed by signal/;

/** A deterministic text file (~77 KB) for the busybox workloads and catcount. */
export function workloadInput(): string {
  const dir = scratchDir('lockstep-input-');
  let s = '';
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += `line ${i} ${x.toString(36)} ${'lorem ipsum dolor'.slice(0, x % 17)}\n`;
  }
  const file = join(dir, 'input.txt');
  writeFileSync(file, s);
  return file;
}

export function fixtureCases(input: string): LockstepCase[] {
  const cases: LockstepCase[] = [
    { title: 'hello', program: musl('hello'), args: ['a', 'b c'], end: ENDED },
    { title: 'exitcode exit 3', program: musl('exitcode'), args: ['exit', '3'], end: /exited with status 3/ },
    { title: 'exitcode abort', program: musl('exitcode'), args: ['abort'], end: /killed by signal 6/ },
    { title: 'exitcode segv', program: musl('exitcode'), args: ['segv'], end: /killed by signal 11/ },
    { title: 'isa-mix 1', program: musl('isa-mix'), args: ['1'], end: ENDED },
    { title: 'intedge', program: musl('intedge'), args: [], end: ENDED },
    { title: 'malloc 800', program: musl('malloc'), args: ['800'], end: ENDED },
    { title: 'catcount < 77 KB', program: musl('catcount'), args: [], stdin: input, end: ENDED },
    { title: 'signals', program: musl('signals'), args: [], end: /killed by signal 15/ },
    { title: 'escape (usage exit)', program: musl('escape'), args: [], end: /exited with status 2/ },
    { title: 'hardening flood 1 (its bounded mode)', program: musl('hardening'), args: ['flood', '1'], end: /exited with status 0/ },
    { title: 'fileio (each side in its own empty directory)', program: musl('fileio'), args: ['.'], workDirs: true, end: /exited with status 0/ },
    { title: 'mmaplayout (THP-aligned anonymous mmaps)', program: musl('mmaplayout'), args: [], end: ENDED },
    // Calls into the vsyscall page: emulated by the kernel, whose single-step trap comes after the next instruction.
    { title: 'memlayout (stack growth, vsyscall calls)', program: musl('memlayout'), args: [], end: /exited with status 0/ },
    { title: 'syscalls', program: musl('syscalls'), args: [], end: ENDED },
    { title: 'sigframe (a signal in a thread)', program: musl('sigframe'), args: [], end: /exited with status 0/, threads: 2 },
    // vfork children (the parent waits inside the call), vfork + execve, posix_spawn (clone with CLONE_VM|CLONE_VFORK).
    { title: 'vfork (vfork, exec in the child, posix_spawn)', program: musl('vfork'), args: [], end: /exited with status 0/, threads: 7 },
    // Files passed to a child over a socketpair (SCM_RIGHTS), SO_PEERCRED.
    { title: 'unixfd (fds passed to a child)', program: musl('unixfd'), args: [], end: /exited with status 0/, threads: 2 },
    // A child connecting to its parent's socket on a relative path (getsockname/getpeername show it as bound).
    { title: 'unixfd . (a server on a relative socket path)', program: musl('unixfd'), args: ['.'], workDirs: true, end: /exited with status 0/, threads: 2 },
    // A thread and then a child answering through pipes (each side blocks on an empty pipe in turn; the child polls).
    { title: 'pipethreads (a thread and a child talking through pipes)', program: musl('pipethreads'), args: ['50'], end: /exited with status 0/, threads: 3 },
    // glibc's fork is clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID): the child's tid word is written in its own memory;
    // its robust mutexes are marked by the kernel at the owner's exit (the word holds elfshim's tid: see robust-futexes.ts).
    { title: 'sysmisc (glibc: clone3, fork, robust mutexes marked by the kernel)', program: glibcStatic('sysmisc'), args: ['names', 'suspend', 'sigwaits', 'signalfds', 'robust', 'groups'], end: /exited with status 0/, threads: 8, output: /robust lock after owner died: EOWNERDEAD/ },
    // glibc's threads: pthread_create is clone3, and every thread registers an rseq area whose cpu ids both kernels write.
    { title: 'threads 500 (glibc: clone3 threads, rseq areas, then fork)', program: glibcStatic('threads'), args: ['500'], end: /exited with status 0/, threads: 7 },
    // A signal to a thread parked on a futex (and to one parked in a pipe read) makes it run: its handler reports back.
    { title: 'parkedsig (signals to waiting threads)', program: musl('parkedsig'), args: [], end: /exited with status 0/, threads: 3 },
    { title: 'parkedsig (glibc)', program: glibcStatic('parkedsig'), args: [], end: /exited with status 0/, threads: 3 },
    // rseq's registration rules, and a critical section single-stepped: every stop is a preemption on Linux, so the
    // first step inside it lands in the abort handler; the ids the program overwrote are written again at each stop.
    { title: 'rseq stepped (no timer)', program: musl('rseq'), args: ['stepped'], end: /exited with status 0/ },
    { title: 'rseq stepped (glibc: its own area unregistered first)', program: glibcStatic('rseq'), args: ['stepped'], end: /exited with status 0/ },
    // Through ld.so and the host's libc: lazy binding's trampoline saves the FPU state (xsavec) over bytes just written.
    { title: 'hello (dynamically linked: ld.so, the host libc)', program: glibcDynamic('hello'), args: ['dyn'], end: /exited with status 0/ },
    // File locks between a parent and five children (F_SETLKW waits for the parent), each side in its own directory.
    { title: 'locks (children, F_SETLKW)', program: musl('locks'), args: ['.'], workDirs: true, end: /exited with status 0/, threads: 6 },
    // Without arguments it prints its usage and exits 2.
    { title: 'tcpserver (usage exit)', program: musl('tcpserver'), args: [], end: /exited with status 2/ },
    // Its real run: an epoll echo server; a host client talks to each run's server (the listening port is learned
    // from getsockname: ports.ts), the same conversation to both.
    { title: 'tcpserver tcp 4 (host clients for both runs)', program: musl('tcpserver'), args: ['tcp', '4'], peer: 'echo', end: /exited with status 0/, output: /served 4 connections, 84416 bytes/ },
    // A client fetching from a host server over IPv4 (blocking connect) and IPv6 (non-blocking, poll, SO_ERROR).
    { title: 'netclient (a host server)', program: musl('netclient'), args: [PEER_PORT, '150000'], peer: 'server', end: /exited with status 0/, output: /::1: 150000 bytes, fnv1a [0-9a-f]{8}, peer port matches: yes/ },
    // Datagrams between sockets bound to port 0, and to a forked child: each run has its own ephemeral ports,
    // translated as pids are (ports.ts); the program sees elfshim's.
    { title: 'udp (ephemeral ports, IPv4/IPv6, a forked peer)', program: musl('udp'), args: [], end: /exited with status 0/, threads: 2, output: /child answered "len 300"/ },
    // The vDSO found through AT_SYSINFO_EHDR and called: both runs with elfshim's (the native process gets its image),
    // whose functions make syscalls. Its code is elfshim's on both sides: what it answers is checked by the output.
    { title: 'vdso (elfshim\'s vDSO on both sides)', program: musl('vdso'), args: [], vdso: true, end: /exited with status 0/, output: /__vdso_clock_getres@LINUX_2\.6: found\n(.*: yes\n)+clock_getres\(MONOTONIC\) = 0, 0 s 1 ns\nsched_getcpu valid: yes/ },
    { title: 'hello (dynamically linked, with the vDSO in ld.so\'s link map)', program: glibcDynamic('hello'), args: ['dyn'], vdso: true, end: /exited with status 0/ },
    // Datagrams to a host peer from a socket bound by its first sendto (another port on each side).
    { title: 'udp host (a host peer)', program: musl('udp'), args: ['host', PEER_PORT], peer: 'udp-echo', end: /exited with status 0/, output: /reply "pong: ping 2" from 127\.0\.0\.1, the host's port: yes\nthe first sendto bound a port: ok/ },
    { title: 'random (AT_RANDOM, getrandom)', program: musl('random'), args: [], end: /exited with status 0/ },
    { title: 'stracecalls', program: musl('stracecalls'), args: [], end: /exited with status 0/ },
    // io_pgetevents without seccomp: elfshim lacks it (ENOSYS), the host has it (EINVAL); the result is copied.
    { title: 'sigsys (the unimplemented call returns)', program: musl('sigsys'), args: [], end: /exited with status 0/ },
    // Natively a seccomp filter traps io_pgetevents with SIGSYS; elfshim (--on-unimplemented=sigsys) traps it itself.
    { title: 'sigsys seccomp (SIGSYS to a handler)', program: musl('sigsys'), args: ['seccomp'], onUnimplemented: 'sigsys', end: /exited with status 0/, output: /second call returned 333, handler ran 2 time/ },
    { title: 'sigsys seccomp default (killed by SIGSYS)', program: musl('sigsys'), args: ['seccomp', 'default'], onUnimplemented: 'sigsys', end: /killed by signal 31/ },
    { title: 'libm', program: musl('libm'), args: [], end: ENDED },
  ];
  return cases;
}

/**
 * The long full runs, in three parts (lockstep-ci-full-a, -b, -c: node's runner runs test files side by side):
 * strings alone (the longest), the others paired to about equal times (see the top of this file).
 */
export function fullCases(part: 'a' | 'b' | 'c'): LockstepCase[] {
  const parts: Record<'a' | 'b' | 'c', LockstepCase[]> = {
    a: [
      { title: 'printf-float', program: musl('printf-float'), args: [], end: ENDED },
      // Four workers of 20000 mutex rounds each, a condvar handshake, join, TLS, then fork.
      { title: 'threads (mutex, condvar, join, TLS, then fork)', program: musl('threads'), args: [], end: /exited with status 0/, threads: 7 },
    ],
    b: [
      { title: 'qsort 5000', program: musl('qsort'), args: ['5000'], end: ENDED },
      // 80 children reaped with waitpid and with ash's sigsuspend loop (SIGCHLD handler); 4.3M steps, mostly busy loops.
      { title: 'sigchld-wait', program: musl('sigchld-wait'), args: [], end: /exited with status 0/, threads: 81 },
      // Every section in one run: threads, a robust mutex, forked children that signal their parent, in process
      // groups and a session; a thread reads its /proc/self/task/TID/comm (the differ gives native the native tid in
      // the path); sched's 1.8M-step arithmetic loop after the handlers of the sections before it.
      { title: 'sysmisc (every section: threads, children, handlers, sched)', program: musl('sysmisc'), args: [], end: /exited with status 0/, threads: 8, output: /task comm: \[worker-thread-w\][^]*sched_yield: 0/ },
    ],
    c: [{ title: 'strings', program: musl('strings'), args: [], end: ENDED }],
  };
  return parts[part];
}

export function busyboxCases(input: string): LockstepCase[] {
  const busybox = '/bin/busybox';
  const max = 2_000_000;
  const until = /exited with status 0|stopped after --max 2000000/;
  // glibc registers an rseq area at startup unless told not to: a program with one keeps the ptrace cost per step
  // (~28 µs against ~15 µs in-process: sha256sum's 2M steps took 56.5 s, 30.0 s with the tunable). Both runs see
  // the same environment, so both glibcs skip the registration; rseq itself is covered by the glibc threads and
  // rseq fixtures, which run without it.
  const env = { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' };
  return [
    { title: 'busybox gzip -c', program: busybox, args: ['gzip', '-c', input], max, env, end: until },
    { title: 'busybox sha256sum', program: busybox, args: ['sha256sum', input], max, env, end: until },
    { title: 'busybox awk', program: busybox, args: ['awk', '{ n += length($0); w += NF; if ($3 > m) m = $3 } END { print n, w, m }', input], max, env, end: until },
  ];
}

export function missing(program: string): string | false {
  if (!existsSync(TRACER)) return 'lockstep-tracer not built (bash scripts/build-fixtures.sh)';
  if (!existsSync(program)) return `${program} not built`;
  return false;
}
