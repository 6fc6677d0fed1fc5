import { snapshotArgs } from './args.js';
import { errnoMessage, errnoName, ENOSYS } from './errno.js';
import { OUTPUT_KINDS, syscallByNumber, type ArgKind, type SyscallInfo } from './syscall-table.js';
import type { Task } from './task.js';
import {
  ARCH_PRCTL_NAMES, AT_FDCWD, AT_FLAG_NAMES, CLOCK_NAMES, CLONE_FLAG_NAMES, FCNTL_NAMES, FILE_TYPE_NAMES, FUTEX_OP_NAMES,
  IOCTL_NAMES, MADV_NAMES, O_CREAT, MAP_FLAG_NAMES, OPEN_FLAG_NAMES, O_ACCMODE, PROT_NAMES, RLIMIT_NAMES, SIGNAL_NAMES, S_IFCHR,
  S_IFBLK, S_IFMT, WHENCE_NAMES,
} from './syscalls/abi.js';
import { devMajor, devMinor } from './files/stat.js';

/** strace's default -s: string arguments are cut after this many bytes. */
export const STRACE_STRLEN = 32;

const TWO32 = 4294967296;

/** The bit that makes O_TMPFILE differ from O_DIRECTORY. */
const O_TMPFILE_BIT = 0o20000000;

/** Results that strace prints in hex (addresses). */
const POINTER_RESULTS = new Set(['mmap', 'brk', 'mremap', 'shmat']);

/** Raw argument values captured at syscall entry. */
class Args {
  constructor(readonly raw: Int32Array) {}
  lo(i: number): number {
    return this.raw[2 * i];
  }
  hi(i: number): number {
    return this.raw[2 * i + 1];
  }
  u(i: number): number {
    return (this.hi(i) >>> 0) * TWO32 + (this.lo(i) >>> 0);
  }
  s(i: number): number {
    return this.hi(i) * TWO32 + (this.lo(i) >>> 0);
  }
  /** A C int as the kernel sees it (the low 32 bits), or the full value when it is a sign-extended long. */
  int(i: number): number {
    return this.hi(i) === this.lo(i) >> 31 ? this.lo(i) : this.s(i);
  }
  big(i: number): bigint {
    return (BigInt(this.hi(i) >>> 0) << 32n) | BigInt(this.lo(i) >>> 0);
  }
}

/** What straceBefore captured: raw args and the input arguments already formatted. */
export interface StraceEntry {
  args: Args;
  text: (string | null)[];
}

// ------------------------------------------------------------------ escaping

/** C-escapes bytes the way strace does (octal for non-printables). */
export function escapeBytes(b: Uint8Array): string {
  let s = '';
  for (let k = 0; k < b.length; k++) {
    const c = b[k];
    switch (c) {
      case 0x0a:
        s += '\\n';
        continue;
      case 0x09:
        s += '\\t';
        continue;
      case 0x0d:
        s += '\\r';
        continue;
      case 0x0b:
        s += '\\v';
        continue;
      case 0x0c:
        s += '\\f';
        continue;
      case 0x22:
        s += '\\"';
        continue;
      case 0x5c:
        s += '\\\\';
        continue;
    }
    if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else {
      const next = k + 1 < b.length ? b[k + 1] : -1;
      const pad = next >= 0x30 && next <= 0x37 ? 3 : 1;
      s += '\\' + c.toString(8).padStart(pad, '0');
    }
  }
  return s;
}

/** Every byte as \xHH (strace's QUOTE_FORCE_HEX, used for binary buffers such as getrandom's). */
export function hexEscapeBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += '\\x' + c.toString(16).padStart(2, '0');
  return s;
}

/** A quoted string, cut after max bytes with `...` after the quote (strace -s). */
export function quoteBytes(b: Uint8Array, max = STRACE_STRLEN, moreFollows = false, forceHex = false): string {
  const cut = b.length > max;
  const shown = cut ? b.subarray(0, max) : b;
  return `"${forceHex ? hexEscapeBytes(shown) : escapeBytes(shown)}"${cut || moreFollows ? '...' : ''}`;
}

