/** The WebAssembly encoder: integer constants (the float-arithmetic LEB128 of safe integers must be sleb's bytes), branch hints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, FunctionBody, I32, I64, Op, moduleOf, sleb, slebSafe, uleb } from '../src/cpu/wasm/encoder.js';

test('slebSafe encodes every safe integer as sleb does (edges of each 7-bit group, signs, guest addresses)', () => {
  const values = new Set<number>([0, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0x7ffff7f437d4, -0x7ffff7f437d4, 4294967295, -4294967296]);
  for (let bits = 0; bits <= 53; bits++) {
    for (const d of [-1, 0, 1]) {
      const v = 2 ** bits + d;
      if (Number.isSafeInteger(v)) values.add(v).add(-v);
    }
  }
  let seed = 12345;
  for (let k = 0; k < 2000; k++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    values.add((seed % 2 ? -1 : 1) * Math.floor((seed / 4294967296) * 2 ** (seed % 54)));
  }
  for (const v of values) {
    const out = new Bytes();
    slebSafe(out, v);
    assert.deepEqual(Array.from(out.bytes), sleb(BigInt(v)), `value ${v}`);
  }
});

test('i64 constants: numbers, safe bigints and bigints past 2^53 give the bytes of sleb', () => {
  for (const v of [5n, -(2n ** 63n), 2n ** 63n - 1n, 0xffffffffn, 2n ** 53n + 1n, 123456789012345n]) {
    const f = new FunctionBody([], []);
    f.i64(v);
    assert.deepEqual(Array.from(f.code.bytes), [0x42, ...sleb(v)], `value ${v}`);
  }
});

/** Unsigned LEB128 at bytes[at]: [value, bytes read]. */
function readUleb(bytes: Uint8Array, at: number): [number, number] {
  let v = 0, shift = 0, k = at;
  for (;;) {
    const b = bytes[k++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return [v, k - at];
  }
}

test('branch hints: a metadata.code.branch_hint section before the code, each offset on its if / br_if counted from the body\'s locals', () => {
  // Offsets count from the start of the body's local declarations (V8 11's pc_relative_offset; checked with
  // --trace-turbo-scheduled, where only that placement made the hinted side of an if a deferred block).
  const f = new FunctionBody([I32], [I32]);
  const a = f.local(I64), b = f.local(I32), c = f.local(I64);
  const prologue = new FunctionBody([I32], [I32]);
  prologue.i64(7).set(a).i32(1).set(b).i64(0x7ffff7f437d4).set(c); // code the body runs first (as a region's prologue)
  const asked: [number, number][] = []; // [opcode, direction]
  f.open('block', 'out');
  f.get(0).ifUnlikely('cold');
  asked.push([Op.if, 0]);
  f.i32(5).set(b).end();
  f.get(0).i32(3).op(Op.i32GtU).brIf('out', true);
  asked.push([Op.brIf, 1]);
  f.get(0).i32(2).op(Op.i32Eq).brIf('out'); // not hinted
  f.get(0).open('if', 'plain').end(); // not hinted
  f.get(b).i32(1).op(Op.i32Add).set(b);
  f.end();
  f.get(b);
  const bytes = moduleOf(f, null, [], { prologue, name: 'hinted' });
  // The sections, in order.
  const sections: { id: number; at: number; size: number; name?: string }[] = [];
  for (let at = 8; at < bytes.length; ) {
    const id = bytes[at];
    const [size, n] = readUleb(bytes, at + 1);
    const body = at + 1 + n;
    let name: string | undefined;
    if (id === 0) {
      const [len, m] = readUleb(bytes, body);
      name = String.fromCharCode(...bytes.subarray(body + m, body + m + len));
    }
    sections.push({ id, at: body, size, name });
    at = body + size;
  }
  const hintAt = sections.findIndex((s) => s.name === 'metadata.code.branch_hint');
  const codeAt = sections.findIndex((s) => s.id === 10);
  assert.ok(hintAt >= 0 && hintAt < codeAt, `sections: ${JSON.stringify(sections.map((s) => s.name ?? s.id))}`);
  // The hints: one function (index 0), then [offset, size 1, direction] each.
  const h = sections[hintAt];
  let k = h.at + 1 + 'metadata.code.branch_hint'.length;
  const next = () => {
    const [v, n] = readUleb(bytes, k);
    k += n;
    return v;
  };
  assert.equal(next(), 1, 'functions');
  assert.equal(next(), 0, 'function index');
  const count = next();
  const hints: [number, number][] = [];
  for (let j = 0; j < count; j++) {
    const offset = next();
    assert.equal(next(), 1, 'data size');
    hints.push([offset, bytes[k++]]);
  }
  assert.equal(k, h.at + h.size, 'nothing after the hints');
  // The body: one function; its size, then the local declarations the offsets count from.
  let at = sections[codeAt].at;
  assert.equal(bytes[at++], 1);
  at += readUleb(bytes, at)[1];
  assert.deepEqual(hints.map(([offset, dir]) => [bytes[at + offset], dir]), asked);
  // The name section: subsection 1 (function names), one entry, function 0 named as asked.
  const names = sections.find((s) => s.name === 'name')!;
  k = names.at + 1 + 'name'.length;
  assert.equal(next(), 1, 'subsection: function names');
  assert.equal(next(), names.at + names.size - k, 'subsection size');
  assert.deepEqual([next(), next()], [1, 0], 'one name, function 0');
  const len = next();
  assert.equal(String.fromCharCode(...bytes.subarray(k, k + len)), 'hinted');
  assert.equal(k + len, names.at + names.size, 'nothing after the name');
  // A valid module that runs as written (the prologue first).
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as (x: number) => number;
  assert.deepEqual([0, 1, 2, 3, 4].map(run), [2, 6, 5, 6, 5]);
});

test('Bytes.uleb writes the bytes of uleb (edges of each 7-bit group up to 2^53 - 1)', () => {
  const values = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
  for (let b = 7; b < 53; b += 7) values.push(2 ** b - 1, 2 ** b, 2 ** b + 1);
  for (const v of values) {
    const out = new Bytes(1);
    out.uleb(v);
    assert.deepEqual(Array.from(out.bytes), uleb(v), String(v));
  }
});
