// The layout question of cpu/wasm/layout.ts, in isolation: a region of 13 blocks
// (16 i64 "registers", a budget check per block) whose blocks 1-4 are a loop
// with an if/else, run 50M iterations three ways:
//   A0: every branch that does not fall through sets the block index and goes
//       round one loop around the whole region, through its br_table (the old layout);
//   A1: as A0, but forward branches br straight to the later block's label;
//   B:  the loop's blocks inside a wasm `loop` of their own (the layout now):
//       its back edge branches to that label, entering it checks bi == head first.
// Run after `npm run build`: node scripts/experiments/wasm-loop-layout.mjs
// 2026-11-28, this 2-vCPU VM (ms per 50M iterations, rounds 2-4 of 4, taskset -c 0):
//   A0 345-791, A1 376-675, B 108-341 (B about twice as fast; A1 no faster than A0).
import { FunctionBody, moduleOf, Op, I32, I64 } from '../../dist/cpu/wasm/encoder.js';
const memory = new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true });
new Uint8Array(memory.buffer).forEach((_, i, a) => { a[i] = (i * 2654435761 >>> 13) & 255; });
function build(variant) {
  const f = new FunctionBody([I32, I32], [I32]);
  const r = []; for (let k = 0; k < 16; k++) r.push(f.local(I64));
  const bi = f.local(I32), done = f.local(I32);
  const head = () => { f.get(done).get(0).op(Op.i32GeS).open('if', 'bud').i32(-1).op(Op.return).end(); f.get(done).i32(1).op(Op.i32Add).set(done); };
  const code = {
    0: () => { for (let k = 0; k < 16; k++) f.i64(k * 3 + 1).set(r[k]); f.i64(0).set(r[3]); f.i64(50_000_000).set(r[7]); },
    1: () => { f.get(r[2]).i64(0xfff).op(Op.i64And).op(Op.i32WrapI64).mem(Op.i64Load8U).set(r[1]); f.get(r[4]).get(r[1]).op(Op.i64Add).set(r[4]); },
    2: () => { f.get(r[5]).get(r[1]).op(Op.i64Add).set(r[5]); f.get(r[8]).i64(3).op(Op.i64Mul).set(r[8]); },
    3: () => { f.get(r[6]).get(r[1]).op(Op.i64Xor).set(r[6]); f.get(r[9]).get(r[5]).op(Op.i64Add).set(r[9]); },
    4: () => { f.get(r[3]).i64(1).op(Op.i64Add).set(r[3]); f.get(r[2]).i64(7).op(Op.i64Add).set(r[2]); },
  };
  for (let b = 5; b <= 12; b++) code[b] = () => { for (let k = 0; k < 16; k++) f.get(r[k]).get(r[(k + b) % 16]).op(Op.i64Add).set(r[k]); };
  const ret = () => { let first = true; for (let k = 0; k < 16; k++) { f.get(r[k]); if (!first) f.op(Op.i64Xor); first = false; } f.op(Op.i32WrapI64).op(Op.return); };
  const cond1 = () => f.get(r[1]).i64(1).op(Op.i64And).op(Op.i32WrapI64); // true → a(2)
  const cond4 = () => f.get(r[3]).get(r[7]).op(Op.i64LtS); // true → h(1)
  f.get(1).set(bi);
  f.open('block', 'exit').open('loop', 'L');
  if (variant !== 'B') {
    for (let b = 12; b >= 0; b--) f.open('block', `c${b}`);
    f.get(bi).brTable([...Array(13).keys()].map((b) => `c${b}`), 'exit');
    const fwd = variant === 'A1';
    const go = (from, to) => { if (to === from + 1) return; if (fwd && to > from) f.br(`c${to}`); else f.i32(to).set(bi).br('L'); };
    for (let b = 0; b <= 12; b++) {
      f.end(); head(); code[b]();
      if (b === 1) { cond1(); f.op(Op.i32Eqz).open('if', 's'); go(1, 3); f.end(); }
      else if (b === 2) go(2, 4);
      else if (b === 4) { cond4(); f.open('if', 's'); go(4, 1); f.end(); }
      else if (b === 12) ret();
    }
  } else {
    for (let b = 12; b >= 5; b--) f.open('block', `c${b}`);
    f.open('block', 'cLoop').open('block', 'c0');
    f.get(bi).brTable(['c0', 'cLoop', 'cLoop', 'cLoop', 'cLoop', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11', 'c12'], 'exit');
    f.end(); head(); code[0](); f.i32(1).set(bi);
    f.end(); // cLoop: the component
    f.open('loop', 'L1').open('block', 'c4').open('block', 'c3').open('block', 'c2').open('block', 'c1');
    f.get(bi).i32(1).op(Op.i32Eq).brIf('c1');
    f.get(bi).i32(2).op(Op.i32Sub).brTable(['c2', 'c3', 'c4'], 'c1');
    f.end(); head(); code[1](); cond1(); f.op(Op.i32Eqz).brIf('c3');
    f.end(); head(); code[2](); f.br('c4');
    f.end(); head(); code[3]();
    f.end(); head(); code[4](); cond4(); f.open('if', 's').i32(1).set(bi).br('L1').end(); f.br('c5');
    f.end(); // loop L1
    for (let b = 5; b <= 12; b++) { f.end(); head(); code[b](); if (b === 12) ret(); }
  }
  f.end().end(); f.i32(-2);
  return new WebAssembly.Instance(new WebAssembly.Module(moduleOf(f, 16, [])), { m: { m: memory } }).exports.f;
}
const fns = {};
for (const v of ['A0', 'A1', 'B']) fns[v] = build(v);
for (let round = 0; round < 4; round++) for (const v of ['A0', 'A1', 'B']) {
  const t = performance.now(); const x = fns[v](2e9, 0); console.log(v, x, (performance.now() - t).toFixed(0), 'ms');
}
