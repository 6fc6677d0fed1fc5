/**
 * Acceptance of the CPU-fidelity issue: the host-CPU oracle suites cover every
 * instruction the decoder accepts. test/decoder-forms.ts enumerates the
 * accepted forms by decoding every opcode of every map with every prefix class,
 * ModRM.reg and operand kind; test/oracle-codes.ts collects the machine code
 * the oracle suites (isa, sse, x87) run natively and on the emulator. Every
 * accepted form must occur in that code, except the few listed in NOT_NATIVE,
 * whose results cannot equal the host's by design.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptedForms, formsOf } from './decoder-forms.js';
import { hostHas } from './isa-harness.js';
import { oracleCodes } from './oracle-codes.js';
import { NOT_NATIVE } from './not-native.js';

/** One disassembled line per form, from objdump (for the failure message). */
function disassemble(forms: { key: string; bytes: number[] }[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'forms-'));
  try {
    return forms.map((f) => {
      const file = join(dir, 'b');
      writeFileSync(file, Uint8Array.from([...f.bytes, 0, 0, 0, 0, 0, 0, 0, 0]));
      try {
        const out = execFileSync('objdump', ['-D', '-z', '-b', 'binary', '-m', 'i386:x86-64', '--stop-address', String(f.bytes.length), file], { encoding: 'utf8' });
        const line = out.split('\n').find((l) => /^\s+0:/.test(l)) ?? '';
        return `${f.key.padEnd(22)} ${line.split('\t').slice(2).join(' ').trim()}`;
      } catch {
        return `${f.key.padEnd(22)} ${f.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = process.arch !== 'x64' ? 'needs an x86-64 host' : !hostHas('bmi1', 'bmi2', 'adx', 'movbe', 'popcnt', 'sse4_2', 'cx16') ? 'host without BMI/ADX/MOVBE/SSE4.2' : false;

test('the oracle suites execute every instruction form the decoder accepts', { skip }, (t) => {
  const accepted = acceptedForms();
  const covered = new Map<string, string>();
  for (const c of oracleCodes()) for (const f of formsOf(c.code)) if (!covered.has(f)) covered.set(f, `${c.suite}:${c.name}`);
  for (const k of Object.keys(NOT_NATIVE)) {
    assert.ok(accepted.has(k), `NOT_NATIVE lists ${k}, which the decoder does not accept`);
    assert.ok(!covered.has(k), `NOT_NATIVE lists ${k}, which an oracle covers (${covered.get(k)}): drop it from the list`);
  }
  const missing = [...accepted.values()].filter((f) => !covered.has(f.key) && !(f.key in NOT_NATIVE));
  t.diagnostic(`${accepted.size} accepted forms; ${accepted.size - missing.length - Object.keys(NOT_NATIVE).length} covered by the oracles, ${Object.keys(NOT_NATIVE).length} not comparable natively`);
  assert.equal(missing.length, 0, `${missing.length} accepted forms no oracle executes:\n  ${disassemble(missing).join('\n  ')}`);
});
