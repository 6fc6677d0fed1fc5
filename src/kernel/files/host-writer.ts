import * as fs from 'node:fs';
import { Blocked } from '../syscall-types.js';
import { EAGAIN, hostErrno } from '../errno.js';

/**
 * Bytes accepted from guests but not yet taken by the host, beyond which a
 * guest write waits: the pipe buffer elfshim keeps for a slow reader. It bounds
 * elfshim's memory whatever the guest writes (plus the one write that crosses it).
 */
export const QUEUE_LIMIT = 1 << 20;
/** Small queued writes are joined into host writes of up to this size. */
const JOIN_LIMIT = 1 << 16;
/** Retry delay when a host fd reports EAGAIN (someone else made it non-blocking). */
const EAGAIN_RETRY_MS = 5;

interface Chunk {
  fd: number;
  data: Uint8Array;
}

/**
 * Writes guest output to a host pipe, terminal or socket (stdout, stderr)
 * without ever blocking Node's event loop: a write is queued and the guest
 * goes on; one asynchronous fs.write at a time (libuv's thread pool) drains
 * the queue in order. When the host reader is slow and the queue passes
 * QUEUE_LIMIT, the guest task waits (Blocked) — not elfshim, so the gdb stub,
 * sockets and timers are still served. Regular files are written at once
 * (they cannot block), so a file sees the bytes as soon as write returns.
 *
 * Host fds that reach the same file (stdout and stderr on one pipe or terminal)
 * share one writer, so output of both keeps the order it was written in.
 */
export class HostWriter {
  private queue: Chunk[] = [];
  private queued = 0;
  private busy = false;
  private roomWaiters: (() => void)[] = [];
  private emptyWaiters: (() => void)[] = [];
  /** A host write error seen while draining: reported to the next guest write. */
  private error = 0;

  /** Writes data (a copy the writer may keep): its length, -errno, -EAGAIN (nonBlock) or Blocked while the queue is full. */
  write(fd: number, data: Uint8Array, nonBlock = false): number | Blocked {
    if (this.error) {
      const e = this.error;
      this.error = 0;
      return e;
    }
    if (this.queued >= QUEUE_LIMIT) return nonBlock ? -EAGAIN : new Blocked(this.whenRoom());
    if (data.length === 0) return 0;
    this.queue.push({ fd, data });
    this.queued += data.length;
    this.pump();
    return data.length;
  }

  /**
   * Queues data past the limit and never reports an error: for elfshim's own lines
   * (see elfshim-stderr.ts), which must not fail or wait but keep their place in the order.
   */
  enqueue(fd: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.queue.push({ fd, data });
    this.queued += data.length;
    this.pump();
  }

  /** Whether a write would be accepted now (poll's POLLOUT). */
  get writable(): boolean {
    return this.queued < QUEUE_LIMIT || this.error !== 0;
  }

  /** Bytes accepted but not yet written to the host. */
  get pending(): number {
    return this.queued;
  }

  /** Settles when the queue has room again (or an error ended it). */
  whenRoom(): Promise<void> {
    return this.writable ? Promise.resolve() : new Promise((r) => this.roomWaiters.push(r));
  }

  /** Settles when everything accepted has reached the host (or failed). */
  drained(): Promise<void> {
    return this.queued === 0 ? Promise.resolve() : new Promise((r) => this.emptyWaiters.push(r));
  }

  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const { fd, data } = this.next();
    fs.write(fd, data, 0, data.length, null, (err, n) => {
      this.busy = false;
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(() => this.pump(), EAGAIN_RETRY_MS);
          return;
        }
        // EPIPE and the like: what was queued is lost, as it would be in a pipe whose reader left.
        this.error = hostErrno(err);
        this.queue = [];
        this.queued = 0;
      } else this.consume(n);
      if (this.writable) for (const w of this.roomWaiters.splice(0)) w();
      if (this.queued === 0) for (const w of this.emptyWaiters.splice(0)) w();
      this.pump();
    });
  }

  /** The next host write: the head chunk, joined with the small ones after it for the same fd. */
  private next(): Chunk {
    const head = this.queue[0];
    if (head.data.length >= JOIN_LIMIT || this.queue.length === 1) return head;
    let len = 0;
    let k = 0;
    while (k < this.queue.length && this.queue[k].fd === head.fd && len + this.queue[k].data.length <= JOIN_LIMIT) len += this.queue[k++].data.length;
    if (k <= 1) return head;
    const joined = new Uint8Array(len);
    let off = 0;
    for (const c of this.queue.splice(0, k)) {
      joined.set(c.data, off);
      off += c.data.length;
    }
    const chunk = { fd: head.fd, data: joined };
    this.queue.unshift(chunk);
    return chunk;
  }

  private consume(n: number): void {
    this.queued -= n;
    const c = this.queue[0];
    if (n < c.data.length) c.data = c.data.subarray(n);
    else this.queue.shift();
  }
}

/** Writes to a regular host file at once (its offset moves as the guest expects); -errno on failure. */
export function writeRegular(fd: number, data: Uint8Array): number {
  let done = 0;
  try {
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done);
    return done;
  } catch (e) {
    return done > 0 ? done : hostErrno(e);
  }
}

const writers = new Map<string, HostWriter>();
/** Writers of host files opened by path (FIFOs, devices), drained at exit too. */
const tracked = new Set<HostWriter>();

export function trackWriter(w: HostWriter): HostWriter {
  tracked.add(w);
  return w;
}

export function untrackWriter(w: HostWriter): void {
  tracked.delete(w);
}
const writerOfFd = new Map<number, HostWriter>();
const regular = new Map<number, boolean>();

/** Whether a host fd is a regular file (cached: stdio fds do not change what they are). */
export function isRegularFd(fd: number): boolean {
  let r = regular.get(fd);
  if (r === undefined) {
    try {
      r = fs.fstatSync(fd).isFile();
    } catch {
      r = false;
    }
    regular.set(fd, r);
  }
  return r;
}

/** The writer of whatever file host fd refers to (one per file, so fds on the same pipe share it). */
export function hostWriter(fd: number): HostWriter {
  const known = writerOfFd.get(fd);
  if (known) return known;
  let key = `fd:${fd}`;
  try {
    const st = fs.fstatSync(fd);
    key = `${st.dev}:${st.ino}`;
  } catch {
    // a closed fd: its own writer, whose writes fail
  }
  let w = writers.get(key);
  if (!w) writers.set(key, (w = new HostWriter()));
  writerOfFd.set(fd, w);
  return w;
}

/** Settles when every writer has handed its queue to the host (call before exiting). */
export async function drainHostOutput(): Promise<void> {
  await Promise.all([...writers.values(), ...tracked].map((w) => w.drained()));
}
