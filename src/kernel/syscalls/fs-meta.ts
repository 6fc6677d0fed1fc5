/** Path and metadata syscalls: stat family, access, cwd, readlink, getdents, mkdir/unlink/rename/link/symlink, chmod/chown, utimes, statfs. */
import * as fs from 'node:fs';
import type { Task } from '../task.js';
import type { SyscallImpl } from '../syscall-types.js';
import { argI, argS, argU, argUI, encodeString, readPath, readStruct, StructWriter, viewS64 } from '../args.js';
import { EACCES, EBUSY, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENODATA, EOPNOTSUPP, EPERM, ERANGE, EXDEV, hostErrno, ENOTEMPTY } from '../errno.js';
import type { Resolved } from '../files/fs-context.js';
import { statFromHost, writeStat, writeStatx, type StatInfo } from '../files/stat.js';
import { synthStat } from '../files/synth.js';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, R_OK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, W_OK, X_OK,
} from './abi.js';
import { fileOf, impl, partial, resolveAt } from './util.js';
import { hostCall, withPinnedEntry, withPinnedObject } from '../files/pin.js';

// ------------------------------------------------------------------ stat

/** Metadata of whatever a resolution found (the entry itself: the walk has followed what was to be followed). */
export function statResolved(t: Task, r: Resolved): StatInfo | number {
  switch (r.kind) {
    case 'fd':
      return r.desc.stat();
    case 'synth':
      return r.followed && r.node.targetStat ? r.node.targetStat() : synthStat(r.node);
    case 'host':
      if (r.st === null) return -ENOENT;
      return withPinnedEntry(t.fs.root, r.hostPath, (p) => {
        try {
          return statFromHost(fs.lstatSync(p, { bigint: true }));
        } catch (e) {
          return hostErrno(e);
        }
      });
  }
}

function statPath(t: Task, dirfd: number, pathAddr: number, flags: number, follow: boolean, out: (s: StatInfo) => void): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 | 0x6000)) return -EINVAL;
  const r = resolveAt(t, dirfd, pathAddr, flags, follow);
  if (typeof r === 'number') return r;
  const s = statResolved(t, r);
  if (typeof s === 'number') return s;
  out(s);
  return 0;
}

function sysStat(t: Task): number {
  return statPath(t, AT_FDCWD, argU(t, 0), 0, true, (s) => writeStat(t, argU(t, 1), s));
}
function sysLstat(t: Task): number {
  return statPath(t, AT_FDCWD, argU(t, 0), 0, false, (s) => writeStat(t, argU(t, 1), s));
}
function sysFstat(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  const s = d.stat();
  if (typeof s === 'number') return s;
  writeStat(t, argU(t, 1), s);
  return 0;
}
function sysNewfstatat(t: Task): number {
  return statPath(t, argI(t, 0), argU(t, 1), argI(t, 3), true, (s) => writeStat(t, argU(t, 2), s));
}
function sysStatx(t: Task): number {
  return statPath(t, argI(t, 0), argU(t, 1), argI(t, 2), true, (s) => writeStatx(t, argU(t, 4), s, argUI(t, 3)));
}

// ------------------------------------------------------------------ access

function accessResolved(t: Task, r: Resolved, mode: number): number {
  const s = statResolved(t, r);
  if (typeof s === 'number') return s;
  if (mode === 0) return 0;
  if (r.kind === 'host') return withPinnedObject(t.fs.root, r.hostPath, (p) => hostCall(() => fs.accessSync(p, mode)));
  // Synthetic files: check the owner bits (they belong to the caller).
  const perm = (s.mode >>> 6) & 7;
  return (mode & perm) === mode ? 0 : -EACCES;
}

