import type { Task } from './task.js';
import { EFAULT, ENAMETOOLONG } from './errno.js';

/** Registers that carry syscall arguments 0..5: rdi, rsi, rdx, r10, r8, r9. */
export const ARG_REGS = [7, 6, 2, 10, 8, 9] as const;

const TWO32 = 4294967296;

/** Argument i as an unsigned 64-bit value (exact below 2^53: pointers, sizes, offsets). */
export function argU(t: Task, i: number): number {
  const r = t.cpu.r;
  const n = ARG_REGS[i];
  return (r[2 * n + 1] >>> 0) * TWO32 + (r[2 * n] >>> 0);
}

/** Argument i as a signed 64-bit value (off_t, pid_t as long). */
export function argS(t: Task, i: number): number {
  const r = t.cpu.r;
  const n = ARG_REGS[i];
  return r[2 * n + 1] * TWO32 + (r[2 * n] >>> 0);
}

/** Argument i as a C int (fds, flags, pids): the low 32 bits, signed. */
export function argI(t: Task, i: number): number {
  return t.cpu.r[2 * ARG_REGS[i]];
}

/** Argument i as a C unsigned int (flag words, modes): the low 32 bits, unsigned. */
export function argUI(t: Task, i: number): number {
  return t.cpu.r[2 * ARG_REGS[i]] >>> 0;
}

/** The six raw arguments as [lo, hi] pairs (for strace, which formats after the call). */
export function snapshotArgs(t: Task): Int32Array {
  const out = new Int32Array(12);
  for (let i = 0; i < 6; i++) {
    out[2 * i] = t.cpu.r[2 * ARG_REGS[i]];
    out[2 * i + 1] = t.cpu.r[2 * ARG_REGS[i] + 1];
  }
  return out;
}

// ------------------------------------------------------------- guest memory

export const PATH_MAX = 4096;

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

/** Decodes guest bytes to a JS string (paths are bytes; invalid UTF-8 round-trips lossy). */
export function decodeBytes(b: Uint8Array): string {
  return utf8.decode(b);
}

export function encodeString(s: string): Uint8Array {
  return utf8enc.encode(s);
}

/**
 * Reads a NUL-terminated path from guest memory. Returns the string, or a
 * negative errno: -EFAULT for a NULL or unmapped pointer, -ENAMETOOLONG when
 * no NUL appears within PATH_MAX bytes.
 */
export function readPath(t: Task, addr: number): string | number {
  if (addr === 0) return -EFAULT;
  const bytes = t.mem.readCString(addr, PATH_MAX);
  if (bytes === null) return -ENAMETOOLONG;
  return decodeBytes(bytes);
}

/** Reads a NUL-terminated string of at most max bytes (null when unterminated). GuestFault propagates. */
export function readCString(t: Task, addr: number, max = PATH_MAX): string | null {
  const bytes = t.mem.readCString(addr, max);
  return bytes === null ? null : decodeBytes(bytes);
}

/** Reads a NULL-terminated array of string pointers (argv, envp). */
export function readStringArray(t: Task, addr: number, maxCount = 1 << 16): string[] | number {
  const out: string[] = [];
  if (addr === 0) return out;
  for (let k = 0; k < maxCount; k++) {
    const p = readU64(t, addr + 8 * k);
    if (p === 0) return out;
    const s = readCString(t, p, 1 << 20);
    if (s === null) return -EFAULT;
    out.push(s);
  }
  return -EFAULT;
}

/** Reads a 64-bit unsigned value (exact below 2^53). */
export function readU64(t: Task, addr: number): number {
  const lo = t.mem.read64(addr);
  return (t.mem.hi >>> 0) * TWO32 + (lo >>> 0);
}

/** Reads a 64-bit signed value. */
export function readS64(t: Task, addr: number): number {
  const lo = t.mem.read64(addr);
  return t.mem.hi * TWO32 + (lo >>> 0);
}

/** Writes a 64-bit value given as a double (negative values are two's complement). */
export function writeU64(t: Task, addr: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  t.mem.write64(addr, (v - hi * TWO32) | 0, hi | 0);
}

export function readU32(t: Task, addr: number): number {
  return t.mem.read32(addr) >>> 0;
}

export function writeU32(t: Task, addr: number, v: number): void {
  t.mem.write32(addr, v | 0);
}

/**
 * Builds a little-endian struct in a host buffer and copies it to the guest
 * in one go, so a fault leaves guest memory untouched.
 */
export class StructWriter {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(off: number, v: number): this {
    this.bytes[off] = v;
    return this;
  }
  u16(off: number, v: number): this {
    this.view.setUint16(off, v, true);
    return this;
  }
  u32(off: number, v: number): this {
    this.view.setUint32(off, v >>> 0, true);
    return this;
  }
  i32(off: number, v: number): this {
    this.view.setInt32(off, v | 0, true);
    return this;
  }
  /** A 64-bit field from a double (negative values become two's complement). */
  u64(off: number, v: number): this {
    const hi = Math.floor(v / TWO32);
    this.view.setUint32(off, (v - hi * TWO32) >>> 0, true);
    this.view.setUint32(off + 4, hi >>> 0, true);
    return this;
  }
  big(off: number, v: bigint): this {
    this.view.setBigUint64(off, BigInt.asUintN(64, v), true);
    return this;
  }
  str(off: number, s: string, max: number): this {
    const b = encodeString(s).subarray(0, max - 1);
    this.bytes.set(b, off);
    return this;
  }
  writeTo(t: Task, addr: number): void {
    t.mem.writeBytes(addr, this.bytes);
  }
}

/** Reads a guest struct into a DataView (little-endian accessors). */
export function readStruct(t: Task, addr: number, size: number): DataView {
  const b = t.mem.readBytes(addr, size);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A 64-bit field of a DataView as a double. */
export function viewU64(v: DataView, off: number): number {
  return v.getUint32(off + 4, true) * TWO32 + v.getUint32(off, true);
}

export function viewS64(v: DataView, off: number): number {
  return v.getInt32(off + 4, true) * TWO32 + v.getUint32(off, true);
}

/** One element of an iovec array. */
export interface IoVec {
  base: number;
  len: number;
}

/** Reads an iovec array (struct iovec { void *base; size_t len; }). */
export function readIovecs(t: Task, addr: number, count: number): IoVec[] {
  const v = readStruct(t, addr, count * 16);
  const out: IoVec[] = [];
  for (let k = 0; k < count; k++) out.push({ base: viewU64(v, 16 * k), len: viewU64(v, 16 * k + 8) });
  return out;
}
