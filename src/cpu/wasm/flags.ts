/**
 * The arithmetic flags in WebAssembly: the interpreter's lazy-flag formulas
 * (Cpu.getCF() … getAF()) as code over i64 operands held zero-extended to
 * the operation size, and the shared helper module whose `mat` function
 * materializes a producer described at run time.
 *
 * They must agree bit for bit with the interpreter's (test/engine-diff checks).
 */
import { FlagOp } from '../cpu.js';
import { FunctionBody, I32, I64, Op, moduleOf } from './encoder.js';

/** The mask of an operand size as an i64 constant. */
export const SIZE_MASK: Record<number, bigint> = { 1: 0xffn, 2: 0xffffn, 4: 0xffffffffn, 8: -1n };

/** Where a producer's operands are: locals (i64: a, b, r; i32: cin — the carry in of adc/sbb, the kept CF of inc/dec). */
export interface Operands {
  a: number;
  b: number;
  r: number;
  cin: number;
}

/** Pushes bit (bits - 1) of the i64 local v as an i32 0/1. */
export function pushSign(f: FunctionBody, v: number, size: number): void {
  f.get(v).i64(size * 8 - 1).op(Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
}

/** Pushes (a <u b), or (a <=u b) when orEqual is the i32 local given (cin). */
function carryCompare(f: FunctionBody, a: number, b: number, cin: number | null): void {
  if (cin === null) {
    f.get(a).get(b).op(Op.i64LtU);
    return;
  }
  // cin ? a <=u b : a <u b
  f.get(a).get(b).op(Op.i64LeU).get(a).get(b).op(Op.i64LtU).get(cin).op(Op.select);
}

/** Pushes CF (i32 0/1) of a producer op of this size. */
export function pushCF(f: FunctionBody, op: number, o: Operands): void {
  switch (op) {
    case FlagOp.Add: carryCompare(f, o.r, o.a, null); return;
    case FlagOp.Adc: carryCompare(f, o.r, o.a, o.cin); return;
    case FlagOp.Sub: carryCompare(f, o.a, o.b, null); return;
    case FlagOp.Sbb: carryCompare(f, o.a, o.b, o.cin); return;
    case FlagOp.Inc:
    case FlagOp.Dec: f.get(o.cin); return;
    default: f.i32(0);
  }
}

/** Pushes OF. */
export function pushOF(f: FunctionBody, op: number, size: number, o: Operands): void {
  switch (op) {
    case FlagOp.Add:
    case FlagOp.Adc:
    case FlagOp.Inc:
      f.get(o.a).get(o.r).op(Op.i64Xor).get(o.b).get(o.r).op(Op.i64Xor).op(Op.i64And);
      break;
    case FlagOp.Sub:
    case FlagOp.Sbb:
    case FlagOp.Dec:
      f.get(o.a).get(o.b).op(Op.i64Xor).get(o.a).get(o.r).op(Op.i64Xor).op(Op.i64And);
      break;
    default:
      f.i32(0);
      return;
  }
  f.i64(size * 8 - 1).op(Op.i64ShrU, Op.i32WrapI64).i32(1).op(Op.i32And);
}

/** Pushes ZF of the result r. */
export function pushZF(f: FunctionBody, r: number): void {
  f.get(r).op(Op.i64Eqz);
}

/** Pushes PF: even parity of the result r's low byte. */
export function pushPF(f: FunctionBody, r: number): void {
  f.get(r).op(Op.i32WrapI64).i32(255).op(Op.i32And, Op.i32Popcnt).i32(1).op(Op.i32And).i32(1).op(Op.i32Xor);
}

/** Pushes AF. */
export function pushAF(f: FunctionBody, op: number, o: Operands): void {
  if (op === FlagOp.Logic) {
    f.i32(0);
    return;
  }
  f.get(o.a).get(o.b).op(Op.i64Xor).get(o.r).op(Op.i64Xor).op(Op.i32WrapI64).i32(4).op(Op.i32ShrU).i32(1).op(Op.i32And);
}

/** Pushes all six arithmetic flags as EFLAGS bits. */
export function pushFlags(f: FunctionBody, op: number, size: number, o: Operands): void {
  pushCF(f, op, o);
  pushPF(f, o.r);
  f.i32(2).op(Op.i32Shl, Op.i32Or);
  pushAF(f, op, o);
  f.i32(4).op(Op.i32Shl, Op.i32Or);
  pushZF(f, o.r);
  f.i32(6).op(Op.i32Shl, Op.i32Or);
  pushSign(f, o.r, size);
  f.i32(7).op(Op.i32Shl, Op.i32Or);
  pushOF(f, op, size, o);
  f.i32(11).op(Op.i32Shl, Op.i32Or);
}

/** Flag ops a lazy producer can be (FlagOp.Explicit excluded). */
const OPS = [FlagOp.Add, FlagOp.Adc, FlagOp.Sub, FlagOp.Sbb, FlagOp.Logic, FlagOp.Inc, FlagOp.Dec];
const SIZES = [1, 2, 4, 8];

/**
 * mat(op, size, a, b, r, cin, fl) → EFLAGS arithmetic bits: fl itself for
 * op 0 (explicit), else the producer's flags. Operands may carry stale high
 * bits above the size (the interpreter keeps 32-bit values as int32): they
 * are masked first.
 */
function matFunction(): FunctionBody {
  const f = new FunctionBody([I32, I32, I64, I64, I64, I32, I32], [I32]);
  const o: Operands = { a: 2, b: 3, r: 4, cin: 5 };
  f.get(0).op(Op.i32Eqz).open('if', 'x').get(6).op(Op.return).end();
  for (const size of SIZES) {
    f.get(1).i32(size).op(Op.i32Eq).open('if', 's');
    if (size !== 8) for (const l of [o.a, o.b, o.r]) f.get(l).i64(SIZE_MASK[size]).op(Op.i64And).set(l);
    for (const op of OPS) {
      f.get(0).i32(op).op(Op.i32Eq).open('if', 'o');
      pushFlags(f, op, size, o);
      f.op(Op.return).end();
    }
    f.end();
  }
  f.get(6);
  return f;
}

/** mat's type (region code calls it through the helper table: helpers.ts). */
export const MAT_TYPE = { params: [I32, I32, I64, I64, I64, I32, I32], results: [I32] };

let mat: unknown = null;

/** The mat function (one instance per process: it touches no memory). */
export function matHelper(): unknown {
  if (mat === null) mat = new WebAssembly.Instance(new WebAssembly.Module(moduleOf(matFunction(), null, [], { name: 'mat' }))).exports.f;
  return mat;
}
