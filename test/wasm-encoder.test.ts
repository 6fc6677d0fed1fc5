/** The WebAssembly encoder's integer constants: the float-arithmetic LEB128 of safe integers must be sleb's bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, FunctionBody, sleb, slebSafe } from '../src/cpu/wasm/encoder.js';

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
