// Debian's busybox-static (/bin/busybox, a glibc static non-PIE binary) under
// elfshim: every applet run must match native busybox byte for byte.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { compareWithNative, describeDifference, type CompareOptions } from './helpers/run.js';

const BUSYBOX = '/bin/busybox';
const skip = existsSync(BUSYBOX) ? false : `${BUSYBOX} is missing (Debian: apt-get install busybox-static)`;

/** Deterministic, compressible text: words from a small vocabulary picked by an LCG. */
function sampleText(bytes: number): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'emulator', 'syscall', 'register', 'x86-64',
    'page', 'fault', 'guest', 'host', 'the', 'a', 'of', 'and', 'to', 'in', '0x7fff', '42'];
  let seed = 20240601;
  const parts: string[] = [];
  let size = 0;
  let column = 0;
  while (size < bytes) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const word = words[(seed >>> 16) % words.length];
    const sep = column > 60 ? '\n' : ' ';
    column = sep === '\n' ? 0 : column + word.length + 1;
    parts.push(word, sep);
    size += word.length + 1;
  }
  return Buffer.from(parts.join('').slice(0, bytes));
}

let dir = '';
const file = (name: string) => path.join(dir, name);

before(() => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'elfshim-busybox-'));
  writeFileSync(file('big.txt'), sampleText(300_000));
  writeFileSync(file('small.txt'), 'cherry 3\napple 10\nbanana 2\napple 10\ndate 1\n\nElder 7\n');
  writeFileSync(file('numbers.txt'), Array.from({ length: 40 }, (_, i) => `${(i * 37) % 101}\n`).join(''));
  symlinkSync(BUSYBOX, file('sort'));
  symlinkSync(BUSYBOX, file('readlink'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** busybox APPLET ARGS... natively and under elfshim. */
const same = (t: TestContext, args: string[], opts: CompareOptions = {}) =>
  compareWithNative(t, BUSYBOX, args, opts);

const cases: { name: string; args: () => string[]; opts?: () => CompareOptions }[] = [
  { name: 'echo', args: () => ['echo', 'hello', 'world', '-x'] },
  { name: 'echo -n', args: () => ['echo', '-n', 'no newline'] },
  { name: 'echo -e escapes', args: () => ['echo', '-e', 'a\\tb\\n\\x41'] },
  { name: 'true', args: () => ['true'] },
  { name: 'false (status 1)', args: () => ['false'] },
  { name: 'cat FILE', args: () => ['cat', file('small.txt')] },
  { name: 'cat from stdin', args: () => ['cat'], opts: () => ({ input: 'piped\ninput\n' }) },
  { name: 'cat missing file (error, status 1)', args: () => ['cat', file('nope.txt')] },
  { name: 'sort', args: () => ['sort', file('small.txt')] },
  { name: 'sort -n -r -u', args: () => ['sort', '-n', '-r', '-u', file('numbers.txt')] },
  { name: 'sort -k2,2n from stdin', args: () => ['sort', '-k2,2n'], opts: () => ({ input: readFileSync(file('small.txt')) }) },
  { name: 'wc FILE', args: () => ['wc', file('big.txt')] },
  { name: 'wc -l from stdin', args: () => ['wc', '-l'], opts: () => ({ input: 'a\nb\nc\n' }) },
  { name: 'md5sum', args: () => ['md5sum', file('big.txt'), file('small.txt')] },
  { name: 'sha256sum', args: () => ['sha256sum', file('big.txt')] },
  { name: 'sha256sum from stdin', args: () => ['sha256sum'], opts: () => ({ input: 'hello\n' }) },
  { name: 'seq 1 100', args: () => ['seq', '1', '100'] },
  { name: 'seq with a fractional step', args: () => ['seq', '0', '0.25', '3'] },
  { name: 'expr arithmetic', args: () => ['expr', '6', '*', '7'] },
  { name: 'expr length', args: () => ['expr', 'length', 'elfshim'] },
  { name: 'expr false result (status 1)', args: () => ['expr', '0', '+', '0'] },
  { name: 'expr division by zero (status 2)', args: () => ['expr', '10', '/', '0'] },
  { name: 'printf', args: () => ['printf', '%s=%d %x %5.2f|%-4s|\\n', 'a', '42', '255', '3.14159', 'z'] },
  { name: 'basename', args: () => ['basename', '/usr/lib/file.tar.gz', '.gz'] },
  { name: 'dirname', args: () => ['dirname', '/usr/lib/file.tar.gz'] },
  { name: 'head -n 5', args: () => ['head', '-n', '5', file('big.txt')] },
  { name: 'tail -n 5', args: () => ['tail', '-n', '5', file('big.txt')] },
  { name: 'tail -c 100', args: () => ['tail', '-c', '100', file('big.txt')] },
  { name: 'tr a-z A-Z', args: () => ['tr', 'a-z', 'A-Z'], opts: () => ({ input: 'Hello, elfshim!\n' }) },
  { name: 'tr -d', args: () => ['tr', '-d', 'aeiou'], opts: () => ({ input: readFileSync(file('small.txt')) }) },
  { name: 'od -c', args: () => ['od', '-c', file('small.txt')] },
  { name: 'od -A x -t x1', args: () => ['od', '-A', 'x', '-t', 'x1', file('small.txt')] },
];

describe('busybox applets', { skip }, () => {
  for (const c of cases) {
    test(c.name, (t) => same(t, c.args(), c.opts?.()).then(() => {}));
  }

  test('applet chosen by argv[0] (a symlink named sort)', (t) =>
    compareWithNative(t, file('sort'), [file('small.txt')]).then(() => {}));

  // Linux names the program by its canonical path: through a symlink, and /bin/busybox on a merged /usr.
  test('readlink /proc/self/exe is the canonical path of the program', (t) =>
    same(t, ['readlink', '/proc/self/exe']).then(() => {}));
  test('readlink /proc/self/exe run through a symlink names the file it points to', (t) =>
    compareWithNative(t, file('readlink'), ['/proc/self/exe']).then(() => {}));

  test('gzip -c then gunzip -c round trip of 300 KB', async (t) => {
    const original = readFileSync(file('big.txt'));
    const zipped = await same(t, ['gzip', '-c', file('big.txt')]);
    assert.ok(zipped.native.stdout.length < original.length / 2, 'sample data should compress');
    writeFileSync(file('big.txt.gz'), zipped.native.stdout);
    const unzipped = await same(t, ['gunzip', '-c', file('big.txt.gz')]);
    assert.equal(describeDifference('gunzip output', original, unzipped.elfshim.stdout), '');
  });

  test('gzip -c from stdin', (t) =>
    same(t, ['gzip', '-c'], { input: readFileSync(file('small.txt')) }).then(() => {}));
});
