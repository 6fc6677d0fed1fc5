// The fixtures built as ordinary dynamically linked programs (gcc and g++ with no special
// flags: PT_INTERP /lib64/ld-linux-x86-64.so.2, libc.so.6, libm, libstdc++, libgcc_s) under
// elfshim against the native run. Plus the fixtures added with the process/signal/lock work
// (sysmisc, locks) in their static builds.
import { describe, test } from 'node:test';
import { FIXTURE_CASES, type FixtureCase } from './helpers/fixtures.js';
import { ELFSHIM_TIMEOUT_MS, compareWithNative, fixturePath, type CompareOptions } from './helpers/run.js';

// (elfshimTimeoutMs given explicitly: left undefined, compareWithNative ends up with the 30 s native timeout.)
const withTimeout = (opts: CompareOptions = {}): CompareOptions => ({ elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS, ...opts });

const title = (c: FixtureCase) => `${c.fixture} ${c.label ?? (c.args ?? []).map((a) => JSON.stringify(a)).join(' ')}`.trim();

/** Every case that runs on the glibc builds also runs on the dynamic glibc build. */
const dynamicCases = FIXTURE_CASES.filter((c) => (c.variants ?? ['glibc-pie']).includes('glibc-pie'));

const newFixtures: FixtureCase[] = [
  { fixture: 'sysmisc', label: 'prctl names, sigtimedwait, signalfd, robust mutexes, process groups' },
  { fixture: 'locks', label: 'fcntl and flock locks between processes', args: ['{tmp}'], opts: { tempDir: true } },
];

describe('fixtures built as glibc-dynamic (gcc / g++, default dynamic linking)', () => {
  for (const c of [...dynamicCases, ...newFixtures]) {
    test(title(c), (t) => compareWithNative(t, fixturePath('glibc-dynamic', c.fixture), c.args, withTimeout(c.opts)).then(() => {}));
  }
  test('cxx: C++ exceptions through libstdc++ and libgcc_s unwinding, exit status 3', (t) =>
    compareWithNative(t, fixturePath('glibc-dynamic', 'cxx'), ['one', 'two'], withTimeout()).then(() => {}));
  test('ld.so run directly on a dynamic C++ program', (t) =>
    compareWithNative(t, '/lib64/ld-linux-x86-64.so.2', [fixturePath('glibc-dynamic', 'cxx'), 'via-ld.so'], withTimeout()).then(() => {}));
});

describe('new process/signal/lock fixtures in their static builds', () => {
  for (const variant of ['glibc-pie', 'glibc-static', 'musl']) {
    for (const c of newFixtures) {
      test(`${variant}: ${title(c)}`, (t) => compareWithNative(t, fixturePath(variant, c.fixture), c.args, withTimeout(c.opts)).then(() => {}));
    }
  }
});
