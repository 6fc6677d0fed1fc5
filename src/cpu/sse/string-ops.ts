/**
 * SSE4.2 string compares: pcmpestri/pcmpestrm (explicit lengths in rax/rdx)
 * and pcmpistri/pcmpistrm (lengths from the first null element). The first
 * operand (register, slot A) holds the set/ranges/needle, the second (slot B)
 * the text. imm8: [1:0] element type (ub, uw, sb, sw), [3:2] aggregation
 * (equal any, ranges, equal each, equal ordered), [5:4] polarity, [6] index
 * from the top / expanded mask.
 */
import type { Cpu } from '../cpu.js';
import { CF, OF, SF, ZF } from '../cpu.js';
import type { ExecFn, Instr } from '../instr.js';
import { I16, I8, S, Src, U16, U8, loader } from './scratch.js';

const ea = new Int32Array(16);
const eb = new Int32Array(16);

function loadElements(imm: number): number {
  switch (imm & 3) {
    case 0: for (let k = 0; k < 16; k++) { ea[k] = U8[k]; eb[k] = U8[16 + k]; } return 16;
    case 1: for (let k = 0; k < 8; k++) { ea[k] = U16[k]; eb[k] = U16[8 + k]; } return 8;
    case 2: for (let k = 0; k < 16; k++) { ea[k] = I8[k]; eb[k] = I8[16 + k]; } return 16;
    default: for (let k = 0; k < 8; k++) { ea[k] = I16[k]; eb[k] = I16[8 + k]; } return 8;
  }
}

function implicitLength(e: Int32Array, n: number): number {
  for (let k = 0; k < n; k++) if (e[k] === 0) return k;
  return n;
}
/** |rax| or |rdx| (32- or 64-bit), saturated to n. */
function explicitLength(c: Cpu, reg: number, wide: boolean, n: number): number {
  const lo = c.r[2 * reg];
  const v = wide ? c.r[2 * reg + 1] * 4294967296 + (lo >>> 0) : lo;
  const m = Math.abs(v);
  return m > n ? n : m;
}

/** IntRes2 as a bit mask; sets EFLAGS. */
function compare(c: Cpu, imm: number, n: number, la: number, lb: number): number {
  let res = 0;
  switch ((imm >> 2) & 3) {
    case 0: // equal any
      for (let j = 0; j < lb; j++) {
        const b = eb[j];
        for (let k = 0; k < la; k++) if (ea[k] === b) { res |= 1 << j; break; }
      }
      break;
    case 1: // ranges: pairs [a0,a1], [a2,a3], …
      for (let j = 0; j < lb; j++) {
        const b = eb[j];
        for (let k = 0; k + 1 < la; k += 2) if (ea[k] <= b && b <= ea[k + 1]) { res |= 1 << j; break; }
      }
      break;
    case 2: // equal each
      for (let j = 0; j < n; j++) {
        const va = j < la, vb = j < lb;
        if (va && vb ? ea[j] === eb[j] : !va && !vb) res |= 1 << j;
      }
      break;
    default: // equal ordered (substring)
      for (let j = 0; j < n; j++) {
        let ok = true;
        for (let k = 0; k < n - j; k++) {
          if (k >= la) break;
          if (j + k >= lb || ea[k] !== eb[j + k]) { ok = false; break; }
        }
        if (ok) res |= 1 << j;
      }
  }
  const all = (1 << n) - 1;
  switch ((imm >> 4) & 3) {
    case 1: res ^= all; break;
    case 3: res ^= (1 << lb) - 1; break;
  }
  // fother holds no arithmetic bits: this replaces exactly the six arithmetic flags.
  c.setEflags(c.fother | (res !== 0 ? CF : 0) | (lb < n ? ZF : 0) | (la < n ? SF : 0) | (res & 1 ? OF : 0));
  return res;
}

function writeIndex(c: Cpu, imm: number, n: number, res: number): void {
  let idx = n;
  if (res !== 0) idx = imm & 0x40 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
  c.setReg(1, 4, idx, 0); // ecx
}
function writeMask(c: Cpu, imm: number, n: number, res: number): void {
  const x = c.xmm;
  if (!(imm & 0x40)) {
    x[0] = res; x[1] = 0; x[2] = 0; x[3] = 0;
    return;
  }
  if (n === 16) for (let k = 0; k < 16; k++) c.xmmU8[k] = res & (1 << k) ? 0xff : 0;
  else for (let k = 0; k < 8; k++) c.xmmU16[k] = res & (1 << k) ? 0xffff : 0;
}

/** pcmpestri/pcmpestrm/pcmpistri/pcmpistrm (66 0F 3A 60..63). Unaligned memory operands are allowed. */
export function pcmpstr(i: Instr, explicit: boolean, index: boolean): ExecFn {
  const load = loader(i, Src.M128U);
  const wide = i.rexW;
  return (c, i) => {
    const x = c.xmm, d = i.reg << 2;
    S[0] = x[d]; S[1] = x[d + 1]; S[2] = x[d + 2]; S[3] = x[d + 3];
    load(c, i);
    const imm = i.imm;
    const n = loadElements(imm);
    const la = explicit ? explicitLength(c, 0, wide, n) : implicitLength(ea, n);
    const lb = explicit ? explicitLength(c, 2, wide, n) : implicitLength(eb, n);
    const res = compare(c, imm, n, la, lb);
    if (index) writeIndex(c, imm, n, res);
    else writeMask(c, imm, n, res);
  };
}
