/**
 * Sockets: stream sockets over TCP (AF_INET, AF_INET6) and AF_UNIX paths,
 * backed by node:net; UDP (AF_INET, AF_INET6 SOCK_DGRAM) backed by
 * node:dgram; socketpair(AF_UNIX). Non-blocking underneath: a call that must
 * wait parks the task (Blocked) and is re-run on the next host event, so the
 * guest, other guest threads and the debugger go on. Moving data is in
 * net-io.ts, addresses in sockaddr.ts, options in sockopt.ts.
 */
import type { Task } from '../task.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { argI, argU, argUI } from '../args.js';
import { EBADF, EFAULT, EINVAL, ENOTSOCK, EOPNOTSUPP } from '../errno.js';
import { O_CLOEXEC, O_NONBLOCK } from './abi.js';
import { SocketPairEnd, StreamSocket, EISCONN, ENOTCONN, type AnySocket, type PeerCred, type SockAddr } from '../files/socket.js';
import { DgramSocket, type InetAddr } from '../files/dgram-socket.js';
import { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, readSockaddr, writeSockaddr } from './sockaddr.js';
import { recvInto, recvmmsg, recvmsg, sendFrom, sendmmsg, sendmsg } from './net-io.js';
import { sockoptGet, sockoptSet } from './sockopt.js';
import { impl, partial } from './util.js';

const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5;
const SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;
const EPROTONOSUPPORT = 93, ESOCKTNOSUPPORT = 94, EAFNOSUPPORT = 97;
const IPPROTO_TCP = 6, IPPROTO_UDP = 17;

