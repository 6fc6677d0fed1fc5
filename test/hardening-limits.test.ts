// Limits (issue 8): --memory caps guest memory (mmap/brk/malloc fail with ENOMEM,
// never a Node out-of-memory crash), --max-tasks stops fork and thread bombs, and
// a guest flooding stdout into a slow pipe does not grow elfshim's memory.
// The guest is test/fixtures/src/hardening.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { CliProc } from './helpers/cli-proc.js';
import { RspClient } from './gdb-client.js';
import { fixturePath, runElfshim } from './helpers/run.js';

const VARIANTS = ['glibc-static', 'musl'];
const MiB = 2 ** 20;

function bin(variant: string): string | null {
  const p = fixturePath(variant, 'hardening');
  return existsSync(p) ? p : null;
}

for (const variant of VARIANTS) {
  test(`--memory 64M (${variant}): mmap fails with ENOMEM within the limit`, async (t) => {
    const b = bin(variant);
    if (!b) return t.skip('fixture not built');
    const r = await runElfshim(['--memory', '64M', b, 'mmap', '16']);
    const out = r.stdout.toString();
    assert.equal(r.status, 0, r.stderr.toString());
    const m = /^mmap: (\d+) chunks of 16 MB, then ENOMEM$/m.exec(out);
    assert.ok(m, out);
    assert.ok(Number(m[1]) >= 1 && Number(m[1]) * 16 <= 64, `${m[1]} chunks of 16 MB fit in 64 MB`);
  });

  test(`--memory 64M (${variant}): malloc returns NULL, brk fails`, async (t) => {
    const b = bin(variant);
    if (!b) return t.skip('fixture not built');
    const r = await runElfshim(['--memory', '64M', b, 'malloc']);
    const m = /^malloc: (\d+) MB, then NULL$/m.exec(r.stdout.toString());
    assert.ok(m, r.stdout.toString() + r.stderr.toString());
    assert.ok(Number(m[1]) > 16 && Number(m[1]) <= 64, `${m[1]} MB`);
    const b2 = await runElfshim(['--memory', '64M', b, 'brk']);
    const n = /^brk: (\d+) MB, then ENOMEM$/m.exec(b2.stdout.toString());
    assert.ok(n, b2.stdout.toString() + b2.stderr.toString());
    // musl's sbrk never grows the heap (it returns ENOMEM at once); glibc's does, up to the limit.
    assert.ok(Number(n[1]) <= 64, `${n[1]} MB`);
    if (variant !== 'musl') assert.ok(Number(n[1]) > 16, `${n[1]} MB`);
  });
}

test('--memory 1G: a guest that maps and touches all it can is stopped by ENOMEM, elfshim stays small and alive', async (t) => {
  const b = bin('musl');
  if (!b) return t.skip('fixture not built');
  const p = new CliProc(['--memory', '1G', b, 'mmap', '64']);
  let peak = 0;
  const poll = setInterval(() => {
    try {
      peak = Math.max(peak, p.memory().rss);
    } catch {
      // exited
    }
  }, 50);
  const { code } = await p.exited;
  clearInterval(poll);
  assert.equal(code, 0, p.err);
  const m = /^mmap: (\d+) chunks of 64 MB, then ENOMEM$/m.exec(p.out);
  assert.ok(m && Number(m[1]) <= 16, p.out);
  console.log(`--memory 1G: ${m[1]} chunks of 64 MB; elfshim peak rss ${(peak / MiB).toFixed(0)} MiB`);
  assert.ok(peak < 1024 * MiB + 300 * MiB, `elfshim's memory is the guest's plus a margin (${peak} bytes)`);
});

test('--memory rejects nonsense with a one-line usage error', async () => {
  for (const bad of ['5X', '0', '-1', '']) {
    const r = await runElfshim(['--memory', bad, '/bin/true']);
    assert.equal(r.status, 2, `--memory ${bad}: ${r.stderr}`);
    assert.match(r.stderr.toString(), /^elfshim: --memory: invalid size/);
  }
});

