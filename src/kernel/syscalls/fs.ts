/** File I/O and descriptor syscalls: read/write family, open/close, lseek, dup, fcntl, ioctl, pipes. */
import type { Task } from '../task.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { argI, argS, argU, argUI, readIovecs, readPath, type IoVec } from '../args.js';
import { EBADF, EINVAL, EISDIR, EPIPE } from '../errno.js';
import type { FileDescription } from '../files/description.js';
import { MAX_RW_COUNT } from '../files/host-file.js';
import { openResolved } from '../files/open.js';
import { PipeEnd, createPipe } from '../files/pipe.js';
import {
  AT_FDCWD, FD_CLOEXEC, FIOCLEX, FIONBIO, FIONCLEX, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_GETOWN, F_GETPIPE_SZ, F_OFD_GETLK,
  F_OFD_SETLK, F_OFD_SETLKW, F_SETFD, F_SETFL, F_SETLK, F_SETLKW, F_SETOWN, F_SETPIPE_SZ, O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECT, O_LARGEFILE,
  O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_TMPFILE, O_TRUNC, O_WRONLY, SETFL_MASK,
} from './abi.js';
import { fileOf, impl, partial, raiseSignal, SIGPIPE } from './util.js';
import { fcntlLock, sysFlock } from './file-locks.js';

const IOV_MAX = 1024;

function readable(d: FileDescription): boolean {
  return (d.flags & O_ACCMODE) !== O_WRONLY && !(d.flags & O_PATH);
}
function writable(d: FileDescription): boolean {
  return (d.flags & O_ACCMODE) !== O_RDONLY && !(d.flags & O_PATH);
}

function afterWrite(t: Task, r: number | Blocked): number | Blocked {
  if (r === -EPIPE) raiseSignal(t, SIGPIPE);
  return r;
}

// ------------------------------------------------------------------ read / write

function sysRead(t: Task): number | Blocked {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (!readable(d)) return -EBADF;
  const len = Math.min(argU(t, 2), MAX_RW_COUNT);
  if (len === 0) return d.isDirectory ? -EISDIR : 0; // never waits
  return d.read(t, argU(t, 1), len);
}

function sysWrite(t: Task): number | Blocked {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (!writable(d)) return -EBADF;
  const len = Math.min(argU(t, 2), MAX_RW_COUNT);
  if (len === 0 && !d.isDirectory) return 0;
  return afterWrite(t, d.write(t, argU(t, 1), len));
}

function iovecs(t: Task, addr: number, count: number): IoVec[] | number {
  if (count < 0 || count > IOV_MAX) return -EINVAL;
  const v = readIovecs(t, addr, count);
  let total = 0;
  for (const e of v) {
    if (e.len > 2 ** 63 - 1) return -EINVAL;
    total += e.len;
  }
  if (total > 2 ** 63 - 1) return -EINVAL;
  return v;
}

/**
 * Runs op over each iovec until a short transfer. Only the first chunk may
 * block; after that a would-block ends the call with what was transferred.
 */
function vectored(vs: IoVec[], op: (addr: number, len: number, off: number) => number | Blocked): number | Blocked {
  let total = 0;
  for (const v of vs) {
    if (v.len === 0) continue;
    const r = op(v.base, Math.min(v.len, MAX_RW_COUNT - total), total);
    if (r instanceof Blocked) return total > 0 ? total : r;
    if (r < 0) return total > 0 ? total : r;
    total += r;
    if (r < v.len || total >= MAX_RW_COUNT) break;
  }
  return total;
}

function sysReadv(t: Task): number | Blocked {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (!readable(d)) return -EBADF;
  const vs = iovecs(t, argU(t, 1), argI(t, 2));
  if (typeof vs === 'number') return vs;
  return vectored(vs, (a, n) => d.read(t, a, n));
}

