import * as fs from 'node:fs';
import { Blocked } from '../syscall-types.js';
import { EAGAIN, hostErrno } from '../errno.js';
import { HostTwin, type Take } from './host-twin.js';

/** Retry delay when a host fd reports EAGAIN (it was made non-blocking by someone else). */
const EAGAIN_RETRY_MS = 5;
const READ_CHUNK = 65536;

/**
 * Reads a host fd (stdin, a terminal, a FIFO) without blocking Node's event
 * loop: data is fetched through a non-blocking twin watched by the event loop
 * (host-twin.ts), or with asynchronous fs.read (libuv's thread pool) for what
 * cannot be watched, into a buffer that guest reads drain. Regular files are
 * read synchronously. One reader per host fd, shared by every guest process,
 * so buffered bytes are never lost between a shell and its children.
 */
export class HostReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** An end of file was seen and not yet reported to a guest read. */
  private eofPending = false;
  private error = 0;
  private inflight: Promise<void> | null = null;
  /** Whether the read in flight is a thread-pool fs.read (nothing else may read meanwhile). */
  private threadRead = false;
  private regular: boolean | null = null;
  private readonly twin: HostTwin;

  constructor(readonly fd: number) {
    this.twin = new HostTwin(fd);
  }

  private isRegular(): boolean {
    if (this.regular === null) {
      try {
        this.regular = fs.fstatSync(this.fd).isFile();
      } catch {
        this.regular = false;
      }
    }
    return this.regular;
  }

  /** Bytes that a read would return at once (FIONREAD). */
  get available(): number {
    return this.buffered;
  }

  /** Whether a read would complete now (poll). */
  get ready(): boolean {
    if (this.buffered > 0 || this.eofPending || this.error !== 0 || this.isRegular()) return true;
    this.pull();
    return this.buffered > 0 || this.eofPending || this.error !== 0;
  }

  /**
   * Takes what is already waiting on the host fd, without waiting: poll(2) with no
   * timeout must see input typed ahead on a terminal or queued in a pipe although no
   * asynchronous read has fetched it yet (busybox's line editor, for one, asks the
   * terminal for the cursor position only when poll says no input waits).
   */
  private pull(): void {
    if (this.threadRead) return;
    const r = this.twin.takeNow();
    if (r !== null) this.accept(r);
  }

  private accept(r: Take): void {
    if (typeof r === 'number') this.error = r;
    else if (r.length === 0) this.eofPending = true;
    else {
      this.chunks.push(r);
      this.buffered += r.length;
    }
  }

  /**
   * Takes up to max bytes: data, an empty array at end of file, a negative
   * errno, or Blocked until data arrives. With nonBlock, -EAGAIN instead of Blocked.
   */
  read(max: number, nonBlock: boolean): Uint8Array | number | Blocked {
    if (this.buffered === 0 && !this.eofPending && !this.error && !this.isRegular()) this.pull();
    if (this.buffered > 0) return this.take(max);
    if (this.eofPending) {
      // Report EOF once; a later read asks the host again (a terminal can be read after ^D).
      this.eofPending = false;
      return new Uint8Array(0);
    }
    if (this.error) {
      const e = this.error;
      this.error = 0;
      return e;
    }
    if (this.isRegular()) {
      const buf = Buffer.alloc(Math.min(max, READ_CHUNK * 16));
      try {
        const n = fs.readSync(this.fd, buf, 0, buf.length, null);
        return buf.subarray(0, n);
      } catch (e) {
        return hostErrno(e);
      }
    }
    if (nonBlock) {
      this.startFill();
      return -EAGAIN;
    }
    return new Blocked(this.startFill());
  }

  /** Drops the input read ahead and not yet taken (TCSAFLUSH). */
  discard(): void {
    this.pull();
    this.chunks = [];
    this.buffered = 0;
  }

  /** A promise that settles when data, EOF or an error is available. */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : this.startFill();
  }

  private take(max: number): Uint8Array {
    const n = Math.min(max, this.buffered);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - done);
      out.set(c.subarray(0, k), done);
      done += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }

  private startFill(): Promise<void> {
    if (this.inflight) return this.inflight;
    const watched = this.twin.next();
    if (watched) {
      this.inflight = watched.then((r) => {
        this.accept(r);
        this.inflight = null;
      });
      return this.inflight;
    }
    this.threadRead = true;
    this.inflight = new Promise<void>((resolve) => {
      const attempt = () => {
        const buf = Buffer.alloc(READ_CHUNK);
        fs.read(this.fd, buf, 0, READ_CHUNK, null, (err, n) => {
          if (err) {
            if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
              setTimeout(attempt, EAGAIN_RETRY_MS);
              return;
            }
            this.error = hostErrno(err);
          } else if (n === 0) {
            this.eofPending = true;
          } else {
            this.chunks.push(new Uint8Array(buf.buffer, buf.byteOffset, n));
            this.buffered += n;
          }
          this.inflight = null;
          this.threadRead = false;
          resolve();
        });
      };
      attempt();
    });
    return this.inflight;
  }
}

const readers = new Map<number, HostReader>();

/** The shared reader of a host fd. */
export function hostReader(fd: number): HostReader {
  let r = readers.get(fd);
  if (!r) readers.set(fd, (r = new HostReader(fd)));
  return r;
}
