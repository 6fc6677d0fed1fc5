// Interactive use in a terminal: the guest's stdin, stdout and stderr are a pseudo-terminal
// (made by util-linux script(1)), natively and under elfshim. The input is typed ahead, so
// the terminal's echo comes first either way and the transcripts can be compared byte for byte.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { cliPath, fixturePath, requireElfshim, requireFile } from './helpers/run.js';

const haveScript = spawnSync('script', ['--version']).status === 0;
const skip = !haveScript && 'script(1) from util-linux is not installed';

/** Runs command (a shell word list) on a fresh pty with input typed at it; its transcript and status. */
function onTerminal(command: string[], input: string): { out: string; status: number | null } {
  const quoted = command.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', quoted, '/dev/null'], { input, encoding: 'latin1', timeout: 120_000 });
  return { out: r.stdout, status: r.status };
}

test('a guest reading a terminal: line by line, ^D ends the input, same transcript as native', { skip }, () => {
  requireElfshim();
  const program = fixturePath('musl', 'catcount');
  requireFile(program);
  const input = 'hello\nworld\n\x04';
  const native = onTerminal([program], input);
  const ours = onTerminal([process.execPath, cliPath, program], input);
  assert.match(native.out, /bytes=12 lines=2\r\n$/);
  assert.equal(ours.out, native.out);
  assert.equal(ours.status, native.status);
});

test('busybox sh on a terminal: commands typed at the prompt run, exit status comes back', { skip: skip || (!spawnSync('/bin/busybox', ['true']).error ? false : 'busybox-static is not installed') }, () => {
  const input = 'echo hi there\nexit 3\n';
  const native = onTerminal(['/bin/busybox', 'sh'], input);
  const ours = onTerminal([process.execPath, cliPath, '/bin/busybox', 'sh'], input);
  assert.equal(native.status, 3);
  assert.equal(ours.status, 3);
  // Byte for byte, including what the line editor does with typed-ahead input: it sends the
  // cursor query ESC[6n only when poll(stdin, 0) says nothing waits.
  assert.equal(ours.out, native.out);
  assert.match(ours.out, /\r\nhi there\r\n/);
});
