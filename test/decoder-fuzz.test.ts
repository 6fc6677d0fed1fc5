import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu, Stop } from '../src/cpu/cpu.js';
import { Engine } from '../src/cpu/engine.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';

/**
 * Random instruction bytes, decoded and executed one at a time in a sandbox
 * page: every outcome must be a retired instruction or a guest-visible stop
 * (SIGILL, SIGSEGV, SIGFPE, SIGTRAP, a syscall) — never a host exception.
 * ELFSHIM_FUZZ_COUNT sets the number of byte strings (default 1,000,000).
 */
const COUNT = Number(process.env.ELFSHIM_FUZZ_COUNT ?? 1_000_000);
const CODE = 0x400000;
const DATA = 0x10000000;

const STOP_NAMES: Record<number, string> = {
  [Stop.Step]: 'Step', [Stop.Illegal]: 'Illegal', [Stop.Fault]: 'Fault', [Stop.DivideError]: 'DivideError',
  [Stop.Trap]: 'Trap', [Stop.Syscall]: 'Syscall', [Stop.Privileged]: 'Privileged',
};

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

test(`decoder and core survive ${COUNT} random instruction byte strings`, () => {
  const rand = xorshift(0x5eed1234);
  const phys = new PhysicalMemory(1 << 26);
  const outcomes = new Map<string, number>();
  const BATCH = 4096; // one code page per batch: a fresh address space keeps the caches honest
  for (let done = 0; done < COUNT; ) {
    const mem = new AddressSpace(phys);
    mem.mmap(CODE, 0x2000, 7, { fixed: true });
    mem.mmap(DATA, 0x10000, 3, { fixed: true });
    const engine = new Engine(mem, { engine: 'interp' });
    const cpu = new Cpu(mem);
    for (let k = 0; k < BATCH && done < COUNT; k++, done++) {
      // 15 random bytes at the end of the page half the time, so some instructions straddle into the next page.
      const at = CODE + ((rand() & 1) ? 0x1000 - 1 - (rand() % 15) : (rand() % 0xf00));
      const bytes = new Uint8Array(16);
      for (let j = 0; j < 16; j++) bytes[j] = rand() & 0xff;
      // Bias towards interesting prefixes and escapes.
      if ((rand() & 3) === 0) bytes[0] = [0x66, 0xf2, 0xf3, 0xf0, 0x48, 0x4c, 0x0f, 0xc4, 0xc5, 0x64][rand() % 10];
      if ((rand() & 3) === 0) bytes[1] = [0x0f, 0x38, 0x3a, 0xd8, 0xdf, 0xff][rand() % 6];
      mem.poke(at, bytes.subarray(0, Math.min(16, CODE + 0x2000 - at)));
      for (let r = 0; r < 16; r++) cpu.set64(r, rand() | 0, (rand() & 1) ? 0 : DATA / 2 ** 32);
      for (let r = 0; r < 16; r++) cpu.setS(r, DATA + (rand() % 0x8000)); // pointers into the data page
      cpu.set64(0, rand() | 0, 0);
      cpu.set64(1, rand() & 0xff, 0);
      cpu.rip = at;
      engine.flush();
      let stop: Stop;
      try {
        stop = engine.step(cpu);
      } catch (e) {
        assert.fail(`host exception for bytes ${Buffer.from(bytes).toString('hex')} at 0x${at.toString(16)}: ${(e as Error).stack}`);
      }
      const name = STOP_NAMES[stop] ?? String(stop);
      outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
      assert.ok([Stop.Step, Stop.Illegal, Stop.Fault, Stop.DivideError, Stop.Trap, Stop.Syscall, Stop.Privileged].includes(stop), `unexpected stop ${name}`);
    }
    mem.destroy();
  }
  // Sanity: the mix really exercised both paths.
  assert.ok((outcomes.get('Step') ?? 0) > COUNT / 10, JSON.stringify([...outcomes]));
  assert.ok((outcomes.get('Illegal') ?? 0) > 0 && (outcomes.get('Fault') ?? 0) > 0, JSON.stringify([...outcomes]));
  console.log(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
});