function sysWritev(t: Task): number | Blocked {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (!writable(d)) return -EBADF;
  const vs = iovecs(t, argU(t, 1), argI(t, 2));
  if (typeof vs === 'number') return vs;
  // Gather first so a pipe or terminal sees one write (atomic like Linux for small writes).
  return afterWrite(t, vectored(vs, (a, n) => d.write(t, a, n)));
}

function positional(t: Task, offArg: number, write: boolean): { d: FileDescription; off: number } | number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (write ? !writable(d) : !readable(d)) return -EBADF;
  const off = argS(t, offArg);
  if (off < 0) return -EINVAL;
  if (d.isDirectory) return -EISDIR;
  return { d, off };
}

function sysPread64(t: Task): number {
  const p = positional(t, 3, false);
  if (typeof p === 'number') return p;
  return p.d.pread(t, argU(t, 1), Math.min(argU(t, 2), MAX_RW_COUNT), p.off);
}

function sysPwrite64(t: Task): number {
  const p = positional(t, 3, true);
  if (typeof p === 'number') return p;
  return afterWrite(t, p.d.pwrite(t, argU(t, 1), Math.min(argU(t, 2), MAX_RW_COUNT), p.off)) as number;
}

function sysPreadv(t: Task): number | Blocked {
  // preadv2 with offset -1 means "current position" (plain readv).
  if (argS(t, 3) === -1) return sysReadv(t);
  const p = positional(t, 3, false);
  if (typeof p === 'number') return p;
  const vs = iovecs(t, argU(t, 1), argI(t, 2));
  if (typeof vs === 'number') return vs;
  return vectored(vs, (a, n, done) => p.d.pread(t, a, n, p.off + done));
}

function sysPwritev(t: Task): number | Blocked {
  if (argS(t, 3) === -1) return sysWritev(t);
  const p = positional(t, 3, true);
  if (typeof p === 'number') return p;
  const vs = iovecs(t, argU(t, 1), argI(t, 2));
  if (typeof vs === 'number') return vs;
  return afterWrite(t, vectored(vs, (a, n, done) => p.d.pwrite(t, a, n, p.off + done)));
}

// ------------------------------------------------------------------ open / close

/** Shared by open, openat, creat: resolve, open, install. */
export function doOpen(t: Task, dirfd: number, pathAddr: number, flags: number, mode: number): number {
  const path = readPath(t, pathAddr);
  if (typeof path === 'number') return path;
  const tmpfile = (flags & O_TMPFILE) === O_TMPFILE;
  if (tmpfile && (flags & O_ACCMODE) === O_RDONLY) return -EINVAL;
  // O_CREAT and O_NOFOLLOW act on the last component itself; everything else follows it.
  const follow = !(flags & O_NOFOLLOW) && !(flags & O_CREAT && flags & 0o200 /* O_EXCL */);
  const r = t.fs.resolve(t, dirfd, path, { follow });
  if (typeof r === 'number') return r;
  if (r.kind === 'host' && r.st === null && flags & O_CREAT && path.endsWith('/')) return -EISDIR;
  // 64-bit Linux always sets O_LARGEFILE; O_DIRECT is accepted and ignored.
  const d = openResolved(t, r, (flags | O_LARGEFILE) & ~O_DIRECT, mode);
  if (typeof d === 'number') return d;
  const fd = t.files.install(d, (flags & O_CLOEXEC) !== 0);
  if (fd < 0 && d.refs === 0) d.release();
  return fd;
}

function sysOpen(t: Task): number {
  return doOpen(t, AT_FDCWD, argU(t, 0), argI(t, 1), argUI(t, 2));
}

function sysOpenat(t: Task): number {
  return doOpen(t, argI(t, 0), argU(t, 1), argI(t, 2), argUI(t, 3));
}

function sysOpenat2(t: Task): number {
  // struct open_how { u64 flags; u64 mode; u64 resolve; }: the RESOLVE_* restrictions are not applied.
  const how = argU(t, 2);
  const size = argU(t, 3);
  if (size < 24) return -EINVAL;
  const flags = t.mem.read32(how);
  const mode = t.mem.read32(how + 8);
  return doOpen(t, argI(t, 0), argU(t, 1), flags, mode);
}

