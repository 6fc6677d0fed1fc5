/**
 * BMI1, BMI2 and ADX against the host CPU: the isa oracle runs andn, bextr,
 * blsi/blsmsk/blsr, tzcnt/lzcnt, bzhi, pdep, pext, rorx, sarx/shlx/shrx,
 * mulx, adcx and adox natively on edge-case and random inputs; every case is
 * replayed on the emulator and compared (GPRs, defined flags, memory).
 * Also: the encodings around them that must be #UD, and CPUID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCase, emulate, hostHas, runOracle, undefinedFlagAgreement, type OracleCase } from './isa-harness.js';
import { Cpu, Stop } from '../src/cpu/cpu.js';
import { Decoder } from '../src/cpu/decoder.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PROT_EXEC, PROT_READ } from '../src/mem/fault.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { cpuidLeaf } from '../src/cpu/cpuid.js';

const canRun = hostHas('bmi1', 'bmi2', 'adx');
let cases: OracleCase[] | string = 'host without BMI1/BMI2/ADX';
if (canRun) cases = runOracle('bmi', 400);

test('BMI1/BMI2/ADX match the host CPU on every oracle case', (t) => {
  if (typeof cases === 'string') return t.skip(`oracle unavailable: ${cases}`);
  assert.ok(cases.length > 10000, `only ${cases.length} cases`);
  const failures: string[] = [];
  const names = new Set<string>();
  let undefinedSame = 0, withUndefined = 0;
  for (const c of cases) {
    names.add(c.name);
    const e = emulate(c);
    const d = compareCase(c, e);
    if (d) failures.push(d);
    if (e.undefinedFlags) {
      withUndefined++;
      if (undefinedFlagAgreement(c, e)) undefinedSame++;
    }
  }
  t.diagnostic(`${cases.length} cases, ${names.size} instruction forms; undefined flags equal to the host's in ${undefinedSame}/${withUndefined}`);
  assert.equal(failures.length, 0, `${failures.length} mismatches, first ones:\n${failures.slice(0, 15).join('\n')}`);
});

/** Decodes bytes at a code page and runs them on a fresh CPU; returns the stop. */
function runBytes(bytes: number[]): { stop: Stop; cpu: Cpu } {
  const mem = new AddressSpace(new PhysicalMemory(1 << 22));
  mem.mmap(0x400000, 0x1000, PROT_READ | PROT_EXEC, { fixed: true });
  mem.poke(0x400000, Uint8Array.from(bytes));
  const cpu = new Cpu(mem);
  const i = new Decoder(mem).decode(0x400000);
  cpu.rip = 0x400000;
  i.exec(cpu, i);
  return { stop: cpu.stop, cpu };
}

test('VEX encodings outside BMI, with VEX.L=1, a legacy prefix, or a bad vvvv are #UD', () => {
  const ud = [
    [0xc4, 0xe2, 0x6c, 0xf2, 0xc1], // andn with VEX.L = 1
    [0x66, 0xc4, 0xe2, 0x68, 0xf2, 0xc1], // 66 before VEX
    [0xf3, 0xc4, 0xe2, 0x68, 0xf2, 0xc1], // F3 before VEX
    [0xc4, 0xe3, 0x73, 0xf0, 0xc1, 0x05], // rorx with vvvv != 1111
    [0xc4, 0xe2, 0x68, 0xf3, 0xc1], // group 17 /0
    [0xc4, 0xe2, 0x69, 0xf2, 0xc1], // andn with pp = 66
    [0xc5, 0xf8, 0x77], // vzeroupper: no AVX
    [0xc5, 0xf9, 0x6f, 0xc1], // vmovdqa
    [0xc4, 0xe2, 0x79, 0xf6, 0xc1], // 0F38 F6 with pp = 66 (not mulx)
  ];
  for (const b of ud) assert.equal(runBytes(b).stop, Stop.Illegal, Buffer.from(b).toString('hex'));
  // And the valid neighbours run.
  assert.equal(runBytes([0xc4, 0xe2, 0x68, 0xf2, 0xc1]).stop, Stop.None); // andn eax, edx, ecx
  assert.equal(runBytes([0xc4, 0xe3, 0x7b, 0xf0, 0xc1, 0x05]).stop, Stop.None); // rorx eax, ecx, 5
  assert.equal(runBytes([0x66, 0x0f, 0x38, 0xf6, 0xc1]).stop, Stop.None); // adcx eax, ecx
});

test('adcx with 66 is 32-bit (the 66 is mandatory, not an operand-size override)', () => {
  const mem = new AddressSpace(new PhysicalMemory(1 << 22));
  mem.mmap(0x400000, 0x1000, PROT_READ | PROT_EXEC, { fixed: true });
  mem.poke(0x400000, Uint8Array.from([0x66, 0x0f, 0x38, 0xf6, 0xc1])); // adcx eax, ecx
  const cpu = new Cpu(mem);
  cpu.set64(0, -1, 0x1234); // rax
  cpu.set64(1, 1, 0); // rcx
  cpu.setEflags(0x202);
  const i = new Decoder(mem).decode(0x400000);
  i.exec(cpu, i);
  assert.deepEqual([cpu.r[0], cpu.r[1], cpu.getCF()], [0, 0, 1]);
});

test('CPUID advertises BMI1, BMI2 and ADX (leaf 7 EBX bits 3, 8, 19)', () => {
  const ebx = cpuidLeaf(7, 0)[1];
  assert.equal((ebx >> 3) & 1, 1, 'BMI1');
  assert.equal((ebx >> 8) & 1, 1, 'BMI2');
  assert.equal((ebx >> 19) & 1, 1, 'ADX');
  // No AVX: glibc must not pick AVX2 string functions.
  assert.equal((ebx >> 5) & 1, 0, 'AVX2');
  assert.equal((cpuidLeaf(1, 0)[2] >> 28) & 1, 0, 'AVX');
});
