/** crc32 r32/r64, r/m8|16|32|64 (F2 0F 38 F0/F1): CRC-32C (Castagnoli), bit-reflected, no inversion. */
import type { ExecFn, Instr } from '../instr.js';

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let v = n;
  for (let k = 0; k < 8; k++) v = v & 1 ? (v >>> 1) ^ 0x82f63b78 : v >>> 1;
  TABLE[n] = v;
}

function step(crc: number, byte: number): number {
  return TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
}
function bytes(crc: number, v: number, count: number): number {
  for (let k = 0; k < count; k++) crc = step(crc, v >>> (8 * k));
  return crc;
}

/** op 0xF0 takes a byte source; 0xF1 a word (66), dword or qword (REX.W) source. The destination is r32 (r64 with REX.W: upper half zeroed). */
export function crc32(i: Instr): ExecFn {
  let size = i.op === 0xf0 ? 1 : i.rexW ? 8 : i.p66 ? 2 : 4;
  if (size === 1 && !i.isMem && !i.rex && i.rm >= 4 && i.rm < 8) {
    // Without REX, byte registers 4..7 are ah, ch, dh, bh (encoded 16..19 in this emulator).
    return (c, i) => c.setReg(i.reg, 4, bytes(c.r[2 * i.reg], c.get8(i.rm + 12), 1), 0);
  }
  const sz = size;
  if (sz === 8) {
    return (c, i) => {
      const lo = c.readRM(i, 8), hi = c.hi;
      c.setReg(i.reg, 4, bytes(bytes(c.r[2 * i.reg], lo, 4), hi, 4), 0);
    };
  }
  return (c, i) => c.setReg(i.reg, 4, bytes(c.r[2 * i.reg], c.readRM(i, sz), sz), 0);
}
