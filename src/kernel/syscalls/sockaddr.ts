/**
 * struct sockaddr in guest memory: AF_INET, AF_INET6 and AF_UNIX paths (which
 * resolve inside the guest's root) read into a SockAddr and written back the
 * way the kernel does it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Task } from '../task.js';
import { decodeBytes, readStruct } from '../args.js';
import { EFAULT, EINVAL, ENOENT } from '../errno.js';
import { AT_FDCWD } from './abi.js';
import { EADDRINUSE, type SockAddr } from '../files/socket.js';

export const AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
const EAFNOSUPPORT = 97, ECONNREFUSED = 111, EACCES = 13;
const SUN_PATH_MAX = 108;

/** Reads a struct sockaddr for a socket of family; AF_UNIX paths resolve inside the guest root. */
export function readSockaddr(t: Task, family: number, addr: number, len: number, forBind: boolean): SockAddr | number {
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
  // The name is the path as given (Linux keeps sun_path as bound: getsockname shows a relative path relative).
  return { family: AF_UNIX, path, hostPath: r.hostPath };
}

/** The bytes of a struct sockaddr for an address. */
export function encodeSockaddr(a: SockAddr): Uint8Array {
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
export function writeSockaddr(t: Task, addr: number, lenPtr: number, a: SockAddr | null): number {
  if (addr === 0) return 0;
  if (lenPtr === 0) return -EFAULT;
  const room = t.mem.read32(lenPtr);
  if (room < 0) return -EINVAL;
  const bytes = a ? encodeSockaddr(a) : Uint8Array.of(AF_UNIX, 0);
  t.mem.writeBytes(addr, bytes.subarray(0, Math.min(room, bytes.length)));
  t.mem.write32(lenPtr, bytes.length);
  return 0;
}
