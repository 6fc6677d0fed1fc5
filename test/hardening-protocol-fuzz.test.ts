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
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { caseArb, CHANGES_GUEST, hostilePathArb, type FuzzCase } from './helpers/rsp-fuzz.js';
import { startStub } from './helpers/gdb-run.js';
import { RspClient } from './gdb-client.js';
import { DATA_SIZE, FuzzIncarnation, makeFuzzWorld } from './helpers/fuzz-guest.js';
import { CODE_ADDR, DATA_ADDR } from './helpers/tiny-elf.js';
import { readAllRegisters } from '../src/gdb/registers.js';
import { frame } from '../src/gdb/framing.js';
import { bytesToHex } from '../src/gdb/hex.js';

const PACKETS = Number(process.env.HARDENING_FUZZ_PACKETS ?? 100_000);
/** Packets for the second run, over TCP against a real `elfshim --gdb` process. */
const SOCKET_PACKETS = Number(process.env.HARDENING_FUZZ_SOCKET_PACKETS ?? 5_000);
const SEED = Number(process.env.HARDENING_FUZZ_SEED ?? 0x8f00d);
/** HARDENING_FUZZ_TRACE=1 prints every case before it is sent (to find a hang). */
const TRACE = !!process.env.HARDENING_FUZZ_TRACE;

/** Deterministic bytes for the guest's data segment (so stray writes are visible). */
function seededBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const world = makeFuzzWorld(seededBytes);
const TARGETS = {
  regions: [
    [CODE_ADDR, CODE_ADDR + 0x1000],
    [DATA_ADDR, DATA_ADDR + DATA_SIZE],
    [0x7ffffffde000, 0x7ffffffff000],
    [0x500000, 0x501000],
  ] as Array<[number, number]>,
};
after(() => rmSync(world.dir, { recursive: true, force: true }));

const uncaught: unknown[] = [];
process.on('uncaughtException', (e) => uncaught.push(e));
process.on('unhandledRejection', (e) => uncaught.push(e));

/** The thread id in a stop reply ("thread:p1.2;" or "thread:2;"), without the pid part. */
function stopThread(reply: string): string | undefined {
  return /thread:(?:p[0-9a-f]+\.)?([0-9a-f]+);/.exec(reply)?.[1];
}

test(`protocol fuzz: ${PACKETS} hostile packets against a live DebugController (seed ${SEED})`, { timeout: 600_000 }, async () => {
  const forbidden = [world.canaryText, bytesToHex(Buffer.from(world.canaryText))];
  const probe = new FuzzIncarnation(world, forbidden);
  const gLength = readAllRegisters(probe.ctl.cpuOf(probe.ctl.pid)!).length;
  await probe.dispose();

  const cases = fc.array(caseArb(TARGETS, gLength, hostilePathArb(world.hostilePaths)), { minLength: 20, maxLength: 120 });

  let packets = 0;
  let runs = 0;
  let incarnations = 0;
  const heapBefore = process.memoryUsage().rss;

  const property = fc.asyncProperty(cases, async (batch: FuzzCase[]) => {
    if (packets >= PACKETS) return;
    runs++;
    let inc = new FuzzIncarnation(world, forbidden);
    incarnations++;
    const problems: string[] = [];
    try {
      for (const [i, c] of batch.entries()) {
        packets += c.packets;
        if (TRACE) process.stderr.write(`fuzz run ${runs} case ${i}: ${JSON.stringify(c.chunks)}\n`);
        const settled = await inc.feed(c.chunks);
        assert.ok(settled, `case ${i}: the stub never answered ${JSON.stringify(c.chunks.join('').slice(0, 200))} (running=${inc.session.running})`);
        problems.push(...inc.problems.splice(0));
        inc.replies.length = 0;
        if (!inc.usable) {
          // gdb killed or detached it, or a signal ended it: go on with a fresh guest.
          await inc.dispose();
          inc = new FuzzIncarnation(world, forbidden);
          incarnations++;
        }
      }
      // The stub still answers `?` with the stop it last reported.
      inc.link.receive('+' + frame('?'));
      assert.ok(await inc.settle(10_000), '`?` was never answered');
      const reply = inc.replies.at(-1);
      assert.ok(reply !== undefined, 'no reply to `?`');
      assert.equal(reply.slice(0, 3), inc.lastStop.slice(0, 3), `\`?\` says ${reply}, the last stop was ${inc.lastStop}`);
      assert.equal(stopThread(reply), stopThread(inc.lastStop), 'same thread as the last stop');
      // And guest memory holds what it should.
      inc.verify('at the end');
      problems.push(...inc.problems.splice(0));
      assert.deepEqual(problems, []);
      assert.deepEqual(uncaught, [], 'no uncaught exception or unhandled rejection');
    } catch (e) {
      // The counterexample fast-check prints can be megabytes; say what failed first.
      process.stderr.write(`protocol fuzz failure in run ${runs}: ${e instanceof Error ? e.message : String(e)}\n`.slice(0, 4000));
      throw e;
    } finally {
      await inc.dispose();
    }
  });

  await fc.assert(property, { seed: SEED, numRuns: Math.ceil(PACKETS / 20), endOnFailure: true });
  const grown = process.memoryUsage().rss - heapBefore;
  console.log(`protocol fuzz: ${packets} packets in ${runs} runs, ${incarnations} guests; rss grew ${(grown / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(packets >= PACKETS, `fuzzed ${packets} packets`);
  assert.ok(grown < 512 * 2 ** 20, `memory stayed bounded (rss grew ${grown} bytes)`);
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