function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}

function ptr(v: number): string {
  return v === 0 ? 'NULL' : hex(v);
}

/** Names of the set bits of v (table order); leftover bits in hex; `zero` when v is 0. */
export function flagNames(v: number, table: readonly (readonly [number, string])[], zero = '0'): string {
  const parts: string[] = [];
  let rest = v >>> 0;
  for (const [bit, name] of table) {
    if (bit !== 0 && (rest & bit) >>> 0 === bit) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) parts.push(hex(rest));
  return parts.length ? parts.join('|') : zero;
}

export function openFlags(v: number): string {
  const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', '0x3'][v & O_ACCMODE];
  const rest = flagNames(v & ~O_ACCMODE, OPEN_FLAG_NAMES, '');
  return rest ? `${acc}|${rest}` : acc;
}

function octalMode(v: number): string {
  return '0' + (v >>> 0).toString(8).padStart(2, '0');
}

function fileMode(mode: number): string {
  const type = FILE_TYPE_NAMES[mode & S_IFMT];
  const perm = '0' + (mode & 0o7777).toString(8).padStart(3, '0');
  return type ? `${type}|${perm}` : perm;
}

function named(v: number, names: readonly string[] | Readonly<Record<number, string>>, fallback = String(v)): string {
  const n = (names as Record<number, string>)[v];
  return n ?? fallback;
}

// ------------------------------------------------------------------ guest reads (never throw)

function tryRead(t: Task, addr: number, len: number): Uint8Array | null {
  try {
    return t.mem.readBytes(addr, len);
  } catch {
    return null;
  }
}

function tryCString(t: Task, addr: number, max: number): { bytes: Uint8Array; complete: boolean } | null {
  try {
    const out: number[] = [];
    for (let k = 0; k < max; k++) {
      const c = t.mem.read8(addr + k);
      if (c === 0) return { bytes: Uint8Array.from(out), complete: true };
      out.push(c);
    }
    return { bytes: Uint8Array.from(out), complete: false };
  } catch {
    return null;
  }
}

function u64At(t: Task, addr: number): number | null {
  const b = tryRead(t, addr, 8);
  if (!b) return null;
  const v = new DataView(b.buffer);
  return v.getUint32(4, true) * TWO32 + v.getUint32(0, true);
}

function pathArg(t: Task, addr: number): string {
  if (addr === 0) return 'NULL';
  const s = tryCString(t, addr, 4096);
  if (!s) return hex(addr);
  return quoteBytes(s.bytes, 4096, !s.complete);
}

function bufArg(t: Task, addr: number, len: number, forceHex = false): string {
  if (addr === 0) return 'NULL';
  if (len < 0) return hex(addr);
  const b = tryRead(t, addr, Math.min(len, STRACE_STRLEN));
  if (!b) return hex(addr);
  return quoteBytes(b, STRACE_STRLEN, len > STRACE_STRLEN, forceHex);
}

/** getdents output: strace shows the address and the number of records. */
function direntsArg(t: Task, addr: number, len: number): string {
  if (len < 0) return hex(addr);
  const b = tryRead(t, addr, len);
  if (!b) return hex(addr);
  const v = new DataView(b.buffer);
  let n = 0;
  for (let off = 0; off + 18 <= len; n++) {
    const reclen = v.getUint16(off + 16, true);
    if (reclen === 0) break;
    off += reclen;
  }
  return `${hex(addr)} /* ${n} entries */`;
}

function rlimValue(lo: number, hi: number, inf: string): string {
  if (lo === -1 && hi === -1) return inf;
  const v = (hi >>> 0) * TWO32 + (lo >>> 0);
  return v > 0 && v % 1024 === 0 ? `${v / 1024}*1024` : String(v);
}

function rlimitArg(t: Task, addr: number, inf: string): string {
  if (addr === 0) return 'NULL';
  const b = tryRead(t, addr, 16);
  if (!b) return hex(addr);
  const v = new DataView(b.buffer);
  const field = (off: number) => rlimValue(v.getInt32(off, true), v.getInt32(off + 4, true), inf);
  return `{rlim_cur=${field(0)}, rlim_max=${field(8)}}`;
}

