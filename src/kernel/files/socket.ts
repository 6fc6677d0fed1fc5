import * as net from 'node:net';
import type { Task } from '../task.js';
import { Blocked } from '../syscall-types.js';
import { EAGAIN, EINVAL, EPIPE, hostErrno } from '../errno.js';
import { FIONREAD, O_NONBLOCK, O_RDWR } from '../syscalls/abi.js';
import { SocketFile } from './socket-file.js';
import type { Readiness } from './description.js';
import { WaitQueue } from './pipe.js';
import { UnixChannel } from './unix-channel.js';
import type { DgramSocket } from './dgram-socket.js';

/** Network errnos (Linux x86-64). */
export const ENOTCONN = 107, EISCONN = 106, EINPROGRESS = 115, EALREADY = 114, ECONNRESET = 104, EADDRINUSE = 98, ECONNREFUSED = 111;

/** recv/send flags that matter here. */
export const MSG_PEEK = 0x2, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;

/** Received bytes kept per connection before elfshim stops reading from the host socket. */
const RX_HIGH = 256 * 1024;
/** Bytes queued for sending beyond which writers wait (or get EAGAIN). */
const TX_HIGH = 1024 * 1024;
/** Connections waiting for accept() beyond which new ones are dropped (like a full backlog). */
const ACCEPT_QUEUE_MAX = 4096;

let nextSocketIno = 200000;

/** Guest AF_UNIX sockets listening on a path, by host path: a guest connecting there is joined in-emulator. */
const guestUnixListeners = new Map<string, StreamSocket>();

/** A socket address as the guest names it. */
export type SockAddr =
  | { family: 2 | 10; host: string; port: number }
  /** AF_UNIX: a guest path, with the host path it resolved to (null for unnamed). */
  | { family: 1; path: string; hostPath: string | null };

type State = 'fresh' | 'bound' | 'listening' | 'connecting' | 'connected';

/**
 * A stream socket (TCP over IPv4/IPv6, or AF_UNIX with a path) backed by a
 * node:net socket or server. Nothing blocks Node's loop: a call that must wait
 * returns Blocked (or EAGAIN when non-blocking), and every host event wakes
 * the waiters. Memory is bounded: a connection stops reading from the host
 * when RX_HIGH bytes wait for the guest, writers wait beyond TX_HIGH queued
 * bytes, and at most ACCEPT_QUEUE_MAX connections wait for accept().
 */
export class StreamSocket extends SocketFile {
  readonly ino = nextSocketIno++;
  state: State = 'fresh';
  bound: SockAddr | null = null;
  /** A pending error for SO_ERROR / the next call (positive errno). */
  error = 0;
  readonly changed = new WaitQueue();
  private sock: net.Socket | null = null;
  private server: net.Server | null = null;
  private rx: Uint8Array[] = [];
  private rxBytes = 0;
  private rxEof = false;
  private shutWr = false;
  private closed = false;
  /** Connections waiting for accept(): host ones, and guest ones made inside elfshim. */
  private readonly accepted: (net.Socket | SocketPairEnd)[] = [];
  /** An AF_UNIX connection between two guest sockets: the in-emulator end everything is delegated to. */
  private local: SocketPairEnd | null = null;
  /** listen()'s caller: what SO_PEERCRED shows to guests that connect. */
  private listenerCred: PeerCred | null = null;
  /** The path a guest-to-guest connection was made to (getpeername of the client). */
  private peerPath: SockAddr | null = null;
  /** listen()/connect() outcome once known: 0 or -errno (null while pending). */
  private listenResult: number | null = null;
  private connectResult: number | null = null;

  constructor(
    readonly family: 1 | 2 | 10,
    flags: number,
  ) {
    super(O_RDWR | (flags & O_NONBLOCK));
  }

  private get nonBlocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  private wake = (): void => this.changed.wakeAll();

  /** Waits for the next change, or EAGAIN for a non-blocking caller. */
  private waitOr(nonBlock: boolean): Blocked | number {
    return nonBlock ? -EAGAIN : new Blocked(this.changed.wait());
  }

