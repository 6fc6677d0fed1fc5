import { Cpu, RAX, RBX, RCX, RDX } from '../cpu.js';
import type { Instr } from '../instr.js';
import { CPUID_LEAVES, cpuidLeaf } from '../cpuid.js';

export function nop(_c: Cpu, _i: Instr): void {}

/** cpuid: answers from the table in cpuid.ts, which advertises exactly what is implemented. */
export function cpuid(c: Cpu, _i: Instr): void {
  const leaf = c.r[2 * RAX] >>> 0, sub = c.r[2 * RCX] >>> 0;
  const v = cpuidLeaf(leaf, sub);
  c.set32(RAX, v[0]);
  c.set32(RBX, v[1]);
  c.set32(RCX, v[2]);
  c.set32(RDX, v[3]);
}
export { CPUID_LEAVES };

/** rdtsc: a 3 GHz clock from host time (monotonic). */
export function rdtsc(c: Cpu, _i: Instr): void {
  const t = process.hrtime.bigint() * 3n;
  c.set32(RAX, Number(t & 0xffffffffn));
  c.set32(RDX, Number((t >> 32n) & 0xffffffffn));
}

/** xgetbv: XCR0 = x87 | SSE (the state components fxsave/xsave handle). */
export function xgetbv(c: Cpu, _i: Instr): void {
  if ((c.r[2 * RCX] >>> 0) !== 0) {
    c.rip = _i.addr;
    c.stop = 10; // #GP → SIGSEGV, as Linux delivers it
    return;
  }
  c.set32(RAX, 3);
  c.set32(RDX, 0);
}

/** ldmxcsr m32 / stmxcsr m32 (i.sub 0 = ld, 1 = st). Reserved bits set → #GP. */
export function mxcsrAccess(c: Cpu, i: Instr): void {
  const a = c.ea(i);
  if (i.sub === 1) {
    c.mem.write32(a, c.mxcsr);
    return;
  }
  const v = c.mem.read32(a);
  if (v & ~0xffff) {
    c.rip = i.addr;
    c.stop = 10;
    return;
  }
  c.mxcsr = v;
}