function iovArg(t: Task, addr: number, count: number, limit: number): string {
  if (count > 1024) return hex(addr);
  const items: string[] = [];
  let left = limit;
  for (let k = 0; k < Math.min(count, 32); k++) {
    const base = u64At(t, addr + 16 * k);
    const len = u64At(t, addr + 16 * k + 8);
    if (base === null || len === null) return hex(addr);
    const shown = Math.max(0, Math.min(len, left));
    left -= shown;
    items.push(`{iov_base=${bufArg(t, base, shown)}, iov_len=${len}}`);
  }
  if (count > 32) items.push('...');
  return `[${items.join(', ')}]`;
}

function statArg(t: Task, addr: number): string {
  const b = tryRead(t, addr, 144);
  if (!b) return hex(addr);
  const v = new DataView(b.buffer);
  const mode = v.getUint32(24, true);
  const type = mode & S_IFMT;
  if (type === S_IFCHR || type === S_IFBLK) {
    const rdev = v.getUint32(44, true) * TWO32 + v.getUint32(40, true);
    return `{st_mode=${fileMode(mode)}, st_rdev=makedev(${hex(devMajor(rdev))}, ${hex(devMinor(rdev))}), ...}`;
  }
  const size = v.getUint32(52, true) * TWO32 + v.getUint32(48, true);
  return `{st_mode=${fileMode(mode)}, st_size=${size}, ...}`;
}

const STATX_MASK_NAMES: readonly (readonly [number, string])[] = [
  [0x7ff, 'STATX_BASIC_STATS'],
  [0x1, 'STATX_TYPE'], [0x2, 'STATX_MODE'], [0x4, 'STATX_NLINK'], [0x8, 'STATX_UID'], [0x10, 'STATX_GID'],
  [0x20, 'STATX_ATIME'], [0x40, 'STATX_MTIME'], [0x80, 'STATX_CTIME'], [0x100, 'STATX_INO'], [0x200, 'STATX_SIZE'],
  [0x400, 'STATX_BLOCKS'], [0x800, 'STATX_BTIME'], [0x1000, 'STATX_MNT_ID'], [0x2000, 'STATX_DIOALIGN'],
];

function statxArg(t: Task, addr: number): string {
  const b = tryRead(t, addr, 256);
  if (!b) return hex(addr);
  const v = new DataView(b.buffer);
  const mask = flagNames(v.getUint32(0, true), STATX_MASK_NAMES);
  const size = v.getUint32(44, true) * TWO32 + v.getUint32(40, true);
  return `{stx_mask=${mask}, stx_attributes=0, stx_mode=${fileMode(v.getUint16(28, true) | 0)}, stx_size=${size}, ...}`;
}

function timespecArg(t: Task, addr: number): string {
  if (addr === 0) return 'NULL';
  const b = tryRead(t, addr, 16);
  if (!b) return hex(addr);
  const v = new DataView(b.buffer);
  return `{tv_sec=${v.getBigInt64(0, true)}, tv_nsec=${v.getBigInt64(8, true)}}`;
}

/** strace's signal names: SIGRTMIN is the kernel's 32, then SIGRT_1, SIGRT_2… */
export function signalName(n: number): string {
  if (n >= 1 && n < SIGNAL_NAMES.length) return SIGNAL_NAMES[n];
  if (n === 32) return 'SIGRTMIN';
  if (n > 32 && n <= 64) return `SIGRT_${n - 32}`;
  return String(n);
}

/**
 * A signal set of size bytes (1…8) as strace prints it: `[USR1 TERM]`, or when at
 * least half the bits are set the complement, `~[KILL RTMIN]` (`~[]`: every signal).
 */
function sigsetArg(t: Task, addr: number, size: number): string {
  if (addr === 0) return 'NULL';
  if (size <= 0 || size > 8) return hex(addr);
  const b = tryRead(t, addr, size);
  if (!b) return hex(addr);
  return formatSigset(b);
}