function sysCreat(t: Task): number {
  return doOpen(t, AT_FDCWD, argU(t, 0), O_CREAT | O_WRONLY | O_TRUNC, argUI(t, 1));
}

function sysClose(t: Task): number {
  return t.files.close(argI(t, 0));
}

function sysCloseRange(t: Task): number {
  const first = argUI(t, 0);
  const last = argUI(t, 1);
  const flags = argUI(t, 2);
  const CLOSE_RANGE_CLOEXEC = 4;
  if (first > last || flags & ~(2 | 4)) return -EINVAL;
  for (const fd of t.files.fds()) {
    if (fd < first || fd > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) t.files.setCloexec(fd, true);
    else t.files.close(fd);
  }
  return 0;
}

function sysLseek(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (d.flags & O_PATH) return -EBADF;
  const whence = argUI(t, 2);
  if (whence > 4) return -EINVAL;
  return d.seek(argS(t, 1), whence);
}

// ------------------------------------------------------------------ dup / fcntl

function sysDup(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  return t.files.install(d);
}

function dupTo(t: Task, oldfd: number, newfd: number, cloexec: boolean): number {
  const d = fileOf(t, oldfd);
  if (typeof d === 'number') return d;
  if (newfd < 0 || newfd >= t.files.limit) return -EBADF;
  t.files.installAt(newfd, d, cloexec);
  return newfd;
}

function sysDup2(t: Task): number {
  const oldfd = argI(t, 0);
  const newfd = argI(t, 1);
  if (oldfd === newfd) return t.files.get(oldfd) ? newfd : -EBADF;
  return dupTo(t, oldfd, newfd, false);
}

function sysDup3(t: Task): number {
  const oldfd = argI(t, 0);
  const newfd = argI(t, 1);
  const flags = argI(t, 2);
  if (oldfd === newfd || flags & ~O_CLOEXEC) return -EINVAL;
  return dupTo(t, oldfd, newfd, (flags & O_CLOEXEC) !== 0);
}

function sysFcntl(t: Task): number | Blocked {
  const fd = argI(t, 0);
  const cmd = argI(t, 1);
  const d = fileOf(t, fd);
  if (typeof d === 'number') return d;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = argI(t, 2);
      if (min < 0 || min >= t.files.limit) return -EINVAL;
      return t.files.install(d, cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD:
      return t.files.isCloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
      return t.files.setCloexec(fd, (argI(t, 2) & FD_CLOEXEC) !== 0);
    case F_GETFL:
      return d.flags;
    case F_SETFL:
      if (d.flags & O_PATH) return -EBADF;
      d.flags = (d.flags & ~SETFL_MASK) | (argI(t, 2) & SETFL_MASK);
      return 0;
    case F_GETLK:
    case F_OFD_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return fcntlLock(t, d, cmd, argU(t, 2));
    case F_GETOWN:
      return 0;
    case F_SETOWN:
      return 0;
    case F_GETPIPE_SZ:
      return d instanceof PipeEnd ? d.pipe.capacity : -EBADF;
    case F_SETPIPE_SZ: {
      if (!(d instanceof PipeEnd)) return -EBADF;
      const want = argI(t, 2);
      if (want < 0 || want > 1048576) return want < 0 ? -EINVAL : -1 /* EPERM */;
      let cap = 4096;
      while (cap < want) cap *= 2;
      if (cap < d.pipe.size) return -16; // EBUSY
      d.pipe.capacity = cap;
      return cap;
    }
  }
  return -EINVAL;
}

function sysIoctl(t: Task): number | Blocked {
  const fd = argI(t, 0);
  const req = argUI(t, 1);
  const d = fileOf(t, fd);
  if (typeof d === 'number') return d;
  if (d.flags & O_PATH) return -EBADF;
  switch (req) {
    case FIOCLEX:
      return t.files.setCloexec(fd, true);
    case FIONCLEX:
      return t.files.setCloexec(fd, false);
    case FIONBIO:
      d.flags = t.mem.read32(argU(t, 2)) ? d.flags | O_NONBLOCK : d.flags & ~O_NONBLOCK;
      return 0;
  }
  return d.ioctl(t, req, argU(t, 2));
}