for (const variant of VARIANTS) {
  test(`--max-tasks 20 (${variant}): fork and pthread_create fail with EAGAIN at the cap`, async (t) => {
    const b = bin(variant);
    if (!b) return t.skip('fixture not built');
    const f = await runElfshim(['--max-tasks', '20', b, 'forks']);
    assert.equal(f.status, 0, f.stderr.toString());
    assert.match(f.stdout.toString(), /^forks: 19 children, then EAGAIN$/m);
    assert.match(f.stdout.toString(), /^forks: reaped 19$/m);
    const th = await runElfshim(['--max-tasks', '20', b, 'threads']);
    assert.equal(th.status, 0, th.stderr.toString());
    assert.match(th.stdout.toString(), /^threads: 19 threads, then EAGAIN$/m);
  });
}

test('--memory 24M: fork fails with ENOMEM when the pool cannot hold another copy (not an internal error)', async (t) => {
  const b = bin('musl');
  if (!b) return t.skip('fixture not built');
  const r = await runElfshim(['--memory', '24M', '--max-tasks', '100000', b, 'forks']);
  const out = r.stdout.toString();
  assert.equal(r.status, 0, r.stderr.toString());
  assert.doesNotMatch(r.stderr.toString(), /internal error/);
  const m = /^forks: (\d+) children, then ENOMEM$/m.exec(out);
  assert.ok(m && Number(m[1]) > 0, out);
  assert.match(out, new RegExp(`^forks: reaped ${m[1]}$`, 'm'));
});

for (const variant of VARIANTS) {
  test(`--memory 64M (${variant}) is one budget for all guest processes: fork children share it`, async (t) => {
    const b = bin(variant);
    if (!b) return t.skip('fixture not built');
    // Three children in turn try to map and touch 30 MB each while the earlier ones hold theirs.
    // Counted per process, each would get its 30 MB and together (90 MB) they would overrun the 64 MB frame pool.
    const r = await runElfshim(['--memory', '64M', b, 'forkmmap', '3', '2', '15'], { timeoutMs: 120_000 });
    const out = r.stdout.toString();
    assert.equal(r.timedOut, false, out);
    assert.equal(r.status, 0, out + r.stderr.toString());
    const m = /^forkmmap: (\d+) children mapped (\d+) MB in total$/m.exec(out);
    assert.ok(m, out + r.stderr.toString());
    // Counted per process, the children would map 90 MB; together with the parent's images they must stay under 64 MB.
    assert.ok(Number(m[2]) < 64, `${m[2]} MB mapped by children, plus the parent's images and stacks, within 64 MB`);
    assert.match(out, /failed with ENOMEM/, 'a later child (or its fork) meets the shared limit');
    const perChild = [...out.matchAll(/^forkmmap: child \d+ mapped (\d+) MB$/gm)].map((x) => Number(x[1]));
    assert.ok(perChild.length >= 2 && perChild.some((n) => n < 30), `children got ${perChild.join(', ')} MB`);
    console.log(`--memory 64M (${variant}), forking: children mapped ${perChild.join(' + ')} = ${m[2]} MB, then ENOMEM`);
  });
}

test('--max-tasks 16: a fork bomb is contained and ends', async (t) => {
  const b = bin('musl');
  if (!b) return t.skip('fixture not built');
  const r = await runElfshim(['--max-tasks', '16', b, 'forkbomb'], { timeoutMs: 300_000 });
  assert.equal(r.timedOut, false);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stdout.toString(), /^forkbomb: contained \(root forked \d+ times, then EAGAIN\)$/m);
});

test('--max-tasks rejects nonsense', async () => {
  for (const bad of ['0', 'x', '-3']) {
    const r = await runElfshim(['--max-tasks', bad, '/bin/true']);
    assert.equal(r.status, 2, r.stderr.toString());
    assert.match(r.stderr.toString(), /^elfshim: --max-tasks expects a positive number/);
  }
});

/** python3, to hand elfshim a non-blocking stdout (as a parent that set O_NONBLOCK on the pipe would). */
const HAVE_PYTHON = spawnSync('python3', ['-c', '0']).status === 0;
const NONBLOCK_EXEC = 'import fcntl, os, sys; fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK); os.execv(sys.argv[1], sys.argv[1:])';

