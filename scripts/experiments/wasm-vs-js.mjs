// Experiment (not part of elfshim): how would a WebAssembly backend compare with
// the JavaScript the translator emits today? One hot x86 block, bench-hash's
// loop (15 instructions of 64-bit multiply/rotate/xor), run two ways:
//
//   js:   the region elfshim translated it to (hash-region.js, dumped with
//         ELFSHIM_JIT_DUMP from bench-hash), registers as int32 halves, run on
//         a stand-in Cpu with a budget, as the engine runs it;
//   wasm: the same 15 instructions written as WebAssembly by hand, as a
//         translator would emit them: guest registers in i64 locals, the same
//         budget check per block, the cmp/jg as an i64 comparison.
//
// Both start from the same registers and must end with the same ones. It
// prints ns per loop iteration for each (best of 5) and how long V8 took to
// compile the wasm module (Liftoff), to set against the TurboFan compile times
// of translated regions (`node --trace-opt`: milliseconds per region).
//
//   node scripts/experiments/wasm-vs-js.mjs [iterations]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulhu32 } from '../../dist/cpu/arith.js'; // npm run build first

const ITER = Number(process.argv[2] ?? 20_000_000);
const here = fileURLToPath(new URL('.', import.meta.url));

// ------------------------------------------------------------------ the JS region, as elfshim emitted it
const src = readFileSync(`${here}/hash-region.js`, 'utf8').split('\n').filter((l) => !l.startsWith('//')).join('\n');
const FS = { fault: null, slow: 0, from: 0 };
const H = {
  PAR: new Uint8Array(256), mulhs32: null, mulhu32, mul64s: null, OUT: null, POP: null,
  storeFlags(c, id, fa, fah, fb, fbh, fr, frh) { if (id !== 0) { c.fop = id >> 4; c.fsz = id & 15; c.fres = fr; c.fresh = frh; c.fa = fa; c.fah = fah; c.fb = fb; c.fbh = fbh; } },
  cfOfState: null, FS, takeFault() {}, callFallback() {}, region: { valid: true }, addrs: [], locals: new Int32Array(0), fns: [], instrs: [],
};
const jsRegion = new Function('H', `const { PAR, mulhs32, mulhu32, mul64s, OUT, POP, storeFlags, cfOfState, FS, takeFault, callFallback } = H;
const R = H.region, AD = H.addrs, KL = H.locals, F = H.fns, I = H.instrs;
return (${src.trim()});`)(H);

// Registers at the loop head (bench-hash: rax = i, rdx = a, rcx = b, r8 = c, r9 = rounds, r10 = the multiplier).
const start = { rax: 0n, rcx: 0xc2b2ae3d27d4eb4fn, rdx: 0x9e3779b97f4a7c15n, rsi: 0n, rdi: 0n, r8: 1n, r9: BigInt(ITER), r10: 0x87c37b91114253d5n };
const NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10'];