  /** Wires a connected host socket to this description. */
  private attach(sock: net.Socket): void {
    this.sock = sock;
    sock.on('data', (b: Buffer) => {
      this.rx.push(new Uint8Array(b.buffer, b.byteOffset, b.length));
      this.rxBytes += b.length;
      if (this.rxBytes >= RX_HIGH) sock.pause();
      this.wake();
    });
    sock.on('end', () => ((this.rxEof = true), this.wake()));
    sock.on('drain', this.wake);
    sock.on('error', (e) => ((this.error = -hostErrno(e)), this.wake()));
    sock.on('close', () => ((this.closed = true), this.wake()));
  }

  // ---------------------------------------------------------------- setup

  bind(addr: SockAddr): number {
    if (this.state !== 'fresh') return -EINVAL;
    this.bound = addr;
    this.state = 'bound';
    return 0;
  }

  /** listen(): opens the host server; waits (once) until it is listening. */
  listen(backlog: number, cred?: PeerCred): number | Blocked {
    if (this.state === 'listening') return this.listenResult ?? new Blocked(this.changed.wait());
    if (this.state !== 'bound' && this.state !== 'fresh') return -EINVAL;
    const addr: SockAddr = this.bound ?? (this.family === 1 ? { family: 1, path: '', hostPath: null } : { family: this.family, host: this.family === 2 ? '0.0.0.0' : '::', port: 0 });
    if (addr.family === 1 && !addr.hostPath) return -EINVAL; // autobind of AF_UNIX: not supported
    this.listenerCred = cred ?? null;
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    this.server = server;
    this.state = 'listening';
    server.on('connection', (s) => {
      if (this.accepted.length >= Math.min(ACCEPT_QUEUE_MAX, Math.max(backlog, 128) * 8)) s.destroy();
      else {
        s.on('error', () => {}); // a reset before accept() costs only that connection
        this.accepted.push(s);
        this.wake();
      }
    });
    server.on('error', (e) => {
      if (this.listenResult === null) {
        this.listenResult = hostErrno(e);
        this.state = 'bound';
        this.server = null;
      } else this.error = -hostErrno(e);
      this.wake();
    });
    server.on('listening', () => {
      this.listenResult = 0;
      if (addr.family === 1) guestUnixListeners.set(addr.hostPath!, this);
      const a = server.address();
      if (a && typeof a === 'object') this.bound = { family: this.family as 2 | 10, host: a.address, port: a.port };
      this.wake();
    });
    const opts: net.ListenOptions = addr.family === 1 ? { path: addr.hostPath!, backlog } : { host: addr.host, port: addr.port, backlog, exclusive: true, ipv6Only: false };
    server.listen(opts);
    return new Blocked(this.changed.wait());
  }

  /** The result of a listen() that blocked, for its re-run. */
  get listenOutcome(): number | null {
    return this.listenResult;
  }

  accept(flags: number): StreamSocket | number | Blocked {
    if (this.state !== 'listening' || this.listenResult !== 0) return -EINVAL;
    const s = this.accepted.shift();
    if (!s) return this.waitOr(this.nonBlocking);
    const d = new StreamSocket(this.family, flags);
    d.state = 'connected';
    d.bound = this.bound;
    if (s instanceof SocketPairEnd) d.local = s;
    else {
      d.attach(s);
      s.resume();
    }
    return d;
  }