function doAccess(t: Task, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~(R_OK | W_OK | X_OK)) return -EINVAL;
  if (flags & ~(0x200 | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const r = resolveAt(t, dirfd, pathAddr, flags);
  if (typeof r === 'number') return r;
  return accessResolved(t, r, mode);
}

// ------------------------------------------------------------------ cwd

function sysGetcwd(t: Task): number {
  const buf = argU(t, 0);
  const size = argU(t, 1);
  const bytes = encodeString(t.fs.cwd + '\0');
  if (size < bytes.length) return -ERANGE;
  t.mem.writeBytes(buf, bytes);
  return bytes.length;
}

function sysChdir(t: Task): number {
  const path = readPath(t, argU(t, 0));
  if (typeof path === 'number') return path;
  const r = t.fs.resolve(t, AT_FDCWD, path, { follow: true });
  if (typeof r === 'number') return r;
  const s = statResolved(t, r);
  if (typeof s === 'number') return s;
  if ((s.mode & S_IFMT) !== S_IFDIR) return -ENOTDIR;
  const a = accessResolved(t, r, X_OK);
  if (a < 0) return a;
  t.fs.cwd = r.guestPath;
  return 0;
}

function sysFchdir(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (!d.isDirectory) return -ENOTDIR;
  t.fs.cwd = d.path;
  return 0;
}

// ------------------------------------------------------------------ readlink

function doReadlink(t: Task, dirfd: number, pathAddr: number, buf: number, size: number): number {
  if (size <= 0 || size > 0x7fffffff) return -EINVAL;
  const r = resolveAt(t, dirfd, pathAddr, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, false);
  if (typeof r === 'number') return r;
  let target: Uint8Array;
  if (r.kind === 'synth') {
    if (r.node.type !== 'link') return -EINVAL;
    target = encodeString(r.node.target!());
  } else if (r.kind === 'host') {
    if (r.st === null) return -ENOENT;
    if ((r.st.mode & S_IFMT) !== S_IFLNK) return -EINVAL;
    const got = withPinnedEntry(t.fs.root, r.hostPath, (p) => {
      try {
        return fs.readlinkSync(p, { encoding: 'buffer' });
      } catch (e) {
        return hostErrno(e);
      }
    });
    if (typeof got === 'number') return got;
    target = got;
  } else {
    // readlinkat(fd, "") on an O_PATH fd of a symlink.
    return -ENOENT;
  }
  const n = Math.min(size, target.length);
  t.mem.writeBytes(buf, target.subarray(0, n));
  return n;
}

// ------------------------------------------------------------------ getdents

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Fills buf with directory entries; `old` selects the legacy getdents layout. */
function doGetdents(t: Task, old: boolean): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  const buf = argU(t, 1);
  const size = Math.min(argU(t, 2), 1 << 24);
  const entries = d.dirEntries();
  if (typeof entries === 'number') return entries;
  const out = new Uint8Array(Math.min(size, entries.reduce((a, e) => a + 24 + Buffer.byteLength(e.name) + 8, 0)));
  const view = new DataView(out.buffer);
  let off = 0;
  let used = 0;
  const base = (d as { pos?: number }).pos ?? 0;
  for (const e of entries) {
    const name = encodeString(e.name);
    const reclen = old ? align8(18 + name.length + 2) : align8(19 + name.length + 1);
    if (off + reclen > size) break;
    const next = base + used + 1;
    view.setBigUint64(off, BigInt(e.ino), true);
    view.setBigInt64(off + 8, BigInt(next), true);
    view.setUint16(off + 16, reclen, true);
    if (old) {
      out.set(name, off + 18);
      out[off + reclen - 1] = e.type;
    } else {
      out[off + 18] = e.type;
      out.set(name, off + 19);
    }
    off += reclen;
    used++;
  }
  if (used === 0 && entries.length > 0) return -EINVAL;
  t.mem.writeBytes(buf, out.subarray(0, off));
  d.consumeDirEntries(used);
  return off;
}

// ------------------------------------------------------------------ create / remove / rename / link

/** Resolves a path whose last component is to be created or removed (never followed). */
function resolveEntry(t: Task, dirfd: number, pathAddr: number): Resolved | number {
  return resolveAt(t, dirfd, pathAddr, AT_SYMLINK_NOFOLLOW, false);
}

