import type { Registers } from './side.js';

/**
 * What a system call writes to user memory, so that the differ can copy the
 * native result into elfshim when they legitimately differ (file metadata,
 * time, pids, random bytes). Arguments: rdi rsi rdx r10 r8 r9.
 */

/** A buffer a syscall may fill: the argument holding its address and how long it is. */
interface Output {
  arg: number;
  /** Fixed size, 'ret' (the return value), or an argument index holding the size. */
  len: number | 'ret' | { arg: number; times?: number };
}

const ARGS = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'];

const STAT = 144, TIMESPEC = 16, RUSAGE = 144;

const OUTPUTS: Record<number, Output[]> = {
  0: [{ arg: 1, len: 'ret' }], // read
  4: [{ arg: 1, len: STAT }], // stat
  5: [{ arg: 1, len: STAT }], // fstat
  6: [{ arg: 1, len: STAT }], // lstat
  7: [{ arg: 0, len: { arg: 1, times: 8 } }], // poll (revents)
  13: [{ arg: 2, len: 32 }], // rt_sigaction (old action)
  14: [{ arg: 2, len: 8 }], // rt_sigprocmask (old set)
  17: [{ arg: 1, len: 'ret' }], // pread64
  22: [{ arg: 0, len: 8 }], // pipe
  35: [{ arg: 1, len: TIMESPEC }], // nanosleep (remaining)
  36: [{ arg: 1, len: 32 }], // getitimer
  38: [{ arg: 2, len: 32 }], // setitimer (old)
  45: [{ arg: 1, len: 'ret' }], // recvfrom
  61: [{ arg: 1, len: 4 }, { arg: 3, len: RUSAGE }], // wait4
  63: [{ arg: 0, len: 390 }], // uname
  78: [{ arg: 1, len: 'ret' }], // getdents
  79: [{ arg: 0, len: 'ret' }], // getcwd
  89: [{ arg: 1, len: 'ret' }], // readlink
  96: [{ arg: 0, len: 16 }, { arg: 1, len: 8 }], // gettimeofday
  97: [{ arg: 1, len: 16 }], // getrlimit
  98: [{ arg: 1, len: RUSAGE }], // getrusage
  99: [{ arg: 0, len: 112 }], // sysinfo
  100: [{ arg: 0, len: 32 }], // times
  131: [{ arg: 1, len: 24 }], // sigaltstack (old)
  137: [{ arg: 1, len: 120 }], // statfs
  138: [{ arg: 1, len: 120 }], // fstatfs
  201: [{ arg: 0, len: 8 }], // time
  204: [{ arg: 2, len: 'ret' }], // sched_getaffinity
  217: [{ arg: 1, len: 'ret' }], // getdents64
  228: [{ arg: 1, len: TIMESPEC }], // clock_gettime
  229: [{ arg: 1, len: TIMESPEC }], // clock_getres
  230: [{ arg: 3, len: TIMESPEC }], // clock_nanosleep (remaining)
  232: [{ arg: 1, len: { arg: 2, times: 12 } }], // epoll_wait
  262: [{ arg: 2, len: STAT }], // newfstatat
  267: [{ arg: 2, len: 'ret' }], // readlinkat
  293: [{ arg: 0, len: 8 }], // pipe2
  295: [], // preadv: see iovecs below
  302: [{ arg: 3, len: 16 }], // prlimit64 (old)
  309: [{ arg: 0, len: 4 }, { arg: 1, len: 4 }], // getcpu (the cpu the host ran it on)
  318: [{ arg: 0, len: 'ret' }], // getrandom
  332: [{ arg: 4, len: 256 }], // statx
};

/** Syscalls whose vector arguments (readv-style) receive the data. */
const IOVEC_READS = new Set([19, 295]);

/** ioctl requests with an output struct: request → size. */
const IOCTL_OUT: Record<number, number> = { 0x5401: 60 /* TCGETS */, 0x5413: 8 /* TIOCGWINSZ */ };

/**
 * Syscalls whose results must be equal on both sides: they shape the address
 * space, so a difference is a divergence, not noise; rseq's registration
 * decides whether the kernel keeps writing cpu ids into the program's memory
 * (the native run is pinned to one CPU, so that the ids it writes are one
 * value, as elfshim's).
 */
export const MUST_MATCH = new Set([9 /* mmap */, 10 /* mprotect */, 11 /* munmap */, 12 /* brk */, 25 /* mremap */, 158 /* arch_prctl */, 334 /* rseq */]);

/** Memory ranges [addr, len] a finished syscall wrote, by the native registers before (args) and after (result). */
export async function syscallOutputs(nr: number, before: Registers, result: bigint, readIovecs: (addr: number, count: number) => Promise<Array<[number, number]>>): Promise<Array<[number, number]>> {
  const ret = result >= 1n << 63n ? -1 : Number(result);
  if (ret < 0) return [];
  const arg = (k: number) => Number(before.big(ARGS[k]));
  const out: Array<[number, number]> = [];
  if (nr === 16) {
    const size = IOCTL_OUT[arg(1) >>> 0];
    if (size && arg(2)) out.push([arg(2), size]);
    return out;
  }
  if (IOVEC_READS.has(nr)) {
    let left = ret;
    for (const [base, len] of await readIovecs(arg(1), Math.min(arg(2), 64))) {
      if (left <= 0) break;
      out.push([base, Math.min(len, left)]);
      left -= len;
    }
    return out;
  }
  for (const o of OUTPUTS[nr] ?? []) {
    const addr = arg(o.arg);
    if (!addr) continue;
    const len = o.len === 'ret' ? ret : typeof o.len === 'number' ? o.len : arg(o.len.arg) * (o.len.times ?? 1);
    if (len > 0) out.push([addr, Math.min(len, 1 << 20)]);
  }
  return out;
}

/**
 * Process identity: the two runs have different pids. Calls that return a
 * pid give native elfshim's value (so both continue from equal state), and
 * calls that take one get the native pid on the native side for the call
 * only (see Lockstep.mapPidArguments).
 */
export const PID_RESULT = new Set([39 /* getpid */, 56 /* clone */, 57 /* fork */, 58 /* vfork */, 61 /* wait4 */, 110 /* getppid */, 111 /* getpgrp */, 112 /* setsid */, 121 /* getpgid */, 124 /* getsid */, 186 /* gettid */, 218 /* set_tid_address */]);

/** Syscall number → indexes of arguments that are pids (a negative value names a process group). */
export const PID_ARGS: Record<number, number[]> = {
  61: [0], // wait4
  62: [0], // kill
  109: [0, 1], // setpgid
  121: [0], // getpgid
  124: [0], // getsid
  129: [0], // rt_sigqueueinfo
  140: [1], // getpriority
  141: [1], // setpriority
  143: [0], 144: [0], 145: [0], // sched_getparam/setscheduler/getscheduler
  200: [0], // tkill
  203: [0], 204: [0], // sched_setaffinity/getaffinity
  234: [0, 1], // tgkill
  247: [1], // waitid
  297: [0, 1], // rt_tgsigqueueinfo
  302: [0], // prlimit64
  310: [0], 311: [0], // process_vm_readv/writev
  434: [0], // pidfd_open
};

export { ARGS as SYSCALL_ARG_REGISTERS };