  /**
   * A connect() to a path a guest listens on: the two ends are joined inside
   * elfshim (like a socketpair), so SCM_RIGHTS and SO_PEERCRED work between
   * them; completes at once, as Linux's AF_UNIX connect does.
   */
  private connectLocal(listener: StreamSocket, addr: SockAddr, cred: PeerCred): number {
    if (listener.accepted.length >= ACCEPT_QUEUE_MAX) return this.nonBlocking ? -EAGAIN : -ECONNREFUSED;
    const toServer = new UnixChannel(), toClient = new UnixChannel();
    toServer.capacity = toClient.capacity = 212992;
    const noCred = { pid: 0, uid: -1, gid: -1 };
    this.local = new SocketPairEnd(toClient, toServer, this.flags & O_NONBLOCK, listener.listenerCred ?? noCred);
    listener.accepted.push(new SocketPairEnd(toServer, toClient, 0, cred));
    this.state = 'connected';
    // getpeername: the listener's address as it bound it (Linux copies the server's sun_path), not the client's spelling.
    this.peerPath = listener.bound ?? addr;
    listener.wake();
    return 0;
  }

  /** connect(): 0, -EINPROGRESS (non-blocking), or Blocked until the outcome. */
  connect(addr: SockAddr, cred?: PeerCred): number | Blocked {
    switch (this.state) {
      case 'connected':
        if (this.connectResult !== null) {
          // The re-run of a blocking connect that has just completed.
          this.connectResult = null;
          return 0;
        }
        return -EISCONN;
      case 'connecting':
        return this.nonBlocking ? -EALREADY : new Blocked(this.changed.wait());
      case 'listening':
        return -EINVAL;
    }
    if (this.connectResult !== null && this.connectResult < 0) {
      const r = this.connectResult;
      this.connectResult = null;
      return r;
    }
    const listener = addr.family === 1 && addr.hostPath ? guestUnixListeners.get(addr.hostPath) : undefined;
    if (listener && listener.state === 'listening' && listener.listenResult === 0) return this.connectLocal(listener, addr, cred ?? { pid: 0, uid: -1, gid: -1 });
    const opts: net.NetConnectOpts =
      addr.family === 1 ? { path: addr.hostPath!, allowHalfOpen: true } : { host: addr.host, port: addr.port, allowHalfOpen: true, noDelay: true };
    const sock = net.connect(opts);
    this.state = 'connecting';
    this.attach(sock);
    sock.once('connect', () => {
      this.state = 'connected';
      this.connectResult = 0;
      this.wake();
    });
    sock.once('error', (e) => {
      if (this.state !== 'connecting') return;
      this.error = 0; // reported as the connect's result instead
      this.state = this.bound ? 'bound' : 'fresh';
      this.connectResult = hostErrno(e);
      this.sock = null;
      this.wake();
    });
    if (this.nonBlocking) return -EINPROGRESS;
    return new Blocked(this.changed.wait());
  }

  /** SO_ERROR: the pending error (a failed non-blocking connect, a reset), cleared. */
  takeError(): number {
    let e = this.error;
    if (!e && this.connectResult !== null && this.connectResult < 0) {
      e = -this.connectResult;
      this.connectResult = null;
    } else if (this.connectResult === 0 && this.nonBlocking) this.connectResult = null;
    this.error = 0;
    return e;
  }

  shutdown(how: number): number {
    if (this.state !== 'connected') return -ENOTCONN;
    if (this.local) return this.local.shutdown(how);
    if (how === 0 || how === 2) {
      this.rxEof = true;
      this.rx = [];
      this.rxBytes = 0;
    }
    if ((how === 1 || how === 2) && !this.shutWr) {
      this.shutWr = true;
      this.sock?.end();
    }
    this.wake();
    return 0;
  }

  localAddress(): SockAddr | null {
    if (this.local) return this.bound;
    const s = this.sock;
    if (s?.localAddress && this.family !== 1) return { family: this.family, host: s.localAddress, port: s.localPort ?? 0 };
    return this.bound;
  }

  peerAddress(): SockAddr | null {
    // A guest-to-guest connection: the client sees the listener's path, the server an unnamed peer.
    if (this.local) return this.peerPath ?? { family: 1, path: '', hostPath: null };
    const s = this.sock;
    if (this.state !== 'connected' || !s) return null;
    if (this.family === 1) return { family: 1, path: '', hostPath: null };
    return s.remoteAddress ? { family: this.family, host: s.remoteAddress, port: s.remotePort ?? 0 } : null;
  }

