import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import * as tty from 'node:tty';
import { hostErrno } from '../errno.js';

const READ_CHUNK = 65536;

/** What one look at a host stream gave: bytes, an empty array at end of file, or a negative errno. */
export type Take = Uint8Array | number;

/**
 * A second, private, non-blocking open file description of a host pipe or
 * terminal (opened through /proc/self/fd, so the O_NONBLOCK never reaches
 * the description elfshim shares with its parent), read two ways:
 *
 * - takeNow(): what is waiting at once (a non-blocking read), for poll with no
 *   timeout, which must see typed-ahead input although nothing fetched it yet;
 * - next(): waits on the event loop (a libuv pipe or tty handle, epoll) for the
 *   next bytes. A read parked in libuv's thread pool instead would hold up
 *   Node's exit until the host wrote something (process.exit joins those
 *   threads): a guest that gave up waiting on stdin, or was killed meanwhile,
 *   left elfshim hanging.
 *
 * Both run on the event loop's thread, one after the other, so bytes keep
 * their order. At end of file the twin is closed; the next look opens a new
 * one (a terminal can be read again after ^D).
 *
 * A socket (stdin from a Node or libuv parent is a socketpair) cannot be opened
 * again through /proc: the fd itself is watched then, which makes its shared
 * description non-blocking (as Node's process.stdin does to a pipe), and its
 * end of file is final.
 */
export class HostTwin {
  private fd = -1;
  private stream: Readable | null = null;
  private pending: Promise<Take> | null = null;
  private unavailable = false;
  /** The fd is the host fd itself (a socket), not a twin of it. */
  private shared = false;
  /** A shared socket reached its end of file: every later look says so. */
  private ended = false;

  constructor(private readonly hostFd: number) {}

  private open(): boolean {
    if (this.fd >= 0) return true;
    if (this.unavailable) return false;
    try {
      this.fd = fs.openSync(`/proc/self/fd/${this.hostFd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
      return true;
    } catch {
      try {
        if (fs.fstatSync(this.hostFd).isSocket()) {
          this.shared = true;
          this.fd = this.hostFd;
          // Watching it makes it non-blocking at once, so takeNow's read cannot block.
          if (this.watch()) return true;
          this.fd = -1;
        }
      } catch {
        // a closed fd: the thread-pool read reports it
      }
      this.unavailable = true;
      return false;
    }
  }

  private close(): void {
    if (this.shared) {
      this.ended = true;
      return;
    }
    if (this.stream) this.stream.destroy(); // closes the fd with its handle
    else if (this.fd >= 0) fs.closeSync(this.fd);
    this.stream = null;
    this.fd = -1;
  }

  /** Bytes the stream already holds (read ahead by libuv), oldest first; null when none. */
  private buffered(): Uint8Array | null {
    if (!this.stream) return null;
    const parts: Buffer[] = [];
    for (let c: Buffer | null; (c = this.stream.read() as Buffer | null) !== null; ) parts.push(c);
    return parts.length ? Buffer.concat(parts) : null;
  }

  /** What is waiting now, without waiting: a Take, or null when nothing is (or no twin). */
  takeNow(): Take | null {
    // A waiting next() gets what arrives (it wakes the task parked on it); taking it here would
    // leave that task parked with the bytes already in the reader's buffer.
    if (this.pending) return null;
    const held = this.buffered();
    if (held) return held;
    if (this.ended) return new Uint8Array(0);
    if (!this.open()) return null;
    const buf = Buffer.alloc(READ_CHUNK);
    try {
      const n = fs.readSync(this.fd, buf, 0, READ_CHUNK, null);
      if (n === 0) this.close();
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return null;
      return hostErrno(e);
    }
  }

  /** Settles with the next Take; null when this host fd cannot be watched (the caller reads it another way). */
  next(): Promise<Take> | null {
    if (this.pending) return this.pending;
    if (this.ended) return Promise.resolve(new Uint8Array(0));
    const s = this.watch();
    if (!s) return null;
    this.pending = new Promise<Take>((resolve) => {
      const finish = (v: Take) => {
        s.off('readable', onReadable);
        s.off('end', onEnd);
        s.off('error', onError);
        this.pending = null;
        resolve(v);
      };
      const onReadable = () => {
        const b = this.buffered();
        if (b) finish(b);
        else if (s.readableEnded) onEnd();
      };
      const onEnd = () => {
        this.close();
        finish(new Uint8Array(0));
      };
      const onError = (e: Error) => {
        this.close();
        finish(hostErrno(e));
      };
      s.on('readable', onReadable);
      s.once('end', onEnd);
      s.once('error', onError);
      onReadable();
    });
    return this.pending;
  }

  /** The twin as a libuv-watched stream: a pipe or a terminal; null for anything else. */
  private watch(): Readable | null {
    if (this.stream) return this.stream;
    if (this.fd < 0 && !this.open()) return null;
    try {
      const st = fs.fstatSync(this.fd);
      if (tty.isatty(this.fd)) this.stream = new tty.ReadStream(this.fd);
      else if (st.isFIFO() || st.isSocket()) this.stream = new net.Socket({ fd: this.fd, readable: true, writable: false, allowHalfOpen: true });
    } catch {
      this.stream = null;
    }
    return this.stream;
  }
}
