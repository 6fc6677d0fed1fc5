/**
 * getsockopt/setsockopt: a table of the SOL_SOCKET options elfshim answers;
 * everything else at a known level is accepted (set) or reads 0 (get), since
 * node:net and node:dgram choose buffer sizes, keepalive and the like.
 */
import type { Task } from '../task.js';
import { EFAULT, EINVAL } from '../errno.js';
import { SocketPairEnd, StreamSocket, type AnySocket } from '../files/socket.js';
import { DgramSocket } from '../files/dgram-socket.js';
import { AF_UNIX } from './sockaddr.js';

const SOL_SOCKET = 1, IPPROTO_IP = 0, IPPROTO_IPV6 = 41, IPPROTO_TCP = 6, IPPROTO_UDP = 17;
const SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_PEERCRED = 17, SO_ACCEPTCONN = 30, SO_PROTOCOL = 38, SO_DOMAIN = 39;
const TCP_NODELAY = 1;
const SOCK_STREAM = 1, SOCK_DGRAM = 2;
const ENOPROTOOPT = 92;
const KNOWN_LEVELS = new Set([SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP]);

const familyOf = (s: AnySocket) => (s instanceof SocketPairEnd ? AF_UNIX : s.family);
const int = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
};

/**
 * struct ucred of the peer: the pair's creator for a socketpair, the other
 * guest for a guest-to-guest connection (the listener's at listen() for the
 * client, the connecting process for the server); elfshim itself for
 * AF_UNIX connections with a host peer.
 */
function peerCred(s: AnySocket): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  const end = s instanceof SocketPairEnd ? s : s instanceof StreamSocket ? s.localEnd : null;
  const hostPeer = s instanceof StreamSocket && s.family === AF_UNIX && s.state === 'connected';
  const c = end ? end.peerCred : hostPeer ? { pid: process.pid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 } : { pid: 0, uid: -1, gid: -1 };
  v.setInt32(0, c.pid, true);
  v.setInt32(4, c.uid, true);
  v.setInt32(8, c.gid, true);
  return b;
}

/** SOL_SOCKET options with a real answer. */
const SOCKET_OPTIONS: Record<number, (s: AnySocket) => Uint8Array> = {
  [SO_TYPE]: (s) => int(s instanceof DgramSocket ? SOCK_DGRAM : s instanceof SocketPairEnd ? s.type : SOCK_STREAM),
  [SO_ERROR]: (s) => int(s instanceof StreamSocket ? s.takeError() : s instanceof DgramSocket ? s.takeError() : 0),
  [SO_SNDBUF]: () => int(212992),
  [SO_RCVBUF]: () => int(212992),
  [SO_ACCEPTCONN]: (s) => int(s instanceof StreamSocket && s.state === 'listening' ? 1 : 0),
  [SO_DOMAIN]: (s) => int(familyOf(s)),
  [SO_PROTOCOL]: (s) => int(s instanceof DgramSocket ? IPPROTO_UDP : familyOf(s) === AF_UNIX ? 0 : IPPROTO_TCP),
  [SO_PEERCRED]: peerCred,
};

export function sockoptGet(t: Task, s: AnySocket, level: number, name: number, val: number, lenPtr: number): number {
  if (lenPtr === 0) return -EFAULT;
  if (!KNOWN_LEVELS.has(level)) return -ENOPROTOOPT;
  const bytes = (level === SOL_SOCKET ? SOCKET_OPTIONS[name]?.(s) : null) ?? int(0);
  const room = t.mem.read32(lenPtr);
  if (room < 0) return -EINVAL;
  t.mem.writeBytes(val, bytes.subarray(0, Math.min(bytes.length, room)));
  t.mem.write32(lenPtr, Math.min(bytes.length, room));
  return 0;
}

export function sockoptSet(t: Task, s: AnySocket, level: number, name: number, val: number, optlen: number): number {
  if (val === 0 && optlen) return -EFAULT;
  if (level === IPPROTO_TCP && name === TCP_NODELAY && s instanceof StreamSocket && optlen >= 4) s.setNoDelay(t.mem.read32(val) !== 0);
  // SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST, buffer sizes, timeouts…: accepted (the host socket decides).
  return KNOWN_LEVELS.has(level) ? 0 : -ENOPROTOOPT;
}
