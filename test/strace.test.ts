import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ROOT } from './helpers/gdb-run.js';

const SYSCALLS_MUSL = path.join(ROOT, 'test/fixtures/build/musl/syscalls');
const EXPECTED = path.join(ROOT, 'test/fixtures/expected/syscalls-musl.strace');
const skip = !fs.existsSync(SYSCALLS_MUSL) ? 'fixtures not built (npm run fixtures)' : false;

/** Addresses and pids vary between machines and runs; everything else must not. */
function mask(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('elfshim: unimplemented'))
    .map((l) => l.replace(/0x[0-9a-f]+/g, '0xADDR').replace(/^(set_tid_address|getpid)\(([^)]*)\) = \d+/, '$1($2) = PID'))
    .join('\n');
}

test('--strace of the syscalls fixture matches the checked-in transcript', { skip }, () => {
  const r = spawnSync(process.execPath, [CLI, '--strace', SYSCALLS_MUSL, '/etc/passwd'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(mask(r.stderr), fs.readFileSync(EXPECTED, 'utf8'));
});

test('--strace-file writes the lines to a file and leaves stderr to the guest', { skip }, () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'elfshim-strace-')), 'trace');
  const r = spawnSync(process.execPath, [CLI, '--strace-file', file, SYSCALLS_MUSL, '/etc/passwd'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.doesNotMatch(r.stderr, /openat\(/);
  assert.equal(mask(fs.readFileSync(file, 'utf8')), fs.readFileSync(EXPECTED, 'utf8'));
});

test('strace of a busybox command decodes flags, strings and structs', { skip: !fs.existsSync('/bin/busybox') && 'busybox-static is not installed' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elfshim-strace-'));
  fs.writeFileSync(path.join(dir, 'in.txt'), 'hello\n');
  const r = spawnSync(process.execPath, [CLI, '--strace', '/bin/busybox', 'cp', path.join(dir, 'in.txt'), path.join(dir, 'out.txt')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /openat\(AT_FDCWD, "[^"]*in\.txt", O_RDONLY(\|O_LARGEFILE)?\) = 3/);
  assert.match(r.stderr, /O_WRONLY\|O_CREAT/);
  assert.match(r.stderr, /\{st_mode=S_IFREG\|0644, st_size=6, \.\.\.\}/);
  assert.match(r.stderr, /sendfile\(4, 3, NULL, \d+\) = 6/);
  assert.match(r.stderr, /= -1 E[A-Z]+ \(/);
});