export function formatSigset(b: Uint8Array): string {
  const bits = b.length * 8;
  let set = 0;
  for (let i = 0; i < bits; i++) if (b[i >> 3] & (1 << (i & 7))) set++;
  const invert = set >= bits / 2;
  const names: string[] = [];
  for (let i = 0; i < bits; i++) {
    const on = (b[i >> 3] & (1 << (i & 7))) !== 0;
    if (on !== invert) names.push(signalName(i + 1).replace(/^SIG/, ''));
  }
  return `${invert ? '~' : ''}[${names.join(' ')}]`;
}

/** sa_flags in strace's order. */
const SA_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [0x04000000, 'SA_RESTORER'], [0x08000000, 'SA_ONSTACK'], [0x10000000, 'SA_RESTART'], [0x20000000, 'SA_INTERRUPT'],
  [0x40000000, 'SA_NODEFER'], [0x80000000, 'SA_RESETHAND'], [4, 'SA_SIGINFO'], [1, 'SA_NOCLDSTOP'], [2, 'SA_NOCLDWAIT'],
];

/** The kernel's struct sigaction (handler, flags, restorer, mask), size = the sigset size argument. */
function sigactionArg(t: Task, addr: number, size: number): string {
  if (addr === 0) return 'NULL';
  const b = tryRead(t, addr, 24 + Math.max(0, Math.min(size, 8)));
  if (!b || size <= 0 || size > 8) return hex(addr);
  const v = new DataView(b.buffer, b.byteOffset);
  const handler = v.getUint32(4, true) * TWO32 + v.getUint32(0, true);
  const flags = v.getUint32(8, true);
  const shownHandler = handler === 0 ? 'SIG_DFL' : handler === 1 ? 'SIG_IGN' : hex(handler);
  const restorer = v.getUint32(20, true) * TWO32 + v.getUint32(16, true);
  const tail = flags & 0x04000000 ? `, sa_restorer=${ptr(restorer)}` : '';
  return `{sa_handler=${shownHandler}, sa_mask=${formatSigset(b.subarray(24))}, sa_flags=${flagNames(flags, SA_FLAG_NAMES)}${tail}}`;
}

/** prctl options strace names (the common ones). */
const PRCTL_NAMES: Readonly<Record<number, string>> = {
  1: 'PR_SET_PDEATHSIG', 2: 'PR_GET_PDEATHSIG', 3: 'PR_GET_DUMPABLE', 4: 'PR_SET_DUMPABLE', 15: 'PR_SET_NAME',
  16: 'PR_GET_NAME', 21: 'PR_GET_SECCOMP', 22: 'PR_SET_SECCOMP', 38: 'PR_SET_NO_NEW_PRIVS', 39: 'PR_GET_NO_NEW_PRIVS',
};

/** fcntl commands whose only arguments are the fd and the command. */
const FCNTL_NO_ARG = new Set([1, 3, 9, 1025, 1032, 1034]); // F_GETFD F_GETFL F_GETOWN F_GETLEASE F_GETPIPE_SZ F_GET_SEALS
/** fcntl commands whose third argument is a number. */
const FCNTL_INT_ARG = new Set([0, 8, 1024, 1030, 1031]); // F_DUPFD F_SETOWN F_SETLEASE F_DUPFD_CLOEXEC F_SETPIPE_SZ

function stringArrayArg(t: Task, addr: number, summarize: boolean): string {
  if (addr === 0) return 'NULL';
  const items: string[] = [];
  for (let k = 0; k < 4096; k++) {
    const p = u64At(t, addr + 8 * k);
    if (p === null) return hex(addr);
    if (p === 0) break;
    items.push(pathArg(t, p));
  }
  if (summarize) return `${hex(addr)} /* ${items.length} var${items.length === 1 ? '' : 's'} */`;
  return `[${items.join(', ')}]`;
}