  setNoDelay(on: boolean): void {
    this.sock?.setNoDelay(on);
  }

  // ---------------------------------------------------------------- data

  /** The in-emulator end of a guest-to-guest AF_UNIX connection (SCM_RIGHTS, SO_PEERCRED), if this is one. */
  get localEnd(): SocketPairEnd | null {
    return this.local;
  }

  /** Up to max received bytes (consumed unless MSG_PEEK), 0-length at EOF, -errno or Blocked. */
  recvBytes(max: number, flags: number): Uint8Array | number | Blocked {
    if (this.local) return this.local.recvBytes(max, this.nonBlocking ? flags | MSG_DONTWAIT : flags);
    if (this.state !== 'connected') return this.state === 'connecting' ? this.waitOr(this.nonBlocking || (flags & MSG_DONTWAIT) !== 0) : -ENOTCONN;
    if (this.rxBytes > 0) {
      const n = Math.min(max, this.rxBytes);
      const out = new Uint8Array(n);
      let done = 0;
      for (const c of this.rx) {
        if (done >= n) break;
        const k = Math.min(c.length, n - done);
        out.set(c.subarray(0, k), done);
        done += k;
      }
      if (!(flags & MSG_PEEK)) this.consume(n);
      return out;
    }
    if (this.error) {
      const e = this.error;
      this.error = 0;
      return -e;
    }
    if (this.rxEof || this.closed) return new Uint8Array(0);
    return this.waitOr(this.nonBlocking || (flags & MSG_DONTWAIT) !== 0);
  }

  private consume(n: number): void {
    this.rxBytes -= n;
    while (n > 0) {
      const c = this.rx[0];
      if (c.length <= n) {
        n -= c.length;
        this.rx.shift();
      } else {
        this.rx[0] = c.subarray(n);
        n = 0;
      }
    }
    if (this.rxBytes < RX_HIGH / 2 && this.sock?.isPaused()) this.sock.resume();
  }

  /** How many bytes of len may be sent now: > 0, -errno, or Blocked. */
  sendRoom(len: number, flags: number): number | Blocked {
    if (this.local) return this.local.sendRoom(len, this.nonBlocking ? flags | MSG_DONTWAIT : flags);
    if (this.state === 'connecting') return this.waitOr(this.nonBlocking || (flags & MSG_DONTWAIT) !== 0);
    if (this.state !== 'connected') return -ENOTCONN;
    const s = this.sock;
    if (this.shutWr || this.closed || !s || s.destroyed) return -EPIPE;
    if (this.error) {
      const e = this.error;
      this.error = 0;
      return e === ECONNRESET ? -EPIPE : -e;
    }
    const room = TX_HIGH - s.writableLength;
    if (room <= 0) return this.waitOr(this.nonBlocking || (flags & MSG_DONTWAIT) !== 0);
    return Math.min(len, room);
  }

  sendBytes(data: Uint8Array): void {
    if (this.local) return this.local.sendBytes(data);
    this.sock!.write(data);
  }

  read(t: Task, addr: number, len: number): number | Blocked {
    if (this.local) return this.local.read(t, addr, len, this.nonBlocking);
    const r = this.recvBytes(len, 0);
    if (!(r instanceof Uint8Array)) return r;
    t.mem.writeBytes(addr, r);
    return r.length;
  }

  write(t: Task, addr: number, len: number): number | Blocked {
    const n = this.sendRoom(len, 0);
    if (typeof n !== 'number' || n <= 0) return n;
    this.sendBytes(t.mem.readBytes(addr, n));
    return n;
  }

  ioctl(t: Task, req: number, arg: number): number | Blocked {
    if (this.local) return this.local.ioctl(t, req, arg);
    if (req === FIONREAD) {
      t.mem.write32(arg, this.rxBytes);
      return 0;
    }
    return super.ioctl(t, req, arg);
  }

