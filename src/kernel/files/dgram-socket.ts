import * as dgram from 'node:dgram';
import type { Task } from '../task.js';
import { Blocked } from '../syscall-types.js';
import { EAGAIN, EINVAL, hostErrno } from '../errno.js';
import { FIONREAD, O_NONBLOCK, O_RDWR } from '../syscalls/abi.js';
import { SocketFile } from './socket-file.js';
import type { Readiness } from './description.js';
import { WaitQueue } from './pipe.js';
import { MSG_DONTWAIT, MSG_PEEK, ENOTCONN, type SockAddr } from './socket.js';

export type InetAddr = { family: 2 | 10; host: string; port: number };

/** One received datagram and who sent it. */
export interface Datagram {
  data: Uint8Array;
  from: InetAddr;
}

/** Bytes of datagrams held for the guest before new ones are dropped (net.core.rmem_default). */
const RCVBUF = 212992;
/** The largest UDP payload (65535 - 8 - 20). */
const MAX_PAYLOAD = 65507;
const EMSGSIZE = 90, EDESTADDRREQ = 89;

let nextIno = 300000;

/** Guest UDP sockets bound to a port, by port: loopback traffic between guests is delivered here directly. */
const boundPorts = new Map<number, Set<DgramSocket>>();

const isLoopback = (host: string) => host === '::1' || /^(::ffff:)?127\./.test(host) || host === '0:0:0:0:0:0:0:1' || /^0:0:0:0:0:ffff:7f/.test(host);
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
const isV4ish = (host: string) => !host.includes(':') || /^(::ffff:|0:0:0:0:0:ffff:)/.test(host);

/**
 * A UDP socket (AF_INET / AF_INET6, SOCK_DGRAM) backed by node:dgram.
 * Datagrams keep their boundaries: a receive takes one whole datagram (the
 * rest of a longer one is lost, MSG_TRUNC says so). Sends never wait (UDP
 * sends complete or drop). Between guest sockets on loopback the datagram is
 * queued at once, as Linux's loopback delivers it before sendto returns;
 * anything else travels through the host socket.
 */
export class DgramSocket extends SocketFile {
  readonly ino = nextIno++;
  readonly changed = new WaitQueue();
  private sock: dgram.Socket | null = null;
  /** Where the host socket is bound (null before bind or autobind). */
  local: InetAddr | null = null;
  /** connect()ed peer: the default destination and the only accepted source. */
  peer: InetAddr | null = null;
  private rx: Datagram[] = [];
  private rxBytes = 0;
  /** bind()/connect() outcome once the host has answered (null while pending). */
  private pending: number | null = null;
  private binding = false;
  private connecting = false;
  /** A pending asynchronous error (positive errno) for SO_ERROR. */
  error = 0;
  private released = false;

  constructor(
    readonly family: 2 | 10,
    flags: number,
  ) {
    super(O_RDWR | (flags & O_NONBLOCK));
  }

  private wake = (): void => this.changed.wakeAll();

