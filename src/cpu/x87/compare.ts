/**
 * Comparisons: fcom/fcomp/fcompp, fucom/fucomp/fucompp, ficom/ficomp,
 * fcomi/fcomip/fucomi/fucomip, ftst, fxam.
 */
import type { ExecFn } from '../instr.js';
import { classify, compare, CMP_UN, DENORMAL, fx, INF, NORMAL, QNAN, R, SNAN, UNSUPPORTED, ZERO } from './softfloat.js';
import { begin, C0, C2, C3, commit, isEmpty, mayStore, phys, pop, regHi, regLo, regSe, setCC, underflow } from './stack.js';
import type { MemLoad } from './loadstore.js';

/** EFLAGS bits (local copies: avoids an import cycle with cpu.ts). */
const CF = 1, PF = 4, AF = 16, ZF = 64, EFL_SF = 128, OF = 2048;

/** Condition codes for CMP_GT, CMP_LT, CMP_EQ, CMP_UN. */
const CC_OF = [0, C0, C3, C3 | C2 | C0];
const EFLAGS_OF = [0, CF, ZF, ZF | PF | CF];
const CC_BITS = C0 | C2 | C3;

/** fcom/fcomp/ficom/ficomp with a memory operand. */
export function fcomMem(load: MemLoad, popAfter: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87, a = c.ea(i);
    begin(x, i);
    x.fdp = a;
    load(c, a);
    const p = x.top;
    let r = CMP_UN;
    if (isEmpty(x, p)) underflow();
    else r = compare(regSe(x, p), regHi(x, p), regLo(x, p), R.se, R.hi, R.lo, true);
    const ok = mayStore(x);
    commit(x);
    if (ok) {
      setCC(x, CC_BITS, CC_OF[r]);
      if (popAfter) pop(x);
    }
  };
}

/** fcom/fucom ST(i) with 0, 1 or 2 pops (signaling = fcom). */
export function fcomReg(signaling: boolean, pops: number): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p0 = x.top, pi = phys(x, i.sub);
    let r = CMP_UN;
    if (isEmpty(x, p0) || isEmpty(x, pi)) underflow();
    else r = compare(regSe(x, p0), regHi(x, p0), regLo(x, p0), regSe(x, pi), regHi(x, pi), regLo(x, pi), signaling);
    const ok = mayStore(x);
    commit(x);
    if (ok) {
      setCC(x, CC_BITS, CC_OF[r]);
      for (let k = 0; k < pops; k++) pop(x);
    }
  };
}

/** fcomi/fucomi/fcomip/fucomip: the result goes to ZF, PF, CF (OF, SF, AF cleared). */
export function fcomi(signaling: boolean, popAfter: boolean): ExecFn {
  return (c, i) => {
    const x = c.x87;
    begin(x, i);
    const p0 = x.top, pi = phys(x, i.sub);
    let r = CMP_UN;
    if (isEmpty(x, p0) || isEmpty(x, pi)) underflow();
    else r = compare(regSe(x, p0), regHi(x, p0), regLo(x, p0), regSe(x, pi), regHi(x, pi), regLo(x, pi), signaling);
    const ok = mayStore(x);
    commit(x);
    if (ok) {
      c.setSomeFlags(ZF | PF | CF | OF | EFL_SF | AF, EFLAGS_OF[r]);
      if (popAfter) pop(x);
    }
  };
}

export const ftst: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  const p = x.top;
  let r = CMP_UN;
  if (isEmpty(x, p)) underflow();
  else r = compare(regSe(x, p), regHi(x, p), regLo(x, p), 0, 0, 0, true);
  const ok = mayStore(x);
  commit(x);
  if (ok) setCC(x, CC_BITS, CC_OF[r]);
};

/** Class → C3 C2 C0 for fxam. */
const FXAM_CC: number[] = [];
FXAM_CC[ZERO] = C3;
FXAM_CC[NORMAL] = C2;
FXAM_CC[DENORMAL] = C3 | C2;
FXAM_CC[INF] = C2 | C0;
FXAM_CC[QNAN] = C0;
FXAM_CC[SNAN] = C0;
FXAM_CC[UNSUPPORTED] = 0;

export const fxam: ExecFn = (c, i) => {
  const x = c.x87;
  begin(x, i);
  const p = x.top;
  const se = regSe(x, p);
  fx.up = se >>> 15;
  commit(x);
  setCC(x, CC_BITS, isEmpty(x, p) ? C3 | C0 : FXAM_CC[classify(se, regHi(x, p), regLo(x, p))]);
};
