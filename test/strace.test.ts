import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, ROOT } from './helpers/gdb-run.js';
import { scratchDir } from './helpers/scratch-dir.js';

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
  const file = path.join(scratchDir('elfshim-strace-'), 'trace');
  const r = spawnSync(process.execPath, [CLI, '--strace-file', file, SYSCALLS_MUSL, '/etc/passwd'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.doesNotMatch(r.stderr, /openat\(/);
  assert.equal(mask(fs.readFileSync(file, 'utf8')), fs.readFileSync(EXPECTED, 'utf8'));
});

test('strace of a busybox command decodes flags, strings and structs', { skip: !fs.existsSync('/bin/busybox') && 'busybox-static is not installed' }, () => {
  const dir = scratchDir('elfshim-strace-');
  fs.writeFileSync(path.join(dir, 'in.txt'), 'hello\n');
  const r = spawnSync(process.execPath, [CLI, '--strace', '/bin/busybox', 'cp', path.join(dir, 'in.txt'), path.join(dir, 'out.txt')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /openat\(AT_FDCWD, "[^"]*in\.txt", O_RDONLY(\|O_LARGEFILE)?\) = 3/);
  assert.match(r.stderr, /O_WRONLY\|O_CREAT/);
  assert.match(r.stderr, /\{st_mode=S_IFREG\|0644, st_size=6, \.\.\.\}/);
  assert.match(r.stderr, /sendfile\(4, 3, NULL, \d+\) = 6/);
  assert.match(r.stderr, /= -1 E[A-Z]+ \(/);
});

test('strace lines, the notice and guest output on one pipe keep the order they happened in', { skip }, () => {
  // Guest output to a pipe is written asynchronously; elfshim's own lines must not overtake it.
  const merged = spawnSync('sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, CLI, '--strace', SYSCALLS_MUSL, '/etc/passwd'], { encoding: 'utf8' });
  assert.equal(merged.status, 0);
  const file = path.join(scratchDir('elfshim-strace-'), 'trace');
  const apart = spawnSync(process.execPath, [CLI, '--strace-file', file, SYSCALLS_MUSL, '/etc/passwd'], { encoding: 'utf8' });
  // Expected: each write to fd 1 is preceded by the bytes it wrote; the notice comes before its syscall's line.
  let out = apart.stdout;
  let expected = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const w = /^writev?\(1, .*\) = (\d+)$/.exec(line);
    if (w) {
      expected += out.slice(0, Number(w[1]));
      out = out.slice(Number(w[1]));
    }
    if (line.startsWith('io_pgetevents(')) expected += apart.stderr;
    expected += line + '\n';
  }
  assert.equal(out, '', 'every byte of stdout was written by a write or writev to fd 1');
  assert.match(apart.stderr, /^elfshim: unimplemented syscall io_pgetevents \(333\) at 0x[0-9a-f]+\n$/);
  const pids = (s: string) => s.replace(/^(set_tid_address\([^)]*\)|getpid\(\)) = \d+$/gm, '$1 = PID');
  assert.equal(pids(merged.stdout), pids(expected));
});

test('DEBUG=elfshim:syscall prints the same lines through the debug logger', { skip }, () => {
  const r = spawnSync(process.execPath, [CLI, SYSCALLS_MUSL, '/etc/passwd'], { encoding: 'utf8', env: { ...process.env, DEBUG: 'elfshim:syscall' } });
  assert.equal(r.status, 0);
  const logged = r.stderr.split('\n').filter((l) => / elfshim:syscall /.test(l));
  assert.ok(logged.length > 5, r.stderr);
  const lines = logged.map((l) => l.replace(/^.*? elfshim:syscall /, '').replace(/ \+\d+m?s$/, ''));
  assert.equal(mask(lines.join('\n') + '\n'), fs.readFileSync(EXPECTED, 'utf8'));
  // Without DEBUG, no lines.
  const quiet = spawnSync(process.execPath, [CLI, SYSCALLS_MUSL, '/etc/passwd'], { encoding: 'utf8', env: { ...process.env, DEBUG: '' } });
  assert.doesNotMatch(quiet.stderr, /openat\(/);
});

const haveStrace = spawnSync('strace', ['-V']).status === 0;

/** What differs between any two runs: addresses, pids, times, random bytes; strace's column alignment. */
function comparable(trace: string): string[] {
  return trace
    .split('\n')
    .filter((l) => l && !/^(execve\(|\+\+\+ |--- |elfshim: )/.test(l))
    .map((l) =>
      l
        .replace(/ +(= (?:-?\d+|\?|0x[0-9a-f]+)(?: .*)?)$/, ' $1')
        .replace(/0x[0-9a-f]+/g, '0xADDR')
        .replace(/\{tv_sec=\d+, tv_nsec=\d+\}/g, '{tv_sec=N, tv_nsec=N}')
        .replace(/^(getrandom\()"[^"]*"/, '$1"RANDOM"')
        .replace(/^(set_tid_address\(0xADDR\)|getpid\(\)|gettid\(\)) = \d+$/, '$1 = PID'),
    );
}

for (const variant of ['musl', 'glibc-static', 'glibc-pie']) {
  test(`${variant}: --strace prints what the host's strace prints for the same program`, { skip: skip || (!haveStrace && 'strace is not installed') }, () => {
    const program = path.join(ROOT, 'test/fixtures/build', variant, 'stracecalls');
    const dir = scratchDir('elfshim-strace-');
    const native = spawnSync('strace', ['-o', path.join(dir, 'native'), program], { encoding: 'utf8' });
    assert.equal(native.status, 0, native.stderr);
    const ours = spawnSync(process.execPath, [CLI, '--strace-file', path.join(dir, 'elfshim'), program], { encoding: 'utf8' });
    assert.equal(ours.status, 0, ours.stderr);
    const want = comparable(fs.readFileSync(path.join(dir, 'native'), 'utf8'));
    assert.ok(want.length > 25, want.join('\n'));
    assert.deepEqual(comparable(fs.readFileSync(path.join(dir, 'elfshim'), 'utf8')), want);
  });
}