  poll(): Readiness {
    if (this.local) return this.local.poll();
    switch (this.state) {
      case 'listening':
        return { readable: this.accepted.length > 0, writable: false, hangup: false, error: this.error !== 0 };
      case 'connecting':
        return { readable: false, writable: false, hangup: false, error: false };
      case 'connected': {
        const s = this.sock;
        const gone = this.closed || !s || s.destroyed;
        return {
          readable: this.rxBytes > 0 || this.rxEof || gone || this.error !== 0,
          writable: !gone && !this.shutWr && s.writableLength < TX_HIGH,
          hangup: gone || (this.rxEof && this.shutWr),
          error: this.error !== 0,
        };
      }
      default:
        // A failed connect reports the error (writable, as Linux signals completion).
        return { readable: false, writable: this.connectResult !== null && this.connectResult < 0, hangup: this.state === 'fresh', error: this.connectResult !== null && this.connectResult < 0 };
    }
  }

  readinessChange(): Promise<void> {
    return this.local ? Promise.race([this.local.readinessChange(), this.changed.wait()]) : this.changed.wait();
  }

  release(): void {
    this.local?.release();
    if (this.bound?.family === 1 && guestUnixListeners.get(this.bound.hostPath!) === this) guestUnixListeners.delete(this.bound.hostPath!);
    const s = this.sock;
    if (s) {
      // Closed by the guest: what still arrives is dropped, and a silent peer is cut off.
      s.removeAllListeners('data');
      s.resume();
      s.end();
      s.setTimeout(10_000, () => s.destroy());
    }
    this.rx = [];
    this.rxBytes = 0;
    this.server?.close();
    for (const s of this.accepted.splice(0)) s instanceof SocketPairEnd ? s.release() : s.destroy();
    this.wake();
  }
}

/** SO_PEERCRED: the peer process's credentials (struct ucred). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

const SOCK_DGRAM = 2;
const EMSGSIZE = 90;

/**
 * One end of socketpair(AF_UNIX, …): two in-emulator channels, one per
 * direction (no host resources), which also carry SCM_RIGHTS files. A
 * SOCK_DGRAM or SOCK_SEQPACKET pair keeps message boundaries (one message per
 * read, the rest of a longer one lost); a datagram pair has no EOF: a closed
 * peer leaves reads waiting and sends ECONNREFUSED, as on Linux.
 */
export class SocketPairEnd extends SocketFile {
  readonly ino = nextSocketIno++;

  constructor(
    readonly input: UnixChannel,
    readonly output: UnixChannel,
    flags: number,
    /** Both ends report the creator of the pair, as Linux's socketpair does. */
    readonly peerCred: PeerCred,
    /** SOCK_STREAM (1), SOCK_DGRAM (2) or SOCK_SEQPACKET (5). */
    readonly type = 1,
  ) {
    super(O_RDWR | (flags & O_NONBLOCK));
    input.readers++;
    output.writers++;
  }

  static pair(flags: number, cred: PeerCred, type = 1): [SocketPairEnd, SocketPairEnd] {
    const a = new UnixChannel(type !== 1);
    const b = new UnixChannel(type !== 1);
    a.capacity = b.capacity = 212992; // net.core.wmem_default
    return [new SocketPairEnd(a, b, flags, cred, type), new SocketPairEnd(b, a, flags, cred, type)];
  }

  /** Message mode: the length of the next queued message, if there is one. */
  get nextMessageLength(): number | undefined {
    return this.input.messages?.[0];
  }

  private rdShut = false;
  private wrShut = false;

  /** shutdown(2): SHUT_WR ends the peer's stream (EOF); SHUT_RD makes reads return 0 and the peer's writes EPIPE. */
  shutdown(how: number): number {
    if ((how === 1 || how === 2) && !this.wrShut) {
      this.wrShut = true;
      this.output.writers--;
      this.output.changed.wakeAll();
    }
    if ((how === 0 || how === 2) && !this.rdShut) {
      this.rdShut = true;
      this.input.readers--;
      this.input.discard();
      this.input.changed.wakeAll();
    }
    return 0;
  }

