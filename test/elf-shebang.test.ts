/// <reference types="node" />
// binfmt_script rules: what `#!` lines mean, checked against the host kernel where it can be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfError, parseShebang, scriptArgv } from '../src/elf/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

test('not a script', () => {
  assert.equal(parseShebang(enc('\x7fELF')), null);
  assert.equal(parseShebang(enc('#')), null);
  assert.equal(parseShebang(new Uint8Array(0)), null);
});

test('interpreter and one optional argument', () => {
  assert.deepEqual(parseShebang(enc('#!/bin/sh\necho hi\n')), { interpreter: '/bin/sh', arg: null });
  assert.deepEqual(parseShebang(enc('#! \t/usr/bin/env   python3 -u  \t\nprint(1)\n')), { interpreter: '/usr/bin/env', arg: 'python3 -u' });
  assert.deepEqual(parseShebang(enc('#!/bin/sh')), { interpreter: '/bin/sh', arg: null });
  // A CR is part of the name (the classic "bad interpreter: /bin/sh^M").
  assert.deepEqual(parseShebang(enc('#!/bin/sh\r\n')), { interpreter: '/bin/sh\r', arg: null });
  assert.deepEqual(parseShebang(enc('#!/bin/x a\0b c\n')), { interpreter: '/bin/x', arg: 'a' });
});

test('refused #! lines', () => {
  assert.throws(() => parseShebang(enc('#!   \n')), (e) => e instanceof ElfError && e.message === '#! line names no interpreter' && e.errno === 8);
  assert.throws(() => parseShebang(enc('#!/' + 'x'.repeat(300))), /interpreter path longer/);
  // A long argument is cut at 256 bytes but accepted.
  const sb = parseShebang(enc('#!/bin/sh ' + 'a'.repeat(400)));
  assert.equal(sb?.interpreter, '/bin/sh');
  assert.equal(sb?.arg?.length, 256 - '#!/bin/sh '.length);
});

test('argv for the interpreter', () => {
  assert.deepEqual(scriptArgv({ interpreter: '/bin/sh', arg: null }, './s.sh', ['s.sh', 'x']), ['/bin/sh', './s.sh', 'x']);
  assert.deepEqual(scriptArgv({ interpreter: '/usr/bin/env', arg: 'python3 -u' }, '/t/s.py', ['s.py']), ['/usr/bin/env', 'python3 -u', '/t/s.py']);
});

test('matches the host kernel: the argument is one word even with spaces', (t) => {
  if (!existsSync('/usr/bin/printf')) return t.skip('no /usr/bin/printf');
  const dir = mkdtempSync(join(tmpdir(), 'elfshim-elf-shebang-'));
  try {
    const script = join(dir, 's');
    const text = '#!/usr/bin/printf  <%s>(%s)  \n';
    writeFileSync(script, text);
    chmodSync(script, 0o755);
    const native = spawnSync(script, ['x'], { encoding: 'utf8' });
    const argv = scriptArgv(parseShebang(enc(text))!, script, [script, 'x']);
    const ours = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    assert.equal(ours.stdout, native.stdout);
    assert.equal(native.stdout, `<${script}>(x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
