/**
 * How WebAssembly regions nest their blocks (cpu/wasm/layout.ts): a weak
 * topological order. Each guest loop is one component, laid out inside its own
 * wasm `loop`; every edge either goes forward or is a back edge to the head of
 * a component that contains its source. Checked on hand-made graphs (nested
 * loops, a loop entered in its middle, blocks reached only from outside) and on
 * random ones; the engine-diff tests run the generated code itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blocksOf, nesting, weakTopologicalOrder, type Element } from '../src/cpu/wasm/layout.js';

const show = (l: Element[]): string => l.map((e) => (e.kind === 'block' ? String(e.block) : `(${show(e.elements)})`)).join(' ');

/** Every block once; every edge forward in the flattened order, or to the head of a component around its source. */
function checkOrder(succ: number[][]): Element[] {
  const top = weakTopologicalOrder(succ);
  const flat = top.flatMap((e) => blocksOf(e));
  assert.deepEqual([...flat].sort((a, b) => a - b), succ.map((_, k) => k), `each block once: ${show(top)}`);
  const at = new Map(flat.map((b, k) => [b, k]));
  const { path } = nesting(top, succ.length);
  succ.forEach((ws, u) => {
    for (const v of ws) {
      if (at.get(v)! > at.get(u)!) continue;
      const around = path[u].some((e) => e.kind === 'loop' && e.head === v);
      assert.ok(around, `edge ${u}→${v} goes back, but ${v} heads no loop around ${u}: ${show(top)}`);
    }
  });
  return top;
}

test('wasm layout: nested loops, each its own component', () => {
  // 0 → 1; loop 1..4 with an inner loop 2..3; 4 → 5 leaves.
  const succ = [[1], [2], [3], [2, 4], [1, 5], []];
  assert.equal(show(checkOrder(succ)), '0 (1 (2 3) 4) 5');
});

test('wasm layout: the fall-through successor (listed last) follows its block', () => {
  // 0 branches to 2 or falls to 1; both reach 3.
  assert.equal(show(checkOrder([[2, 1], [3], [3], []])), '0 1 2 3');
  assert.equal(show(checkOrder([[1, 2], [3], [3], []])), '0 2 1 3');
});

test('wasm layout: a loop entered in its middle (irreducible), and blocks reached only from outside', () => {
  // 0 enters the cycle 1 ⇄ 2 at either; 3 (a return address, say) is reached from nothing.
  const top = checkOrder([[1, 2], [2], [1, 4], [1], []]);
  assert.equal(top.filter((e) => e.kind === 'loop').length, 1, show(top));
  // A self loop is a component of one block.
  assert.equal(show(checkOrder([[0, 1], []])), '(0) 1');
});

test('wasm layout: random graphs keep the order\'s property', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 500; round++) {
    const n = 1 + rand(40);
    const succ = Array.from({ length: n }, () => Array.from({ length: rand(4) }, () => rand(n)).filter((v, k, a) => a.indexOf(v) === k));
    checkOrder(succ);
  }
});
