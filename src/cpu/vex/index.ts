import type { ExecFn, Instr } from '../instr.js';
import { andn, bextr, blsGroup, bzhi, mulx, pdep, pext, rorx, shiftX } from './bmi.js';
import { adxAdd } from './adx.js';

/**
 * VEX-encoded and ADX instructions. The decoder has parsed the prefix
 * (i.vex, i.vvvv, i.vexL, i.rexW, i.map, i.op), ModRM and an imm8 for map
 * 0F3A; prefix is the VEX.pp (or legacy mandatory) prefix. null = SIGILL.
 *
 * Implemented: BMI1 (andn, bextr, blsi, blsmsk, blsr), BMI2 (bzhi, pdep,
 * pext, rorx, sarx, shlx, shrx, mulx), ADX (adcx, adox; legacy-encoded).
 * No AVX: every other VEX encoding is undefined here, as CPUID says.
 */
export function decodeVex(i: Instr, prefix: number): ExecFn | null {
  if (!i.vex) return decodeAdx(i, prefix);
  // A legacy 66/F2/F3/LOCK prefix before a VEX prefix is #UD; the BMI forms are all LZ (VEX.L = 0).
  if (i.p66 || i.rep || i.lock || i.vexL !== 0) return null;
  if (i.map === 0x0f38) {
    switch (i.op) {
      case 0xf2: return prefix === 0 ? andn : null;
      case 0xf3: {
        if (prefix !== 0) return null;
        const r = i.reg & 7;
        if (r < 1 || r > 3) return null;
        i.sub = r;
        return blsGroup;
      }
      case 0xf5: return prefix === 0 ? bzhi : prefix === 0xf3 ? pext : prefix === 0xf2 ? pdep : null;
      case 0xf6: return prefix === 0xf2 ? mulx : null;
      case 0xf7:
        if (prefix === 0) return bextr;
        i.sub = prefix === 0x66 ? 0 : prefix === 0xf2 ? 1 : 2; // shlx / shrx / sarx
        return shiftX;
    }
    return null;
  }
  if (i.map === 0x0f3a && i.op === 0xf0 && prefix === 0xf2) {
    return i.vvvv === 0 ? rorx : null; // VEX.vvvv must be 1111b
  }
  return null;
}

/** Legacy 66 / F3 0F 38 F6: adcx / adox. The 66 is a mandatory prefix here, not an operand-size override. */
function decodeAdx(i: Instr, prefix: number): ExecFn | null {
  if (i.lock) return null;
  i.opsize = i.rexW ? 8 : 4;
  i.sub = prefix === 0xf3 ? 1 : 0;
  return adxAdd;
}