function pollfdsArg(t: Task, addr: number, n: number): string {
  if (n > 64) return hex(addr);
  const b = tryRead(t, addr, 8 * n);
  if (!b) return hex(addr);
  const v = new DataView(b.buffer);
  const ev: [number, string][] = [[1, 'POLLIN'], [2, 'POLLPRI'], [4, 'POLLOUT'], [8, 'POLLERR'], [16, 'POLLHUP'], [32, 'POLLNVAL']];
  const items: string[] = [];
  for (let k = 0; k < n; k++) items.push(`{fd=${v.getInt32(8 * k, true)}, events=${flagNames(v.getInt16(8 * k + 4, true), ev)}}`);
  return `[${items.join(', ')}]`;
}

function futexOp(v: number): string {
  const base = FUTEX_OP_NAMES[v & 127] ?? String(v & 127);
  return base + (v & 128 ? '_PRIVATE' : '') + (v & 256 ? '|FUTEX_CLOCK_REALTIME' : '');
}

function cloneFlags(v: number): string {
  const sig = v & 0xff;
  const flags = flagNames(v & ~0xff, CLONE_FLAG_NAMES, '');
  const s = sig ? named(sig, SIGNAL_NAMES) : '';
  return [flags, s].filter(Boolean).join('|') || '0';
}

// ------------------------------------------------------------------ arguments

