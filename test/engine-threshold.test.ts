// The translation threshold rises with the regions an engine formed (JIT_HOT_GROWTH in engine.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../src/cpu/cpu.js';
import { Engine } from '../src/cpu/engine.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';

const CODE = 0x400000;

/**
 * Runs `count` loops one after another, each `mov ecx, turns; L: dec ecx; jnz L` (its block L runs turns - 1
 * times), on an engine whose base threshold is `base`; returns the engine.
 */
function runLoops(count: number, turns: number, base: number): Engine {
  const code: number[] = [];
  for (let k = 0; k < count; k++) code.push(0xb9, turns, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc);
  code.push(0xeb, 0xfe); // jmp $
  const mem = new AddressSpace(new PhysicalMemory(1 << 18));
  mem.mmap(CODE, (code.length + 0xfff) & ~0xfff, 5, { fixed: true, data: new Uint8Array(code) });
  const cpu = new Cpu(mem);
  cpu.rip = CODE;
  const e = new Engine(mem, { engine: 'jit', jitThreshold: base });
  e.run(cpu, count * (1 + 2 * turns));
  assert.equal(cpu.rip, CODE + count * 9, 'every loop ran');
  assert.equal(cpu.r[2], 0, 'ecx counted down');
  return e;
}

test('the translation threshold grows with the regions formed, so a long tail of lukewarm loops is not all translated', () => {
  // Each loop's block runs 9 times: translated while the threshold, floor(4 * max(1, n / 64)) after n regions,
  // is at most 9, i.e. up to n = 159; the 160th makes it 10.
  const e = runLoops(300, 10, 4);
  assert.equal(e.translatedRegions, 160);
  assert.equal(e.translationThreshold, 10);
});

test('the threshold stops growing at 16 times its base', () => {
  // Blocks that run 32 times, base 2 (each loop's first block, run once, stays cold): without the cap the
  // threshold, floor(2 * n / 64), would pass 32 at n = 1056.
  const e = runLoops(1100, 33, 2);
  assert.equal(e.translatedRegions, 1100);
  assert.equal(e.translationThreshold, 32);
});
