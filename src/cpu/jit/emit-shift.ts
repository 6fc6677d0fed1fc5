/**
 * Translations of the group-2 shifts and rotates (shl/sal/shr/sar/rol/ror by
 * an immediate, 1 or cl). rcl/rcr stay in the interpreter.
 *
 * The formulas are those of ops/shift.ts; a count that is a literal lets V8
 * fold the selections away. A zero count changes nothing — not even the
 * flags — except that a 32-bit register destination is zero-extended; for a
 * memory operand it does not access memory at all.
 */
import { CF, OF, RCX } from '../cpu.js';
import { shiftRm } from '../ops/shift.js';
import { type Emitter, MASK } from './emitter.js';
import { ARITH_FLAGS, Res } from './flag-exprs.js';
import { translate } from './translator.js';

const ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;

interface Shifted { r: string; rh: string; cf: string; of: string }

/** ?: on a count that may be a literal. */
function pick(n: string, test: (k: number) => boolean, cond: string, a: string, b: string): string {
  if (/^\d+$/.test(n)) return test(Number(n)) ? a : b;
  return `(${cond} ? ${a} : ${b})`;
}

function msb(size: number, v: string): string {
  return size === 4 ? `(${v} >>> 31)` : `((${v} >>> ${size * 8 - 1}) & 1)`;
}

/** Operand sizes 1, 2, 4: a is the zero-extended (or int32) value, n in 1..31. */
function shiftSmall(g: Emitter, op: number, s: number, a: string, n: string): Shifted {
  const bits = s * 8, m = MASK[s];
  const r = g.t(), cf = g.t(), of = g.t();
  switch (op) {
    case SHL:
    case SAL: {
      const cfe = s === 4 ? `(${a} >>> (32 - ${n})) & 1` : pick(n, (k) => k <= bits, `${n} <= ${bits}`, `(${a} >>> (${bits} - ${n})) & 1`, '0');
      g.emit(`const ${r} = (${a} << ${n}) & ${m}, ${cf} = ${cfe}, ${of} = ${msb(s, r)} ^ ${cf};`);
      break;
    }
    case SHR:
      g.emit(`const ${r} = (${a} >>> ${n}) | 0, ${cf} = (${a} >>> (${n} - 1)) & 1, ${of} = ${msb(s, a)};`);
      break;
    case SAR: {
      const sa = s === 1 ? `((${a} << 24) >> 24)` : s === 2 ? `((${a} << 16) >> 16)` : a;
      g.emit(`const ${r} = (${sa} >> ${n}) & ${m}, ${cf} = (${sa} >> (${n} - 1)) & 1, ${of} = 0;`);
      break;
    }
    case ROL:
    case ROR: {
      const k = /^\d+$/.test(n) ? String(Number(n) % bits) : g.val(`${n} % ${bits}`);
      const rot = op === ROL ? `((${a} << ${k}) | (${a} >>> (${bits} - ${k}))) & ${m}` : `((${a} >>> ${k}) | (${a} << (${bits} - ${k}))) & ${m}`;
      g.emit(`const ${r} = ${pick(k, (x) => x === 0, `${k} === 0`, a, rot)};`);
      if (op === ROL) g.emit(`const ${cf} = ${r} & 1, ${of} = ${msb(s, r)} ^ ${cf};`);
      else g.emit(`const ${cf} = ${msb(s, r)}, ${of} = ${cf} ^ ((${r} >>> ${bits - 2}) & 1);`);
      break;
    }
  }
  return { r, rh: '0', cf, of };
}

