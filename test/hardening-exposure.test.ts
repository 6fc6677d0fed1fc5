// Stub exposure (issue 8): who can reach the debug port, what they are told, and
// what a misbehaving peer can do to elfshim. Everything through the real CLI.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProc } from './helpers/cli-proc.js';
import { haveGdb } from './helpers/gdb-run.js';
import { RspClient } from './gdb-client.js';
import { frame } from '../src/gdb/framing.js';
import { CODE_ADDR, EXIT_0, PAUSE_LOOP, sleepThenExit, tinyElf, writeAndExit } from './helpers/tiny-elf.js';

const dir = mkdtempSync(join(tmpdir(), 'elfshim-exposure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function guest(name: string, code: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, tinyElf({ code }), { mode: 0o755 });
  return p;
}
const hello = guest('hello', writeAndExit('hello from the guest\n'));
const pauser = guest('pause', PAUSE_LOOP);
const sleeper = guest('sleep2', sleepThenExit(2));
guest('exit0', EXIT_0);

const WARNING = /full control of the guest and read access to its root filesystem/;

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

test('by default the stub listens on 127.0.0.1 only, without a warning', async () => {
  const p = new CliProc(['--gdb', '0', hello]);
  try {
    const line = (await p.waitFor(/waiting for a debugger on (\S+):(\d+)/)) as RegExpExecArray;
    assert.equal(line[1], '127.0.0.1');
    const port = Number(line[2]);
    assert.doesNotMatch(p.err, /WARNING/);
    const ext = externalAddress();
    if (ext) assert.equal(await accepts(ext, port), false, `not reachable on ${ext}`);
    // Loopback works (and this connection is the debugger: it may go away again).
    const c = await RspClient.connect(port);
    c.destroy();
  } finally {
    p.kill();
  }
});

for (const spec of [['--gdb', '0', '--gdb-host', '0.0.0.0'], ['--gdb', '0.0.0.0:0'], ['--gdb', '[::]:0']]) {
  test(`a non-loopback listen address warns: ${spec.slice(1).join(' ')}`, async () => {
    const p = new CliProc([...spec, hello]);
    try {
      await p.waitFor(/waiting for a debugger/);
      assert.match(p.err, WARNING);
      assert.match(p.err, /WARNING/);
    } finally {
      p.kill();
    }
  });
}

for (const host of ['localhost', '127.0.0.2', '::1']) {
  test(`a loopback --gdb-host ${host} does not warn`, async () => {
    const p = new CliProc(['--gdb', '0', '--gdb-host', host, hello]);
    try {
      await p.waitFor(/waiting for a debugger/);
      assert.doesNotMatch(p.err, /WARNING/);
    } finally {
      p.kill();
    }
  });
}

test('--gdb unix:/PATH: a 0600 socket, no TCP port, a hint gdb understands, and a full session', async (t) => {
  const sock = join(dir, 'gdb.sock');
  const p = new CliProc(['--gdb', `unix:${sock}`, hello]);
  try {
    const m = await p.waitFor(/waiting for a debugger on unix:(\S+) \(target remote (\S+)\)/);
    assert.equal(m[1], sock);
    assert.equal(m[2], sock, 'gdb takes a Unix socket as a plain path');
    const st = statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.doesNotMatch(p.err, /127\.0\.0\.1|WARNING/);
    if (!haveGdb()) return t.skip('gdb not installed');
    const gdb = spawn('gdb', ['-batch', '-nx', '-ex', `target remote ${m[2]}`, '-ex', 'info registers rip', '-ex', 'continue', hello], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    gdb.stdout!.on('data', (d) => (text += d));
    gdb.stderr!.on('data', (d) => (text += d));
    await new Promise((r) => gdb.on('close', r));
    assert.match(text, /rip\s+0x[0-9a-f]+/);
    assert.match(text, /exited normally/);
    assert.equal((await p.exited).code, 0);
    assert.match(p.out, /hello from the guest/);
  } finally {
    p.kill();
  }
});

test('--gdb unix:/PATH replaces a stale socket but never another kind of file', async () => {
  const path = join(dir, 'not-a-socket');
  writeFileSync(path, 'precious');
  const p = new CliProc(['--gdb', `unix:${path}`, hello]);
  const { code } = await p.exited;
  assert.equal(code, 1);
  assert.match(p.err, /^elfshim: --gdb: cannot listen on unix:/m);
  assert.equal(readFileSync(path, 'utf8'), 'precious');
});

test('a --gdb-host that is not this machine\'s fails with the address it tried', async () => {
  // 192.0.2.1 (TEST-NET-1) belongs to no host: listen fails with EADDRNOTAVAIL.
  const p = new CliProc(['--gdb', '0', '--gdb-host', '192.0.2.1', hello]);
  const { code } = await p.exited;
  assert.equal(code, 1);
  assert.match(p.err, /^elfshim: --gdb: cannot listen on 192\.0\.2\.1:0: /m);
  assert.doesNotMatch(p.out, /hello/);
});

test('one debugger at a time: a second is refused politely, the first goes on undisturbed', async () => {
  const p = new CliProc(['--gdb', '0', hello]);
  try {
    const port = await p.port();
    const first = await RspClient.connect(port);
    await first.handshake();
    const pc = await first.request('p10');
    const second = await RspClient.connect(port);
    second.sendPacket('qSupported:multiprocess+');
    assert.deepEqual(await second.nextEvent(), { type: 'ack' });
    assert.match(await second.nextPacket(), /^E\.elfshim: another debugger is already attached/);
    await second.closed;
    await p.waitFor(/refused a connection/);
    // A third that only connects and says nothing is dropped too, without harm.
    const third = await RspClient.connect(port);
    third.sendRaw('\x03\x03garbage');
    third.destroy();
    assert.equal(await first.request('p10'), pc, 'the first session is where it was');
    assert.match(await first.request('?'), /^T05/);
    assert.match(await first.request('c'), /^W00/);
    assert.equal((await p.exited).code, 0);
    assert.match(p.out, /hello from the guest/);
  } finally {
    p.kill();
  }
});

test('a debugger that does not read its replies cannot make elfshim buffer them without bound', async () => {
  const p = new CliProc(['--gdb', '0', pauser]);
  try {
    const port = await p.port();
    const c = await RspClient.connect(port);
    await c.handshake();
    assert.equal(await c.request('QStartNoAckMode'), 'OK');
    c.noAck = true;
    await p.idle();
    const before = p.memory().rss;
    // 40,000 reads of the code page: 320 MB of hex replies if they all piled up in elfshim.
    const socket = (c as unknown as { socket: import('node:net').Socket }).socket;
    socket.pause();
    const request = frame(`m${CODE_ADDR.toString(16)},1000`);
    const n = 40_000;
    for (let i = 0; i < n; i += 1000) c.sendRaw(request.repeat(1000));
    await p.idle();
    const { rss, peak } = p.memory();
    console.log(`unread replies: elfshim rss ${(before / 2 ** 20).toFixed(0)} → ${(rss / 2 ** 20).toFixed(0)} MiB (peak ${(peak / 2 ** 20).toFixed(0)} MiB)`);
    assert.ok(rss - before < 150 * 2 ** 20, `elfshim grew by ${rss - before} bytes`);
    // Once the debugger reads again, every reply arrives, complete and in order.
    socket.resume();
    let got = 0;
    while (got < n) {
      const r = await c.nextPacket();
      assert.equal(r.length, 0x2000);
      got++;
    }
    assert.match(await c.request('?'), /^T05/);
    c.destroy();
  } finally {
    p.kill();
  }
});

test('a debugger that floods packets while the guest runs is disconnected; the guest runs on', async () => {
  const p = new CliProc(['--gdb', '0', sleeper]);
  try {
    const port = await p.port();
    const c = await RspClient.connect(port);
    await c.handshake();
    assert.equal(await c.request('QStartNoAckMode'), 'OK');
    c.noAck = true;
    // Continue (the guest sleeps 2 s), then 20,000 packets that gdb would never send while it runs.
    c.sendPacket('c');
    const junk = frame('m' + CODE_ADDR.toString(16) + ',10') + frame('X' + CODE_ADDR.toString(16) + ',4:' + 'abcd');
    for (let i = 0; i < 10_000; i += 500) c.sendRaw(junk.repeat(500));
    await c.closed;
    await p.waitFor(/without waiting for replies; disconnecting/);
    const { code } = await p.exited;
    assert.equal(code, 0, p.err);
    assert.doesNotMatch(p.err, /internal error|\n\s+at /);
  } finally {
    p.kill();
  }
});

test('the stub leaves no Unix socket file behind when elfshim ends', async () => {
  const sock = join(dir, 'gone.sock');
  const p = new CliProc(['--gdb', `unix:${sock}`, '--no-wait', guest('exit0b', EXIT_0)]);
  await p.exited;
  assert.equal(existsSync(sock), false);
});

test('vFile handles are capped per debugger and released when it leaves', async () => {
  const p = new CliProc(['--gdb', '0', pauser]);
  try {
    const port = await p.port();
    const hex = Buffer.from(pauser).toString('hex');
    const c = await RspClient.connect(port);
    await c.handshake();
    const opened: string[] = [];
    for (;;) {
      const r = await c.request(`vFile:open:${hex},0,0`);
      if (!/^F[0-9a-f]+$/.test(r)) {
        assert.equal(r, 'F-1,18', 'EMFILE once the cap is reached');
        break;
      }
      opened.push(r);
      assert.ok(opened.length <= 64, 'the cap holds');
    }
    c.destroy();
    await p.waitFor(/debugger disconnected/);
    const d = await RspClient.connect(port);
    await d.handshake();
    assert.match(await d.request(`vFile:open:${hex},0,0`), /^F[0-9a-f]+$/, 'a new debugger can open files again');
    assert.equal(await d.request('vKill;1'), 'OK');
  } finally {
    p.kill();
  }
});