// ------------------------------------------------------------------ pipes, sync, misc

function pipeInto(t: Task, addr: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) return -EINVAL;
  const [r, w] = createPipe(flags);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = t.files.install(r, cloexec);
  if (rfd < 0) {
    r.release();
    w.release();
    return rfd;
  }
  const wfd = t.files.install(w, cloexec);
  if (wfd < 0) {
    t.files.close(rfd);
    w.release();
    return wfd;
  }
  try {
    t.mem.write32(addr, rfd);
    t.mem.write32(addr + 4, wfd);
  } catch (e) {
    t.files.close(rfd);
    t.files.close(wfd);
    throw e;
  }
  return 0;
}

function sysFtruncate(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (!writable(d)) return -EINVAL;
  return d.truncate(argS(t, 1));
}

function sysFsync(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  return d.sync();
}

function fdNoop(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  return typeof d === 'number' ? d : 0;
}

/** sendfile / copy_file_range: one chunk from src to dst (positions null = the descriptions' own). */
function copyBetween(t: Task, src: FileDescription, dst: FileDescription, count: number, srcOff: number | null, dstOff: number | null): { n: number; read: number } | number | Blocked {
  const chunk = Math.min(count, 1 << 20);
  const data = readDescription(t, src, chunk, srcOff);
  if (data instanceof Blocked || typeof data === 'number') return data;
  if (data.length === 0) return { n: 0, read: 0 };
  const w = writeDescription(t, dst, data, dstOff);
  if (w instanceof Blocked) return w;
  return { n: w, read: data.length };
}

/**
 * Reads from a description into host memory. Descriptions move bytes to and
 * from guest memory, so this borrows a scratch mapping in the guest's address
 * space for the duration of the call (no guest code runs meanwhile).
 */
function readDescription(t: Task, d: FileDescription, len: number, off: number | null): Uint8Array | number | Blocked {
  return withScratch(t, len, (addr) => {
    const n = off === null ? d.read(t, addr, len) : d.pread(t, addr, len, off);
    if (n instanceof Blocked || n < 0) return n;
    return t.mem.readBytes(addr, n);
  });
}

function writeDescription(t: Task, d: FileDescription, data: Uint8Array, off: number | null): number | Blocked {
  return withScratch(t, data.length, (addr) => {
    t.mem.writeBytes(addr, data);
    return off === null ? d.write(t, addr, data.length) : d.pwrite(t, addr, data.length, off);
  });
}

function withScratch<R>(t: Task, len: number, f: (addr: number) => R): R {
  const size = Math.max(4096, Math.ceil(len / 4096) * 4096);
  const addr = t.mem.mmap(0, size, 3, { name: '' });
  if (addr < 0) throw new Error('no room for a scratch buffer');
  try {
    return f(addr);
  } finally {
    t.mem.munmap(addr, size);
  }
}

function sysSendfile(t: Task): number | Blocked {
  const out = fileOf(t, argI(t, 0));
  const inp = fileOf(t, argI(t, 1));
  if (typeof out === 'number') return out;
  if (typeof inp === 'number') return inp;
  if (!readable(inp) || !writable(out)) return -EBADF;
  const offPtr = argU(t, 2);
  const count = Math.min(argU(t, 3), MAX_RW_COUNT);
  const off = offPtr ? Number(t.mem.read32(offPtr) >>> 0) + (t.mem.read32(offPtr + 4) | 0) * 4294967296 : null;
  const r = copyBetween(t, inp, out, count, off, null);
  if (r instanceof Blocked || typeof r === 'number') return afterWrite(t, r);
  if (offPtr && off !== null) {
    const nv = off + Math.max(0, r.n);
    t.mem.write64(offPtr, nv % 4294967296 | 0, Math.floor(nv / 4294967296));
  }
  return afterWrite(t, r.n);
}