function runJs() {
  const c = { r: new Int32Array(32), rip: 0x401068, mem: { tlbR: null, tlbW: null, view: null, bytes: null }, fop: 0, fsz: 0, fres: 0, fresh: 0, fa: 0, fah: 0, fb: 0, fbh: 0 };
  NAMES.forEach((n, k) => {
    if (!(n in start)) return;
    const v = BigInt.asUintN(64, start[n]);
    c.r[2 * k] = Number(v & 0xffffffffn) | 0;
    c.r[2 * k + 1] = Number(v >> 32n) | 0;
  });
  const t0 = process.hrtime.bigint();
  let left = 15 * ITER;
  // The engine's run loop, reduced to its budget: the region returns at the budget or when the loop ends.
  while (left > 0) {
    left -= jsRegion(c, left, 0);
    if (c.rip !== 0x401068) break;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const out = {};
  NAMES.forEach((n, k) => { out[n] = (BigInt(c.r[2 * k + 1] >>> 0) << 32n) | BigInt(c.r[2 * k] >>> 0); });
  return { ns, out };
}

// ------------------------------------------------------------------ a minimal wasm encoder
const uleb = (n) => { const b = []; do { let x = n & 0x7f; n >>>= 7; if (n) x |= 0x80; b.push(x); } while (n); return b; };
function sleb64(v) { // BigInt
  const b = [];
  for (;;) {
    const x = Number(v & 0x7fn); v >>= 7n;
    if ((v === 0n && !(x & 0x40)) || (v === -1n && x & 0x40)) { b.push(x); return b; }
    b.push(x | 0x80);
  }
}
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const I64 = 0x7e, I32 = 0x7f;
const op = {
  block: 0x02, loop: 0x03, br: 0x0c, br_if: 0x0d, end: 0x0b, return: 0x0f,
  lget: 0x20, lset: 0x21, ltee: 0x22, i64const: 0x42, i32const: 0x41,
  i32add: 0x6a, i32ge_s: 0x4e, i64gt_s: 0x55, i64add: 0x7c, i64mul: 0x7e, i64xor: 0x85, i64shl: 0x86, i64shr_u: 0x88, i64rotl: 0x89,
};

// Locals: 0 budget (param, i32); 1..8 rax rcx rdx rsi rdi r8 r9 r10 (params, i64); 9 done (i32).
const L = { budget: 0, rax: 1, rcx: 2, rdx: 3, rsi: 4, rdi: 5, r8: 6, r9: 7, r10: 8, done: 9 };
const get = (r) => [op.lget, L[r]], set = (r) => [op.lset, L[r]];
const k64 = (v) => [op.i64const, ...sleb64(v)];
const body = [
  op.block, 0x40, op.loop, 0x40,
  // the block head: count the previous iteration, leave when the budget is used up
  ...get('done'), ...get('budget'), op.i32ge_s, op.br_if, 1,
  ...get('rdx'), ...get('rax'), op.i64xor, ...set('rdx'), //        xor %rax,%rdx
  ...get('rax'), ...k64(1n), op.i64add, ...set('rax'), //           add $1,%rax
  ...get('rdx'), ...k64(31n), op.i64rotl, ...set('rdx'), //         rol $31,%rdx
  ...get('rdx'), ...get('r10'), op.i64mul, ...set('rdx'), //        imul %r10,%rdx
  ...get('rcx'), ...get('rdx'), op.i64add, ...set('rcx'), //        add %rdx,%rcx
  ...get('rdx'), ...set('rsi'), //                                  mov %rdx,%rsi
  ...get('rcx'), ...k64(27n), op.i64rotl, ...set('rcx'), //         rol $27,%rcx
  ...get('rsi'), ...k64(33n), op.i64shr_u, ...set('rsi'), //        shr $33,%rsi
  ...get('rcx'), ...get('rcx'), ...k64(2n), op.i64shl, op.i64add, ...k64(0x52dce729n), op.i64add, ...set('rcx'), // lea 0x52dce729(%rcx,%rcx,4),%rcx
  ...get('rcx'), ...set('rdi'), //                                  mov %rcx,%rdi
  ...get('rdi'), ...k64(7n), op.i64shl, ...set('rdi'), //           shl $7,%rdi
  ...get('rsi'), ...get('rdi'), op.i64add, ...set('rsi'), //        add %rdi,%rsi
  ...get('r8'), ...get('rsi'), op.i64xor, ...set('r8'), //          xor %rsi,%r8
  ...get('done'), op.i32const, 15, op.i32add, ...set('done'),
  ...get('r9'), ...get('rax'), op.i64gt_s, op.br_if, 0, //          cmp %rax,%r9; jg loop
  op.end, op.end,
];
// The final registers go to the exported memory (as a region's exit writes them back); it returns the instructions retired.
const memStore = (r, slot) => [op.i32const, ...sleb64(BigInt(slot * 8)), ...get(r), 0x37, 3, 0]; // i64.store align=8 offset=0
const fullBody = [...body, ...['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8'].flatMap((r, k) => memStore(r, k)), ...get('done'), op.end];
const code = [...vec([[1, I32]]), ...fullBody]; // one extra local: done
const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, vec([[0x60, ...vec([[I32], [I64], [I64], [I64], [I64], [I64], [I64], [I64], [I64]]), ...vec([[I32]])]])), // type
  ...section(3, vec([[0]])), // function
  ...section(5, vec([[0x00, 1]])), // memory: 1 page
  ...section(7, vec([[...uleb(4), ...Buffer.from('hash'), 0x00, 0], [...uleb(3), ...Buffer.from('mem'), 0x02, 0]])), // exports
  ...section(10, vec([[...uleb(code.length), ...code]])),
]);

const c0 = process.hrtime.bigint();
const mod = new WebAssembly.Module(bytes);
const compileUs = Number(process.hrtime.bigint() - c0) / 1000;
const inst = new WebAssembly.Instance(mod);
const { hash, mem } = inst.exports;

function runWasm() {
  const t0 = process.hrtime.bigint();
  let left = 15 * ITER;
  const s = { ...start };
  while (left > 0) {
    const done = hash(left, s.rax, s.rcx, s.rdx, s.rsi, s.rdi, s.r8, s.r9, s.r10);
    const m = new BigInt64Array(mem.buffer, 0, 6);
    ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8'].forEach((r, k) => { s[r] = m[k]; });
    if (done < left) break; // the loop ended
    left -= done;
  }
  return { ns: Number(process.hrtime.bigint() - t0), out: s };
}

const best = (f) => { let b = null; for (let k = 0; k < 5; k++) { const r = f(); if (!b || r.ns < b.ns) b = r; } return b; };
const js = best(runJs), wasm = best(runWasm);
for (const r of ['rax', 'rcx', 'rdx', 'r8']) {
  const a = BigInt.asUintN(64, js.out[r]), b = BigInt.asUintN(64, wasm.out[r]);
  if (a !== b) throw new Error(`${r} differs: js ${a.toString(16)} wasm ${b.toString(16)}`);
}
console.log(`bench-hash loop, ${ITER} iterations (15 guest instructions each), same final registers`);
console.log(`  js region (elfshim's translation): ${(js.ns / ITER).toFixed(2)} ns/iteration, ${((15 * ITER) / js.ns * 1000).toFixed(0)} MIPS`);
console.log(`  wasm, hand-translated:             ${(wasm.ns / ITER).toFixed(2)} ns/iteration, ${((15 * ITER) / wasm.ns * 1000).toFixed(0)} MIPS`);
console.log(`  wasm module compile: ${compileUs.toFixed(0)} us for ${bytes.length} bytes`);
