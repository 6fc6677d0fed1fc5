// Whole programs under both engines: the translator (jit, the default) and the
// reference interpreter (ELFSHIM_ENGINE=interp) must print the same output and
// exit with the same status — and both must match the native run where the
// host can run the fixture. Long enough loops that blocks get translated.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixturePath, runElfshim, runNative, runProcess, shellStatus, tempDir, type RunResult } from './helpers/run.js';

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

const CASES: { variant: string; name: string; args: string[] }[] = [
  { variant: 'musl', name: 'qsort', args: ['20000'] },
  { variant: 'musl', name: 'strings', args: [] },
  { variant: 'musl', name: 'intedge', args: [] },
  { variant: 'glibc-static', name: 'strings', args: [] },
  { variant: 'glibc-static', name: 'malloc', args: ['2000'] },
  { variant: 'glibc-pie', name: 'printf-float', args: [] },
  { variant: 'glibc-pie', name: 'cxx', args: ['some-arg'] },
  { variant: 'bench', name: 'bench-fib', args: ['24'] },
  { variant: 'bench', name: 'bench-hash', args: ['200000'] },
  { variant: 'bench', name: 'bench-sieve', args: ['300000'] },
  { variant: 'bench', name: 'bench-memstr', args: ['6'] },
];

function engine(mode: 'jit' | 'interp'): { env: Record<string, string> } {
  return { env: { ELFSHIM_ENGINE: mode } };
}

function same(what: string, a: RunResult, b: RunResult): void {
  assert.equal(shellStatus(b), shellStatus(a), `${what}: exit status`);
  assert.equal(b.stdout.toString('latin1'), a.stdout.toString('latin1'), `${what}: stdout`);
}

describe('fixtures under the jit and the interpreter', () => {
  for (const c of CASES) {
    const program = fixturePath(c.variant, c.name);
    test(`${c.variant}/${c.name} ${c.args.join(' ')}`.trim(), { skip: existsSync(program) ? false : 'fixture not built' }, async () => {
      const [jit, interp, native] = await Promise.all([
        runElfshim([program, ...c.args], engine('jit')),
        runElfshim([program, ...c.args], engine('interp')),
        runNative(program, c.args),
      ]);
      same('jit vs interpreter', interp, jit);
      same('jit vs native', native, jit);
    });
  }
});

describe('--engine', () => {
  const program = fixturePath('bench', 'bench-sieve');
  test('--engine interp and --engine jit run the program alike; ELFSHIM_ENGINE is only the default', { skip: existsSync(program) ? false : 'fixture not built' }, async () => {
    const [interp, jit, envThenFlag] = await Promise.all([
      runElfshim(['--engine', 'interp', program, '200000']),
      runElfshim(['--engine=jit', program, '200000']),
      runElfshim(['--engine', 'jit', program, '200000'], engine('interp')),
    ]);
    same('--engine jit vs interp', interp, jit);
    same('--engine over ELFSHIM_ENGINE', interp, envThenFlag);
  });
  test('an unknown engine is refused before the guest runs', async () => {
    const r = await runElfshim(['--engine', 'fast', program]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString(), /--engine.*fast.*jit, interp/);
    assert.equal(r.stdout.length, 0);
  });
});

describe('busybox under the jit', { skip: BUSYBOX ? false : 'busybox not installed' }, () => {
  const input = (t: Parameters<typeof tempDir>[0]) => {
    const file = path.join(tempDir(t), 'input.txt');
    const words = ['alpha', 'beta', 'gamma', 'register', 'syscall', 'page', 'fault', '0x7fff', 'translation', 'block'];
    let seed = 12345, text = '';
    while (text.length < 120_000) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      text += words[(seed >>> 16) % words.length] + ((seed & 7) === 0 ? '\n' : ' ');
    }
    writeFileSync(file, text);
    return file;
  };
  for (const applet of [['md5sum'], ['sort'], ['sha1sum'], ['gzip', '-c']]) {
    test(applet.join(' '), async (t) => {
      const file = input(t);
      const [jit, native] = await Promise.all([runElfshim([BUSYBOX!, ...applet, file], engine('jit')), runNative(BUSYBOX!, [...applet, file])]);
      same(`busybox ${applet.join(' ')}`, native, jit);
    });
  }
  test('gzip | gunzip round trip', async (t) => {
    const file = input(t);
    const zipped = await runElfshim([BUSYBOX!, 'gzip', '-c', file], engine('jit'));
    assert.equal(zipped.status, 0);
    const unzipped = await runProcess(BUSYBOX!, ['gunzip', '-c'], { input: zipped.stdout });
    assert.equal(unzipped.stdout.toString('latin1'), (await runNative('/bin/cat', [file])).stdout.toString('latin1'));
  });
});
