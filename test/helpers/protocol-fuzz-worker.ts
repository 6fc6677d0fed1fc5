// The in-process protocol fuzz of test/hardening-protocol-fuzz.test.ts, run in a
// worker thread so that the test can notice a stub stuck in a synchronous loop.
// Reports each case before sending it ({type:'case'}), then {type:'done'} or {type:'fail'}.
import { parentPort, workerData } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { caseArb, hostilePathArb, type FuzzCase } from './rsp-fuzz.js';
import { FUZZ_TARGETS, FuzzIncarnation, makeFuzzWorld, seededBytes } from './fuzz-guest.js';
import { readAllRegisters } from '../../src/gdb/registers.js';
import { frame } from '../../src/gdb/framing.js';
import { bytesToHex } from '../../src/gdb/hex.js';

const { packets: PACKETS, seed: SEED, trace: TRACE } = workerData as { packets: number; seed: number; trace: boolean };
const post = (type: string, text: string) => parentPort!.postMessage({ type, text });

const uncaught: unknown[] = [];
let firstFailure = '';
process.on('uncaughtException', (e) => uncaught.push(e));
process.on('unhandledRejection', (e) => uncaught.push(e));

/** The thread id in a stop reply ("thread:p1.2;" or "thread:2;"), without the pid part. */
function stopThread(reply: string): string | undefined {
  return /thread:(?:p[0-9a-f]+\.)?([0-9a-f]+);/.exec(reply)?.[1];
}

const world = makeFuzzWorld(seededBytes);
let outcome: [string, string] = ['fail', 'the fuzz ended without a result'];
try {
  const forbidden = [world.canaryText, bytesToHex(Buffer.from(world.canaryText))];
  const probe = new FuzzIncarnation(world, forbidden);
  const gLength = readAllRegisters(probe.ctl.cpuOf(probe.ctl.pid)!).length;
  await probe.dispose();

  const cases = fc.array(caseArb(FUZZ_TARGETS, gLength, hostilePathArb(world.hostilePaths)), { minLength: 20, maxLength: 120 });
  let packets = 0;
  let runs = 0;
  let incarnations = 0;
  const rssBefore = process.memoryUsage().rss;

  const property = fc.asyncProperty(cases, async (batch: FuzzCase[]) => {
    if (packets >= PACKETS) return;
    runs++;
    let inc = new FuzzIncarnation(world, forbidden);
    incarnations++;
    const problems: string[] = [];
    try {
      for (const [i, c] of batch.entries()) {
        packets += c.packets;
        const shown = `run ${runs} case ${i}: ${JSON.stringify(c.chunks)}`;
        post('case', shown.slice(0, 2000));
        if (TRACE) process.stderr.write(shown + '\n');
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
      // fast-check's counterexample can be megabytes: say what failed first.
      firstFailure ||= `run ${runs} failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 4000);
      post('case', firstFailure);
      throw e;
    } finally {
      await inc.dispose();
    }
  });

  await fc.assert(property, { seed: SEED, numRuns: Math.ceil(PACKETS / 20), endOnFailure: true });
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(packets >= PACKETS, `fuzzed ${packets} packets`);
  assert.ok(grown < 512 * 2 ** 20, `memory stayed bounded (rss grew ${grown} bytes)`);
  outcome = ['done', `protocol fuzz: ${packets} packets in ${runs} runs, ${incarnations} guests; rss grew ${(grown / 2 ** 20).toFixed(0)} MiB`];
} catch (e) {
  outcome = ['fail', (firstFailure ? firstFailure + '\n' : '') + (e instanceof Error ? e.message : String(e))];
} finally {
  // Before the report: the test terminates this worker as soon as it has it.
  rmSync(world.dir, { recursive: true, force: true });
}
post(...outcome);
