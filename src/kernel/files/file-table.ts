import { EBADF, EMFILE } from '../errno.js';
import type { FileDescription } from './description.js';
import { hostStdio } from './stdio.js';
import { descriptionReleased, fdClosed } from './locks.js';
import { hostRlimits } from '../syscalls/system-identity.js';

interface Slot {
  desc: FileDescription;
  cloexec: boolean;
}

/** RLIMIT_NOFILE at start: the host's. */
export const NOFILE_SOFT = hostRlimits()[7].cur;
export const NOFILE_HARD = hostRlimits()[7].max;

/**
 * A process's file descriptor table: fd → open file description plus the
 * per-fd close-on-exec flag. Descriptions are reference counted across
 * tables (fork shares them) and released when the last fd goes.
 */
export class FileTable {
  private slots: (Slot | undefined)[] = [];
  /** RLIMIT_NOFILE soft limit: fds must be below it. */
  limit = NOFILE_SOFT;

  /** A table with the host's stdin, stdout and stderr as fds 0, 1, 2. */
  static withStdio(fds?: readonly [number, number, number]): FileTable {
    const t = new FileTable();
    hostStdio(fds).forEach((d, fd) => t.installAt(fd, d, false));
    return t;
  }

  get(fd: number): FileDescription | undefined {
    return this.slots[fd]?.desc;
  }

  isCloexec(fd: number): boolean {
    return this.slots[fd]?.cloexec ?? false;
  }

  setCloexec(fd: number, on: boolean): number {
    const s = this.slots[fd];
    if (!s) return -EBADF;
    s.cloexec = on;
    return 0;
  }

  /** Installs desc at the lowest free fd >= minFd. Returns the fd or -EMFILE. */
  install(desc: FileDescription, cloexec = false, minFd = 0): number {
    let fd = minFd;
    while (fd < this.slots.length && this.slots[fd]) fd++;
    if (fd >= this.limit) return -EMFILE;
    this.installAt(fd, desc, cloexec);
    return fd;
  }

  /** Puts desc at fd, closing whatever was there (dup2). */
  installAt(fd: number, desc: FileDescription, cloexec = false): void {
    desc.refs++;
    const old = this.slots[fd];
    this.slots[fd] = { desc, cloexec };
    if (old) this.dropSlot(old.desc);
  }

  close(fd: number): number {
    const s = this.slots[fd];
    if (!s) return -EBADF;
    this.slots[fd] = undefined;
    this.dropSlot(s.desc);
    return 0;
  }

  /** An fd went away: this table's POSIX locks on the file go with it (Linux semantics), the description maybe too. */
  private dropSlot(d: FileDescription): void {
    fdClosed(this, d);
    if (--d.refs === 0) {
      descriptionReleased(d);
      d.release();
    }
  }

  /** The open fds, ascending. */
  fds(): number[] {
    const out: number[] = [];
    this.slots.forEach((s, fd) => {
      if (s) out.push(fd);
    });
    return out;
  }

  /** For fork: a new table sharing every description. */
  clone(): FileTable {
    const c = new FileTable();
    c.limit = this.limit;
    this.slots.forEach((s, fd) => {
      if (s) c.installAt(fd, s.desc, s.cloexec);
    });
    return c;
  }

  /** For execve: closes every close-on-exec fd. */
  closeOnExec(): void {
    this.slots.forEach((s, fd) => {
      if (s?.cloexec) this.close(fd);
    });
  }

  /** For process exit: closes everything. */
  closeAll(): void {
    this.slots.forEach((s, fd) => {
      if (s) this.close(fd);
    });
  }
}
