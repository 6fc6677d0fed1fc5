// Interactive use in a terminal: the guest's stdin, stdout and stderr are a pseudo-terminal
// (made by util-linux script(1)), natively and under elfshim. The input is typed ahead, so
// the terminal's echo comes first either way and the transcripts can be compared byte for byte.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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
  // Byte for byte from the banner on. When script(1) hands the typed input to the pty is a race
  // on both sides: input that arrives before the shell starts is echoed ahead of the banner, and
  // the line editor sends the cursor query ESC[6n only when poll(stdin, 0) finds nothing waiting.
  const fromBanner = (out: string) => out.slice(out.indexOf('\r\n\r\nBusyBox')).replaceAll('\x1b[6n', '');
  assert.equal(fromBanner(ours.out), fromBanner(native.out));
  assert.match(ours.out, /\r\nhi there\r\n/);
});

for (const applet of [['stty', '-a'], ['tty']]) {
  test(`busybox ${applet.join(' ')} on a terminal: termios (TCGETS) and the terminal's name as native`, { skip: skip || (!spawnSync('/bin/busybox', ['true']).error ? false : 'busybox-static is not installed') }, () => {
    const native = onTerminal(['/bin/busybox', ...applet], '');
    const ours = onTerminal([process.execPath, cliPath, '/bin/busybox', ...applet], '');
    assert.match(native.out, applet[0] === 'tty' ? /^\/dev\/pts\/\d+\r\n$/ : /intr = \^C;/);
    assert.equal(ours.out, native.out);
    assert.equal(ours.status, native.status);
  });
}

/**
 * Runs command on a pty and types input only once prompt has appeared in its output (so the
 * input comes after whatever the program did to the terminal before the prompt).
 */
function typeAfterPrompt(command: string[], prompt: string, input: string): Promise<string> {
  const quoted = command.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let typed = false;
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (d: string) => {
    out += d;
    if (!typed && out.includes(prompt)) {
      typed = true;
      child.stdin.write(input);
    }
  });
  return new Promise((resolve) =>
    child.on('close', () => {
      clearTimeout(killer);
      resolve(out);
    }),
  );
}

test('stty -echo reaches the host terminal: a password typed after it is not echoed, as natively', { skip: skip || (!spawnSync('/bin/busybox', ['true']).error ? false : 'busybox-static is not installed') }, async () => {
  const script = 'stty -echo; echo "password:"; read x; stty echo; echo "got=$x"';
  const native = await typeAfterPrompt(['/bin/busybox', 'sh', '-c', script], 'password:', 'secret\n');
  const ours = await typeAfterPrompt([process.execPath, cliPath, '/bin/busybox', 'sh', '-c', script], 'password:', 'secret\n');
  assert.equal(native, 'password:\r\ngot=secret\r\n');
  assert.equal(ours, native);
});
