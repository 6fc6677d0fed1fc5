import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Task } from '../task.js';
import { EACCES, EEXIST, EISDIR, ELOOP, ENOENT, ENOTDIR, hostErrno } from '../errno.js';
import {
  O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY, O_TMPFILE, O_TRUNC, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
} from '../syscalls/abi.js';
import { FileDescription, PathOnlyDescription } from './description.js';
import { DirDescription, hostStat, listHostDir } from './dir.js';
import type { FsContext, Resolved } from './fs-context.js';
import { HostFile } from './host-file.js';
import { hostCall, openedInsideRoot, withPinnedObject } from './pin.js';
import { HostStreamFile } from './host-stream-file.js';
import { statFromHost, type StatInfo } from './stat.js';
import { SynthFile, synthDirEntries, synthStat } from './synth.js';

/** Status flags kept in the description (the creation flags are not). */
const KEPT_FLAGS = ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);

function lstatInfo(hostPath: string): () => StatInfo | number {
  return () => {
    try {
      return statFromHost(fs.lstatSync(hostPath, { bigint: true }));
    } catch (e) {
      return hostErrno(e);
    }
  };
}

/** Parent host directory of a guest path, clamped at the guest root. */
function parentHostPath(fsx: FsContext, guestPath: string): string {
  return fsx.hostPathOf(guestPath === '/' ? '/' : nodePath.posix.dirname(guestPath));
}

/** Extra root entries for the synthetic trees, so that `ls /` shows them. */
function rootExtras(fsx: FsContext, guestPath: string) {
  if (guestPath !== '/') return [];
  return [{ name: 'proc', ino: 1, type: 4 }, ...(fs.existsSync(fsx.hostPathOf('/dev')) ? [] : [{ name: 'dev', ino: 2, type: 4 }])];
}

/**
 * Opens a host directory as a DirDescription. It is listed by path when read
 * (getdents), so each listing pins the directory inside the root first: one
 * swapped for a symlink since the open (or the chdir) lists nothing outside.
 */
export function openHostDir(fsx: FsContext, guestPath: string, hostPath: string, flags: number): DirDescription {
  const root = fsx.root;
  const list = () =>
    withPinnedObject(root, hostPath, (p) => {
      const l = withPinnedObject(root, parentHostPath(fsx, guestPath), (pp) => listHostDir(p, pp, rootExtras(fsx, guestPath)));
      return typeof l === 'number' ? listHostDir(p, p, rootExtras(fsx, guestPath)) : l;
    });
  return new DirDescription(
    guestPath,
    list,
    hostStat(root, hostPath),
    hostPath,
    flags & KEPT_FLAGS,
  );
}

/**
 * open(2) on a resolved path: creates, truncates and checks the kinds the
 * way Linux does, and returns a new open file description or -errno.
 */
export function openResolved(t: Task, r: Resolved, flags: number, mode: number): FileDescription | number {
  const acc = flags & O_ACCMODE;
  const kept = flags & KEPT_FLAGS;
  if (r.kind === 'fd') return r.desc.reopen(kept);
  if (r.kind === 'synth') {
    const n = r.node;
    if (flags & O_CREAT && flags & O_EXCL) return -EEXIST;
    if (flags & O_PATH) return new PathOnlyDescription(r.guestPath, () => (r.followed && n.targetStat ? n.targetStat() : synthStat(n)), n.type === 'dir', null, kept);
    switch (n.type) {
      case 'dir':
        if (acc !== O_RDONLY || flags & O_CREAT) return -EISDIR;
        return new DirDescription(r.guestPath, () => synthDirEntries(n, r.parentIno), () => synthStat(n), null, kept);
      case 'file':
        if (flags & O_DIRECTORY) return -ENOTDIR;
        if (acc !== O_RDONLY && !(n.mode & 0o200)) return -EACCES;
        return new SynthFile(r.guestPath, n.content!(), synthStat(n), kept, n.store && acc !== O_RDONLY ? (d) => n.store!(d) : undefined);
      case 'dev':
        if (flags & O_DIRECTORY) return -ENOTDIR;
        return n.open!(kept);
      case 'link':
        if (r.followed && n.open) return n.open(kept);
        return -ELOOP;
    }
  }
  // Host path.
  const { guestPath, hostPath } = r;
  let st = r.st;
  const tmpfile = (flags & O_TMPFILE) === O_TMPFILE;
  if (st === null) {
    if (!(flags & O_CREAT)) return -ENOENT;
    if (flags & O_DIRECTORY && !tmpfile) return -EISDIR;
  } else {
    if (flags & O_CREAT && flags & O_EXCL && !tmpfile) return -EEXIST;
    const type = st.mode & S_IFMT;
    if (type === S_IFLNK) {
      if (flags & O_PATH) return new PathOnlyDescription(guestPath, lstatInfo(hostPath), false, hostPath, kept);
      return -ELOOP;
    }
    if (flags & O_PATH) return new PathOnlyDescription(guestPath, hostStat(t.fs.root, hostPath), type === S_IFDIR, hostPath, kept);
    if (type === S_IFDIR && !tmpfile) {
      if (acc !== O_RDONLY || flags & O_CREAT) return -EISDIR;
      const readable = withPinnedObject(t.fs.root, hostPath, (p) => hostCall(() => fs.accessSync(p, fs.constants.R_OK)));
      if (readable < 0) return readable;
      return openHostDir(t.fs, guestPath, hostPath, flags);
    }
    if (flags & O_DIRECTORY && !tmpfile) return -ENOTDIR;
  }
  const createMode = mode & ~t.proc.umask & 0o7777;
  let fd: number;
  try {
    // Linux and the host share flag values. The host fd is always close-on-exec (it is
    // Node's), and never O_APPEND: HostFile appends itself, so F_SETFL can turn it off.
    // The walk has followed every symlink already: one found now was planted since (a race
    // with another process sharing the rootfs), and the host must not follow it out.
    fd = fs.openSync(hostPath, (flags & ~(O_CLOEXEC | O_APPEND)) | O_CLOEXEC | O_NOFOLLOW, createMode);
  } catch (e) {
    return hostErrno(e);
  }
  if (!openedInsideRoot(t.fs.root, fd)) {
    // A directory on the way was swapped for a symlink between the walk and the open.
    fs.closeSync(fd);
    return -ENOENT;
  }
  if (st === null || tmpfile) st = fs.fstatSync(fd);
  if ((st.mode & S_IFMT) === S_IFREG) return new HostFile(fd, guestPath, hostPath, kept);
  return new HostStreamFile(fd, guestPath, hostPath, kept);
}