/** Runs f on the pinned entry (see files/pin.ts): 0 or -errno. */
function entryOp(t: Task, hostPath: string, f: (p: string) => void): number {
  return withPinnedEntry(t.fs.root, hostPath, (p) => hostCall(() => f(p)));
}

/** Runs f on two pinned entries (rename, link): 0 or -errno. */
function twoEntries(t: Task, a: string, b: string, f: (pa: string, pb: string) => void): number {
  return withPinnedEntry(t.fs.root, a, (pa) => withPinnedEntry(t.fs.root, b, (pb) => hostCall(() => f(pa, pb))));
}

/** Runs f on the pinned object a path names (followed): 0 or -errno. */
function objectOp(t: Task, hostPath: string, f: (p: string) => void): number {
  return withPinnedObject(t.fs.root, hostPath, (p) => hostCall(() => f(p)));
}

function doMkdir(t: Task, dirfd: number, pathAddr: number, mode: number): number {
  const r = resolveEntry(t, dirfd, pathAddr);
  if (typeof r === 'number') return r;
  if (r.kind !== 'host') return -EEXIST;
  if (r.st !== null) return -EEXIST;
  return entryOp(t, r.hostPath, (p) => fs.mkdirSync(p, { mode: mode & ~t.proc.umask & 0o7777 }));
}

function doRmdir(t: Task, dirfd: number, pathAddr: number): number {
  const path = readPath(t, pathAddr);
  if (typeof path === 'number') return path;
  const last = path.replace(/\/+$/, '').split('/').pop();
  if (last === '.') return -EINVAL;
  if (last === '..') return -ENOTEMPTY;
  const r = resolveEntry(t, dirfd, pathAddr);
  if (typeof r === 'number') return r;
  if (r.kind !== 'host') return r.kind === 'synth' && r.node.type !== 'dir' ? -ENOTDIR : -EBUSY;
  if (r.st === null) return -ENOENT;
  if (r.guestPath === '/') return -EBUSY;
  if ((r.st.mode & S_IFMT) !== S_IFDIR) return -ENOTDIR;
  return entryOp(t, r.hostPath, (p) => fs.rmdirSync(p));
}

function doUnlink(t: Task, dirfd: number, pathAddr: number): number {
  const r = resolveEntry(t, dirfd, pathAddr);
  if (typeof r === 'number') return r;
  if (r.kind !== 'host') return -EACCES;
  if (r.st === null) return -ENOENT;
  if ((r.st.mode & S_IFMT) === S_IFDIR) return -EISDIR;
  return entryOp(t, r.hostPath, (p) => fs.unlinkSync(p));
}

const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

function doRename(t: Task, olddir: number, oldAddr: number, newdir: number, newAddr: number, flags: number): number {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | 4) || (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE)) return -EINVAL;
  const a = resolveEntry(t, olddir, oldAddr);
  if (typeof a === 'number') return a;
  const b = resolveEntry(t, newdir, newAddr);
  if (typeof b === 'number') return b;
  if (a.kind !== 'host' || b.kind !== 'host') return -EXDEV;
  if (a.st === null) return -ENOENT;
  if (flags & RENAME_NOREPLACE && b.st !== null) return -EEXIST;
  if (flags & RENAME_EXCHANGE) {
    if (b.st === null) return -ENOENT;
    return twoEntries(t, a.hostPath, b.hostPath, (pa, pb) => {
      const ptmp = `${pa}.elfshim-exchange-${process.pid}`;
      fs.renameSync(pa, ptmp);
      fs.renameSync(pb, pa);
      fs.renameSync(ptmp, pb);
    });
  }
  return twoEntries(t, a.hostPath, b.hostPath, (pa, pb) => fs.renameSync(pa, pb));
}

