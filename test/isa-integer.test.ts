/**
 * The rare integer instructions against the host CPU: rcl/rcr by every
 * count, rotates and shifts, shld/shrd (including oversized 16-bit counts),
 * adc/sbb chains, bt/bts/btr/btc with memory operands and bit offsets up to
 * ±1000, bsf/bsr, cmpxchg/cmpxchg8b/cmpxchg16b, xlat (with and without 0x67),
 * lahf/sahf, movbe, mul/imul flags, popcnt, bswap. Each case runs natively in
 * the isa oracle and is replayed on the emulator (GPRs, defined flags, 256
 * bytes of memory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCase, emulate, hostHas, runOracle, type OracleCase } from './isa-harness.js';

let cases: OracleCase[] | string = 'host without movbe/popcnt/cx16';
if (hostHas('movbe', 'popcnt', 'cx16')) cases = runOracle('int', 300);

test('rare integer instructions match the host CPU on every oracle case', (t) => {
  if (typeof cases === 'string') return t.skip(`oracle unavailable: ${cases}`);
  assert.ok(cases.length > 20000, `only ${cases.length} cases`);
  const failures = new Map<string, string[]>();
  for (const c of cases) {
    const d = compareCase(c, emulate(c));
    if (d) failures.set(c.name, [...(failures.get(c.name) ?? []), d]);
  }
  const names = new Set(cases.map((c) => c.name));
  t.diagnostic(`${cases.length} cases, ${names.size} instruction forms`);
  const report = [...failures].map(([name, f]) => `${name}: ${f.length} mismatches, e.g.\n  ${f[0]}`).join('\n');
  assert.equal(failures.size, 0, `forms with mismatches: ${[...failures.keys()].join(', ')}\n${report}`);
});