/** SO_PEERCRED's view of the calling process. */
function credOf(t: Task): PeerCred {
  return { pid: t.pid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** The socket behind fd: -EBADF for no fd, -ENOTSOCK for another kind of file. */
function socketOf(t: Task, fd: number): AnySocket | number {
  const d = t.files.get(fd);
  if (!d) return -EBADF;
  return d instanceof StreamSocket || d instanceof SocketPairEnd || d instanceof DgramSocket ? d : -ENOTSOCK;
}

function streamOf(t: Task, fd: number): StreamSocket | number {
  const s = socketOf(t, fd);
  if (typeof s === 'number') return s;
  return s instanceof StreamSocket ? s : -EOPNOTSUPP;
}

// ------------------------------------------------------------------ calls

function sysSocket(t: Task): number {
  const family = argI(t, 0);
  const type = argI(t, 1);
  const protocol = argI(t, 2);
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) return -EAFNOSUPPORT;
  if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  const kind = type & SOCK_TYPE_MASK;
  const cloexec = (type & SOCK_CLOEXEC) !== 0;
  if (kind === SOCK_DGRAM && family !== AF_UNIX) {
    if (protocol !== 0 && protocol !== IPPROTO_UDP) return -EPROTONOSUPPORT;
    return t.files.install(new DgramSocket(family as 2 | 10, type & SOCK_NONBLOCK), cloexec);
  }
  if (kind !== SOCK_STREAM) return -ESOCKTNOSUPPORT;
  if (protocol !== 0 && !(family !== AF_UNIX && protocol === IPPROTO_TCP)) return -EPROTONOSUPPORT;
  return t.files.install(new StreamSocket(family as 1 | 2 | 10, type & SOCK_NONBLOCK), cloexec);
}

function sysSocketpair(t: Task): number {
  const family = argI(t, 0);
  const type = argI(t, 1);
  const out = argU(t, 3);
  if (family !== AF_UNIX) return -EOPNOTSUPP;
  if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  const kind = type & SOCK_TYPE_MASK;
  if (kind !== SOCK_STREAM && kind !== SOCK_DGRAM && kind !== SOCK_SEQPACKET) return -ESOCKTNOSUPPORT;
  const [a, b] = SocketPairEnd.pair(type & SOCK_NONBLOCK, credOf(t), kind);
  const cloexec = (type & SOCK_CLOEXEC) !== 0;
  const fa = t.files.install(a, cloexec);
  if (fa < 0) return fa;
  const fb = t.files.install(b, cloexec);
  if (fb < 0) {
    t.files.close(fa);
    return fb;
  }
  const fds = new Uint8Array(8);
  new DataView(fds.buffer).setInt32(0, fa, true);
  new DataView(fds.buffer).setInt32(4, fb, true);
  try {
    t.mem.writeBytes(out, fds);
  } catch (e) {
    t.files.close(fa);
    t.files.close(fb);
    throw e;
  }
  return 0;
}

function sysBind(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  if (s instanceof SocketPairEnd) return -EINVAL; // already connected
  const a = readSockaddr(t, s.family, argU(t, 1), argUI(t, 2), true);
  if (typeof a === 'number') return a;
  return s instanceof DgramSocket ? s.bind(a as InetAddr) : s.bind(a);
}

function sysListen(t: Task): number | Blocked {
  const s = streamOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  return s.listen(Math.max(1, Math.min(argI(t, 1), 4096)), credOf(t));
}

function doAccept(t: Task, flags: number): number | Blocked {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  const s = streamOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const r = s.accept(flags & SOCK_NONBLOCK);
  if (!(r instanceof StreamSocket)) return r;
  const w = writeSockaddr(t, argU(t, 1), argU(t, 2), r.peerAddress());
  if (w < 0) {
    r.release();
    return w;
  }
  return t.files.install(r, (flags & SOCK_CLOEXEC) !== 0);
}

function sysConnect(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  if (s instanceof SocketPairEnd) return -EISCONN; // a socketpair end is connected already
  if (s instanceof DgramSocket) {
    // AF_UNSPEC dissolves a UDP association.
    const addr = argU(t, 1), len = argUI(t, 2);
    if (addr && len >= 2 && t.mem.read16(addr) === AF_UNSPEC) return s.connect(null);
    const a = readSockaddr(t, s.family, addr, len, false);
    return typeof a === 'number' ? a : s.connect(a as InetAddr);
  }
  const a = readSockaddr(t, s.family, argU(t, 1), argUI(t, 2), false);
  return typeof a === 'number' ? a : s.connect(a, credOf(t));
}

function sysShutdown(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const how = argI(t, 1);
  if (how < 0 || how > 2) return -EINVAL;
  return s instanceof DgramSocket ? s.shutdown() : s.shutdown(how);
}

function sysGetsockname(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  if (s instanceof DgramSocket) return writeSockaddr(t, argU(t, 1), argU(t, 2), s.localAddress());
  return writeSockaddr(t, argU(t, 1), argU(t, 2), s instanceof StreamSocket ? s.localAddress() ?? unnamed(s) : null);
}

function unnamed(s: StreamSocket): SockAddr {
  return s.family === AF_UNIX ? { family: AF_UNIX, path: '', hostPath: null } : { family: s.family, host: s.family === AF_INET ? '0.0.0.0' : '::', port: 0 };
}

function sysGetpeername(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const peer = s instanceof StreamSocket ? s.peerAddress() : s instanceof DgramSocket ? s.peer : null;
  if (!(s instanceof SocketPairEnd) && !peer) return -ENOTCONN;
  return writeSockaddr(t, argU(t, 1), argU(t, 2), peer);
}

function sysSendto(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  let dest: InetAddr | null = null;
  if (argU(t, 4) && s instanceof DgramSocket) {
    const a = readSockaddr(t, s.family, argU(t, 4), argUI(t, 5), false);
    if (typeof a === 'number') return a;
    dest = a as InetAddr;
  }
  return sendFrom(t, s, [{ base: argU(t, 1), len: Math.min(argU(t, 2), 0x7ffff000) }], argI(t, 3), { dest });
}

function sysRecvfrom(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const r = recvInto(t, s, [{ base: argU(t, 1), len: Math.min(argU(t, 2), 0x7ffff000) }], argI(t, 3));
  if (typeof r === 'number' || r instanceof Blocked) return r;
  const addr = argU(t, 4), lenPtr = argU(t, 5);
  if (addr) {
    // No sender to name (streams): the length written is 0, as Linux does.
    const w = r.from ? writeSockaddr(t, addr, lenPtr, r.from) : lenPtr ? (t.mem.write32(lenPtr, 0), 0) : -EFAULT;
    if (w < 0) return w;
  }
  return r.n;
}

function sysSendmsg(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  return typeof s === 'number' ? s : sendmsg(t, s, argU(t, 1), argI(t, 2));
}

function sysRecvmsg(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  return typeof s === 'number' ? s : recvmsg(t, s, argU(t, 1), argI(t, 2));
}

function sysSendmmsg(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  return typeof s === 'number' ? s : sendmmsg(t, s, argU(t, 1), argUI(t, 2), argI(t, 3));
}

function sysRecvmmsg(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  return typeof s === 'number' ? s : recvmmsg(t, s, argU(t, 1), argUI(t, 2), argI(t, 3));
}

function sysSetsockopt(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  return typeof s === 'number' ? s : sockoptSet(t, s, argI(t, 1), argI(t, 2), argU(t, 3), argUI(t, 4));
}

function sysGetsockopt(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  return typeof s === 'number' ? s : sockoptGet(t, s, argI(t, 1), argI(t, 2), argU(t, 3), argU(t, 4));
}

const KINDS = 'TCP and UDP over IPv4/IPv6, AF_UNIX stream sockets with paths (AF_UNIX datagrams only from socketpair, no abstract names)';

export const netHandlers: Record<string, SyscallImpl> = {
  socket: partial(sysSocket, KINDS),
  socketpair: partial(sysSocketpair, 'AF_UNIX: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET'),
  bind: partial(sysBind, 'a TCP port is taken at listen(); AF_UNIX: paths, no abstract names'),
  listen: impl(sysListen),
  accept: impl((t) => doAccept(t, 0)),
  accept4: impl((t) => doAccept(t, argI(t, 3))),
  connect: partial(sysConnect, KINDS),
  shutdown: impl(sysShutdown),
  getsockname: impl(sysGetsockname),
  getpeername: impl(sysGetpeername),
  sendto: partial(sysSendto, 'on a connected UDP socket a given destination is ignored (the peer is used)'),
  recvfrom: partial(sysRecvfrom, 'MSG_PEEK, MSG_DONTWAIT, MSG_TRUNC; other flags ignored'),
  sendmsg: partial(sysSendmsg, 'SCM_RIGHTS between guests (socketpairs, paths a guest listens on); not to host peers'),
  recvmsg: partial(sysRecvmsg, 'SCM_RIGHTS between guests; no other ancillary data (SCM_CREDENTIALS)'),
  sendmmsg: partial(sysSendmmsg, 'as sendmsg, message by message'),
  recvmmsg: partial(sysRecvmmsg, 'returns once a message is there (MSG_WAITFORONE); no timeout'),
  setsockopt: partial(sysSetsockopt, 'TCP_NODELAY applied; other options accepted without effect'),
  getsockopt: partial(sysGetsockopt, 'SO_ERROR, SO_TYPE, SO_PEERCRED, SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL; others read 0'),
};