  /**
   * bind(): binds the host socket; the caller waits (Blocked) until the host
   * has answered, and the re-run returns the outcome. Port 0 picks a port.
   */
  bind(addr: InetAddr): number | Blocked {
    if (this.binding) return this.settle();
    if (this.local) return -EINVAL;
    const sock = dgram.createSocket({ type: this.family === 2 ? 'udp4' : 'udp6', ipv6Only: false });
    this.binding = true;
    this.pending = null;
    sock.on('message', (msg, rinfo) => this.deliver(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), { family: this.family, host: rinfo.address, port: rinfo.port }));
    sock.once('listening', () => {
      if (this.released) return void sock.close(); // closed by the guest while the host was binding
      const a = sock.address();
      this.sock = sock;
      this.local = { family: this.family, host: a.address, port: a.port };
      let set = boundPorts.get(a.port);
      if (!set) boundPorts.set(a.port, (set = new Set()));
      set.add(this);
      this.pending = 0;
      this.wake();
    });
    sock.on('error', (e) => {
      if (this.binding && this.pending === null) {
        this.pending = hostErrno(e);
        sock.close();
      } else this.error = -hostErrno(e);
      this.wake();
    });
    sock.bind({ address: addr.host, port: addr.port, exclusive: true });
    return new Blocked(this.changed.wait());
  }

  /** The re-run of a call that waited for the host: its outcome once known. */
  private settle(): number | Blocked {
    if (this.pending === null) return new Blocked(this.changed.wait());
    const r = this.pending;
    this.binding = this.connecting = false;
    this.pending = null;
    return r;
  }

  /** Binds to the wildcard address (what Linux does at the first send or connect of an unbound socket). */
  autobind(): number | Blocked {
    if (this.local && !this.binding) return 0;
    return this.bind({ family: this.family, host: this.family === 2 ? '0.0.0.0' : '::', port: 0 });
  }

  /**
   * connect(): autobinds, then connects the host socket (so the local address
   * becomes the routed one, as getsockname shows on Linux); AF_UNSPEC (null)
   * dissolves the association.
   */
  connect(addr: InetAddr | null): number | Blocked {
    if (this.connecting) {
      const r = this.settle();
      if (r === 0 && this.sock) {
        const a = this.sock.address();
        this.local = { family: this.family, host: a.address, port: a.port };
      }
      return r;
    }
    if (addr === null) {
      if (this.peer) this.sock?.disconnect();
      this.peer = null;
      return 0;
    }
    if (!this.local || this.binding) {
      const b = this.autobind();
      if (b !== 0) return b;
    }
    const sock = this.sock!;
    if (this.peer) sock.disconnect();
    this.peer = addr;
    this.connecting = true;
    this.pending = null;
    sock.connect(addr.port, addr.host, (err?: Error) => {
      this.pending = err ? hostErrno(err) : 0;
      if (err) this.peer = null;
      this.wake();
    });
    return new Blocked(this.changed.wait());
  }

  /** A datagram arrived (from the host socket or a guest on loopback): queued unless the buffer is full. */
  deliver(data: Uint8Array, from: InetAddr): void {
    if (this.peer && !(this.peer.port === from.port && sameHost(this.peer.host, from.host))) return;
    if (this.rxBytes + data.length > RCVBUF) return; // a full receive buffer drops, as UDP does
    this.rx.push({ data, from });
    this.rxBytes += data.length;
    this.wake();
  }

  /**
   * Sends one datagram to dest (or the connected peer): the length, or
   * -errno. Autobinds first (Blocked until bound: the call is re-run).
   */
  send(data: Uint8Array, dest: InetAddr | null): number | Blocked {
    const to = dest ?? this.peer;
    if (!to) return -EDESTADDRREQ;
    if (data.length > MAX_PAYLOAD) return -EMSGSIZE;
    if (!this.local || this.binding) {
      const b = this.autobind();
      if (b !== 0) return b;
    }
    if (this.error) {
      const e = this.error;
      this.error = 0;
      return -e;
    }
    const local = guestReceiver(to);
    if (local) {
      local.deliver(data, { family: local.family, host: to.family === 2 || isV4ish(to.host) ? '127.0.0.1' : '::1', port: this.local!.port });
      return data.length;
    }
    // node:dgram refuses an address on a connected socket; Linux sends there anyway (rare: the peer is used).
    if (this.peer) this.sock!.send(data);
    else this.sock!.send(data, to.port, to.host);
    return data.length;
  }

  /** The next datagram (kept with MSG_PEEK), -errno, or Blocked / EAGAIN while there is none. */
  receive(flags: number): Datagram | number | Blocked {
    const d = this.rx[0];
    if (d) {
      if (!(flags & MSG_PEEK)) {
        this.rx.shift();
        this.rxBytes -= d.data.length;
      }
      return d;
    }
    if (this.error) {
      const e = this.error;
      this.error = 0;
      return -e;
    }
    return this.flags & O_NONBLOCK || flags & MSG_DONTWAIT ? -EAGAIN : new Blocked(this.changed.wait());
  }

  /** SO_ERROR: the pending error, cleared. */
  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  localAddress(): SockAddr {
    return this.local ?? { family: this.family, host: this.family === 2 ? '0.0.0.0' : '::', port: 0 };
  }

  shutdown(): number {
    return this.peer ? 0 : -ENOTCONN;
  }

  read(t: Task, addr: number, len: number): number | Blocked {
    const d = this.receive(0);
    if (typeof d === 'number' || d instanceof Blocked) return d;
    const n = Math.min(len, d.data.length);
    t.mem.writeBytes(addr, d.data.subarray(0, n));
    return n;
  }

  write(t: Task, addr: number, len: number): number | Blocked {
    if (!this.peer) return -EDESTADDRREQ;
    return this.send(t.mem.readBytes(addr, Math.min(len, MAX_PAYLOAD + 1)), null);
  }

  ioctl(t: Task, req: number, arg: number): number | Blocked {
    if (req === FIONREAD) {
      t.mem.write32(arg, this.rx[0]?.data.length ?? 0); // UDP: the size of the next datagram
      return 0;
    }
    return super.ioctl(t, req, arg);
  }

  poll(): Readiness {
    // A pending error (ICMP port unreachable) is POLLERR only, as in datagram_poll.
    return { readable: this.rx.length > 0, writable: true, hangup: false, error: this.error !== 0 };
  }

  readinessChange(): Promise<void> {
    return this.changed.wait();
  }

  release(): void {
    this.released = true;
    if (this.local) boundPorts.get(this.local.port)?.delete(this);
    if (this.local && boundPorts.get(this.local.port)?.size === 0) boundPorts.delete(this.local.port);
    this.sock?.close();
    this.sock = null;
    this.rx = [];
    this.rxBytes = 0;
    this.wake();
  }
}

/** Whether two spellings name one host (dotted, ::ffff:a.b.c.d, and the expanded IPv6 groups readSockaddr makes). */
function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => {
    const m = /^(?:0:0:0:0:0:ffff:|::ffff:)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(h);
    if (m) {
      const x = parseInt(m[1], 16), y = parseInt(m[2], 16);
      return `${x >> 8}.${x & 255}.${y >> 8}.${y & 255}`;
    }
    return h.replace(/^::ffff:/, '').replace(/^0:0:0:0:0:0:0:1$/, '::1');
  };
  return norm(a) === norm(b);
}

/** The guest socket that a loopback datagram to `to` reaches directly, if one is bound there. */
function guestReceiver(to: InetAddr): DgramSocket | null {
  if (!isLoopback(to.host)) return null;
  const v4 = isV4ish(to.host);
  for (const s of boundPorts.get(to.port) ?? []) {
    if (!s.local) continue;
    const h = s.local.host;
    // An IPv4 datagram reaches AF_INET sockets and dual-stack AF_INET6 ones bound to ::; ::1 reaches AF_INET6 only.
    const fits = v4 ? (s.family === 2 && (isWildcard(h) || isLoopback(h))) || (s.family === 10 && isWildcard(h)) : s.family === 10 && (isWildcard(h) || h === '::1');
    if (fits) return s;
  }
  return null;
}
