// ELF fuzzing (issue 8): mutated ELF headers and program headers — overlapping
// segments, p_filesz > p_memsz, offsets past the end, huge p_memsz, zero sizes,
// misalignment, PT_INTERP pointing outside the rootfs, at itself, at FIFOs and
// devices — must always end in the one-line error (`elfshim: PATH: REASON`,
// status 126) or a normal run: never a host exception, a hang, or an interpreter
// read from outside --rootfs.
//
// The bulk runs in-process through Kernel.spawn, the call the CLI makes (the CLI
// adds only the "is it a regular readable file" checks and prints ElfError's
// message after `elfshim: PATH: `), so thousands of mutants cost seconds. A seeded
// sample of the same mutants, the hostile PT_INTERP paths that could block (a FIFO)
// and non-file programs go through the real CLI process, to check what a user sees.
// (test/elf-fuzz.test.ts fuzzes parseElf/loadProgram without a kernel or rootfs.)
//
//   HARDENING_ELF_CASES=N      in-process mutants (default 3000)
//   HARDENING_ELF_CLI_CASES=N  of those, how many also run through the CLI (default 12)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfError } from '../src/elf/index.js';
import { Kernel } from '../src/kernel/kernel.js';
import { interpTargets, mutants } from './helpers/elf-mutants.js';
import { runElfshim, type RunResult } from './helpers/run.js';
import { EXIT_0, tinyElf, writeAndExit } from './helpers/tiny-elf.js';

const CASES = Number(process.env.HARDENING_ELF_CASES ?? 3000);
const CLI_CASES = Number(process.env.HARDENING_ELF_CLI_CASES ?? 12);
const SEED = 0xe1f08;
const ESCAPED = 'ESCAPED-THE-ROOTFS';

let dir = '';
let root = '';
let outsideInterp = '';
const bases: Array<{ name: string; image: Uint8Array }> = [];
const cstr = (s: string) => Buffer.from(s + '\0');

before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'elfshim-elfcli-')));
  root = join(dir, 'root');
  mkdirSync(join(root, 'lib'), { recursive: true });
  mkdirSync(join(root, 'dir'));
  // An interpreter outside the rootfs: if elfshim ever runs it, the output says so;
  // if it is ever loaded, its marker is in guest memory.
  outsideInterp = join(dir, 'outside-interp');
  writeFileSync(outsideInterp, tinyElf({ code: writeAndExit(ESCAPED + '\n') }), { mode: 0o755 });
  writeFileSync(join(root, 'lib', 'ld-tiny'), tinyElf({ code: EXIT_0 }), { mode: 0o755 });
  symlinkSync(outsideInterp, join(root, 'abs-escape'));
  symlinkSync('../outside-interp', join(root, 'rel-escape'));
  symlinkSync('../../../../../../../../..' + outsideInterp, join(root, 'deep-escape'));
  spawnSync('mkfifo', [join(root, 'fifo')]);

  bases.push({ name: 'tiny', image: tinyElf({ code: EXIT_0 }) });
  bases.push({ name: 'tiny+data', image: tinyElf({ code: EXIT_0, data: new Uint8Array(300).fill(7), dataMemsz: 0x3000 }) });
  bases.push({ name: 'tiny+interp', image: tinyElf({ code: EXIT_0, interp: cstr('/lib/ld-tiny') }) });
  // Real toolchain output too, when gcc is there.
  const src = join(dir, 'tiny.c');
  writeFileSync(src, 'long v = 5; char buf[8192];\nvoid _start(void) { buf[0] = (char)v; __asm__ volatile("mov $60, %eax\\n xor %edi, %edi\\n syscall"); }\n');
  for (const [name, flags] of [['gcc-static', ['-static', '-no-pie']], ['gcc-static-pie', ['-static-pie']]] as const) {
    const out = join(dir, name);
    if (spawnSync('gcc', ['-O1', '-nostdlib', '-o', out, src, ...flags]).status === 0) bases.push({ name, image: new Uint8Array(readFileSync(out)) }); // a copy: Buffer#slice would share
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  rejected: boolean;
  reason: string;
}

/** Reasons grouped by shape (numbers and quoted names folded), to show how many checks fired. */
function reasonKey(reason: string): string {
  return reason.replace(/0x[0-9a-f]+|\d+/g, 'N').replace(/'[^']*'|"[^"]*"/g, 'S').replace(/interpreter \S+/, 'interpreter P').slice(0, 80);
}

// ---------------------------------------------------------------- in-process (the bulk)

/** PT_INTERP targets that would block a synchronous read (a FIFO): only the CLI, with its kill timer, tries those. */
const BLOCKING = new Set(['/fifo']);