function doLink(t: Task, olddir: number, oldAddr: number, newdir: number, newAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const a = resolveAt(t, olddir, oldAddr, flags & AT_EMPTY_PATH, (flags & AT_SYMLINK_FOLLOW) !== 0);
  if (typeof a === 'number') return a;
  const b = resolveEntry(t, newdir, newAddr);
  if (typeof b === 'number') return b;
  let src: string | null = null;
  if (a.kind === 'host') src = a.st === null ? null : a.hostPath;
  else if (a.kind === 'fd') src = a.desc.hostPath;
  if (src === null) return a.kind === 'host' ? -ENOENT : -EXDEV;
  if (b.kind !== 'host') return -EXDEV;
  if (b.st !== null) return -EEXIST;
  if (a.kind === 'host' && a.st !== null && (a.st.mode & S_IFMT) === S_IFDIR) return -EPERM;
  return twoEntries(t, src, b.hostPath, (pa, pb) => fs.linkSync(pa, pb));
}

function doSymlink(t: Task, targetAddr: number, newdir: number, newAddr: number): number {
  const target = readPath(t, targetAddr);
  if (typeof target === 'number') return target;
  if (target === '') return -ENOENT;
  const b = resolveEntry(t, newdir, newAddr);
  if (typeof b === 'number') return b;
  if (b.kind !== 'host') return -EEXIST;
  if (b.st !== null) return -EEXIST;
  // The target text is stored as given: resolution interprets it inside the guest root later.
  return entryOp(t, b.hostPath, (p) => fs.symlinkSync(target, p));
}

function doMknod(t: Task, dirfd: number, pathAddr: number, mode: number): number {
  const type = mode & S_IFMT;
  if (type !== 0 && type !== S_IFREG) return type === S_IFIFO ? -EPERM : -EPERM;
  const r = resolveEntry(t, dirfd, pathAddr);
  if (typeof r === 'number') return r;
  if (r.kind !== 'host' || r.st !== null) return -EEXIST;
  return entryOp(t, r.hostPath, (p) => fs.closeSync(fs.openSync(p, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, mode & ~t.proc.umask & 0o7777)));
}

// ------------------------------------------------------------------ chmod / chown / utimes / truncate

function hostPathOf(r: Resolved): string | number {
  if (r.kind === 'host') return r.st === null ? -ENOENT : r.hostPath;
  if (r.kind === 'fd') return r.desc.hostPath ?? -EPERM;
  return -EPERM;
}

function doChmod(t: Task, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const r = resolveAt(t, dirfd, pathAddr, flags);
  if (typeof r === 'number') return r;
  if (r.kind === 'host' && r.st && (r.st.mode & S_IFMT) === S_IFLNK) return -EOPNOTSUPP;
  const p = hostPathOf(r);
  if (typeof p === 'number') return p;
  return objectOp(t, p, (q) => fs.chmodSync(q, mode & 0o7777));
}

function sysFchmod(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  const p = d.hostPath;
  if (p === null) return 0; // pipes and devices: nothing persistent to change
  return objectOp(t, p, (q) => fs.chmodSync(q, argUI(t, 1) & 0o7777));
}

/** chown family: accepted without effect when the file exists (the host user cannot give files away). */
function doChown(t: Task, dirfd: number, pathAddr: number, flags: number, follow: boolean): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  const r = resolveAt(t, dirfd, pathAddr, flags, follow);
  if (typeof r === 'number') return r;
  const s = statResolved(t, r);
  return typeof s === 'number' ? s : 0;
}

const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

/** Sets atime/mtime (seconds as doubles; null = now, undefined = leave). */
function setTimes(t: Task, r: Resolved, atime: number | null | undefined, mtime: number | null | undefined, follow: boolean): number {
  const p = hostPathOf(r);
  if (typeof p === 'number') return r.kind === 'synth' ? -EPERM : p;
  const now = Date.now() / 1000;
  // Following: the object itself is pinned (the walk followed the links); not following: its entry.
  const set = (q: string) => {
    const st = follow ? fs.statSync(q) : fs.lstatSync(q);
    const a = atime === undefined ? st.atimeMs / 1000 : atime === null ? now : atime;
    const m = mtime === undefined ? st.mtimeMs / 1000 : mtime === null ? now : mtime;
    if (follow) fs.utimesSync(q, a, m);
    else fs.lutimesSync(q, a, m);
  };
  return follow ? objectOp(t, p, set) : entryOp(t, p, set);
}

