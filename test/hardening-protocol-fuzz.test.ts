// Protocol fuzzing (issue 8): seeded, reproducible, property-based. Hostile RSP
// traffic — every command with random arguments, bad checksums, truncated and
// huge packets, invalid hex, binary garbage, interleaved 0x03 — goes through the
// real framing (RspLink), session and command handlers into a real
// DebugController on a loaded guest. After every run the stub must still answer
// `?` with the current stop, guest memory must hold exactly what acknowledged
// writes put there, every reply must fit PacketSize, nothing outside the rootfs
// may leak through vFile, and nothing may throw.
//
//   HARDENING_FUZZ_PACKETS=N   packets per run of this file (default 100000)
//   HARDENING_FUZZ_SEED=S      fast-check seed (default 0x8f00d)
// A failure prints the seed and path; replay with the same seed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { caseArb, CHANGES_GUEST, hostilePathArb } from './helpers/rsp-fuzz.js';
import { startStub } from './helpers/gdb-run.js';
import { RspClient } from './gdb-client.js';
import { DATA_SIZE, FUZZ_TARGETS as TARGETS, makeFuzzWorld, seededBytes } from './helpers/fuzz-guest.js';
import { CODE_ADDR, DATA_ADDR } from './helpers/tiny-elf.js';
import { bytesToHex } from '../src/gdb/hex.js';

const PACKETS = Number(process.env.HARDENING_FUZZ_PACKETS ?? 100_000);
/** Packets for the second run, over TCP against a real `elfshim --gdb` process. */
const SOCKET_PACKETS = Number(process.env.HARDENING_FUZZ_SOCKET_PACKETS ?? 5_000);
const SEED = Number(process.env.HARDENING_FUZZ_SEED ?? 0x8f00d);
/** HARDENING_FUZZ_TRACE=1 prints every case before it is sent (to find a hang). */
const TRACE = !!process.env.HARDENING_FUZZ_TRACE;

const world = makeFuzzWorld(seededBytes);
after(() => rmSync(world.dir, { recursive: true, force: true }));

/** How long the in-process fuzz may make no progress before it counts as hung (a synchronous loop in the stub). */
const STALL_MS = Number(process.env.HARDENING_FUZZ_STALL_MS ?? 60_000);

test(`protocol fuzz: ${PACKETS} hostile packets against a live DebugController (seed ${SEED})`, { timeout: 1_200_000 }, async () => {
  // In a worker: a stub stuck in a synchronous loop cannot stop a watchdog here.
  const worker = new Worker(new URL('./helpers/protocol-fuzz-worker.js', import.meta.url), { workerData: { packets: PACKETS, seed: SEED, trace: TRACE } });
  let last = 'before the first case';
  const result = await new Promise<{ ok: boolean; message: string }>((resolve) => {
    let timer = setTimeout(stalled, STALL_MS);
    function stalled(): void {
      void worker.terminate();
      resolve({ ok: false, message: `the stub made no progress for ${STALL_MS / 1000} s; it hung on ${last}` });
    }
    worker.on('message', (m: { type: string; text: string }) => {
      clearTimeout(timer);
      timer = setTimeout(stalled, STALL_MS);
      if (m.type === 'case') last = m.text;
      else if (m.type === 'done' || m.type === 'fail') {
        clearTimeout(timer);
        resolve({ ok: m.type === 'done', message: m.text });
      }
    });
    worker.on('error', (e) => (clearTimeout(timer), resolve({ ok: false, message: `the worker threw: ${e.stack ?? e}` })));
  });
  await worker.terminate();
  console.log(result.message.slice(0, 4000));
  assert.ok(result.ok, result.message.slice(0, 4000));
});

/** The whole reply stream so far, decoded: waits until the server has been quiet for a moment. */
async function quiet(c: RspClient, ms = 30): Promise<void> {
  for (;;) {
    const before = c.received.length;
    await new Promise((r) => setTimeout(r, ms));
    if (c.received.length === before) return;
  }
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

test(`protocol fuzz over TCP: ${SOCKET_PACKETS} packets at a real \`elfshim --gdb\` (seed ${SEED})`, { timeout: 600_000 }, async () => {
  const stub = await startStub(world.guest, [], ['--rootfs', world.root]);
  const client = await RspClient.connect(stub.port);
  const forbidden = [world.canaryText, bytesToHex(Buffer.from(world.canaryText))];
  try {
    // Everything but what runs the guest or changes it: afterwards its memory must be the image's.
    const arb = fc.array(caseArb(TARGETS, 560, hostilePathArb(world.hostilePaths), (p) => !CHANGES_GUEST.test(p)), { minLength: 50, maxLength: 50 });
    let packets = 0;
    let batches = 0;
    while (packets < SOCKET_PACKETS) {
      const [batch] = fc.sample(arb, { seed: SEED + batches++, numRuns: 1 });
      for (const c of batch) {
        for (const chunk of c.chunks) client.sendRaw(chunk);
        packets += c.packets;
      }
      await quiet(client);
      assert.equal(stub.child.exitCode, null, `elfshim exited: ${stub.err()}`);
    }
    for (const f of forbidden) assert.ok(!client.received.includes(f), 'nothing from outside the rootfs reached the debugger');
    // Leave any half-sent frame, forget the replies so far, and check the session.
    client.sendRaw('#00');
    await quiet(client);
    (client as unknown as { events: unknown[] }).events.length = 0;
    assert.match(await client.request('?'), /^T05/);
    const image = readFileSync(world.guest);
    const code = Buffer.from(await client.request(`m${CODE_ADDR.toString(16)},200`), 'hex');
    assert.deepEqual(code, image.subarray(0, 0x200), 'code unchanged');
    let data = '';
    for (let off = 0; off < DATA_SIZE; off += 0x1000) data += await client.request(`m${(DATA_ADDR + off).toString(16)},1000`);
    assert.deepEqual(Buffer.from(data, 'hex'), Buffer.from(seededBytes(DATA_SIZE)), 'data unchanged');
    const peak = vmHWM(stub.child.pid!);
    console.log(`protocol fuzz over TCP: ${packets} packets in ${batches} batches; elfshim peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(peak < 600 * 2 ** 20, `elfshim's memory stayed bounded (${peak} bytes)`);
    assert.equal(await client.request('vKill;1'), 'OK');
  } finally {
    client.destroy();
    const status = await new Promise<number | null>((r) => (stub.child.exitCode !== null ? r(stub.child.exitCode) : stub.child.on('exit', (c) => r(c))));
    assert.doesNotMatch(stub.err(), /internal error|\n\s+at /, 'no host exception');
    assert.equal(status, 137, `the killed guest's status: ${stub.err()}`);
  }
});
