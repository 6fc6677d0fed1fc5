/**
 * Moving data through sockets: send/sendto/sendmsg and recv/recvfrom/recvmsg
 * for stream sockets (bytes), UDP sockets (whole datagrams with their
 * addresses) and AF_UNIX socketpairs (bytes plus SCM_RIGHTS files).
 */
import type { Task } from '../task.js';
import { Blocked } from '../syscall-types.js';
import { readIovecs, readStruct, viewU64 } from '../args.js';
import { EBADF, EINVAL, EOPNOTSUPP, EPIPE } from '../errno.js';
import { MSG_NOSIGNAL, MSG_PEEK, SocketPairEnd, StreamSocket, type AnySocket, type SockAddr } from '../files/socket.js';
import { DgramSocket, type InetAddr } from '../files/dgram-socket.js';
import type { FileDescription } from '../files/description.js';
import { raiseSignal, SIGPIPE } from './util.js';
import { encodeSockaddr, readSockaddr } from './sockaddr.js';
import { dropReference } from '../files/unix-channel.js';

export type Chunk = { base: number; len: number };

const MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_CTRUNC = 0x8, MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
/** SCM_MAX_FD: files per SCM_RIGHTS message. */
const SCM_MAX_FD = 253;
const CMSG_HDR = 16;
const EISCONN = 106;

const total = (chunks: Chunk[]) => chunks.reduce((n, c) => n + c.len, 0);

/** The in-emulator AF_UNIX end behind s (a socketpair, or a guest-to-guest connection), which can carry files. */
function unixEnd(s: AnySocket): SocketPairEnd | null {
  return s instanceof SocketPairEnd ? s : s instanceof StreamSocket ? s.localEnd : null;
}

/** The bytes of the guest's buffers, up to max. */
function gather(t: Task, chunks: Chunk[], max: number): Uint8Array {
  const data = new Uint8Array(max);
  let done = 0;
  for (const c of chunks) {
    if (done >= max) break;
    const n = Math.min(c.len, max - done);
    data.set(t.mem.readBytes(c.base, n), done);
    done += n;
  }
  return data;
}

/** Spreads data over the guest's buffers. */
function scatter(t: Task, chunks: Chunk[], data: Uint8Array): void {
  let done = 0;
  for (const c of chunks) {
    if (done >= data.length) break;
    const n = Math.min(c.len, data.length - done);
    t.mem.writeBytes(c.base, data.subarray(done, done + n));
    done += n;
  }
}

/** What a send carries besides the bytes. */
export interface SendExtras {
  /** UDP: the destination (sendto's / msg_name's). */
  dest?: InetAddr | null;
  /** AF_UNIX: files to pass (SCM_RIGHTS). */
  files?: FileDescription[];
}

/** send/sendto/sendmsg: copies what fits now from the guest, raises SIGPIPE on EPIPE unless MSG_NOSIGNAL. */
export function sendFrom(t: Task, s: AnySocket, chunks: Chunk[], flags: number, extras: SendExtras = {}): number | Blocked {
  const len = total(chunks);
  if (s instanceof DgramSocket) return s.send(gather(t, chunks, Math.min(len, 65508)), extras.dest ?? null);
  const end = unixEnd(s);
  if (extras.files?.length && !end) return -EOPNOTSUPP; // host-backed AF_UNIX: no fd passing
  const messages = end?.output.messages != null;
  if (len === 0 && !messages) return 0; // (an empty datagram is still a message)
  const room = s.sendRoom(len, flags);
  if (typeof room !== 'number' || room < 0 || (room === 0 && len > 0)) {
    if (room === -EPIPE && !(flags & MSG_NOSIGNAL)) raiseSignal(t, SIGPIPE);
    return room;
  }
  const data = gather(t, chunks, room);
  if (extras.files?.length && end) end.output.attach(extras.files, room);
  s.sendBytes(data);
  return room;
}

/** What a receive delivered besides the bytes. */
export interface Received {
  n: number;
  /** The sender (UDP), or the peer (streams). */
  from: SockAddr | null;
  /** msg_flags: MSG_TRUNC for a datagram longer than the buffers. */
  flags: number;
  /** SCM_RIGHTS files that came with the bytes (each holding an in-flight reference). */
  files: FileDescription[];
}

/**
 * recv/recvfrom/recvmsg: scatters what is there into the guest's buffers.
 * withRights: the caller takes SCM_RIGHTS files (recvmsg); otherwise they are closed.
 */
