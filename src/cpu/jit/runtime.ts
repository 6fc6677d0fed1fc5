/**
 * What translated blocks call outside their inlined fast paths: the memory
 * slow paths (TLB miss, page crossing, watch/code pages, faults) and the
 * wide multiply helpers. Addresses arrive as two int32 halves and go to the
 * AddressSpace as the same double the interpreter would have computed.
 */
import type { Cpu } from '../cpu.js';
import { PARITY } from '../cpu.js';
import { mul64s, mulhs32, mulhu32, out } from '../arith.js';

const TWO32 = 4294967296;

export function rd8(c: Cpu, lo: number, hi: number): number {
  return c.mem.read8(hi * TWO32 + (lo >>> 0));
}
export function rd16(c: Cpu, lo: number, hi: number): number {
  return c.mem.read16(hi * TWO32 + (lo >>> 0));
}
export function rd32(c: Cpu, lo: number, hi: number): number {
  return c.mem.read32(hi * TWO32 + (lo >>> 0));
}
/** Low half returned; the high half is left in c.mem.hi. */
export function rd64(c: Cpu, lo: number, hi: number): number {
  return c.mem.read64(hi * TWO32 + (lo >>> 0));
}
export function wr8(c: Cpu, lo: number, hi: number, v: number): void {
  c.mem.write8(hi * TWO32 + (lo >>> 0), v);
}
export function wr16(c: Cpu, lo: number, hi: number, v: number): void {
  c.mem.write16(hi * TWO32 + (lo >>> 0), v);
}
export function wr32(c: Cpu, lo: number, hi: number, v: number): void {
  c.mem.write32(hi * TWO32 + (lo >>> 0), v);
}
export function wr64(c: Cpu, lo: number, hi: number, vl: number, vh: number): void {
  c.mem.write64(hi * TWO32 + (lo >>> 0), vl, vh);
}

/** Everything the generated factories destructure. */
export const RUNTIME = { rd8, rd16, rd32, rd64, wr8, wr16, wr32, wr64, PAR: PARITY, mulhs32, mulhu32, mul64s, OUT: out };
