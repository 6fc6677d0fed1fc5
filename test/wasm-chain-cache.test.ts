/**
 * The region chain cache (cpu/wasm/chain.ts): two entries per set, so two hot
 * blocks whose addresses share a set both stay (the sqlite3 bench had pairs
 * that evicted each other at every run when it was direct-mapped); a third
 * evicts the older; a region's drop removes only its own entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHAIN_BYTES, chainClear, chainDrop, chainLookup, chainSet, chainSetIndex } from '../src/cpu/wasm/chain.js';

/** Addresses (code-like: 16-byte aligned, near each other, above 2^32) that share addr's set. */
function sameSet(addr: number, count: number): number[] {
  const out: number[] = [];
  for (let a = addr + 16; out.length < count; a += 16) if (chainSetIndex(a) === chainSetIndex(addr)) out.push(a);
  return out;
}

test('chain cache: two blocks of one set both stay, a third evicts the older, drops are per region', () => {
  const cache = 4096;
  const view = new Int32Array((cache + CHAIN_BYTES) / 4 + 16);
  chainClear(view, cache);
  const a = 0x7ffff7efea90;
  const [b, c] = sameSet(a, 2);
  assert.equal(chainLookup(view, cache, a), null);
  chainSet(view, cache, a, 1, 0);
  chainSet(view, cache, b, 2, 3);
  assert.deepEqual(chainLookup(view, cache, a), [1, 0]);
  assert.deepEqual(chainLookup(view, cache, b), [2, 3]);
  // Naming a again (another region now) keeps b.
  chainSet(view, cache, a, 4, 1);
  assert.deepEqual(chainLookup(view, cache, a), [4, 1]);
  assert.deepEqual(chainLookup(view, cache, b), [2, 3]);
  // c evicts the older of the two (b: a was named last).
  chainSet(view, cache, a, 4, 1);
  chainSet(view, cache, c, 5, 2);
  assert.deepEqual(chainLookup(view, cache, c), [5, 2]);
  assert.deepEqual(chainLookup(view, cache, a), [4, 1]);
  assert.equal(chainLookup(view, cache, b), null);
  // Dropping a with another region's index leaves it; with its own removes it, and not c.
  chainDrop(view, cache, a, 1);
  assert.deepEqual(chainLookup(view, cache, a), [4, 1]);
  chainDrop(view, cache, a, 4);
  assert.equal(chainLookup(view, cache, a), null);
  assert.deepEqual(chainLookup(view, cache, c), [5, 2]);
  // Nothing outside the cache was written.
  assert.ok(view.subarray(0, cache / 4).every((x) => x === 0));
  assert.ok(view.subarray((cache + CHAIN_BYTES) / 4).every((x) => x === 0));
  chainClear(view, cache);
  assert.equal(chainLookup(view, cache, c), null);
});

test('chain cache: addresses of one code page spread over the sets', () => {
  // Fibonacci hashing of 16-byte aligned addresses: 256 blocks of a 4 KiB page land in (nearly) 256 sets.
  const sets = new Set<number>();
  for (let a = 0x7ffff7f40000; a < 0x7ffff7f41000; a += 16) sets.add(chainSetIndex(a));
  assert.ok(sets.size >= 250, `${sets.size} sets`);
});
