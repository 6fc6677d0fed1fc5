// Under load (issue 8): a guest TCP server (test/fixtures/src/tcpserver.c, an
// epoll echo server) under `elfshim --gdb` serves a host client that opens 200
// concurrent connections; every byte comes back intact (SHA-256 per connection)
// and gdb's Ctrl-C (0x03) stops the guest in the middle of it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProc } from './helpers/cli-proc.js';
import { CLI } from './helpers/gdb-run.js';
import { fixturePath } from './helpers/run.js';
import { RspClient } from './gdb-client.js';

const CONNECTIONS = Number(process.env.HARDENING_LOAD_CONNECTIONS ?? 200);
const BYTES_PER_CONNECTION = Number(process.env.HARDENING_LOAD_BYTES ?? 128 * 1024);

/** Whether this elfshim has the socket syscalls (src/kernel/syscalls/net.ts registered in the table). */
function haveSockets(): boolean {
  const r = spawnSync(process.execPath, [CLI, 'syscalls'], { encoding: 'utf8' });
  return /^\s*41\s+socket\s+(implemented|partial)/m.test(r.stdout);
}

interface Transfer {
  done: Promise<string>;
  received: () => number;
}

/** One client connection: sends random bytes, half-closes, and checks the echo. */
function echoOnce(where: { port: number; host: string } | { path: string }, size: number): Transfer {
  const data = randomBytes(size);
  const want = createHash('sha256').update(data).digest('hex');
  const got = createHash('sha256');
  let n = 0;
  const done = new Promise<string>((resolve) => {
    const s = 'path' in where ? connect(where.path) : connect(where.port, where.host);
    s.on('data', (d: Buffer) => {
      got.update(d);
      n += d.length;
    });
    s.on('error', (e) => resolve(`error ${e.message}`));
    s.on('end', () => {
      s.end();
      resolve(n !== size ? `short echo: ${n} of ${size} bytes` : got.digest('hex') === want ? 'ok' : 'corrupted echo');
    });
    s.write(data, () => s.end());
  });
  return { done, received: () => n };
}

test(`${CONNECTIONS} concurrent connections to a guest TCP server under --gdb: no data lost, Ctrl-C still stops it`, { timeout: 600_000 }, async (t) => {
  const bin = fixturePath('musl', 'tcpserver');
  if (!existsSync(bin)) return t.skip('fixture not built');
  if (!haveSockets()) return t.skip('socket syscalls are not registered (src/kernel/syscalls/net.ts → syscall-table.ts)');
  const p = new CliProc(['--gdb', '0', bin, 'tcp', String(CONNECTIONS)]);
  try {
    const c = await RspClient.connect(await p.port());
    await c.handshake();
    c.sendPacket('c');
    const port = Number((await p.waitFor(/listening (\d+)/, 'out'))[1]);
    const transfers = Array.from({ length: CONNECTIONS }, () => echoOnce({ port, host: '127.0.0.1' }, BYTES_PER_CONNECTION));
    const total = CONNECTIONS * BYTES_PER_CONNECTION;
    const echoed = () => transfers.reduce((s, x) => s + x.received(), 0);
    // Once the echo is well under way, Ctrl-C.
    while (echoed() < total / 10) await new Promise((r) => setTimeout(r, 20));
    const atInterrupt = echoed();
    c.sendRaw('\x03');
    const stop = await c.nextPacket();
    assert.match(stop, /^T02/, 'the guest stopped with SIGINT');
    assert.match(await c.request('g'), /^[0-9a-f]+$/, 'registers readable while stopped');
    console.log(`Ctrl-C under load: stopped after ${atInterrupt} of ${total} bytes echoed`);
    // Go on: every connection completes and checks out.
    c.sendPacket('c');
    const results = await Promise.all(transfers.map((x) => x.done));
    const bad = results.filter((r) => r !== 'ok');
    assert.deepEqual([...new Set(bad)], [], `${bad.length} connections failed`);
    assert.match(await c.nextPacket(), /^W00/);
    const { code } = await p.exited;
    assert.equal(code, 0, p.err);
    assert.match(p.out, new RegExp(`served ${CONNECTIONS} connections, ${total} bytes`));
    console.log(`served ${CONNECTIONS} connections, ${total} bytes each way`);
  } finally {
    p.kill();
  }
});

test('IPv6 loopback and AF_UNIX servers echo too; the Unix socket lives inside --rootfs', async (t) => {
  const bin = fixturePath('musl', 'tcpserver');
  if (!existsSync(bin)) return t.skip('fixture not built');
  if (!haveSockets()) return t.skip('socket syscalls are not registered');
  const v6 = new CliProc([bin, 'tcp6', '20']);
  try {
    const port = Number((await v6.waitFor(/listening (\d+)/, 'out'))[1]);
    const r = await Promise.all(Array.from({ length: 20 }, () => echoOnce({ port, host: '::1' }, 50_000).done));
    assert.deepEqual([...new Set(r)], ['ok']);
    assert.equal((await v6.exited).code, 0, v6.err);
  } finally {
    v6.kill();
  }
  const root = mkdtempSync(join(tmpdir(), 'elfshim-unix-'));
  const u = new CliProc(['--rootfs', root, bin, 'unix', '/echo.sock', '20']);
  try {
    await u.waitFor(/listening \/echo\.sock/, 'out');
    const r = await Promise.all(Array.from({ length: 20 }, () => echoOnce({ path: join(root, 'echo.sock') }, 50_000).done));
    assert.deepEqual([...new Set(r)], ['ok']);
    assert.equal((await u.exited).code, 0, u.err);
    assert.equal(existsSync(join(root, 'echo.sock')), false, 'the guest unlinked its socket');
  } finally {
    u.kill();
    rmSync(root, { recursive: true, force: true });
  }
});
