// A guest waiting in read(0) on a pipe parks its task, not Node's event loop: input that
// arrives later is delivered line by line, a signal sent to elfshim meanwhile reaches the
// guest, and elfshim can exit while the host's stdin stays silent. (The tests' stdin is a
// socketpair, as from any Node parent; the terminal tests cover ttys.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import { CliProc } from './helpers/cli-proc.js';
import { fixturePath, requireFile } from './helpers/run.js';

test('echo-as-you-go through a pipe, then SIGINT while the guest waits in read: status 130', { timeout: 60_000 }, async () => {
  const catcount = fixturePath('musl', 'catcount');
  requireFile(catcount);
  const p = new CliProc([catcount], { stdin: 'pipe' });
  p.child.stdin!.write('first\n');
  await p.waitFor(/^first\n$/, 'out');
  p.child.stdin!.write('second\n');
  await p.waitFor(/^first\nsecond\n$/, 'out');
  // The guest is back in read(0) with the pipe still open.
  p.kill('SIGINT');
  const { code, signal } = await p.exited;
  assert.equal(signal, null, p.err);
  assert.equal(code, 130, p.err);
  assert.equal(p.out, 'first\nsecond\n');
});

test('a guest that stops waiting for stdin (read -t) and exits ends elfshim at once, input or not', { timeout: 60_000, skip: !existsSync('/bin/busybox') && 'busybox-static is not installed' }, async () => {
  // A read of the host's stdin left in flight must not hold up elfshim's exit (Node joins its
  // thread-pool reads at exit; the reads are watched on the event loop instead).
  const p = new CliProc(['/bin/busybox', 'sh', '-c', 'read -t 1 x; echo "read: $?"'], { stdin: 'pipe' });
  const { code } = await p.exited;
  assert.equal(code, 0, p.err);
  assert.match(p.out, /^read: [1-9]\d*\n$/);
  p.child.stdin!.end();
});
