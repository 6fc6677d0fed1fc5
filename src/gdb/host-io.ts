import type { GuestFiles } from './target.js';
import { escapeBinary, unescapeBinary } from './binary-escape.js';
import { hexToText, numHex, parseSignedHex } from './hex.js';
import { parseVFile } from './packets.js';

/**
 * Host I/O (vFile:*): gdb reads the guest's files (the executable, shared
 * libraries) through these. Replies are "F result[,errno][;binary data]";
 * flags, modes and errno values use gdb's File-I/O constants, translated
 * here to and from Linux's.
 */

/** gdb File-I/O open flags → Linux O_* bits. */
const OPEN_FLAGS: Array<[number, number]> = [
  [0x1, 0x1], // O_WRONLY
  [0x2, 0x2], // O_RDWR
  [0x8, 0x400], // O_APPEND
  [0x200, 0x40], // O_CREAT
  [0x400, 0x200], // O_TRUNC
  [0x800, 0x80], // O_EXCL
];

export function fileioFlagsToLinux(flags: number): number {
  let out = 0;
  for (const [gdb, linux] of OPEN_FLAGS) if (flags & gdb) out |= linux;
  return out;
}

/** Linux errno → gdb File-I/O errno (EUNKNOWN 9999 for the rest). */
const ERRNO: ReadonlyMap<number, number> = new Map([
  [1, 1], [2, 2], [4, 4], [5, 5], [9, 9], [13, 13], [14, 14], [16, 16], [17, 17], [19, 19], [20, 20], [21, 21],
  [22, 22], [23, 23], [24, 24], [27, 27], [28, 28], [29, 29], [30, 30],
  [36, 91], // ENAMETOOLONG
  [38, 88], // ENOSYS
]);
const FILEIO_EUNKNOWN = 9999;
const EINVAL = 22;

export function linuxErrnoToFileio(errno: number): number {
  return ERRNO.get(errno) ?? FILEIO_EUNKNOWN;
}

function fail(negErrno: number): string {
  return `F-1,${linuxErrnoToFileio(-negErrno).toString(16)}`;
}
const BAD_REQUEST = `F-1,${EINVAL.toString(16)}`;

/** "F<len>;<data>" with the data cut to fit the packet size. */
function withData(data: Uint8Array, maxPacket: number): string {
  // Header room: 'F', up to 8 hex digits of length, ';'.
  const { text, count } = escapeBinary(data, maxPacket - 10);
  return `F${count.toString(16)};${text}`;
}

function num(s: string | undefined): number | null {
  return s === undefined ? null : parseSignedHex(s);
}

/** Handles one vFile packet; '' for an operation not implemented (gdb then knows it is unsupported). */
export function handleHostIo(packet: string, files: GuestFiles, maxPacket: number): string {
  const req = parseVFile(packet);
  if (!req) return '';
  const a = req.args;
  switch (req.op) {
    case 'setfs':
      // One filesystem view for every pid: the guest's.
      return num(a[0]) === null ? BAD_REQUEST : 'F0';
    case 'open': {
      const path = a[0] === undefined ? null : hexToText(a[0]);
      const flags = num(a[1]);
      const mode = num(a[2]);
      if (path === null || flags === null || mode === null) return BAD_REQUEST;
      const fd = files.open(path, fileioFlagsToLinux(flags), mode);
      return fd < 0 ? fail(fd) : `F${numHex(fd)}`;
    }
    case 'pread': {
      const fd = num(a[0]);
      const count = num(a[1]);
      const offset = num(a[2]);
      if (fd === null || count === null || offset === null || count < 0 || offset < 0) return BAD_REQUEST;
      const r = files.pread(fd, Math.min(count, maxPacket), offset);
      return typeof r === 'number' ? fail(r) : withData(r, maxPacket);
    }
    case 'pwrite': {
      const fd = num(a[0]);
      const offset = num(a[1]);
      const data = unescapeBinary(a[2] ?? '');
      if (fd === null || offset === null || data === null || offset < 0) return BAD_REQUEST;
      const n = files.pwrite(fd, data, offset);
      return n < 0 ? fail(n) : `F${numHex(n)}`;
    }
    case 'close': {
      const fd = num(a[0]);
      if (fd === null) return BAD_REQUEST;
      const r = files.close(fd);
      return r < 0 ? fail(r) : 'F0';
    }
    case 'fstat': {
      const fd = num(a[0]);
      if (fd === null) return BAD_REQUEST;
      const r = files.fstat(fd);
      return typeof r === 'number' ? fail(r) : withData(r, maxPacket);
    }
    case 'readlink': {
      const path = a[0] === undefined ? null : hexToText(a[0]);
      if (path === null) return BAD_REQUEST;
      const r = files.readlink(path);
      return typeof r === 'number' ? fail(r) : withData(new TextEncoder().encode(r), maxPacket);
    }
    case 'unlink': {
      const path = a[0] === undefined ? null : hexToText(a[0]);
      if (path === null) return BAD_REQUEST;
      const r = files.unlink(path);
      return r < 0 ? fail(r) : 'F0';
    }
    default:
      return '';
  }
}
