/**
 * JavaScript expressions for the arithmetic flags of a flag-setting
 * operation whose operands live in the translated block's locals.
 *
 * The generated function keeps the last producer's operands in the locals
 * fa/fah, fb/fbh, fr/frh (result), fci (carry in, or the preserved CF of
 * inc/dec) and fcf/fof (explicit CF/OF of shifts and multiplies). Which
 * operation and size produced them is known when the code is generated, so a
 * `cmp; jl` becomes `fa < fb` with no lazy-flag state stored at all.
 *
 * The formulas mirror Cpu.getCF()/getOF()/… exactly: the interpreter's lazy
 * flags and these must agree bit for bit (test/engine-diff.test.ts checks it).
 */
import { ARITH_FLAGS, CF, FlagOp, OF, PF, SF, ZF } from '../cpu.js';

/**
 * Producer kinds: the FlagOp values of the interpreter, plus Res: CF and OF
 * are explicit (fcf/fof), AF is 0 and ZF/SF/PF follow the result (shifts,
 * multiplies — what the interpreter stores as FlagOp.Explicit).
 */
export const Res = 100;

/**
 * Producer kinds base + WithCfOf: the base producer's flags with CF and OF
 * explicit (fcf/fof) — what a rotate leaves, which writes only CF and OF.
 * cf()/of() fall to fcf/fof for them; ZF, SF and PF follow the base's result.
 */
export const WithCfOf = 128;

/** A flag producer known at translation time: operation and operand size. */
export interface Producer {
  op: number;
  size: number;
}

export { ARITH_FLAGS };

/** Flags a condition code (Jcc/SETcc/CMOVcc) reads. */
export function condReads(cc: number): number {
  switch (cc >> 1) {
    case 0: return OF;
    case 1: return CF;
    case 2: return ZF;
    case 3: return CF | ZF;
    case 4: return SF;
    case 5: return PF;
    case 6: return SF | OF;
    default: return ZF | SF | OF;
  }
}

// Compound conditions use | and & rather than || and &&: every comparison is
// then evaluated each time, so V8 has type feedback for all of them before it
// optimizes (a comparison first reached later would deoptimize the region).

function ult64(ah: string, al: string, bh: string, bl: string): string {
  return `(((${ah} >>> 0) < (${bh} >>> 0)) | ((${ah} === ${bh}) & ((${al} >>> 0) < (${bl} >>> 0))))`;
}

/** Sign-extends a size-1/2 masked value for signed comparison. */
function sx(v: string, size: number): string {
  if (size === 1) return `((${v} << 24) >> 24)`;
  if (size === 2) return `((${v} << 16) >> 16)`;
  return v;
}

function topBit(size: number): number {
  return size === 1 ? 0x80 : 0x8000;
}

export function zf(p: Producer): string {
  return p.size === 8 ? `((fr | frh) === 0)` : `(fr === 0)`;
}

export function sf(p: Producer): string {
  switch (p.size) {
    case 8: return `(frh < 0)`;
    case 4: return `(fr < 0)`;
    default: return `((fr & ${topBit(p.size)}) !== 0)`;
  }
}

export function pf(_p: Producer): string {
  return `(PAR[fr & 255] === 1)`;
}

export function cf(p: Producer): string {
  const s8 = p.size === 8;
  switch (p.op) {
    case FlagOp.Add:
      return s8 ? ult64('frh', 'fr', 'fah', 'fa') : `((fr >>> 0) < (fa >>> 0))`;
    case FlagOp.Adc:
      return s8
        ? `(${ult64('frh', 'fr', 'fah', 'fa')} | ((fci !== 0) & (frh === fah) & (fr === fa)))`
        : `(fci !== 0 ? (fr >>> 0) <= (fa >>> 0) : (fr >>> 0) < (fa >>> 0))`;
    case FlagOp.Sub:
      return s8 ? ult64('fah', 'fa', 'fbh', 'fb') : `((fa >>> 0) < (fb >>> 0))`;
    case FlagOp.Sbb:
      return s8
        ? `(${ult64('fah', 'fa', 'fbh', 'fb')} | ((fci !== 0) & (fah === fbh) & (fa === fb)))`
        : `(fci !== 0 ? (fa >>> 0) <= (fb >>> 0) : (fa >>> 0) < (fb >>> 0))`;
    case FlagOp.Logic:
      return 'false';
    case FlagOp.Inc:
    case FlagOp.Dec:
      return `(fci !== 0)`;
    default:
      return `(fcf !== 0)`;
  }
}

