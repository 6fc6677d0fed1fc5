/**
 * Sockets: stream sockets over TCP (AF_INET, AF_INET6) and AF_UNIX paths,
 * backed by node:net, and socketpair(AF_UNIX). Non-blocking underneath: a
 * call that must wait parks the task (Blocked) and is re-run on the next
 * host event, so the guest, other guest threads and the debugger go on.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Task } from '../task.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { argI, argU, argUI, decodeBytes, readIovecs, readStruct, viewU64 } from '../args.js';
import { EBADF, EFAULT, EINVAL, ENOENT, ENOTSOCK, EOPNOTSUPP, EPIPE } from '../errno.js';
import { AT_FDCWD, O_CLOEXEC, O_NONBLOCK } from './abi.js';
import { MSG_NOSIGNAL, SocketPairEnd, StreamSocket, EADDRINUSE, EISCONN, ENOTCONN, type AnySocket, type SockAddr } from '../files/socket.js';
import { impl, partial, raiseSignal, SIGPIPE } from './util.js';

const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;
const EPROTONOSUPPORT = 93, ESOCKTNOSUPPORT = 94, EAFNOSUPPORT = 97, ENOPROTOOPT = 92, ECONNREFUSED = 111, EACCES = 13;
const SOL_SOCKET = 1, IPPROTO_TCP = 6;
const SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_ACCEPTCONN = 30, SO_DOMAIN = 39, SO_PROTOCOL = 38;
const TCP_NODELAY = 1;
const SUN_PATH_MAX = 108;

/** The socket behind fd: -EBADF for no fd, -ENOTSOCK for another kind of file. */
function socketOf(t: Task, fd: number): AnySocket | number {
  const d = t.files.get(fd);
  if (!d) return -EBADF;
  return d instanceof StreamSocket || d instanceof SocketPairEnd ? d : -ENOTSOCK;
}

function streamOf(t: Task, fd: number): StreamSocket | number {
  const s = socketOf(t, fd);
  if (typeof s === 'number') return s;
  return s instanceof StreamSocket ? s : -EOPNOTSUPP;
}

// ------------------------------------------------------------------ addresses

/** Reads a struct sockaddr for a socket of family; AF_UNIX paths resolve inside the guest root. */
function readSockaddr(t: Task, family: number, addr: number, len: number, forBind: boolean): SockAddr | number {
  if (addr === 0) return -EFAULT;
  if (len < 2 || len > 128) return -EINVAL;
  const v = readStruct(t, addr, len);
  const fam = v.getUint16(0, true);
  if (fam !== family) return -EAFNOSUPPORT;
  if (fam === AF_INET) {
    if (len < 16) return -EINVAL;
    const b = [v.getUint8(4), v.getUint8(5), v.getUint8(6), v.getUint8(7)];
    return { family: AF_INET, host: b.join('.'), port: v.getUint16(2, false) };
  }
  if (fam === AF_INET6) {
    if (len < 24) return -EINVAL;
    const groups: string[] = [];
    for (let k = 0; k < 8; k++) groups.push(v.getUint16(8 + 2 * k, false).toString(16));
    return { family: AF_INET6, host: groups.join(':'), port: v.getUint16(2, false) };
  }
  // AF_UNIX: a path (abstract names live in the host's network namespace: refused).
  const raw = new Uint8Array(v.buffer, v.byteOffset + 2, Math.min(len - 2, SUN_PATH_MAX));
  if (raw.length === 0 || raw[0] === 0) return -EACCES;
  const nul = raw.indexOf(0);
  const path = decodeBytes(nul < 0 ? raw : raw.subarray(0, nul));
  const r = t.fs.resolve(t, AT_FDCWD, path, { follow: !forBind });
  if (typeof r === 'number') return r;
  if (r.kind !== 'host') return forBind ? -EADDRINUSE : -ECONNREFUSED;
  if (forBind && r.st) return -EADDRINUSE;
  if (!forBind && !r.st) return -ENOENT;
  if (!forBind && !r.st!.isSocket()) return -ECONNREFUSED;
  return { family: AF_UNIX, path: r.guestPath, hostPath: r.hostPath };
}