export function recvInto(t: Task, s: AnySocket, chunks: Chunk[], flags: number, withRights = false): Received | number | Blocked {
  const room = total(chunks);
  if (s instanceof DgramSocket) {
    // One datagram per call; what does not fit is lost (kept with MSG_PEEK). MSG_TRUNC asks for the real length.
    const d = s.receive(flags);
    if (typeof d === 'number' || d instanceof Blocked) return d;
    scatter(t, chunks, d.data.subarray(0, Math.min(room, d.data.length)));
    const truncated = d.data.length > room;
    return { n: flags & MSG_TRUNC ? d.data.length : Math.min(room, d.data.length), from: d.from, flags: truncated ? MSG_TRUNC : 0, files: [] };
  }
  // Stream receives name no sender (Linux leaves msg_namelen 0 for TCP and unnamed AF_UNIX peers).
  const end = unixEnd(s);
  const messages = end?.input.messages != null;
  if (room === 0 && !messages) return { n: 0, from: null, flags: 0, files: [] };
  // Peek first and consume only what reached the guest: a fault must not lose data.
  const r = s.recvBytes(room, flags | MSG_PEEK);
  if (!(r instanceof Uint8Array)) return r;
  scatter(t, chunks, r);
  // Message mode: one message per call; MSG_TRUNC as for UDP.
  const whole = end?.nextMessageLength;
  const files = withRights && end && (r.length || whole !== undefined) ? end.input.take(r.length, (flags & MSG_PEEK) !== 0) : [];
  if (!(flags & MSG_PEEK) && (r.length || whole !== undefined)) s.recvBytes(r.length, flags & ~MSG_DONTWAIT);
  const truncated = whole !== undefined && whole > r.length;
  return { n: truncated && flags & MSG_TRUNC ? whole : r.length, from: null, flags: truncated ? MSG_TRUNC : 0, files };
}

// ------------------------------------------------------------------ struct msghdr

/** struct msghdr: name, namelen, iov, iovlen, control, controllen, flags. */
interface Msghdr {
  name: number;
  namelen: number;
  iov: Chunk[];
  control: number;
  controllen: number;
}

export function readMsghdr(t: Task, addr: number): Msghdr | number {
  const v = readStruct(t, addr, 56);
  const iovlen = viewU64(v, 24);
  if (iovlen > 1024) return -EINVAL; // UIO_MAXIOV
  return { name: viewU64(v, 0), namelen: v.getUint32(8, true), iov: iovlen ? readIovecs(t, viewU64(v, 16), iovlen) : [], control: viewU64(v, 32), controllen: viewU64(v, 40) };
}

/** The SCM_RIGHTS files named in a sendmsg's control data (other messages: SCM_CREDENTIALS is accepted and ignored). */
function readRights(t: Task, m: Msghdr): FileDescription[] | number {
  const files: FileDescription[] = [];
  if (!m.control || m.controllen < CMSG_HDR) return files;
  if (m.controllen > 65536) return -EINVAL;
  const v = readStruct(t, m.control, m.controllen);
  for (let off = 0; off + CMSG_HDR <= m.controllen; ) {
    const len = viewU64(v, off), level = v.getInt32(off + 8, true), type = v.getInt32(off + 12, true);
    if (len < CMSG_HDR || off + len > m.controllen) return -EINVAL;
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      const n = (len - CMSG_HDR) >> 2;
      if (files.length + n > SCM_MAX_FD) return -EINVAL;
      for (let k = 0; k < n; k++) {
        const d = t.files.get(v.getInt32(off + CMSG_HDR + 4 * k, true));
        if (!d) return -EBADF;
        files.push(d);
      }
    } else if (!(level === SOL_SOCKET && type === SCM_CREDENTIALS)) return -EINVAL;
    off += (len + 7) & ~7;
  }
  return files;
}

export function sendmsg(t: Task, s: AnySocket, hdr: number, flags: number): number | Blocked {
  const m = readMsghdr(t, hdr);
  if (typeof m === 'number') return m;
  const files = readRights(t, m);
  if (typeof files === 'number') return files;
  let dest: InetAddr | null = null;
  if (m.name && s instanceof DgramSocket) {
    const a = readSockaddr(t, s.family, m.name, m.namelen, false);
    if (typeof a === 'number') return a;
    dest = a as InetAddr;
  } else if (m.name && s instanceof StreamSocket && s.state === 'connected') return -EISCONN;
  return sendFrom(t, s, m.iov, flags, { dest, files });
}

