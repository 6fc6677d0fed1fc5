// Issue 5's socket acceptance, for the glibc static-PIE, musl static and glibc dynamic
// builds, each against its native run:
//  - a guest TCP echo server (test/fixtures/src/tcpserver.c) under elfshim answers host
//    clients on 127.0.0.1 (and ::1);
//  - a guest client (test/fixtures/src/netclient.c) fetches from a host server.
// (test/hardening-load.test.ts puts the musl server under load and gdb; this file is the
// plain check in every build, with the native program as the reference.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type AddressInfo, type Server } from 'node:net';
import { netclientServer } from './helpers/netclient-server.js';
import { ELFSHIM_TIMEOUT_MS, cliPath, compareWithNative, fixturePath, requireFile } from './helpers/run.js';

const VARIANTS = ['glibc-pie', 'musl', 'glibc-dynamic'] as const;
const ENV = { ELFSHIM_ENGINE: 'interp' }; // the kernel is under test, not the block translator
const CONNECTIONS = 4;


/** One host client: sends size bytes (seeded), half-closes, resolves with what the echo was. */
function echoOnce(port: number, host: string, size: number): Promise<string> {
  const data = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect({ port, host, allowHalfOpen: true });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', (e) => resolve(`error ${e.message}`));
    s.on('end', () => {
      s.end();
      const got = Buffer.concat(chunks);
      resolve(got.equals(data) ? `echoed ${size} bytes` : `bad echo: ${got.length} of ${size} bytes`);
    });
    s.write(data, () => s.end());
  });
}

/**
 * Starts `[elfshim] tcpserver tcp|tcp6 N`, serves it CONNECTIONS host clients (half of
 * them at once), and returns the transcript with the port replaced.
 */
async function serveEchoes(command: string[], mode: 'tcp' | 'tcp6'): Promise<string> {
  const child = spawn(command[0], [...command.slice(1), mode, String(CONNECTIONS)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...ENV } });
  let out = '', err = '';
  child.stderr.on('data', (d) => (err += d));
  // Listened for at once: the server may be gone before the last client has finished.
  const exited = new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ELFSHIM_TIMEOUT_MS);
    child.on('close', (code) => (clearTimeout(timer), resolve(code)));
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line: ${out} ${err}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const host = mode === 'tcp' ? '127.0.0.1' : '::1';
  const results = [...(await Promise.all([echoOnce(port, host, 1), echoOnce(port, host, 70_000)])), await echoOnce(port, host, 0), await echoOnce(port, host, 300_000)];
  const status = await exited;
  return `${out.replace(/listening \d+/, 'listening PORT')}${results.join('\n')}\nexit ${status}\n${err}`;
}

let httpish: Server;
let serverPort = 0;
before(async () => {
  // The host server for netclient: "GET n\n" → n pattern bytes, then close.
  httpish = netclientServer();
  await new Promise<void>((r) => httpish.listen(0, '::', r)); // dual-stack: 127.0.0.1 and ::1
  serverPort = (httpish.address() as AddressInfo).port;
});
after(() => httpish.close());

for (const variant of VARIANTS) {
  describe(variant, () => {
    for (const mode of ['tcp', 'tcp6'] as const) {
      test(`a guest TCP echo server (${mode}) answers host clients, as the native one does`, { timeout: 400_000 }, async () => {
        const bin = fixturePath(variant, 'tcpserver');
        requireFile(bin);
        const native = await serveEchoes([bin], mode);
        const ours = await serveEchoes([process.execPath, cliPath, bin], mode);
        assert.match(native, new RegExp(`served ${CONNECTIONS} connections, 370001 bytes`));
        assert.equal(ours, native);
      });
    }

    test('a guest client fetches from a host server over IPv4 and IPv6', async (t) => {
      const size = 150_000;
      const { native } = await compareWithNative(t, fixturePath(variant, 'netclient'), [String(serverPort), String(size)], { elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS, env: ENV });
      assert.match(native.stdout.toString(), new RegExp(`127\\.0\\.0\\.1: ${size} bytes, fnv1a [0-9a-f]{8}, peer port matches: yes`));
      assert.match(native.stdout.toString(), /::1: connect in progress, poll 1 POLLOUT=1, SO_ERROR 0/);
    });
  });
}
