import type { Task } from '../task.js';
import type { SyscallHandler, SyscallImpl } from '../syscall-types.js';
import { readPath } from '../args.js';
import { EBADF } from '../errno.js';
import type { FileDescription } from '../files/description.js';
import type { Resolved } from '../files/fs-context.js';
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW } from './abi.js';

/** A complete implementation. */
export function impl(handler: SyscallHandler): SyscallImpl {
  return { handler, coverage: 'implemented' };
}

/** An implementation with known gaps, described by note. */
export function partial(handler: SyscallHandler, note: string): SyscallImpl {
  return { handler, coverage: 'partial', note };
}

/** The description behind fd, or -EBADF. */
export function fileOf(t: Task, fd: number): FileDescription | number {
  return t.files.get(fd) ?? -EBADF;
}

/**
 * Reads the path at pathAddr and resolves it relative to dirfd with the *at
 * flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH). followDefault says whether the
 * call follows a final symlink when no flag says otherwise.
 */
export function resolveAt(t: Task, dirfd: number, pathAddr: number, atFlags: number, followDefault = true): Resolved | number {
  const path = readPath(t, pathAddr);
  if (typeof path === 'number') {
    // AT_EMPTY_PATH allows a NULL path on recent kernels.
    if (pathAddr === 0 && atFlags & AT_EMPTY_PATH) return t.fs.resolve(t, dirfd, '', { follow: true, emptyPath: true });
    return path;
  }
  return t.fs.resolve(t, dirfd, path, {
    follow: followDefault && !(atFlags & AT_SYMLINK_NOFOLLOW),
    emptyPath: (atFlags & AT_EMPTY_PATH) !== 0,
  });
}

export const SIGPIPE = 13;

/** Sends sig to the calling process, as the kernel does for EPIPE (SIGPIPE). */
export function raiseSignal(t: Task, sig: number): void {
  t.kernel.sendSignal(t.proc, sig);
}