export function of(p: Producer): string {
  let v: string;
  const s8 = p.size === 8;
  switch (p.op) {
    case FlagOp.Add:
    case FlagOp.Adc:
    case FlagOp.Inc:
      v = s8 ? `((fah ^ frh) & (fbh ^ frh))` : `((fa ^ fr) & (fb ^ fr))`;
      break;
    case FlagOp.Sub:
    case FlagOp.Sbb:
    case FlagOp.Dec:
      v = s8 ? `((fah ^ fbh) & (fah ^ frh))` : `((fa ^ fb) & (fa ^ fr))`;
      break;
    case FlagOp.Logic:
      return 'false';
    default:
      return `(fof !== 0)`;
  }
  return p.size >= 4 ? `(${v} < 0)` : `((${v} & ${topBit(p.size)}) !== 0)`;
}

/** CF as an int 0/1. */
export function cfInt(p: Producer): string {
  return `(${cf(p)} ? 1 : 0)`;
}

/** A boolean expression for condition code cc given the pending producer. */
export function cond(p: Producer, cc: number): string {
  const neg = (e: string) => `!${e}`;
  // Fast forms for the common producers.
  if (p.op === FlagOp.Sub && p.size !== 8) {
    const s = p.size;
    switch (cc) {
      case 2: return `((fa >>> 0) < (fb >>> 0))`;
      case 3: return `((fa >>> 0) >= (fb >>> 0))`;
      case 4: return `(fa === fb)`;
      case 5: return `(fa !== fb)`;
      case 6: return `((fa >>> 0) <= (fb >>> 0))`;
      case 7: return `((fa >>> 0) > (fb >>> 0))`;
      case 0xc: return `(${sx('fa', s)} < ${sx('fb', s)})`;
      case 0xd: return `(${sx('fa', s)} >= ${sx('fb', s)})`;
      case 0xe: return `(${sx('fa', s)} <= ${sx('fb', s)})`;
      case 0xf: return `(${sx('fa', s)} > ${sx('fb', s)})`;
    }
  }
  if (p.op === FlagOp.Sub && p.size === 8) {
    switch (cc) {
      case 2: return `(${ult64('fah', 'fa', 'fbh', 'fb')} !== 0)`;
      case 3: return `(${ult64('fah', 'fa', 'fbh', 'fb')} === 0)`;
      case 4: return `(((fa ^ fb) | (fah ^ fbh)) === 0)`;
      case 5: return `(((fa ^ fb) | (fah ^ fbh)) !== 0)`;
      case 0xc: return `(((fah < fbh) | ((fah === fbh) & ((fa >>> 0) < (fb >>> 0)))) !== 0)`;
      case 0xd: return `(((fah < fbh) | ((fah === fbh) & ((fa >>> 0) < (fb >>> 0)))) === 0)`;
    }
  }
  if (p.op === FlagOp.Logic) {
    // CF = OF = 0: signed conditions reduce to the result's sign.
    switch (cc) {
      case 0: case 2: return 'false';
      case 1: case 3: return 'true';
      case 6: return zf(p);
      case 7: return neg(zf(p));
      case 0xc: return sf(p);
      case 0xd: return neg(sf(p));
      case 0xe: return `(${zf(p)} | ${sf(p)})`;
      case 0xf: return `!(${zf(p)} | ${sf(p)})`;
    }
  }
  let v: string;
  switch (cc >> 1) {
    case 0: v = of(p); break;
    case 1: v = cf(p); break;
    case 2: v = zf(p); break;
    case 3: v = `(${cf(p)} | ${zf(p)})`; break;
    case 4: v = sf(p); break;
    case 5: v = pf(p); break;
    case 6: v = `(${sf(p)} !== ${of(p)})`; break;
    default: v = `(${zf(p)} | (${sf(p)} !== ${of(p)}))`; break;
  }
  return (cc & 1) === 0 ? v : neg(v);
}

/** Statements storing the pending producer into the Cpu's lazy-flag fields (what the interpreter would have left there). */
export function materialize(p: Producer): string {
  if (p.op > WithCfOf) return `${materialize({ op: p.op - WithCfOf, size: p.size })} c.setSomeFlags(${CF | OF}, fcf | (fof << 11));`;
  const s8 = p.size === 8;
  if (p.op === Res) {
    const z = s8 ? `((fr | frh) === 0 ? ${ZF} : 0)` : `(fr === 0 ? ${ZF} : 0)`;
    const sg = `(${sf(p)} ? ${SF} : 0)`;
    return `c.fop = 0; c.fexp = fcf | (PAR[fr & 255] << 2) | ${z} | ${sg} | (fof << 11);`;
  }
  let s = `c.fop = ${p.op}; c.fsz = ${p.size}; c.fres = fr;`;
  if (s8) s += ' c.fresh = frh;';
  if (p.op !== FlagOp.Logic) {
    s += ' c.fa = fa; c.fb = fb;';
    if (s8) s += ' c.fah = fah; c.fbh = fbh;';
  }
  if (p.op === FlagOp.Adc || p.op === FlagOp.Sbb || p.op === FlagOp.Inc || p.op === FlagOp.Dec) s += ' c.fcin = fci;';
  return s;
}

export { CF, OF, PF, SF, ZF };