function sysUtimensat(t: Task): number {
  const dirfd = argI(t, 0);
  const pathAddr = argU(t, 1);
  const timesAddr = argU(t, 2);
  const flags = argI(t, 3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return -EINVAL;
  // A NULL path means the fd itself (futimens).
  const r = pathAddr === 0 ? t.fs.resolve(t, dirfd, '', { follow: true, emptyPath: true }) : resolveAt(t, dirfd, pathAddr, flags);
  if (typeof r === 'number') return r;
  let a: number | null | undefined = null;
  let m: number | null | undefined = null;
  if (timesAddr !== 0) {
    const v = readStruct(t, timesAddr, 32);
    const pick = (off: number): number | null | undefined | false => {
      const nsec = viewS64(v, off + 8);
      if (nsec === UTIME_NOW) return null;
      if (nsec === UTIME_OMIT) return undefined;
      if (nsec < 0 || nsec > 999999999) return false;
      return viewS64(v, off) + nsec / 1e9;
    };
    const pa = pick(0);
    const pm = pick(16);
    if (pa === false || pm === false) return -EINVAL;
    a = pa;
    m = pm;
    if (a === undefined && m === undefined) return 0;
  }
  return setTimes(t, r, a, m, !(flags & AT_SYMLINK_NOFOLLOW));
}

function timevalTimes(t: Task, addr: number): [number | null, number | null] | number {
  if (addr === 0) return [null, null];
  const v = readStruct(t, addr, 32);
  const usA = viewS64(v, 8);
  const usM = viewS64(v, 24);
  if (usA < 0 || usA > 999999 || usM < 0 || usM > 999999) return -EINVAL;
  return [viewS64(v, 0) + usA / 1e6, viewS64(v, 16) + usM / 1e6];
}

function doUtimes(t: Task, dirfd: number, pathAddr: number, timesAddr: number): number {
  const r = resolveAt(t, dirfd, pathAddr, 0);
  if (typeof r === 'number') return r;
  const tv = timevalTimes(t, timesAddr);
  if (typeof tv === 'number') return tv;
  return setTimes(t, r, tv[0], tv[1], true);
}

function sysUtime(t: Task): number {
  const r = resolveAt(t, AT_FDCWD, argU(t, 0), 0);
  if (typeof r === 'number') return r;
  const addr = argU(t, 1);
  if (addr === 0) return setTimes(t, r, null, null, true);
  const v = readStruct(t, addr, 16);
  return setTimes(t, r, viewS64(v, 0), viewS64(v, 8), true);
}

function sysTruncate(t: Task): number {
  const r = resolveAt(t, AT_FDCWD, argU(t, 0), 0);
  if (typeof r === 'number') return r;
  const len = argS(t, 1);
  if (len < 0) return -EINVAL;
  if (r.kind !== 'host') return -EACCES;
  if (r.st === null) return -ENOENT;
  if ((r.st.mode & S_IFMT) === S_IFDIR) return -EISDIR;
  return objectOp(t, r.hostPath, (p) => fs.truncateSync(p, len));
}

function sysUmask(t: Task): number {
  const old = t.proc.umask;
  t.proc.umask = argUI(t, 0) & 0o777;
  return old;
}

// ------------------------------------------------------------------ statfs

const PROC_SUPER_MAGIC = 0x9fa0;
const TMPFS_MAGIC = 0x01021994;
const PIPEFS_MAGIC = 0x50495045;

function writeStatfs(t: Task, addr: number, s: { type: number; bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number }): void {
  new StructWriter(120)
    .u64(0, s.type)
    .u64(8, s.bsize)
    .u64(16, s.blocks)
    .u64(24, s.bfree)
    .u64(32, s.bavail)
    .u64(40, s.files)
    .u64(48, s.ffree)
    .u64(64, 255)
    .u64(72, s.bsize)
    .u64(80, 0x20) // ST_RELATIME
    .writeTo(t, addr);
}

function statfsOfHost(t: Task, hostPath: string, addr: number): number {
  const s = withPinnedObject(t.fs.root, hostPath, (p) => {
    try {
      return fs.statfsSync(p);
    } catch (e) {
      return hostErrno(e);
    }
  });
  if (typeof s === 'number') return s;
  writeStatfs(t, addr, { type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree });
  return 0;
}

function synthStatfs(t: Task, addr: number, type: number): number {
  writeStatfs(t, addr, { type, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 });
  return 0;
}

function sysStatfs(t: Task): number {
  const r = resolveAt(t, AT_FDCWD, argU(t, 0), 0);
  if (typeof r === 'number') return r;
  if (r.kind === 'synth') return synthStatfs(t, argU(t, 1), r.guestPath.startsWith('/proc') ? PROC_SUPER_MAGIC : TMPFS_MAGIC);
  const p = hostPathOf(r);
  if (typeof p === 'number') return p;
  return statfsOfHost(t, p, argU(t, 1));
}

function sysFstatfs(t: Task): number {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  const p = d.hostPath;
  if (p === null) return synthStatfs(t, argU(t, 1), d.path.startsWith('pipe:') ? PIPEFS_MAGIC : d.path.startsWith('/proc') ? PROC_SUPER_MAGIC : TMPFS_MAGIC);
  return statfsOfHost(t, p, argU(t, 1));
}

// ------------------------------------------------------------------ xattrs (none)

function noXattr(t: Task): number {
  const r = resolveAt(t, AT_FDCWD, argU(t, 0), 0);
  if (typeof r === 'number') return r;
  const s = statResolved(t, r);
  return typeof s === 'number' ? s : -ENODATA;
}

export const fsMetaHandlers: Record<string, SyscallImpl> = {
  stat: impl(sysStat),
  lstat: impl(sysLstat),
  fstat: impl(sysFstat),
  newfstatat: impl(sysNewfstatat),
  statx: partial(sysStatx, 'always the basic stats (+ btime when asked); no mount id, no DIO alignment'),
  access: impl((t) => doAccess(t, AT_FDCWD, argU(t, 0), argI(t, 1), 0)),
  faccessat: impl((t) => doAccess(t, argI(t, 0), argU(t, 1), argI(t, 2), 0)),
  faccessat2: impl((t) => doAccess(t, argI(t, 0), argU(t, 1), argI(t, 2), argI(t, 3))),
  getcwd: impl(sysGetcwd),
  chdir: impl(sysChdir),
  fchdir: impl(sysFchdir),
  readlink: impl((t) => doReadlink(t, AT_FDCWD, argU(t, 0), argU(t, 1), argI(t, 2))),
  readlinkat: impl((t) => doReadlink(t, argI(t, 0), argU(t, 1), argU(t, 2), argI(t, 3))),
  getdents64: impl((t) => doGetdents(t, false)),
  getdents: impl((t) => doGetdents(t, true)),
  mkdir: impl((t) => doMkdir(t, AT_FDCWD, argU(t, 0), argUI(t, 1))),
  mkdirat: impl((t) => doMkdir(t, argI(t, 0), argU(t, 1), argUI(t, 2))),
  rmdir: impl((t) => doRmdir(t, AT_FDCWD, argU(t, 0))),
  unlink: impl((t) => doUnlink(t, AT_FDCWD, argU(t, 0))),
  unlinkat: impl((t) => {
    const flags = argI(t, 2);
    if (flags & ~AT_REMOVEDIR) return -EINVAL;
    return flags & AT_REMOVEDIR ? doRmdir(t, argI(t, 0), argU(t, 1)) : doUnlink(t, argI(t, 0), argU(t, 1));
  }),
  rename: impl((t) => doRename(t, AT_FDCWD, argU(t, 0), AT_FDCWD, argU(t, 1), 0)),
  renameat: impl((t) => doRename(t, argI(t, 0), argU(t, 1), argI(t, 2), argU(t, 3), 0)),
  renameat2: partial((t) => doRename(t, argI(t, 0), argU(t, 1), argI(t, 2), argU(t, 3), argI(t, 4)), 'RENAME_EXCHANGE is not atomic; RENAME_WHITEOUT ignored'),
  link: impl((t) => doLink(t, AT_FDCWD, argU(t, 0), AT_FDCWD, argU(t, 1), 0)),
  linkat: impl((t) => doLink(t, argI(t, 0), argU(t, 1), argI(t, 2), argU(t, 3), argI(t, 4))),
  symlink: impl((t) => doSymlink(t, argU(t, 0), AT_FDCWD, argU(t, 1))),
  symlinkat: impl((t) => doSymlink(t, argU(t, 0), argI(t, 1), argU(t, 2))),
  mknod: partial((t) => doMknod(t, AT_FDCWD, argU(t, 0), argUI(t, 1)), 'regular files only (no FIFOs or devices)'),
  mknodat: partial((t) => doMknod(t, argI(t, 0), argU(t, 1), argUI(t, 2)), 'regular files only (no FIFOs or devices)'),
  chmod: impl((t) => doChmod(t, AT_FDCWD, argU(t, 0), argUI(t, 1), 0)),
  fchmod: impl(sysFchmod),
  fchmodat: impl((t) => doChmod(t, argI(t, 0), argU(t, 1), argUI(t, 2), 0)),
  fchmodat2: impl((t) => doChmod(t, argI(t, 0), argU(t, 1), argUI(t, 2), argI(t, 3))),
  chown: partial((t) => doChown(t, AT_FDCWD, argU(t, 0), 0, true), 'no effect (succeeds when the file exists)'),
  lchown: partial((t) => doChown(t, AT_FDCWD, argU(t, 0), 0, false), 'no effect (succeeds when the file exists)'),
  fchown: partial((t) => {
    const d = fileOf(t, argI(t, 0));
    return typeof d === 'number' ? d : 0;
  }, 'no effect'),
  fchownat: partial((t) => doChown(t, argI(t, 0), argU(t, 1), argI(t, 4), true), 'no effect (succeeds when the file exists)'),
  utimensat: impl(sysUtimensat),
  utimes: impl((t) => doUtimes(t, AT_FDCWD, argU(t, 0), argU(t, 1))),
  futimesat: impl((t) => doUtimes(t, argI(t, 0), argU(t, 1), argU(t, 2))),
  utime: impl(sysUtime),
  truncate: impl(sysTruncate),
  umask: impl(sysUmask),
  statfs: impl(sysStatfs),
  fstatfs: impl(sysFstatfs),
  getxattr: partial(noXattr, 'no extended attributes'),
  lgetxattr: partial(noXattr, 'no extended attributes'),
  fgetxattr: partial((t) => (t.files.get(argI(t, 0)) ? -ENODATA : -9), 'no extended attributes'),
  listxattr: partial((t) => {
    const r = noXattr(t);
    return r === -ENODATA ? 0 : r;
  }, 'no extended attributes'),
  llistxattr: partial((t) => {
    const r = noXattr(t);
    return r === -ENODATA ? 0 : r;
  }, 'no extended attributes'),
  flistxattr: partial((t) => (t.files.get(argI(t, 0)) ? 0 : -9), 'no extended attributes'),
  setxattr: partial(() => -EOPNOTSUPP, 'no extended attributes'),
  lsetxattr: partial(() => -EOPNOTSUPP, 'no extended attributes'),
  fsetxattr: partial(() => -EOPNOTSUPP, 'no extended attributes'),
  chroot: partial(() => -EPERM, 'refused like for an unprivileged user'),
};