function sysCopyFileRange(t: Task): number | Blocked {
  const inp = fileOf(t, argI(t, 0));
  const out = fileOf(t, argI(t, 2));
  if (typeof out === 'number') return out;
  if (typeof inp === 'number') return inp;
  if (!readable(inp) || !writable(out)) return -EBADF;
  if (inp instanceof PipeEnd || out instanceof PipeEnd) return -EINVAL;
  const inPtr = argU(t, 1);
  const outPtr = argU(t, 3);
  const count = Math.min(argU(t, 4), MAX_RW_COUNT);
  const readOff = (p: number) => (p ? (t.mem.read32(p) >>> 0) + (t.mem.read32(p + 4) | 0) * 4294967296 : null);
  const inOff = readOff(inPtr);
  const outOff = readOff(outPtr);
  const r = copyBetween(t, inp, out, count, inOff, outOff);
  if (r instanceof Blocked || typeof r === 'number') return r;
  const store = (p: number, v: number) => t.mem.write64(p, v % 4294967296 | 0, Math.floor(v / 4294967296));
  if (inPtr && inOff !== null) store(inPtr, inOff + r.n);
  if (outPtr && outOff !== null) store(outPtr, outOff + r.n);
  return r.n;
}

function sysFallocate(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  const mode = argI(t, 1);
  const off = argS(t, 2);
  const len = argS(t, 3);
  if (off < 0 || len <= 0) return -EINVAL;
  if (mode !== 0) return -95; // EOPNOTSUPP: punch hole, collapse range…
  if (!writable(d)) return -EBADF;
  const st = d.stat();
  if (typeof st === 'number') return st;
  if (st.size < off + len) return d.truncate(off + len);
  return 0;
}

function sysSync(): number {
  return 0;
}

export const fsHandlers: Record<string, SyscallImpl> = {
  read: impl(sysRead),
  write: impl(sysWrite),
  readv: impl(sysReadv),
  writev: impl(sysWritev),
  pread64: impl(sysPread64),
  pwrite64: impl(sysPwrite64),
  preadv: impl(sysPreadv),
  pwritev: impl(sysPwritev),
  preadv2: partial(sysPreadv, 'RWF_* flags ignored'),
  pwritev2: partial(sysPwritev, 'RWF_* flags ignored'),
  open: impl(sysOpen),
  openat: impl(sysOpenat),
  openat2: partial(sysOpenat2, 'RESOLVE_* restrictions are not applied'),
  creat: impl(sysCreat),
  close: impl(sysClose),
  close_range: impl(sysCloseRange),
  lseek: impl(sysLseek),
  dup: impl(sysDup),
  dup2: impl(sysDup2),
  dup3: impl(sysDup3),
  fcntl: partial(sysFcntl, 'record locks between guest processes only (host processes do not see them), no deadlock detection, no F_SETSIG/leases/seals'),
  ioctl: partial(sysIoctl, 'terminal ioctls (TCGETS/TCSETS*/TIOCGWINSZ/TIOCGPGRP), FIONREAD, FIONBIO, FIOCLEX only'),
  pipe: impl((t) => pipeInto(t, argU(t, 0), 0)),
  pipe2: impl((t) => pipeInto(t, argU(t, 0), argI(t, 1))),
  ftruncate: impl(sysFtruncate),
  fsync: impl(sysFsync),
  fdatasync: impl(sysFsync),
  syncfs: impl(fdNoop),
  sync: impl(sysSync),
  sync_file_range: impl(fdNoop),
  fadvise64: impl(fdNoop),
  readahead: impl(fdNoop),
  flock: partial(sysFlock, 'between guest processes only (host processes do not see the locks)'),
  fallocate: partial(sysFallocate, 'mode 0 only'),
  sendfile: impl(sysSendfile),
  copy_file_range: impl(sysCopyFileRange),
};