/**
 * Writes received files into the guest's control buffer as one SCM_RIGHTS
 * message, as many as fit (the rest are closed and MSG_CTRUNC is set, like
 * Linux's scm_detach_fds). Returns the control bytes used and extra flags.
 */
function deliverRights(t: Task, m: Msghdr, files: FileDescription[], cloexec: boolean): { used: number; flags: number } {
  if (!files.length) return { used: 0, flags: 0 };
  const fit = m.control && m.controllen >= CMSG_HDR ? Math.min(files.length, (m.controllen - CMSG_HDR) >> 2) : 0;
  const fds: number[] = [];
  for (const f of files.slice(0, fit)) {
    const fd = t.files.install(f, cloexec);
    if (fd < 0) break;
    fds.push(fd);
  }
  // Each file's in-flight reference ends: an installed fd holds its own; the others are closed.
  for (const f of files.slice(0, fds.length)) f.refs--;
  for (const f of files.slice(fds.length)) dropReference(f);
  if (!fds.length) return { used: 0, flags: MSG_CTRUNC };
  const out = new DataView(new ArrayBuffer(CMSG_HDR + 4 * fds.length));
  out.setUint32(0, CMSG_HDR + 4 * fds.length, true);
  out.setInt32(8, SOL_SOCKET, true);
  out.setInt32(12, SCM_RIGHTS, true);
  fds.forEach((fd, k) => out.setInt32(CMSG_HDR + 4 * k, fd, true));
  t.mem.writeBytes(m.control, new Uint8Array(out.buffer));
  return { used: Math.min(m.controllen, (out.byteLength + 7) & ~7), flags: fds.length < files.length ? MSG_CTRUNC : 0 };
}

export function recvmsg(t: Task, s: AnySocket, hdr: number, flags: number): number | Blocked {
  const m = readMsghdr(t, hdr);
  if (typeof m === 'number') return m;
  const r = recvInto(t, s, m.iov, flags, true);
  if (typeof r === 'number' || r instanceof Blocked) return r;
  const rights = deliverRights(t, m, r.files, (flags & MSG_CMSG_CLOEXEC) !== 0);
  let namelen = 0;
  if (m.name && r.from) {
    const bytes = encodeSockaddr(r.from);
    t.mem.writeBytes(m.name, bytes.subarray(0, Math.min(m.namelen, bytes.length)));
    namelen = bytes.length;
  }
  t.mem.write32(hdr + 8, namelen);
  t.mem.write64(hdr + 40, rights.used, 0);
  // Linux starts msg_flags from the call's MSG_CMSG_CLOEXEC (____sys_recvmsg), so it comes back set.
  t.mem.write32(hdr + 48, r.flags | rights.flags | (flags & MSG_CMSG_CLOEXEC));
  return r.n;
}

// ------------------------------------------------------------------ sendmmsg / recvmmsg

/** struct mmsghdr: a msghdr (56 bytes) and msg_len (4), padded to 64. */
const MMSGHDR = 64;
const UIO_MAXIOV = 1024;

/**
 * sendmmsg: each message sent as by sendmsg, msg_len filled in; stops at the
 * first failure (an error only if nothing was sent, as Linux does).
 */
export function sendmmsg(t: Task, s: AnySocket, vec: number, vlen: number, flags: number): number | Blocked {
  const n = Math.min(vlen, UIO_MAXIOV);
  let sent = 0;
  for (; sent < n; sent++) {
    const r = sendmsg(t, s, vec + sent * MMSGHDR, sent ? flags | MSG_DONTWAIT : flags);
    if (r instanceof Blocked || r < 0) return sent ? sent : r;
    t.mem.write32(vec + sent * MMSGHDR + 56, r);
  }
  return sent;
}

/**
 * recvmmsg: waits for the first message, then takes what is already there
 * (MSG_WAITFORONE behaviour even without the flag; the timeout is not used).
 */
export function recvmmsg(t: Task, s: AnySocket, vec: number, vlen: number, flags: number): number | Blocked {
  const n = Math.min(vlen, UIO_MAXIOV);
  let got = 0;
  for (; got < n; got++) {
    const r = recvmsg(t, s, vec + got * MMSGHDR, got ? flags | MSG_DONTWAIT : flags);
    if (r instanceof Blocked || r < 0) return got ? got : r;
    t.mem.write32(vec + got * MMSGHDR + 56, r);
  }
  return got;
}