/** Formats argument i of kind k. For output kinds, result is the call's result. */
function formatArg(t: Task, info: SyscallInfo | undefined, a: Args, i: number, k: ArgKind, result: number): string {
  const next = () => a.u(i + 1);
  switch (k) {
    case 'd':
      return String(a.int(i));
    case 'u':
      return String(a.u(i));
    case 'x':
      return a.u(i) === 0 ? '0' : hex(a.big(i));
    case 'p':
      return ptr(a.u(i));
    case 'fd':
      return String(a.lo(i));
    case 'dirfd':
      return a.lo(i) === AT_FDCWD ? 'AT_FDCWD' : String(a.lo(i));
    case 'path':
    case 'str':
      return pathArg(t, a.u(i));
    case 'ibuf':
      return bufArg(t, a.u(i), next());
    case 'obuf':
      return result >= 0 ? bufArg(t, a.u(i), result) : hex(a.u(i));
    case 'obufn':
      return result >= 0 ? bufArg(t, a.u(i), result, true) : hex(a.u(i));
    case 'dirents':
      return result >= 0 ? direntsArg(t, a.u(i), result) : hex(a.u(i));
    case 'rlim':
      return rlimitArg(t, a.u(i), info?.name === 'prlimit64' ? 'RLIM64_INFINITY' : 'RLIM_INFINITY');
    case 'orlim':
      return result >= 0 ? rlimitArg(t, a.u(i), info?.name === 'prlimit64' ? 'RLIM64_INFINITY' : 'RLIM_INFINITY') : hex(a.u(i));
    case 'obufz':
      return result >= 0 ? pathArg(t, a.u(i)) : hex(a.u(i));
    case 'iov':
      return iovArg(t, a.u(i), next(), Infinity);
    case 'oiov':
      return result >= 0 ? iovArg(t, a.u(i), next(), result) : hex(a.u(i));
    case 'oflags':
      return openFlags(a.lo(i));
    case 'fdflags':
      return flagNames(a.lo(i), OPEN_FLAG_NAMES);
    case 'mode':
      return octalMode(a.lo(i));
    case 'prot':
      return flagNames(a.lo(i), PROT_NAMES, 'PROT_NONE');
    case 'mapflags': {
      const v = a.lo(i);
      const type = ['0', 'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE'][v & 0xf] ?? hex(v & 0xf);
      const rest = flagNames(v & ~0xf, MAP_FLAG_NAMES, '');
      return rest ? `${type}|${rest}` : type;
    }
    case 'atflags':
      return flagNames(a.lo(i), AT_FLAG_NAMES);
    case 'whence':
      return named(a.lo(i), WHENCE_NAMES);
    case 'fcntl':
      return named(a.lo(i), FCNTL_NAMES);
    case 'ioctl':
      return named(a.lo(i) >>> 0, IOCTL_NAMES, hex(a.lo(i) >>> 0));
    case 'clock':
      return named(a.lo(i), CLOCK_NAMES);
    case 'sig':
      return signalName(a.lo(i));
    case 'sigset':
      return sigsetArg(t, a.u(i), a.lo(lastArg(info)));
    case 'osigset':
      return result >= 0 ? sigsetArg(t, a.u(i), a.lo(lastArg(info))) : hex(a.u(i));
    case 'sigact':
      return sigactionArg(t, a.u(i), a.lo(lastArg(info)));
    case 'osigact':
      return result >= 0 ? sigactionArg(t, a.u(i), a.lo(lastArg(info))) : hex(a.u(i));
    case 'ots':
      return result >= 0 ? timespecArg(t, a.u(i)) : hex(a.u(i));
    case 'fdflag':
      return flagNames(a.lo(i), [[1, 'FD_CLOEXEC']]);
    case 'prctlop':
      return named(a.lo(i), PRCTL_NAMES);
    case 'sighow':
      return named(a.lo(i), ['SIG_BLOCK', 'SIG_UNBLOCK', 'SIG_SETMASK']);
    case 'stat':
      return result === 0 ? statArg(t, a.u(i)) : hex(a.u(i));
    case 'statx':
      return result === 0 ? statxArg(t, a.u(i)) : hex(a.u(i));
    case 'statxmask':
      return flagNames(a.lo(i), STATX_MASK_NAMES);
    case 'statxflags': {
      const v = a.lo(i);
      const sync = ['AT_STATX_SYNC_AS_STAT', 'AT_STATX_FORCE_SYNC', 'AT_STATX_DONT_SYNC', '0x6000'][(v >> 13) & 3];
      const rest = flagNames(v & ~0x6000, AT_FLAG_NAMES, '');
      return rest ? `${sync}|${rest}` : sync;
    }
    case 'ts':
      return timespecArg(t, a.u(i));
    case 'ofds': {
      if (result < 0) return hex(a.u(i));
      const b = tryRead(t, a.u(i), 8);
      if (!b) return hex(a.u(i));
      const v = new DataView(b.buffer);
      return `[${v.getInt32(0, true)}, ${v.getInt32(4, true)}]`;
    }
    case 'argv':
      return stringArrayArg(t, a.u(i), false);
    case 'envp':
      return stringArrayArg(t, a.u(i), true);
    case 'rlimit':
      return named(a.lo(i), RLIMIT_NAMES);
    case 'futexop':
      return futexOp(a.lo(i));
    case 'cloneflags':
      return cloneFlags(a.lo(i));
    case 'accmode': {
      const v = a.lo(i);
      return v === 0 ? 'F_OK' : flagNames(v, [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']]);
    }
    case 'madv':
      return named(a.lo(i), MADV_NAMES);
    case 'mremapflags':
      return flagNames(a.lo(i), [[1, 'MREMAP_MAYMOVE'], [2, 'MREMAP_FIXED'], [4, 'MREMAP_DONTUNMAP']]);
    case 'grnd':
      return flagNames(a.lo(i), [[1, 'GRND_NONBLOCK'], [2, 'GRND_RANDOM'], [4, 'GRND_INSECURE']]);
    case 'pollfds':
      return pollfdsArg(t, a.u(i), next());
    case 'archprctl':
      return named(a.lo(i), ARCH_PRCTL_NAMES, hex(a.lo(i)));
  }
  void info;
  return hex(a.u(i));
}

/** Index of the call's last argument (where the rt_sig* calls pass the sigset size). */
function lastArg(info: SyscallInfo | undefined): number {
  return info ? info.args.length - 1 : 0;
}

/** What strace adds after some results: fcntl's F_GETFD / F_GETFL flags. */
function resultWithFlags(info: SyscallInfo, a: Args, result: number): string | null {
  if (info.name !== 'fcntl' || result < 0) return null;
  const cmd = a.lo(1);
  if (cmd === 1 && result > 0) return `= ${hex(result)} (flags ${flagNames(result, [[1, 'FD_CLOEXEC']])})`;
  if (cmd === 3) return `= ${hex(result)} (flags ${openFlags(result)})`;
  return null;
}

function formatResult(t: Task, info: SyscallInfo | undefined, result: number): string {
  if (t.state === 'exited' && (!info || info.name === 'exit' || info.name === 'exit_group')) return '= ?';
  if (result < 0 && result > -4096) {
    const e = -result;
    if (e === ENOSYS && (!info || !info.impl)) return '= -1 ENOSYS (not implemented)';
    return `= -1 ${errnoName(e)} (${errnoMessage(e)})`;
  }
  if (info && POINTER_RESULTS.has(info.name)) return `= ${hex(result)}`;
  return `= ${result}`;
}

/** The arguments strace shows for this call: some depend on another argument's value. */
function argKindsFor(info: SyscallInfo, a: Args): readonly ArgKind[] {
  const kinds = info.args;
  switch (info.name) {
    case 'open':
    case 'openat': {
      // The mode only matters with O_CREAT or O_TMPFILE.
      const at = kinds.indexOf('oflags');
      return a.lo(at) & (O_CREAT | O_TMPFILE_BIT) ? kinds : kinds.slice(0, at + 1);
    }
    case 'fcntl': {
      const cmd = a.lo(1);
      if (FCNTL_NO_ARG.has(cmd)) return kinds.slice(0, 2);
      if (cmd === 2) return ['fd', 'fcntl', 'fdflag']; // F_SETFD
      if (cmd === 4) return ['fd', 'fcntl', 'oflags']; // F_SETFL
      if (FCNTL_INT_ARG.has(cmd)) return ['fd', 'fcntl', 'd'];
      return kinds;
    }
    case 'prctl': {
      const op = a.lo(0);
      if (op === 15) return ['prctlop', 'str']; // PR_SET_NAME
      if (op === 16) return ['prctlop', 'obufz']; // PR_GET_NAME
      return kinds;
    }
    case 'futex': {
      const op = a.lo(1) & 127;
      if (op === 1) return kinds.slice(0, 3); // FUTEX_WAKE
      if (op === 0) return ['p', 'futexop', 'd', 'ts']; // FUTEX_WAIT
      if (op === 9) return ['p', 'futexop', 'd', 'ts', 'x', 'x']; // FUTEX_WAIT_BITSET
      return kinds;
    }
  }
  return kinds;
}

/** Captures the arguments at syscall entry and formats the input ones (their memory may change). */
export function straceBefore(t: Task, nr: number): StraceEntry {
  const info = syscallByNumber(nr);
  const a = new Args(snapshotArgs(t));
  const kinds = info ? argKindsFor(info, a) : [];
  const text = kinds.map((k, i) => (OUTPUT_KINDS.has(k) ? null : formatArg(t, info, a, i, k, 0)));
  return { args: a, text };
}

/** The whole strace line once the call completed. */
export function straceAfter(t: Task, nr: number, e: StraceEntry, result: number): string {
  const info = syscallByNumber(nr);
  if (!info) {
    const raw = [0, 1, 2, 3, 4, 5].map((i) => (e.args.u(i) === 0 ? '0' : hex(e.args.big(i))));
    return `syscall_${hex(nr)}(${raw.join(', ')}) ${formatResult(t, info, result)}`;
  }
  const kinds = argKindsFor(info, e.args);
  const parts = kinds.map((k, i) => e.text[i] ?? formatArg(t, info, e.args, i, k, result));
  return `${info.name}(${parts.join(', ')}) ${resultWithFlags(info, e.args, result) ?? formatResult(t, info, result)}`;
}

/**
 * One strace line for syscall nr with the task's current argument registers
 * and result, e.g. `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`.
 */
export function formatSyscall(t: Task, nr: number, result: number): string {
  return straceAfter(t, nr, straceBefore(t, nr), result);
}
