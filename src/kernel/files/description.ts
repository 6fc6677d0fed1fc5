import type { Task } from '../task.js';
import type { Blocked } from '../syscall-types.js';
import { EBADF, EINVAL, ENODEV, ENOTDIR, ENOTTY, ESPIPE } from '../errno.js';
import type { StatInfo } from './stat.js';

/** One getdents64 entry. */
export interface DirEntry {
  name: string;
  ino: number;
  /** DT_* value (st_mode type >> 12), 0 when unknown. */
  type: number;
}

/** Readiness for poll/select. */
export interface Readiness {
  readable: boolean;
  writable: boolean;
  hangup: boolean;
  error: boolean;
}

/**
 * An open file description (what open(2) creates and dup(2) shares): the
 * object behind one or more fds, with its status flags and position.
 * Subclasses implement the kinds of files. Methods return a result or a
 * negative errno, or Blocked when the caller must wait and retry.
 *
 * read/write move bytes between the file and guest memory directly so that
 * large transfers can be chunked and streams can consume only what reached
 * the guest.
 */
export abstract class FileDescription {
  /** Number of fd-table slots (in all processes) referring to this description. */
  refs = 0;

  constructor(
    /** Access mode and status flags (O_RDONLY/O_WRONLY/O_RDWR, O_APPEND, O_NONBLOCK, …). */
    public flags: number,
  ) {}

  /** What /proc/self/fd/N shows: a guest path, or `pipe:[ino]`, `anon_inode:…`. */
  abstract get path(): string;

  abstract stat(): StatInfo | number;

  get isDirectory(): boolean {
    return false;
  }

  /** Reads up to len bytes into guest memory at addr: bytes read, 0 at EOF, -errno or Blocked. */
  read(_t: Task, _addr: number, _len: number): number | Blocked {
    return -EINVAL;
  }

  /** Writes len bytes from guest memory at addr: bytes written, -errno or Blocked. */
  write(_t: Task, _addr: number, _len: number): number | Blocked {
    return -EINVAL;
  }

  pread(_t: Task, _addr: number, _len: number, _off: number): number {
    return -ESPIPE;
  }

  pwrite(_t: Task, _addr: number, _len: number, _off: number): number {
    return -ESPIPE;
  }

  /** lseek: the new position or -errno. */
  seek(_off: number, _whence: number): number {
    return -ESPIPE;
  }

  /** getdents64: entries from the current position on (advancing it by the number consumed via consumeDirEntries). */
  dirEntries(): DirEntry[] | number {
    return -ENOTDIR;
  }

  /** Advances the directory position by n entries. */
  consumeDirEntries(_n: number): void {}

  ioctl(_t: Task, _req: number, _arg: number): number | Blocked {
    return -ENOTTY;
  }

  truncate(_len: number): number {
    return -EINVAL;
  }

  sync(): number {
    return 0;
  }

  /** The bytes backing a file mapping of [off, off+len) (short at EOF), or -errno. */
  mapData(_off: number, _len: number): Uint8Array | number {
    return -ENODEV;
  }

  /** Host path for operations that need one (fchmod, fchdir, mmap naming); null for non-host files. */
  get hostPath(): string | null {
    return null;
  }

  /** Whether the file has its own readiness (epoll accepts it); regular files and directories do not. */
  get pollable(): boolean {
    return false;
  }

  /** Current readiness for poll/select (regular files are always ready). */
  poll(): Readiness {
    return { readable: true, writable: true, hangup: false, error: false };
  }

  /** A promise that settles when readiness may have changed (for poll/select/blocked I/O). */
  readinessChange(): Promise<void> | null {
    return null;
  }

  /** Called when the last reference is dropped. */
  release(): void {}

  /** Opening /proc/self/fd/N: by default the same description (pipes, sockets, devices). */
  reopen(_flags: number): FileDescription | number {
    return this;
  }
}

/** A description that only names a file (O_PATH): no I/O. */
export class PathOnlyDescription extends FileDescription {
  constructor(
    readonly guestPath: string,
    private readonly statFn: () => StatInfo | number,
    private readonly dir: boolean,
    private readonly host: string | null,
    flags: number,
  ) {
    super(flags);
  }
  get path(): string {
    return this.guestPath;
  }
  get isDirectory(): boolean {
    return this.dir;
  }
  get hostPath(): string | null {
    return this.host;
  }
  stat(): StatInfo | number {
    return this.statFn();
  }
  read(): number {
    return -EBADF;
  }
  write(): number {
    return -EBADF;
  }
  pread(): number {
    return -EBADF;
  }
  pwrite(): number {
    return -EBADF;
  }
  seek(): number {
    return -EBADF;
  }
  dirEntries(): number {
    return -EBADF;
  }
  ioctl(): number {
    return -EBADF;
  }
}