  recvBytes(max: number, flags: number): Uint8Array | number | Blocked {
    const p = this.input;
    if (this.rdShut) return new Uint8Array(0);
    if (!p.pending) {
      if (p.writers === 0 && this.type !== SOCK_DGRAM) return new Uint8Array(0);
      return this.flags & O_NONBLOCK || flags & MSG_DONTWAIT ? -EAGAIN : new Blocked(p.changed.wait());
    }
    if (p.messages) {
      const data = p.peek(Math.min(max, p.messages[0]));
      if (!(flags & MSG_PEEK)) p.consumeMessage();
      return data;
    }
    const data = p.peek(p.limit(max));
    if (!(flags & MSG_PEEK)) p.consume(data.length);
    return data;
  }

  sendRoom(len: number, flags: number): number | Blocked {
    const p = this.output;
    if (p.readers === 0 || this.wrShut) return this.type === SOCK_DGRAM ? -ECONNREFUSED : -EPIPE;
    if (p.messages) {
      // A message goes whole or waits.
      if (len > p.capacity) return -EMSGSIZE;
      if (p.capacity - p.size >= len) return len;
      return this.flags & O_NONBLOCK || flags & MSG_DONTWAIT ? -EAGAIN : new Blocked(p.changed.wait());
    }
    const room = p.capacity - p.size;
    if (room <= 0) return this.flags & O_NONBLOCK || flags & MSG_DONTWAIT ? -EAGAIN : new Blocked(p.changed.wait());
    return Math.min(len, room);
  }

  sendBytes(data: Uint8Array): void {
    this.output.push(data);
  }

  read(t: Task, addr: number, len: number, nonBlocking = false): number | Blocked {
    const p = this.input;
    if (p.messages) {
      // Copy first, then drop the message: a fault must not lose it.
      const r = this.recvBytes(len, MSG_PEEK | (nonBlocking ? MSG_DONTWAIT : 0));
      if (!(r instanceof Uint8Array)) return r;
      t.mem.writeBytes(addr, r);
      if (p.pending && !this.rdShut) p.consumeMessage();
      return r.length;
    }
    if (p.size > 0 && !this.rdShut) {
      // Copy first: a fault must not lose the bytes.
      const data = p.peek(p.limit(len));
      t.mem.writeBytes(addr, data);
      p.consume(data.length);
      return data.length;
    }
    const r = this.recvBytes(len, nonBlocking ? MSG_DONTWAIT : 0);
    return r instanceof Uint8Array ? r.length : r;
  }

  write(t: Task, addr: number, len: number): number | Blocked {
    const n = this.sendRoom(len, 0);
    if (typeof n !== 'number' || n <= 0) return n;
    this.sendBytes(t.mem.readBytes(addr, n));
    return n;
  }

  ioctl(t: Task, req: number, arg: number): number | Blocked {
    if (req === FIONREAD) {
      // Datagrams: the next one's size; streams and SOCK_SEQPACKET: everything queued (as Linux answers).
      t.mem.write32(arg, this.type === SOCK_DGRAM ? this.input.messages![0] ?? 0 : this.input.size);
      return 0;
    }
    return super.ioctl(t, req, arg);
  }

  poll(): Readiness {
    return {
      readable: this.input.pending || (this.input.writers === 0 && this.type !== SOCK_DGRAM),
      writable: this.output.readers > 0 && this.output.size < this.output.capacity,
      hangup: this.input.writers === 0 && this.output.readers === 0,
      error: this.output.readers === 0,
    };
  }

  readinessChange(): Promise<void> {
    return Promise.race([this.input.changed.wait(), this.output.changed.wait()]);
  }

  release(): void {
    if (!this.rdShut) this.input.readers--;
    if (!this.wrShut) this.output.writers--;
    if (this.input.readers === 0) this.input.discard();
    this.input.changed.wakeAll();
    this.output.changed.wakeAll();
  }
}

export type AnySocket = StreamSocket | SocketPairEnd | DgramSocket;
