import { CF, Cpu, OF } from '../cpu.js';
import type { Instr } from '../instr.js';

/**
 * ADX: adcx (carry in and out through CF) and adox (through OF), reg += r/m
 * + flag; every other flag is left alone, which is the point: two
 * independent carry chains interleave in bignum multiplication.
 * i.sub: 0 = adcx, 1 = adox.
 */
export function adxAdd(c: Cpu, i: Instr): void {
  const s = i.opsize;
  const useOf = i.sub === 1;
  const cin = useOf ? c.getOF() : c.getCF();
  const b = c.readRM(i, s), bh = s === 8 ? c.hi : 0;
  const a = c.r[2 * i.reg], ah = s === 8 ? c.r[2 * i.reg + 1] : 0;
  const low = (a >>> 0) + (b >>> 0) + cin;
  let carry = low > 0xffffffff ? 1 : 0;
  let hi = 0;
  if (s === 8) {
    const high = (ah >>> 0) + (bh >>> 0) + carry;
    hi = high | 0;
    carry = high > 0xffffffff ? 1 : 0;
  }
  c.setReg(i.reg, s, low | 0, hi);
  c.setSomeFlags(useOf ? OF : CF, carry ? (useOf ? OF : CF) : 0);
}
