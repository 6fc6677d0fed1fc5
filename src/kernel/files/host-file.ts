import * as fs from 'node:fs';
import type { Task } from '../task.js';
import { EFBIG, EINVAL, ENXIO, EOVERFLOW, hostErrno } from '../errno.js';
import { O_APPEND, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, S_IFMT, S_IFREG } from '../syscalls/abi.js';
import { FileDescription } from './description.js';
import { statFromHost, type StatInfo } from './stat.js';

/** Largest chunk moved between host and guest per host call. */
const CHUNK = 1 << 20;
const scratch = Buffer.alloc(CHUNK);

/** Linux's MAX_RW_COUNT: the most one read/write transfers. */
export const MAX_RW_COUNT = 0x7ffff000;

/**
 * After an error in the middle of a transfer: the bytes already moved count
 * (as in Linux); otherwise a host error becomes -errno and a guest fault
 * propagates (the dispatcher turns it into -EFAULT).
 */
export function partialOr(done: number, e: unknown): number {
  if (done > 0) return done;
  if (typeof (e as { code?: unknown })?.code === 'string') return hostErrno(e);
  throw e;
}

/**
 * A regular host file opened with a host fd. The position lives here (shared
 * by dup'ed and inherited fds, as in Linux); transfers use pread/pwrite on the
 * host fd, so no host-side seek state is involved.
 */
export class HostFile extends FileDescription {
  pos = 0;

  constructor(
    readonly fd: number,
    readonly guestPath: string,
    readonly host: string,
    flags: number,
  ) {
    super(flags);
  }

  get path(): string {
    return this.guestPath;
  }
  get hostPath(): string {
    return this.host;
  }

  stat(): StatInfo | number {
    try {
      return statFromHost(fs.fstatSync(this.fd, { bigint: true }));
    } catch (e) {
      return hostErrno(e);
    }
  }

  read(t: Task, addr: number, len: number): number {
    const n = this.pread(t, addr, len, this.pos);
    if (n > 0) this.pos += n;
    return n;
  }

  write(t: Task, addr: number, len: number): number {
    let off = this.pos;
    if (this.flags & O_APPEND) {
      try {
        off = fs.fstatSync(this.fd).size;
      } catch (e) {
        return hostErrno(e);
      }
    }
    const n = this.pwrite(t, addr, len, off);
    if (n > 0) this.pos = off + n;
    return n;
  }

  pread(t: Task, addr: number, len: number, off: number): number {
    len = Math.min(len, MAX_RW_COUNT);
    let done = 0;
    try {
      while (done < len) {
        const want = Math.min(CHUNK, len - done);
        const got = fs.readSync(this.fd, scratch, 0, want, off + done);
        if (got === 0) break;
        t.mem.writeBytes(addr + done, scratch.subarray(0, got));
        done += got;
        if (got < want) break;
      }
    } catch (e) {
      return partialOr(done, e);
    }
    return done;
  }

  pwrite(t: Task, addr: number, len: number, off: number): number {
    len = Math.min(len, MAX_RW_COUNT);
    let done = 0;
    try {
      while (done < len) {
        const n = Math.min(CHUNK, len - done);
        const data = t.mem.readBytes(addr + done, n);
        // With O_APPEND the host appends regardless of the position, like Linux's pwrite.
        const wrote = fs.writeSync(this.fd, data, 0, n, off + done);
        done += wrote;
        if (wrote < n) break;
      }
    } catch (e) {
      return partialOr(done, e);
    }
    return done;
  }

  seek(off: number, whence: number): number {
    let base: number;
    switch (whence) {
      case SEEK_SET:
        base = 0;
        break;
      case SEEK_CUR:
        base = this.pos;
        break;
      case SEEK_END:
      case SEEK_DATA:
      case SEEK_HOLE: {
        let size: number;
        try {
          size = fs.fstatSync(this.fd).size;
        } catch (e) {
          return hostErrno(e);
        }
        if (whence === SEEK_END) base = size;
        else {
          // No holes are visible: data is everywhere before EOF, the only hole is at EOF.
          if (off >= size) return -ENXIO;
          this.pos = whence === SEEK_DATA ? off : size;
          return this.pos;
        }
        break;
      }
      default:
        return -EINVAL;
    }
    const p = base + off;
    if (p < 0) return -EINVAL;
    if (p > Number.MAX_SAFE_INTEGER) return -EOVERFLOW;
    this.pos = p;
    return p;
  }

  truncate(len: number): number {
    if (len < 0) return -EINVAL;
    if (len > 2 ** 50) return -EFBIG;
    try {
      fs.ftruncateSync(this.fd, len);
      return 0;
    } catch (e) {
      return hostErrno(e);
    }
  }

  sync(): number {
    try {
      fs.fsyncSync(this.fd);
      return 0;
    } catch (e) {
      return hostErrno(e);
    }
  }

  mapData(off: number, len: number): Uint8Array | number {
    try {
      const st = fs.fstatSync(this.fd);
      if ((st.mode & S_IFMT) !== S_IFREG) return -EINVAL;
      const n = Math.max(0, Math.min(len, st.size - off));
      const out = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const got = fs.readSync(this.fd, out, done, n - done, off + done);
        if (got === 0) break;
        done += got;
      }
      return out.subarray(0, done);
    } catch (e) {
      return hostErrno(e);
    }
  }

  release(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed: nothing to do
    }
  }

  /** Bytes left before EOF (FIONREAD on a regular file). */
  remaining(): number {
    try {
      return Math.max(0, fs.fstatSync(this.fd).size - this.pos);
    } catch {
      return 0;
    }
  }
}
