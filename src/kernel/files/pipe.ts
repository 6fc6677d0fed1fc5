import type { Task } from '../task.js';
import { Blocked } from '../syscall-types.js';
import { EAGAIN, EBADF, EPIPE } from '../errno.js';
import { FIONREAD, O_NONBLOCK, O_RDONLY, O_WRONLY, S_IFIFO } from '../syscalls/abi.js';
import { FileDescription, type Readiness } from './description.js';
import { makedev, syntheticStat, type StatInfo } from './stat.js';

let nextPipeIno = 100000;

/** Linux's default pipe capacity and PIPE_BUF (writes up to this size are atomic). */
export const PIPE_CAPACITY = 65536;
export const PIPE_BUF = 4096;

/** Wakes every waiter when something about a shared object changes. */
export class WaitQueue {
  private waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/**
 * An in-emulator pipe: a byte queue shared by a read end and a write end.
 * Nothing blocks the host: an empty read or a full write returns Blocked with
 * a promise that settles at the next change, and the handler is re-run.
 */
export class Pipe {
  readonly ino = nextPipeIno++;
  private chunks: Uint8Array[] = [];
  size = 0;
  capacity = PIPE_CAPACITY;
  readers = 0;
  writers = 0;
  readonly changed = new WaitQueue();

  push(data: Uint8Array): void {
    this.chunks.push(data);
    this.size += data.length;
    this.changed.wakeAll();
  }

  /** Copies up to n bytes from the front without consuming them. */
  peek(n: number): Uint8Array {
    n = Math.min(n, this.size);
    const out = new Uint8Array(n);
    let done = 0;
    for (const c of this.chunks) {
      if (done >= n) break;
      const k = Math.min(c.length, n - done);
      out.set(c.subarray(0, k), done);
      done += k;
    }
    return out;
  }

  consume(n: number): void {
    this.size -= n;
    while (n > 0) {
      const c = this.chunks[0];
      if (c.length <= n) {
        n -= c.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
    this.changed.wakeAll();
  }
}

const PIPEFS_DEV = makedev(0, 13);

/** One end of a Pipe. */
export class PipeEnd extends FileDescription {
  constructor(
    readonly pipe: Pipe,
    readonly isWriter: boolean,
    flags: number,
  ) {
    super((flags & ~3) | (isWriter ? O_WRONLY : O_RDONLY));
    if (isWriter) pipe.writers++;
    else pipe.readers++;
  }

  get path(): string {
    return `pipe:[${this.pipe.ino}]`;
  }

  stat(): StatInfo {
    return syntheticStat(S_IFIFO | 0o600, { dev: PIPEFS_DEV, ino: this.pipe.ino, blksize: 4096, size: 0 });
  }

  read(t: Task, addr: number, len: number): number | Blocked {
    if (this.isWriter) return -EBADF;
    const p = this.pipe;
    if (len === 0) return 0;
    if (p.size === 0) {
      if (p.writers === 0) return 0;
      if (this.flags & O_NONBLOCK) return -EAGAIN;
      return new Blocked(p.changed.wait());
    }
    const data = p.peek(len);
    t.mem.writeBytes(addr, data); // may fault: then nothing is consumed
    p.consume(data.length);
    return data.length;
  }

  write(t: Task, addr: number, len: number): number | Blocked {
    if (!this.isWriter) return -EBADF;
    const p = this.pipe;
    // The write handler raises SIGPIPE alongside EPIPE.
    if (p.readers === 0) return -EPIPE;
    if (len === 0) return 0;
    const room = p.capacity - p.size;
    // Writes of at most PIPE_BUF bytes are atomic: all or wait.
    if (room <= 0 || (len <= PIPE_BUF && room < len)) {
      if (this.flags & O_NONBLOCK) return -EAGAIN;
      return new Blocked(p.changed.wait());
    }
    const n = Math.min(room, len);
    p.push(t.mem.readBytes(addr, n));
    return n;
  }

  ioctl(t: Task, req: number, arg: number): number {
    if (req === FIONREAD) {
      t.mem.write32(arg, this.isWriter ? 0 : this.pipe.size);
      return 0;
    }
    return super.ioctl(t, req, arg) as number;
  }

  get pollable(): boolean {
    return true;
  }

  poll(): Readiness {
    const p = this.pipe;
    return this.isWriter
      ? { readable: false, writable: p.readers > 0 && p.size < p.capacity, hangup: false, error: p.readers === 0 }
      : { readable: p.size > 0, writable: false, hangup: p.writers === 0, error: false };
  }

  readinessChange(): Promise<void> {
    return this.pipe.changed.wait();
  }

  release(): void {
    if (this.isWriter) this.pipe.writers--;
    else this.pipe.readers--;
    this.pipe.changed.wakeAll();
  }
}

/** pipe2: a fresh pipe's read and write ends. */
export function createPipe(flags: number): [PipeEnd, PipeEnd] {
  const p = new Pipe();
  return [new PipeEnd(p, false, flags & O_NONBLOCK), new PipeEnd(p, true, flags & O_NONBLOCK)];
}