/** 64-bit operand (a, ah), n in 1..63. */
function shiftWide(g: Emitter, op: number, a: string, ah: string, n: string): Shifted {
  const r = g.t(), rh = g.t(), cf = g.t(), of = g.t();
  const lt = (x: string, y: string) => pick(n, (k) => k < 32, `${n} < 32`, x, y);
  const eq = (x: string, y: string) => pick(n, (k) => k === 32, `${n} === 32`, x, y);
  switch (op) {
    case SHL:
    case SAL:
      g.emit(`const ${r} = ${lt(`${a} << ${n}`, '0')}, ${rh} = ${lt(`(${ah} << ${n}) | (${a} >>> (32 - ${n}))`, `${a} << (${n} - 32)`)};`);
      g.emit(`const ${cf} = ${lt(`(${ah} >>> (32 - ${n})) & 1`, eq(`${ah} & 1`, `(${a} >>> (64 - ${n})) & 1`))}, ${of} = (${rh} >>> 31) ^ ${cf};`);
      break;
    case SHR:
      g.emit(`const ${r} = ${lt(`(${a} >>> ${n}) | (${ah} << (32 - ${n}))`, `(${ah} >>> (${n} - 32)) | 0`)}, ${rh} = ${lt(`(${ah} >>> ${n}) | 0`, '0')};`);
      g.emit(`const ${cf} = ${lt(`(${a} >>> (${n} - 1)) & 1`, eq(`${a} >>> 31`, `(${ah} >>> (${n} - 33)) & 1`))}, ${of} = ${ah} >>> 31;`);
      break;
    case SAR:
      g.emit(`const ${r} = ${lt(`(${a} >>> ${n}) | (${ah} << (32 - ${n}))`, `${ah} >> (${n} - 32)`)}, ${rh} = ${lt(`${ah} >> ${n}`, `${ah} >> 31`)};`);
      g.emit(`const ${cf} = ${lt(`(${a} >>> (${n} - 1)) & 1`, eq(`${a} >>> 31`, `(${ah} >> (${n} - 33)) & 1`))}, ${of} = 0;`);
      break;
    case ROL:
    case ROR: {
      // Rotate left by k = n (rol) or 64 - n (ror), k in 1..63.
      const k = /^\d+$/.test(n) ? String(op === ROL ? Number(n) : 64 - Number(n)) : op === ROL ? n : g.val(`64 - ${n}`);
      const lt2 = (x: string, y: string) => pick(k, (v) => v < 32, `${k} < 32`, x, y);
      const eq2 = (x: string, y: string) => pick(k, (v) => v === 32, `${k} === 32`, x, y);
      g.emit(`const ${r} = ${lt2(`(${a} << ${k}) | (${ah} >>> (32 - ${k}))`, eq2(ah, `(${ah} << (${k} - 32)) | (${a} >>> (64 - ${k}))`))};`);
      g.emit(`const ${rh} = ${lt2(`(${ah} << ${k}) | (${a} >>> (32 - ${k}))`, eq2(a, `(${a} << (${k} - 32)) | (${ah} >>> (64 - ${k}))`))};`);
      if (op === ROL) g.emit(`const ${cf} = ${r} & 1, ${of} = (${rh} >>> 31) ^ ${cf};`);
      else g.emit(`const ${cf} = ${rh} >>> 31, ${of} = ${cf} ^ ((${rh} >>> 30) & 1);`);
      break;
    }
  }
  return { r, rh, cf, of };
}

/** A zero count changes nothing, but a 32-bit register destination is still written: its upper half becomes 0. */
function zeroUpperOnZeroCount(g: Emitter, i: { opsize: number; isMem: boolean; rm: number }): void {
  if (i.opsize !== 4 || i.isMem) return;
  g.markWritten(i.rm);
  g.emit(`${g.hi(i.rm)} = 0;`);
}

translate(shiftRm, {
  flags(i) {
    const op = i.sub;
    if (op === RCL || op === RCR) return [CF, 0];
    if (i.sub2 === 2) return [0, 0]; // a zero count leaves the flags alone
    const n = (i.sub2 === 1 ? 1 : i.imm) & (i.opsize === 8 ? 63 : 31);
    if (n === 0) return [0, 0];
    return op === ROL || op === ROR ? [0, CF | OF] : [0, ARITH_FLAGS];
  },
  throws: (i) => i.isMem,
  emit(g, i) {
    const s = i.opsize, op = i.sub;
    if (op === RCL || op === RCR) return false;
    const cmask = s === 8 ? 63 : 31;
    let n: string;
    const dyn = i.sub2 === 2;
    if (dyn) n = g.val(`${g.lo(RCX)} & ${cmask}`);
    else {
      const k = (i.sub2 === 1 ? 1 : i.imm) & cmask;
      if (k === 0) {
        zeroUpperOnZeroCount(g, i);
        return;
      }
      n = String(k);
    }
    const rot = op === ROL || op === ROR;
    const needFlags = g.live(rot ? CF | OF : ARITH_FLAGS);
    // A rotate by a constant after a producer known here keeps that producer's other flags in the locals.
    const over = needFlags && rot && !dyn && g.flagsPending();
    if (dyn) {
      // Flags survive a zero count: keep the previous ones in the Cpu.
      if (needFlags) g.syncFlags();
      g.emit(`if (${n} !== 0) {`);
    } else if (needFlags && rot && !over) g.syncFlags();
    let al = '', ah = '', a: string, aH: string;
    if (i.isMem) {
      [al, ah] = g.ea(i);
      [a, aH] = g.load(s, al, ah);
    } else {
      a = g.get(i.rm, s);
      aH = s === 8 ? g.hi(i.rm) : '0';
    }
    const res = s === 8 ? shiftWide(g, op, a, aH, n) : shiftSmall(g, op, s, a, n);
    if (i.isMem) g.store(s, al, ah, res.r, res.rh);
    if (needFlags) {
      if (over) g.overrideCfOf(res.cf, res.of);
      else if (rot) g.emit(`c.setSomeFlags(${CF | OF}, ${res.cf} | (${res.of} << 11));`);
      else {
        g.produce(Res, s, { r: res.r, rh: res.rh, cf: res.cf, of: res.of });
        if (dyn) g.syncFlags();
      }
    }
    if (!i.isMem) g.set(i.rm, s, res.r, res.rh);
    if (dyn) {
      if (s === 4 && !i.isMem) {
        g.emit(`} else {`);
        zeroUpperOnZeroCount(g, i);
      }
      g.emit(`}`);
    }
    if (needFlags && (rot || dyn) && !over) g.flags = { kind: 'cpu' };
  },
});