/** The bytes of a struct sockaddr for an address. */
function encodeSockaddr(a: SockAddr): Uint8Array {
  if (a.family === AF_UNIX) {
    const p = Buffer.from(a.path);
    const out = new Uint8Array(2 + (a.path ? p.length + 1 : 0));
    new DataView(out.buffer).setUint16(0, AF_UNIX, true);
    out.set(p, 2);
    return out;
  }
  const out = new Uint8Array(a.family === AF_INET ? 16 : 28);
  const v = new DataView(out.buffer);
  v.setUint16(0, a.family, true);
  v.setUint16(2, a.port, false);
  let host = a.host;
  if (a.family === AF_INET) {
    if (host.startsWith('::ffff:')) host = host.slice(7);
    if (isIPv4(host)) host.split('.').forEach((x, k) => v.setUint8(4 + k, Number(x)));
  } else {
    if (isIPv4(host)) host = '::ffff:' + host;
    if (isIPv6(host)) expandIPv6(host).forEach((g, k) => v.setUint16(8 + 2 * k, g, false));
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 address (with "::" and a dotted IPv4 tail expanded). */
function expandIPv6(host: string): number[] {
  let h = host.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (v4) h = h.slice(0, v4.index) + ((+v4[1] << 8) | +v4[2]).toString(16) + ':' + ((+v4[3] << 8) | +v4[4]).toString(16);
  const [head, tail] = h.includes('::') ? h.split('::') : [h, null];
  const a = head ? head.split(':') : [];
  const b = tail ? tail.split(':') : [];
  const fill = tail === null ? [] : new Array(8 - a.length - b.length).fill('0');
  return [...a, ...fill, ...b].map((g) => parseInt(g || '0', 16));
}

/** Writes an address to (addr, *lenPtr) the way the kernel does: truncated to the room, real length reported. */
function writeSockaddr(t: Task, addr: number, lenPtr: number, a: SockAddr | null): number {
  if (addr === 0) return 0;
  if (lenPtr === 0) return -EFAULT;
  const room = t.mem.read32(lenPtr);
  if (room < 0) return -EINVAL;
  const bytes = a ? encodeSockaddr(a) : Uint8Array.of(AF_UNIX, 0);
  t.mem.writeBytes(addr, bytes.subarray(0, Math.min(room, bytes.length)));
  t.mem.write32(lenPtr, bytes.length);
  return 0;
}

// ------------------------------------------------------------------ calls

function sysSocket(t: Task): number {
  const family = argI(t, 0);
  const type = argI(t, 1);
  const protocol = argI(t, 2);
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) return -EAFNOSUPPORT;
  if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  if ((type & SOCK_TYPE_MASK) !== SOCK_STREAM) return -ESOCKTNOSUPPORT;
  if (protocol !== 0 && !(family !== AF_UNIX && protocol === IPPROTO_TCP)) return -EPROTONOSUPPORT;
  return t.files.install(new StreamSocket(family as 1 | 2 | 10, type & SOCK_NONBLOCK), (type & SOCK_CLOEXEC) !== 0);
}

function sysSocketpair(t: Task): number {
  const family = argI(t, 0);
  const type = argI(t, 1);
  const out = argU(t, 3);
  if (family !== AF_UNIX) return -EOPNOTSUPP;
  if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
  if ((type & SOCK_TYPE_MASK) !== SOCK_STREAM) return -ESOCKTNOSUPPORT;
  const [a, b] = SocketPairEnd.pair(type & SOCK_NONBLOCK);
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

function sysBind(t: Task): number {
  const s = streamOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const a = readSockaddr(t, s.family, argU(t, 1), argUI(t, 2), true);
  return typeof a === 'number' ? a : s.bind(a);
}

function sysListen(t: Task): number | Blocked {
  const s = streamOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  return s.listen(Math.max(1, Math.min(argI(t, 1), 4096)));
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
  if (!(s instanceof StreamSocket)) return -EISCONN; // a socketpair end is connected already
  const a = readSockaddr(t, s.family, argU(t, 1), argUI(t, 2), false);
  return typeof a === 'number' ? a : s.connect(a);
}

function sysShutdown(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const how = argI(t, 1);
  if (how < 0 || how > 2) return -EINVAL;
  return s instanceof StreamSocket ? s.shutdown(how) : 0;
}

function sysGetsockname(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  return writeSockaddr(t, argU(t, 1), argU(t, 2), s instanceof StreamSocket ? s.localAddress() ?? unnamed(s) : null);
}

function unnamed(s: StreamSocket): SockAddr {
  return s.family === AF_UNIX ? { family: AF_UNIX, path: '', hostPath: null } : { family: s.family, host: s.family === AF_INET ? '0.0.0.0' : '::', port: 0 };
}

function sysGetpeername(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const peer = s instanceof StreamSocket ? s.peerAddress() : null;
  if (s instanceof StreamSocket && !peer) return -ENOTCONN;
  return writeSockaddr(t, argU(t, 1), argU(t, 2), peer);
}

/** send/sendto/sendmsg: copies what fits now from the guest, raises SIGPIPE on EPIPE unless MSG_NOSIGNAL. */
function sendFrom(t: Task, s: AnySocket, chunks: { base: number; len: number }[], flags: number): number | Blocked {
  const total = chunks.reduce((n, c) => n + c.len, 0);
  if (total === 0) return 0;
  const room = s.sendRoom(total, flags);
  if (typeof room !== 'number' || room <= 0) {
    if (room === -EPIPE && !(flags & MSG_NOSIGNAL)) raiseSignal(t, SIGPIPE);
    return room;
  }
  const data = new Uint8Array(room);
  let done = 0;
  for (const c of chunks) {
    if (done >= room) break;
    const n = Math.min(c.len, room - done);
    data.set(t.mem.readBytes(c.base, n), done);
    done += n;
  }
  s.sendBytes(data);
  return room;
}

/** recv/recvfrom/recvmsg: scatters what is there into the guest's buffers. */
function recvInto(t: Task, s: AnySocket, chunks: { base: number; len: number }[], flags: number): number | Blocked {
  const total = chunks.reduce((n, c) => n + c.len, 0);
  if (total === 0) return 0;
  // Peek first and consume only what reached the guest: a fault must not lose data.
  const r = s.recvBytes(total, flags | 0x2);
  if (!(r instanceof Uint8Array)) return r;
  let done = 0;
  for (const c of chunks) {
    if (done >= r.length) break;
    const n = Math.min(c.len, r.length - done);
    t.mem.writeBytes(c.base, r.subarray(done, done + n));
    done += n;
  }
  if (!(flags & 0x2) && r.length) s.recvBytes(r.length, flags & ~0x40);
  return r.length;
}

function sysSendto(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  return sendFrom(t, s, [{ base: argU(t, 1), len: Math.min(argU(t, 2), 0x7ffff000) }], argI(t, 3));
}

function sysRecvfrom(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const r = recvInto(t, s, [{ base: argU(t, 1), len: Math.min(argU(t, 2), 0x7ffff000) }], argI(t, 3));
  if (typeof r === 'number' && r >= 0 && argU(t, 4)) {
    const w = writeSockaddr(t, argU(t, 4), argU(t, 5), s instanceof StreamSocket ? s.peerAddress() : null);
    if (w < 0) return w;
  }
  return r;
}

/** struct msghdr: name, namelen, iov, iovlen, control, controllen, flags. */
function readMsghdr(t: Task, addr: number): { name: number; iov: { base: number; len: number }[] } | number {
  const v = readStruct(t, addr, 56);
  const iovlen = viewU64(v, 24);
  if (iovlen > 1024) return -EINVAL;
  return { name: viewU64(v, 0), iov: iovlen ? readIovecs(t, viewU64(v, 16), iovlen) : [] };
}

function sysSendmsg(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const m = readMsghdr(t, argU(t, 1));
  return typeof m === 'number' ? m : sendFrom(t, s, m.iov, argI(t, 2));
}

function sysRecvmsg(t: Task): number | Blocked {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const hdr = argU(t, 1);
  const m = readMsghdr(t, hdr);
  if (typeof m === 'number') return m;
  const r = recvInto(t, s, m.iov, argI(t, 2));
  if (typeof r === 'number' && r >= 0) {
    // No ancillary data, no flags; the peer's address for those who ask.
    t.mem.write32(hdr + 8, m.name && s instanceof StreamSocket && s.peerAddress() ? encodeSockaddr(s.peerAddress()!).length : 0);
    if (m.name && s instanceof StreamSocket && s.peerAddress()) t.mem.writeBytes(m.name, encodeSockaddr(s.peerAddress()!));
    t.mem.write32(hdr + 40, 0);
    t.mem.write32(hdr + 44, 0);
    t.mem.write32(hdr + 48, 0);
  }
  return r;
}

function sysSetsockopt(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const level = argI(t, 1);
  const name = argI(t, 2);
  const optlen = argUI(t, 4);
  if (argU(t, 3) === 0 && optlen) return -EFAULT;
  if (level === IPPROTO_TCP && name === TCP_NODELAY && s instanceof StreamSocket && optlen >= 4) s.setNoDelay(t.mem.read32(argU(t, 3)) !== 0);
  // SO_REUSEADDR, SO_KEEPALIVE, buffer sizes, timeouts…: accepted (node:net decides).
  return level === SOL_SOCKET || level === IPPROTO_TCP || level === 0 || level === 41 ? 0 : -ENOPROTOOPT;
}

function sysGetsockopt(t: Task): number {
  const s = socketOf(t, argI(t, 0));
  if (typeof s === 'number') return s;
  const level = argI(t, 1);
  const name = argI(t, 2);
  const val = argU(t, 3);
  const lenPtr = argU(t, 4);
  if (lenPtr === 0) return -EFAULT;
  let v: number;
  if (level === SOL_SOCKET) {
    const stream = s instanceof StreamSocket ? s : null;
    const values: Record<number, () => number> = {
      [SO_TYPE]: () => SOCK_STREAM,
      [SO_ERROR]: () => stream?.takeError() ?? 0,
      [SO_SNDBUF]: () => 212992,
      [SO_RCVBUF]: () => 212992,
      [SO_ACCEPTCONN]: () => (stream?.state === 'listening' ? 1 : 0),
      [SO_DOMAIN]: () => stream?.family ?? AF_UNIX,
      [SO_PROTOCOL]: () => (stream && stream.family !== AF_UNIX ? IPPROTO_TCP : 0),
    };
    v = values[name]?.() ?? 0;
  } else if (level === IPPROTO_TCP) v = 0;
  else return -ENOPROTOOPT;
  const room = t.mem.read32(lenPtr);
  if (room < 0) return -EINVAL;
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, v, true);
  t.mem.writeBytes(val, bytes.subarray(0, Math.min(4, room)));
  t.mem.write32(lenPtr, Math.min(4, room));
  return 0;
}

const STREAM_ONLY = 'stream sockets only (TCP over IPv4/IPv6, AF_UNIX paths; no UDP, no abstract AF_UNIX names)';

export const netHandlers: Record<string, SyscallImpl> = {
  socket: partial(sysSocket, STREAM_ONLY),
  socketpair: partial(sysSocketpair, 'AF_UNIX SOCK_STREAM only'),
  bind: partial(sysBind, 'the port is taken at listen(); AF_UNIX paths only'),
  listen: impl(sysListen),
  accept: impl((t) => doAccept(t, 0)),
  accept4: impl((t) => doAccept(t, argI(t, 3))),
  connect: partial(sysConnect, STREAM_ONLY),
  shutdown: impl(sysShutdown),
  getsockname: impl(sysGetsockname),
  getpeername: impl(sysGetpeername),
  sendto: partial(sysSendto, 'the destination address is ignored (stream sockets)'),
  recvfrom: partial(sysRecvfrom, 'MSG_PEEK, MSG_DONTWAIT; other flags ignored'),
  sendmsg: partial(sysSendmsg, 'no ancillary data (SCM_RIGHTS)'),
  recvmsg: partial(sysRecvmsg, 'no ancillary data (SCM_RIGHTS)'),
  setsockopt: partial(sysSetsockopt, 'TCP_NODELAY applied; other options accepted without effect'),
  getsockopt: partial(sysGetsockopt, 'SO_ERROR, SO_TYPE, SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL; others read 0'),
};
