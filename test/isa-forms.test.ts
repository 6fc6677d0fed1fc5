/**
 * Every instruction form the decoder accepts (test/decoder-forms.ts), run on
 * the host CPU by the isa oracle and replayed on the emulator: GPRs, rsp and
 * the stack, defined flags, xmm0-2, MXCSR and memory must be equal. The
 * snippets come from test/isa-form-cases.ts; x87 forms are the x87 oracle's.
 * rcpps/rsqrtps/rcpss/rsqrtss are approximations whose exact bits are the
 * host's own: their xmm results are compared within Intel's documented
 * relative error (1.5 * 2^-12), everything else exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCase, emulate, hostHas, runOracle } from './isa-harness.js';
import { formSnippets } from './isa-form-cases.js';
import { NOT_NATIVE } from './not-native.js';

const PER_FORM = Number(process.env.ISA_FORM_CASES ?? 12);
const APPROX = /^(f3 )?0f 5[23]:/;
const XMM = 136;

/** Copies the host's xmm bytes into the emulator's output where they agree within the documented error of rcp/rsqrt. */
function approxXmm(native: Uint8Array, emulated: Uint8Array): void {
  const n = new DataView(native.buffer, native.byteOffset), e = new DataView(emulated.buffer, emulated.byteOffset);
  for (let k = XMM; k < XMM + 48; k += 4) {
    const a = n.getFloat32(k, true), b = e.getFloat32(k, true);
    if (a === b || (a !== a && b !== b) || Math.abs(a - b) <= Math.abs(a) * 1.5 * 2 ** -12) e.setUint32(k, n.getUint32(k, true), true);
  }
}

const skip = process.arch !== 'x64' ? 'needs an x86-64 host' : !hostHas('bmi1', 'bmi2', 'adx', 'movbe', 'popcnt', 'sse4_2', 'cx16') ? 'host without BMI/ADX/MOVBE/SSE4.2' : false;

test('every accepted instruction form matches the host CPU', { skip }, (t) => {
  const snippets = formSnippets(new Set(Object.keys(NOT_NATIVE)));
  const input = snippets.map((s, k) => `f${k} ${Buffer.from(s.code).toString('hex')}`).join('\n') + '\n';
  const cases = runOracle('-', PER_FORM, input);
  if (typeof cases === 'string') return t.skip(cases);
  assert.equal(cases.length, snippets.length * PER_FORM, 'one oracle line per snippet and case');
  const failures = new Map<string, string[]>();
  for (const c of cases) {
    const form = snippets[Number(c.name.slice(1))].form;
    const e = emulate(c);
    if (APPROX.test(form) && c.output && e.output) approxXmm(c.output, e.output);
    const d = compareCase(c, e);
    if (d) failures.set(form, [...(failures.get(form) ?? []), d]);
  }
  t.diagnostic(`${cases.length} cases, ${snippets.length} snippets, ${new Set(snippets.map((s) => s.form)).size} forms`);
  const report = [...failures].map(([form, f]) => `${form}: ${f.length} mismatches, e.g.\n    ${f[0]}`).join('\n  ');
  assert.equal(failures.size, 0, `${failures.size} forms differ from the host:\n  ${report}`);
});