for (const kind of ['blocking', 'non-blocking'] as const) {
  test(`a guest flooding a slow ${kind} stdout pipe: elfshim does not buffer without bound, and nothing is lost`, async (t) => {
    const b = bin('musl');
    if (!b) return t.skip('fixture not built');
    if (kind === 'non-blocking' && !HAVE_PYTHON) return t.skip('python3 not installed');
    const MB = 256;
    const args = [b, 'flood', String(MB)];
    const p = new CliProc(args, { pipeStdout: false, ...(kind === 'non-blocking' ? { wrap: ['python3', '-c', NONBLOCK_EXEC, process.execPath] } : {}) });
    const stdout = p.child.stdout!;
    const hash = createHash('sha256');
    let received = 0;
    stdout.on('data', (d: Buffer) => {
      hash.update(d);
      received += d.length;
    });
    // A slow reader: take a little, stop for a while, repeatedly; elfshim's memory is sampled meanwhile.
    let peak = 0;
    for (let i = 0; i < 6 && p.child.exitCode === null; i++) {
      stdout.pause();
      await p.idle(300, 10_000);
      try {
        peak = Math.max(peak, p.memory().rss);
      } catch {
        break;
      }
      stdout.resume();
      await new Promise((r) => setTimeout(r, 20));
    }
    stdout.resume();
    const { code } = await p.exited;
    if (!stdout.closed) await new Promise((r) => stdout.once('close', r));
    assert.equal(code, 0, p.err);
    assert.equal(received, MB * MiB, 'every byte arrived');
    const expected = createHash('sha256');
    const block = Buffer.alloc(65536);
    for (let i = 0; i < block.length; i++) block[i] = 97 + (i % 26);
    for (let i = 0; i < (MB * MiB) / block.length; i++) expected.update(block);
    assert.equal(hash.digest('hex'), expected.digest('hex'), 'in order and intact');
    console.log(`stdout flood (${kind}): ${MB} MB through a paused pipe; elfshim rss peaked at ${(peak / MiB).toFixed(0)} MiB while the reader slept`);
    assert.ok(peak < 200 * MiB, `elfshim held ${peak} bytes`);
  });
}

/** Rejects when p does not settle within ms (a stalled event loop never answers). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

test('a guest blocked on stdout to a pipe nobody reads: elfshim stays responsive (gdb Ctrl-C), small, and loses nothing', { timeout: 300_000 }, async (t) => {
  const b = bin('musl');
  if (!b) return t.skip('fixture not built');
  const MB = 32;
  // Nobody reads stdout yet: the pipe fills and the guest's writes must wait — the guest, not elfshim.
  const p = new CliProc(['--gdb', '0', '--no-wait', b, 'flood', String(MB)], { pipeStdout: false });
  try {
    const stdout = p.child.stdout!;
    const port = await p.port();
    await p.idle(300, 30_000);
    const rss = p.memory().rss;
    const c = await within(RspClient.connect(port), 10_000, 'connect');
    await within(c.handshake(), 10_000, 'handshake while the guest waits on its output');
    // Attaching stopped the guest where it was (--no-wait); let it go back to waiting, then interrupt.
    c.sendPacket('c');
    await new Promise((r) => setTimeout(r, 300));
    c.sendRaw('\x03');
    const stop = await within(c.nextPacket(), 10_000, 'Ctrl-C while the guest waits on its output');
    assert.match(stop, /^T02/, 'stopped with SIGINT');
    assert.match(await within(c.request('g'), 10_000, 'g'), /^[0-9a-f]+$/);
    // Go on and read everything: the bytes are complete and in order.
    c.sendPacket('c');
    const hash = createHash('sha256');
    let received = 0;
    stdout.on('data', (d: Buffer) => {
      hash.update(d);
      received += d.length;
    });
    assert.match(await within(c.nextPacket(), 120_000, 'exit'), /^W00/);
    await p.exited;
    if (!stdout.closed) await new Promise((r) => stdout.once('close', r));
    assert.equal(received, MB * MiB, 'every byte arrived');
    const expected = createHash('sha256');
    const block = Buffer.alloc(65536);
    for (let i = 0; i < block.length; i++) block[i] = 97 + (i % 26);
    for (let i = 0; i < (MB * MiB) / block.length; i++) expected.update(block);
    assert.equal(hash.digest('hex'), expected.digest('hex'), 'in order and intact');
    console.log(`guest blocked on a full stdout pipe: gdb handshake and Ctrl-C answered, elfshim rss ${(rss / MiB).toFixed(0)} MiB, ${MB} MB intact afterwards`);
    assert.ok(rss < 200 * MiB, `elfshim held ${rss} bytes`);
    c.close();
  } finally {
    p.kill();
  }
});
