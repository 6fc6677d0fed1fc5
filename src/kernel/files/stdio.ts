import * as fs from 'node:fs';
import * as tty from 'node:tty';
import type { Task } from '../task.js';
import type { Blocked } from '../syscall-types.js';
import { EBADF, EINVAL, ENOTTY, ESPIPE, hostErrno } from '../errno.js';
import { FIONBIO, FIONREAD, O_ACCMODE, O_APPEND, O_LARGEFILE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET, TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCSPGRP, TIOCSWINSZ } from '../syscalls/abi.js';
import { FileDescription, type Readiness } from './description.js';
import { MAX_RW_COUNT, partialOr } from './host-file.js';
import { hostReader } from './host-stream.js';
import { readHostTermios, TERMIOS_SIZE, writeHostTermios } from './host-termios.js';
import { hostWriter, isRegularFd, writeRegular } from './host-writer.js';
import { statFromHost, type StatInfo } from './stat.js';

/** The terminal's foreground process group as set by tcsetpgrp (null: the caller's group). */
const terminalForeground: { pgid: number | null } = { pgid: null };

/** The host fd's current offset (/proc/self/fdinfo), 0 when unknown. */
function hostOffset(fd: number): number {
  try {
    const m = /^pos:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const ICANON = 0o2;

/** A typical Linux terminal in cooked mode: what TCGETS reports when the host's cannot be read. */
function defaultTermios(): Uint8Array {
  const b = new Uint8Array(TERMIOS_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x4500, true); // c_iflag: ICRNL | IXON | IUTF8
  v.setUint32(4, 0x5, true); // c_oflag: OPOST | ONLCR
  v.setUint32(8, 0xbf, true); // c_cflag: B38400 | CS8 | CREAD | HUPCL
  v.setUint32(12, 0x8a3b, true); // c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN
  b[16] = 0; // c_line
  const cc = [3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0];
  b.set(cc, 17);
  return b;
}

/** Terminal settings per host fd (the terminal's state, shared by every guest fd on it). */
const termios = new Map<number, Uint8Array>();

function isTty(hostFd: number): boolean {
  return tty.isatty(hostFd);
}

/** Window size of the host terminal: columns/rows from Node's TTY streams. */
export function hostWindowSize(): { rows: number; cols: number } {
  for (const s of [process.stdout, process.stderr]) {
    if (s.isTTY) {
      const [cols, rows] = (s as tty.WriteStream).getWindowSize();
      return { rows, cols };
    }
  }
  return { rows: 24, cols: 80 };
}

/** Puts the host terminal in or out of raw mode to follow the guest's ICANON (best effort). */
function applyHostMode(hostFd: number, lflag: number): void {
  if (hostFd !== 0 || !process.stdin.isTTY) return;
  try {
    (process.stdin as tty.ReadStream).setRawMode((lflag & ICANON) === 0);
  } catch {
    // not a terminal we can control
  }
}

/**
 * One of the host's standard streams (fd 0, 1, 2) as seen by the guest.
 * Reads go through the shared asynchronous HostReader; writes through the
 * ordered HostWriter. A terminal answers the termios and window-size ioctls.
 */
export class HostStdio extends FileDescription {
  constructor(
    readonly hostFd: number,
    flags: number,
    private readonly name: string,
  ) {
    super(flags);
  }

  get path(): string {
    return this.name;
  }

  stat(): StatInfo | number {
    try {
      return statFromHost(fs.fstatSync(this.hostFd, { bigint: true }));
    } catch (e) {
      return hostErrno(e);
    }
  }

  /**
   * Once the guest seeks a stream that is a regular host file, its position
   * lives here and transfers become positional (Node cannot move a host fd's
   * offset). Until then the host offset is used, so parent and child share it.
   */
  private pos: number | null = null;

  private hostIsRegular(): boolean {
    try {
      return fs.fstatSync(this.hostFd).isFile();
    } catch {
      return false;
    }
  }

  seek(off: number, whence: number): number {
    if (!this.hostIsRegular()) return -ESPIPE;
    const cur = this.pos ?? hostOffset(this.hostFd);
    let base: number;
    if (whence === SEEK_SET) base = 0;
    else if (whence === SEEK_CUR) base = cur;
    else if (whence === SEEK_END) base = fs.fstatSync(this.hostFd).size;
    else return -EINVAL;
    const next = base + off;
    if (next < 0) return -EINVAL;
    if (next !== cur || this.pos !== null) this.pos = next;
    return next;
  }

  read(t: Task, addr: number, len: number): number | Blocked {
    if ((this.flags & O_ACCMODE) === O_WRONLY) return -EBADF;
    if (this.pos !== null) {
      const buf = Buffer.alloc(Math.min(len, 1 << 24));
      try {
        const n = fs.readSync(this.hostFd, buf, 0, buf.length, this.pos);
        t.mem.writeBytes(addr, buf.subarray(0, n));
        this.pos += n;
        return n;
      } catch (e) {
        return partialOr(0, e);
      }
    }
    const r = hostReader(this.hostFd).read(Math.min(len, MAX_RW_COUNT), (this.flags & O_NONBLOCK) !== 0);
    if (!(r instanceof Uint8Array)) return r;
    t.mem.writeBytes(addr, r);
    return r.length;
  }

  write(t: Task, addr: number, len: number): number | Blocked {
    const data = t.mem.readBytes(addr, Math.min(len, MAX_RW_COUNT));
    if (this.pos !== null) {
      try {
        const n = fs.writeSync(this.hostFd, data, 0, data.length, this.pos);
        this.pos += n;
        return n;
      } catch (e) {
        return partialOr(0, e);
      }
    }
    // A regular file takes the bytes at once; a pipe or terminal through the ordered queue (never blocking Node).
    if (isRegularFd(this.hostFd)) return writeRegular(this.hostFd, data);
    return hostWriter(this.hostFd).write(this.hostFd, data, (this.flags & O_NONBLOCK) !== 0);
  }

  ioctl(t: Task, req: number, arg: number): number {
    switch (req) {
      case FIONREAD:
        t.mem.write32(arg, hostReader(this.hostFd).available);
        return 0;
      case FIONBIO:
        this.flags = t.mem.read32(arg) ? this.flags | O_NONBLOCK : this.flags & ~O_NONBLOCK;
        return 0;
    }
    if (!isTty(this.hostFd)) return -ENOTTY;
    switch (req) {
      case TCGETS: {
        // The host terminal's own settings when stty can tell them; else the last ones set here.
        let tm = readHostTermios(this.hostFd) ?? termios.get(this.hostFd);
        if (!tm) termios.set(this.hostFd, (tm = defaultTermios()));
        t.mem.writeBytes(arg, tm);
        return 0;
      }
      case TCSETS:
      case TCSETSW:
      case TCSETSF: {
        const tm = t.mem.readBytes(arg, TERMIOS_SIZE);
        termios.set(this.hostFd, tm);
        // TCSAFLUSH (getpass): input read ahead but not yet taken by the guest is dropped too.
        if (req === TCSETSF) hostReader(this.hostFd).discard();
        // All of it (echo off with line editing on: a password prompt) on the host terminal;
        // without stty, at least raw or cooked.
        if (!writeHostTermios(this.hostFd, tm)) applyHostMode(this.hostFd, new DataView(tm.buffer).getUint32(12, true));
        return 0;
      }
      case TIOCGWINSZ: {
        const { rows, cols } = hostWindowSize();
        const b = new Uint8Array(8);
        const v = new DataView(b.buffer);
        v.setUint16(0, rows, true);
        v.setUint16(2, cols, true);
        t.mem.writeBytes(arg, b);
        return 0;
      }
      case TIOCSWINSZ:
        return 0;
      case TIOCGPGRP:
        t.mem.write32(arg, terminalForeground.pgid ?? t.proc.pgid);
        return 0;
      case TIOCSPGRP: {
        // tcsetpgrp: remembered for tcgetpgrp (job-control shells); no SIGTTIN/SIGTTOU enforcement.
        const pgid = t.mem.read32(arg);
        if (pgid <= 0) return -EINVAL;
        terminalForeground.pgid = pgid;
        return 0;
      }
      case TIOCGSID:
        t.mem.write32(arg, t.proc.sid);
        return 0;
    }
    return -ENOTTY;
  }

  get pollable(): boolean {
    return true;
  }

  poll(): Readiness {
    const acc = this.flags & O_ACCMODE;
    const readable = acc !== O_WRONLY && hostReader(this.hostFd).ready;
    const writable = acc === O_RDONLY || isRegularFd(this.hostFd) || hostWriter(this.hostFd).writable;
    return { readable, writable, hangup: false, error: false };
  }

  readinessChange(): Promise<void> | null {
    const acc = this.flags & O_ACCMODE;
    const waits: Promise<void>[] = [];
    if (acc !== O_WRONLY) waits.push(hostReader(this.hostFd).whenReady());
    if (acc !== O_RDONLY && !isRegularFd(this.hostFd) && !hostWriter(this.hostFd).writable) waits.push(hostWriter(this.hostFd).whenRoom());
    return waits.length ? Promise.race(waits) : null;
  }

  get isTerminal(): boolean {
    return isTty(this.hostFd);
  }
}

/**
 * The status flags the host fd was opened with (/proc/self/fdinfo), as a
 * native process would see them with F_GETFL. O_NONBLOCK is left out: Node
 * may have set it on its own streams, and the emulated streams never block
 * the host anyway.
 */
function hostFdFlags(fd: number): number | null {
  try {
    const m = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? parseInt(m[1], 8) & (O_ACCMODE | O_APPEND | O_LARGEFILE) : null;
  } catch {
    return null;
  }
}

/** The guest's fds 0, 1, 2 for the host's standard streams. */
export function hostStdio(fds: readonly [number, number, number] = [0, 1, 2]): [HostStdio, HostStdio, HostStdio] {
  const mode = (fd: number) => hostFdFlags(fd) ?? (isTty(fd) ? O_RDWR : fd === 0 ? O_RDONLY : O_WRONLY);
  const name = (fd: number) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`); // the host's name: /dev/pts/N, pipe:[N], a file
    } catch {
      return `/dev/fd/${fd}`;
    }
  };
  return fds.map((fd) => new HostStdio(fd, mode(fd), name(fd))) as [HostStdio, HostStdio, HostStdio];
}
