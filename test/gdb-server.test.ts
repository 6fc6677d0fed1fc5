import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frame } from '../src/gdb/framing.js';
import { startGdbServer, type GdbServer } from '../src/gdb/server.js';
import { CODE_BASE, FakeTarget } from './gdb-fake-target.js';
import { RspClient } from './gdb-client.js';

async function withServer(
  fn: (ctx: { server: GdbServer; target: FakeTarget; messages: string[] }) => Promise<void>,
  opts: { waitForAttach?: boolean; packetSize?: number; host?: string; target?: FakeTarget } = {},
): Promise<void> {
  const target = opts.target ?? new FakeTarget();
  const messages: string[] = [];
  const server = await startGdbServer({ port: 0, target, log: (m) => messages.push(m), ...opts });
  try {
    await fn({ server, target, messages });
  } finally {
    await server.close();
  }
}

/** Waits until a condition holds (polling the event loop, no timing assumptions). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

test('listens on loopback, reports the port, serves a gdb-like handshake', async () => {
  await withServer(async ({ server, messages }) => {
    assert.ok(server.port! > 0);
    assert.equal(server.address, `127.0.0.1:${server.port}`);
    assert.ok(messages.some((m) => m.includes(server.address)));
    assert.ok(!messages.some((m) => m.includes('WARNING')));
    const c = await RspClient.connect(server.port!);
    c.sendRaw('+');
    assert.match(await c.handshake(), /^PacketSize=4000;/);
    await server.attached;
    assert.equal(await c.request('vMustReplyEmpty'), '');
    assert.equal(await c.request('QStartNoAckMode'), 'OK');
    c.noAck = true;
    assert.equal(await c.request('Hgp0.0'), 'OK');
    assert.match(await c.request('?'), /^T05.*thread:p1234\.1234;core:0;$/);
    assert.equal(await c.request(`m${CODE_BASE.toString(16)},4`), '554889e5');
    // Run-length encoding on the wire for a register block full of zeros.
    const before = c.received.length;
    const g = await c.request('g');
    assert.equal(g.length, 1120);
    assert.ok(c.received.length - before < 400, 'g reply was run-length encoded');
    c.close();
  });
});

test('bad checksum gets -, NAK gets the last reply again, garbage is skipped', async () => {
  await withServer(async ({ server }) => {
    const c = await RspClient.connect(server.port!);
    await c.handshake();
    c.sendRaw('$qC#00');
    assert.deepEqual(await c.nextEvent(), { type: 'nak' });
    assert.equal(await c.request('qC'), 'QCp1234.1234');
    c.sendRaw('-');
    assert.equal(await c.nextPacket(), 'QCp1234.1234');
    c.sendRaw('\r\nhello garbage\x7f');
    assert.equal(await c.request('qAttached'), '0');
    // Two packets in one write, and one split across writes.
    c.sendRaw(frame('qC') + frame('qAttached'));
    assert.deepEqual(await c.nextEvent(), { type: 'ack' });
    assert.equal(await c.nextPacket(), 'QCp1234.1234');
    assert.equal(await c.nextPacket(), '0');
    c.sendRaw('$qsThr');
    c.sendRaw('eadInfo#c8');
    assert.equal(await c.nextPacket(), 'l');
    c.close();
  });
});

test('malformed and overlong packets get error replies and the session goes on', async () => {
  await withServer(
    async ({ server }) => {
      const c = await RspClient.connect(server.port!);
      await c.handshake();
      assert.equal(await c.request('mnothex,4'), 'E01');
      assert.equal(await c.request('M401000,4:zz'), 'E01');
      assert.equal(await c.request('Z0'), 'E01');
      assert.equal(await c.request('Hq'), 'E01');
      assert.equal(await c.request('xyzzy'), '');
      assert.equal(await c.request('M401000,200:' + '00'.repeat(0x200)), 'E01'); // longer than PacketSize
      assert.equal(await c.request('qC'), 'QCp1234.1234');
      c.close();
    },
    { packetSize: 0x100 },
  );
});

test('Ctrl-C while running stops the guest with SIGINT', async () => {
  await withServer(async ({ server, target }) => {
    const c = await RspClient.connect(server.port!);
    await c.handshake();
    c.sendPacket('vCont;c');
    assert.deepEqual(await c.nextEvent(), { type: 'ack' });
    await until(() => target.calls.some((x) => x.startsWith('resume')));
    c.sendRaw('\x03');
    assert.match(await c.nextPacket(), /^T02/);
    assert.ok(target.calls.includes('interrupt'));
    c.close();
  });
});

test('Ctrl-C in the same chunk as the continue packet is not lost', async () => {
  await withServer(async ({ server, target }) => {
    const c = await RspClient.connect(server.port!);
    await c.handshake();
    c.sendRaw(frame('vCont;c') + '\x03');
    assert.match(await c.nextPacket(), /^T02/);
    assert.deepEqual(target.calls.slice(-2), ['resume step=false tid=all signal=0', 'interrupt']);
    c.close();
  });
});

test('a debugger that leaves while the guest is being stopped for it lets the guest go on', async () => {
  const target = new FakeTarget();
  let release!: () => void;
  target.attach = () => {
    target.calls.push('attach');
    return new Promise((resolve) => (release = () => resolve({ kind: 'signal', signal: 19, tid: target.pid })));
  };
  await withServer(
    async ({ server, messages }) => {
      const c = await RspClient.connect(server.port!);
      await until(() => target.calls.includes('attach'));
      c.destroy();
      await until(() => messages.some((m) => m.includes('before the session started')));
      assert.ok(!target.calls.includes('detach'));
      release();
      await until(() => target.calls.includes('detach'));
    },
    { waitForAttach: false, target },
  );
});

test('a dropped connection mid-continue detaches the guest; the server keeps serving', async () => {
  await withServer(async ({ server, target, messages }) => {
    const c = await RspClient.connect(server.port!);
    await c.handshake();
    assert.equal(await c.request(`Z0,${(CODE_BASE + 0x100).toString(16)},1`), 'OK');
    target.onResume = () => new Promise(() => {}); // runs forever
    c.sendPacket('c');
    await until(() => target.calls.some((x) => x.startsWith('resume')));
    c.destroy();
    await until(() => target.calls.includes('detach'));
    assert.ok(target.calls.includes(`remove sw ${(CODE_BASE + 0x100).toString(16)}`));
    assert.ok(messages.some((m) => m.includes('disconnected')));
    // The guest now runs freely: a new debugger stops it through attach().
    target.onResume = null;
    const d = await RspClient.connect(server.port!);
    await d.handshake();
    assert.match(await d.request('?'), /^T11/); // SIGSTOP (gdb 17)
    assert.ok(target.calls.includes('attach'));
    d.close();
  });
});

test('a second debugger is refused with a message and the first is undisturbed', async () => {
  await withServer(async ({ server, messages }) => {
    const first = await RspClient.connect(server.port!);
    await first.handshake();
    const second = await RspClient.connect(server.port!);
    second.sendPacket('qSupported:multiprocess+');
    assert.deepEqual(await second.nextEvent(), { type: 'ack' });
    assert.match(await second.nextPacket(), /^E\.elfshim: another debugger is already attached/);
    await second.closed;
    assert.ok(messages.some((m) => m.includes('refused')));
    assert.equal(await first.request('qC'), 'QCp1234.1234');
    first.close();
  });
});

test('detach ends the session; a later debugger attaches to the running guest', async () => {
  await withServer(async ({ server, target }) => {
    const c = await RspClient.connect(server.port!);
    await c.handshake();
    assert.equal(await c.request('D;1234'), 'OK');
    await c.closed;
    assert.equal(target.calls.filter((x) => x === 'detach').length, 1);
    const d = await RspClient.connect(server.port!);
    await d.handshake();
    assert.match(await d.request('?'), /^T11/);
    // Attached to a running guest (like gdbserver --attach): gdb detaches rather than kills when it quits.
    assert.equal(await d.request('qAttached'), '1');
    d.close();
  });
});

test('after the guest exits, a new debugger is told so', async () => {
  await withServer(async ({ server, target }) => {
    target.onResume = () => Promise.resolve({ kind: 'exited', code: 0 });
    const c = await RspClient.connect(server.port!);
    await c.handshake();
    assert.equal(await c.request('c'), 'W00;process:1234');
    c.close();
    await c.closed;
    const d = await RspClient.connect(server.port!);
    await d.handshake();
    assert.equal(await d.request('?'), 'W00;process:1234');
    assert.ok(!target.calls.includes('detach'));
    d.close();
  });
});

test('waitForAttach=false without attach(): connections are refused with a reason', async () => {
  const target = new FakeTarget();
  (target as { attach?: unknown }).attach = undefined;
  await withServer(
    async ({ server }) => {
      const c = await RspClient.connect(server.port!);
      c.sendPacket('qSupported');
      await c.nextEvent();
      assert.match(await c.nextPacket(), /^E\.elfshim: the guest is running/);
      await c.closed;
    },
    { waitForAttach: false, target },
  );
});

test('non-loopback host prints a warning', async () => {
  await withServer(
    async ({ messages }) => {
      assert.ok(messages.some((m) => m.includes('WARNING') && m.includes('full control')));
    },
    { host: '0.0.0.0' },
  );
});

test('unix socket: mode 0600, same protocol', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'elfshim-gdb-'));
  const path = join(dir, 'gdb.sock');
  const target = new FakeTarget();
  const server = await startGdbServer({ unixPath: path, target, log: () => {} });
  try {
    assert.equal(server.address, `unix:${path}`);
    assert.equal(server.port, undefined);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const c = await RspClient.connect(path);
    await c.handshake();
    assert.equal(await c.request('qC'), 'QCp1234.1234');
    c.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
