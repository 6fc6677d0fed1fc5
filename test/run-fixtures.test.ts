// Every fixture in every build variant: elfshim's stdout, exit status and stderr
// must equal the native run's, computed at test time.
import { describe, test } from 'node:test';
import path from 'node:path';
import { FIXTURE_CASES, MAIN_VARIANTS, DEBUG_VARIANTS } from './helpers/fixtures.js';
import { compareWithNative, fixturePath, fixturesDir } from './helpers/run.js';

const title = (c: (typeof FIXTURE_CASES)[number]) =>
  `${c.fixture} ${c.label ?? (c.args ?? []).map((a) => JSON.stringify(a)).join(' ')}`.trim();

for (const variant of [...MAIN_VARIANTS, ...DEBUG_VARIANTS]) {
  const cases = FIXTURE_CASES.filter((c) => (c.variants ?? MAIN_VARIANTS).includes(variant));
  describe(`fixtures built as ${variant}`, () => {
    for (const c of cases) {
      test(title(c), (t) => compareWithNative(t, fixturePath(variant, c.fixture), c.args, c.opts).then(() => {}));
    }
  });
}

describe('prebuilt demo guest (no libc, raw syscalls)', () => {
  const demo = path.join(fixturesDir, 'prebuilt', 'hello-demo');
  test('hello-demo prints its argv', (t) =>
    compareWithNative(t, demo, ['hello', 'from elfshim', '', '-x']).then(() => {}));
  test('hello-demo with no arguments', (t) => compareWithNative(t, demo).then(() => {}));
});

describe('dynamically linked guests (through ld-linux and libc from the host)', () => {
  test('glibc-dynamic/hello', (t) => compareWithNative(t, fixturePath('glibc-dynamic', 'hello'), ['dyn']).then(() => {}));
  test('glibc-dynamic/vdso', (t) => compareWithNative(t, fixturePath('glibc-dynamic', 'vdso')).then(() => {}));
  test('glibc-dynamic/rseq', (t) => compareWithNative(t, fixturePath('glibc-dynamic', 'rseq')).then(() => {}));
  test('glibc-dynamic/signals', (t) => compareWithNative(t, fixturePath('glibc-dynamic', 'signals')).then(() => {}));
  test('glibc-dynamic/threads', (t) => compareWithNative(t, fixturePath('glibc-dynamic', 'threads')).then(() => {}));
  test('ld-linux-x86-64.so.2 run directly on a program', (t) =>
    compareWithNative(t, '/lib64/ld-linux-x86-64.so.2', [fixturePath('glibc-dynamic', 'hello'), 'via-ld.so']).then(() => {}));
});
