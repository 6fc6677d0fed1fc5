/**
 * The isa-mix fixture (rare integer instructions, BMI1/BMI2/ADX in a loop,
 * hot enough to be translated) must print the native checksum under the
 * reference interpreter and under the JIT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostHas } from './isa-harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${ROOT}/dist/cli.js`;
const PROGRAM = `${ROOT}/test/fixtures/build/musl/isa-mix`;
const ROUNDS = '300';

function run(engine: string | null): string {
  if (engine === null) return execFileSync(PROGRAM, [ROUNDS], { encoding: 'utf8' });
  return execFileSync(process.execPath, [CLI, PROGRAM, ROUNDS], { encoding: 'utf8', env: { ...process.env, ELFSHIM_ENGINE: engine } });
}

const skip = !existsSync(PROGRAM) ? 'fixtures not built' : !hostHas('bmi1', 'bmi2', 'adx', 'movbe') ? 'host without BMI/ADX/MOVBE' : false;
const native = skip ? '' : run(null);

test('isa-mix under the interpreter matches the native run', { skip }, () => {
  assert.equal(run('interp'), native);
});

// The JIT runs BMI through interpreter fallbacks: after blsr/blsmsk/blsi or mulx it must reload VEX.vvvv too.
test('isa-mix under the JIT matches the native run', { skip }, () => {
  assert.equal(run('jit'), native);
});