/**
 * Loads one image the way the CLI does (Kernel.spawn) and checks the rules: an
 * ElfError with a one-line message, or a loaded process with nothing from
 * outside the rootfs in its memory. Any other exception is a host crash (the
 * CLI's "internal error", status 70). One kernel serves many cases (a fresh one
 * costs a pool allocation and garbage collection: ten times the load); a loaded
 * process is taken out again and its frames released.
 */
function spawnImage(kernel: Kernel, image: Uint8Array, label: string, name: string): Outcome {
  const prog = join(root, name);
  writeFileSync(prog, image, { mode: 0o755 });
  let t;
  try {
    t = kernel.spawn({ hostPath: prog, guestPath: '/' + name, execfn: prog, argv: [prog], envp: [] });
  } catch (e) {
    if (!(e instanceof ElfError)) assert.fail(`${label}: host exception (the CLI would print "internal error"): ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(e.message.length > 0 && !/[\r\n]/.test(e.message), `${label}: the error must be one line: ${JSON.stringify(e.message)}`);
    return { rejected: true, reason: e.message };
  }
  const used = Buffer.from(kernel.phys.buffer, 0, kernel.phys.highWater);
  assert.equal(used.indexOf(ESCAPED), -1, `${label}: the interpreter outside the rootfs was loaded`);
  kernel.tasks.splice(kernel.tasks.indexOf(t), 1);
  t.mem.destroy();
  return { rejected: false, reason: 'loaded' };
}

const newKernel = () => new Kernel({ rootfs: root, seed: 1, memoryLimit: 64 * 2 ** 20 });

test('ELF mutants through Kernel.spawn (the CLI path): one-line ElfError or a load; never a host exception or an escape', { timeout: 600_000 }, () => {
  const started = Date.now();
  const reasons = new Map<string, number>();
  const perMutation = new Map<string, { rejected: number; loaded: number }>();
  let rejected = 0;
  let skipped = 0;
  const kernel = newKernel();
  for (const m of mutants(bases, CASES, SEED, outsideInterp)) {
    const interp = interpOf(m.image);
    if (interp !== null && BLOCKING.has(interp)) {
      skipped++;
      continue;
    }
    const o = spawnImage(kernel, m.image, m.label, 'prog');
    const tally = perMutation.get(m.kind) ?? { rejected: 0, loaded: 0 };
    if (o.rejected) {
      rejected++;
      tally.rejected++;
      reasons.set(reasonKey(o.reason), (reasons.get(reasonKey(o.reason)) ?? 0) + 1);
    } else tally.loaded++;
    perMutation.set(m.kind, tally);
  }
  const tried = CASES - skipped;
  console.log(`ELF fuzz in-process: ${tried} mutants (seed ${SEED}) in ${((Date.now() - started) / 1000).toFixed(1)} s, ${rejected} rejected with one line, ${tried - rejected} loaded; ${skipped} naming a FIFO left to the CLI`);
  console.log([...perMutation].map(([k, v]) => `  ${k}: ${v.rejected} rejected, ${v.loaded} loaded`).join('\n'));
  console.log(`${reasons.size} distinct reasons:\n` + [...reasons].map(([r, n]) => `  ${n}× ${r}`).join('\n'));
  assert.ok(rejected > tried / 3, 'most mutants are rejected');
  assert.ok(reasons.size >= 10, 'many different checks fire');
});

/** The PT_INTERP string of an image when it parses far enough, else null (only to skip blocking targets). */
function interpOf(img: Uint8Array): string | null {
  if (img.length < 64) return null;
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const phoff = Number(v.getBigUint64(32, true));
  const n = v.getUint16(56, true);
  for (let i = 0; i < n && phoff + 56 * (i + 1) <= img.length; i++) {
    const at = phoff + 56 * i;
    if (v.getUint32(at, true) !== 3) continue;
    const off = Number(v.getBigUint64(at + 8, true));
    if (off >= img.length) return null;
    const s = Buffer.from(img.subarray(off, Math.min(img.length, off + 4096))).toString('latin1');
    return s.split('\0')[0];
  }
  return null;
}

test('hostile PT_INTERP paths through Kernel.spawn: confined to the rootfs, one-line errors', () => {
  const seen: string[] = [];
  const kernel = newKernel();
  for (const target of interpTargets(outsideInterp)) {
    const text = Buffer.from(target).toString('latin1');
    if (BLOCKING.has(text.split('\0')[0])) continue;
    const o = spawnImage(kernel, tinyElf({ code: EXIT_0, interp: target }), `PT_INTERP ${JSON.stringify(text.slice(0, 60))}`, 'prog');
    seen.push(`${JSON.stringify(text.slice(0, 40))} → ${o.reason}`);
  }
  console.log(`hostile PT_INTERP in-process: ${seen.length}\n` + seen.join('\n'));
});

// ---------------------------------------------------------------- through the CLI (a sample)

const ONE_LINE = /^elfshim: [^\n]+\n$/;

/** Runs one image through the CLI and checks the rules every outcome must follow. */
async function runImage(image: Uint8Array, label: string, name: string): Promise<Outcome> {
  const prog = join(root, name);
  writeFileSync(prog, image, { mode: 0o755 });
  const r: RunResult = await runElfshim(['--rootfs', root, prog], { timeoutMs: 30_000 });
  const err = r.stderr.toString();
  const out = r.stdout.toString();
  const what = `${label}: status ${r.status} signal ${r.signal}\n${err.slice(0, 2000)}`;
  assert.ok(!r.timedOut, `${what}\nhung (killed after 30 s)`);
  assert.ok(!out.includes(ESCAPED) && !err.includes(ESCAPED), `${what}\nran an interpreter outside the rootfs`);
  assert.ok(!/\n\s+at .*\(|internal error|RangeError|TypeError|heap out of memory/.test(err), `${what}\nhost exception`);
  assert.notEqual(r.status, 70, `${what}\ninternal error status`);
  assert.equal(r.signal, null, `${what}\nelfshim itself died of a signal`);
  if (r.status === 126 && err.startsWith(`elfshim: ${prog}: `)) {
    assert.match(err, ONE_LINE, `${what}\nthe error must be one line`);
    return { rejected: true, reason: err.slice(`elfshim: ${prog}: `.length).trim() };
  }
  return { rejected: false, reason: `ran (status ${r.status})` };
}

test('a sample of the mutants and the hostile PT_INTERP paths through the CLI: one-line error and status 126, or a run', { timeout: 600_000 }, async () => {
  // Every k-th mutant of the same seeded sequence, so the sample spreads over the mutation kinds.
  const all = [...mutants(bases, CASES, SEED, outsideInterp)];
  const step = Math.max(1, Math.floor(all.length / Math.max(CLI_CASES, 1)));
  const sample = CLI_CASES > 0 ? all.filter((_, i) => i % step === 0).slice(0, CLI_CASES) : [];
  // The PT_INTERP targets most likely to escape or block, each once.
  // (/prog-self is the program itself.)
  const hostile = ['/fifo', '/abs-escape', '/proc/self/root/../outside-interp', '/prog-self'].map((p, k) => ({
    label: `PT_INTERP ${p}`,
    name: p === '/prog-self' ? 'prog-self' : `prog-hostile-${k}`,
    image: tinyElf({ code: EXIT_0, interp: cstr(p) }),
  }));
  const jobs = [...sample.map((m, k) => ({ label: m.label, name: `prog-cli-${k}`, image: m.image })), ...hostile];
  const results: string[] = [];
  // Two at a time: the machine has two cores and each run is a node process.
  for (let i = 0; i < jobs.length; i += 2) {
    await Promise.all(
      jobs.slice(i, i + 2).map(async (j) => {
        const o = await runImage(j.image, j.label, j.name);
        results.push(`${j.label} → ${o.reason}`);
      }),
    );
  }
  console.log(`ELF fuzz through the CLI: ${sample.length} mutants + ${hostile.length} hostile PT_INTERP\n` + results.join('\n'));
});

test('a FIFO, a device or a directory as the program: one-line error, no hang', { timeout: 120_000 }, async () => {
  for (const prog of [join(root, 'fifo'), '/dev/zero', join(root, 'dir')]) {
    const r = await runElfshim([prog], { timeoutMs: 20_000 });
    const err = r.stderr.toString();
    assert.ok(!r.timedOut, `${prog}: hung`);
    assert.equal(r.status, 126, `${prog}: ${err}`);
    assert.match(err, ONE_LINE);
    assert.ok(err.startsWith(`elfshim: ${prog}: `), err);
  }
});

test('PT_INTERP naming a device without --rootfs: refused, not read forever', { timeout: 120_000 }, async () => {
  const prog = join(dir, 'interp-dev-zero');
  writeFileSync(prog, tinyElf({ code: EXIT_0, interp: cstr('/dev/zero') }), { mode: 0o755 });
  const r = await runElfshim([prog], { timeoutMs: 20_000 });
  assert.ok(!r.timedOut, 'hung reading /dev/zero');
  assert.equal(r.status, 126, r.stderr.toString());
  assert.match(r.stderr.toString(), ONE_LINE);
});
