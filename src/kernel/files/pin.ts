import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { EACCES, ENOENT, hostErrno } from '../errno.js';
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH } from '../syscalls/abi.js';

/**
 * Race-free use of a host path that FsContext.resolve found inside the guest
 * root. The walk checks each component, but the host looks the path text up
 * again when it is used: a directory on the way swapped for a symlink in
 * between (by another process sharing the rootfs) would lead outside. So the
 * path is pinned first — the object, or the directory holding the entry, is
 * opened with O_PATH, and /proc/self/fd says where that fd really is — and the
 * operation is given /proc/self/fd/N (or /proc/self/fd/N/NAME), which the host
 * resolves through the open fd, never through the path text again. This is the
 * open() fix (O_NOFOLLOW + openedInside in open.ts) for every other call.
 *
 * Without a rootfs there is no outside: the path is used as it is. Where
 * /proc/self/fd cannot be read the check cannot be made and the path is used
 * as it is too (as openedInside does).
 */

/** Whether a real host path is the root or below it. */
export function insideRoot(root: string, real: string): boolean {
  return real === root || real.startsWith(root + '/');
}

/**
 * Whether the file behind a freshly opened host fd lies inside root (what the
 * kernel says it opened, from /proc/self/fd). True without a root, or where
 * /proc cannot tell.
 */
export function openedInsideRoot(root: string, fd: number): boolean {
  if (!root) return true;
  try {
    return insideRoot(root, fs.readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return true;
  }
}

/** Opens path with O_PATH (plus flags) and checks the fd is inside root: the fd, or -errno (-ENOENT when it is outside). */
function openPinned(root: string, path: string, flags: number): number {
  let fd: number;
  try {
    fd = fs.openSync(path, O_PATH | O_CLOEXEC | flags);
  } catch (e) {
    return hostErrno(e);
  }
  if (openedInsideRoot(root, fd)) return fd;
  fs.closeSync(fd);
  return -ENOENT;
}

function usePinned<T>(fd: number, suffix: string, use: (p: string) => T): T {
  try {
    return use(`/proc/self/fd/${fd}${suffix}`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * For calls that act on a directory entry and do not follow a final symlink
 * (lstat, unlink, rmdir, mkdir, rename, link, symlink, readlink, lutimes):
 * pins the directory holding hostPath and hands `use` that directory's
 * /proc/self/fd path plus the entry name. Returns use's result, or -errno.
 */
export function withPinnedEntry<T>(root: string, hostPath: string, use: (p: string) => T): T | number {
  if (!root) return use(hostPath);
  // "/" has no entry inside the root: it is named as the root's "." (lstat of the bare magic link would describe the link).
  const atRoot = hostPath === root;
  const fd = openPinned(root, atRoot ? root : nodePath.dirname(hostPath), O_DIRECTORY);
  if (fd < 0) return fd;
  return usePinned(fd, '/' + (atRoot ? '.' : nodePath.basename(hostPath)), use);
}

/**
 * For calls that act on the object a path names, following it (stat, access,
 * chmod, utimes, truncate, statfs, reading a program, listing a directory):
 * pins hostPath itself without following a symlink there (the walk already
 * followed every link, so one found now was planted since and is refused)
 * and hands `use` its /proc/self/fd path — for calls that follow it (lstat
 * would describe the magic link). Returns use's result, or -errno.
 */
export function withPinnedObject<T>(root: string, hostPath: string, use: (p: string) => T): T | number {
  if (!root) return use(hostPath);
  const fd = openPinned(root, hostPath, O_NOFOLLOW);
  if (fd < 0) return fd;
  let isLink = false;
  try {
    isLink = fs.fstatSync(fd).isSymbolicLink();
  } catch {
    // fstat of an O_PATH fd fails only on very old kernels: go on
  }
  if (isLink) {
    fs.closeSync(fd);
    return -ENOENT;
  }
  return usePinned(fd, '', use);
}

/** Runs a host call that throws on failure: 0, or -errno. */
export function hostCall(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    return hostErrno(e);
  }
}

/**
 * Reads a whole regular file (a program or interpreter image) pinned inside
 * root: -EACCES when what is there now is not a regular file (a FIFO or device
 * swapped in would block the emulator), else -errno.
 */
export function readPinnedFile(root: string, hostPath: string): Uint8Array | number {
  return withPinnedObject(root, hostPath, (p) => {
    let fd: number;
    try {
      fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | O_CLOEXEC);
    } catch (e) {
      return hostErrno(e);
    }
    try {
      if (!fs.fstatSync(fd).isFile()) return -EACCES;
      return new Uint8Array(fs.readFileSync(fd));
    } catch (e) {
      return hostErrno(e);
    } finally {
      fs.closeSync(fd);
    }
  });
}
