// ELF fuzzing through the CLI (issue 8): mutated ELF headers and program headers
// — overlapping segments, p_filesz > p_memsz, offsets past the end, huge p_memsz,
// zero sizes, misalignment, PT_INTERP pointing outside the rootfs, at itself, at
// FIFOs and devices — run as `elfshim --rootfs ROOT PROGRAM`. Every run either
// fails with exactly one line `elfshim: PATH: REASON` and status 126, or loads and
// runs the guest; never a stack trace, an internal error or a hang, and no
// interpreter outside the rootfs is ever run. (test/elf-fuzz.test.ts fuzzes the
// loader in-process; this file checks what a user sees.)
//
//   HARDENING_ELF_CASES=N   mutants to run (default 240; a few more fixed cases always run)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runElfshim, type RunResult } from './helpers/run.js';
import { EXIT_0, tinyElf, writeAndExit } from './helpers/tiny-elf.js';

const CASES = Number(process.env.HARDENING_ELF_CASES ?? 240);
const ESCAPED = 'ESCAPED-THE-ROOTFS';

let dir = '';
let root = '';
let outsideInterp = '';
const bases: Array<{ name: string; image: Uint8Array }> = [];

/** mulberry32: small, fast, reproducible. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

const cstr = (s: string) => Buffer.from(s + '\0');

before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'elfshim-elfcli-')));
  root = join(dir, 'root');
  mkdirSync(join(root, 'lib'), { recursive: true });
  mkdirSync(join(root, 'dir'));
  // An interpreter outside the rootfs: if elfshim ever runs it, the output says so.
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

// ---------------------------------------------------------------- mutations

const HUGE = [1n << 32n, 1n << 40n, 1n << 47n, 1n << 48n, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - 0x1000n];
const PT_LOAD = 1;
const PT_INTERP = 3;

interface Phdr {
  at: number;
  type: number;
}

function phdrs(img: Uint8Array): Phdr[] {
  if (img.length < 64) return [];
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const phoff = Number(v.getBigUint64(32, true));
  const n = v.getUint16(56, true);
  const out: Phdr[] = [];
  for (let i = 0; i < n && phoff + 56 * (i + 1) <= img.length; i++) out.push({ at: phoff + 56 * i, type: v.getUint32(phoff + 56 * i, true) });
  return out;
}

/** PT_INTERP strings that must never lead outside the rootfs (or hang it). */
function interpTargets(): Uint8Array[] {
  return [
    cstr('/../../../../../../../..' + outsideInterp),
    cstr(outsideInterp),
    cstr('/abs-escape'),
    cstr('/rel-escape'),
    cstr('/deep-escape'),
    cstr('../outside-interp'),
    cstr('/prog'), // the program itself
    cstr('/'),
    cstr('/dir/'),
    cstr('/fifo'),
    cstr('/dev/zero'),
    cstr('/proc/self/exe'),
    cstr('/proc/self/root/../outside-interp'),
    cstr('/nonexistent'),
    cstr(''),
    Buffer.from('/lib/ld-tiny'), // not NUL-terminated
    cstr('/lib/ld-tiny\0junk'),
    cstr('/' + 'a'.repeat(5000)),
  ];
}

type Mutation = (img: Uint8Array, rnd: (n: number) => number) => Uint8Array;

const u64 = (img: Uint8Array, off: number, v: bigint) => {
  if (off + 8 <= img.length) new DataView(img.buffer, img.byteOffset).setBigUint64(off, BigInt.asUintN(64, v), true);
};
const get64 = (img: Uint8Array, off: number) => (off + 8 <= img.length ? new DataView(img.buffer, img.byteOffset).getBigUint64(off, true) : 0n);
const pick = <T>(xs: T[], rnd: (n: number) => number) => xs[rnd(xs.length)];
const loads = (img: Uint8Array) => phdrs(img).filter((p) => p.type === PT_LOAD);
const anyPh = (img: Uint8Array, rnd: (n: number) => number) => pick(phdrs(img), rnd);

/** The directed mutations the issue lists, plus random damage. Each edits a copy. */
const MUTATIONS: Record<string, Mutation> = {
  overlap: (img, rnd) => {
    const ls = loads(img);
    if (ls.length < 2) {
      // Duplicate the only PT_LOAD over another header slot.
      const [p] = ls;
      const q = anyPh(img, rnd);
      if (p && q && p !== q) img.copyWithin(q.at, p.at, p.at + 56);
      return img;
    }
    const a = pick(ls, rnd), b = pick(ls, rnd);
    u64(img, b.at + 16, get64(img, a.at + 16) + BigInt(rnd(3) * 0x1000) + (rnd(2) ? 0n : get64(img, a.at + 8) & 0xfffn));
    return img;
  },
  'filesz>memsz': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 32, get64(img, p.at + 40) + BigInt(1 + rnd(0x10000)));
    return img;
  },
  'offset-past-end': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 8, rnd(2) ? BigInt(img.length + rnd(0x2000)) : pick(HUGE, rnd));
    return img;
  },
  'filesz-past-end': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 32, BigInt(img.length * (1 + rnd(4))));
    return img;
  },
  'huge-memsz': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 40, pick(HUGE, rnd));
    return img;
  },
  'zero-size': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) {
      u64(img, p.at + 40, 0n);
      if (rnd(2)) u64(img, p.at + 32, 0n);
    }
    return img;
  },
  misaligned: (img, rnd) => {
    const p = anyPh(img, rnd);
    if (!p) return img;
    if (rnd(2)) u64(img, p.at + 16, get64(img, p.at + 16) + BigInt(1 + rnd(0xffe)));
    else u64(img, p.at + 48, pick([0n, 3n, 0x1001n, 1n << 63n, 0x200000n], rnd));
    return img;
  },
  'wild-vaddr': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 16, pick([0n, 0xffff800000000000n, (1n << 64n) - 0x1000n, 0x7ffffffff000n, 1n << 47n], rnd));
    return img;
  },
  entry: (img, rnd) => (u64(img, 24, pick([0n, 1n, 0x7ffffffff000n, ...HUGE], rnd)), img),
  'program-header-table': (img, rnd) => {
    const v = new DataView(img.buffer, img.byteOffset);
    if (img.length < 64) return img;
    switch (rnd(4)) {
      case 0:
        v.setUint16(56, pick([0, 0xffff, v.getUint16(56, true) + 1, 1000], rnd), true);
        break;
      case 1:
        u64(img, 32, pick([BigInt(img.length), BigInt(img.length - 8), 1n, (1n << 64n) - 1n], rnd));
        break;
      case 2:
        v.setUint16(54, pick([0, 32, 55, 57, 0xffff], rnd), true);
        break;
      default:
        v.setUint16(16, pick([0, 1, 3, 4, 0xfe00], rnd), true); // e_type
    }
    return img;
  },
  ident: (img, rnd) => {
    if (img.length >= 20) img[pick([4, 5, 6, 18, 19, 7], rnd)] = pick([0, 1, 3, 0xff], rnd);
    return img;
  },
  interp: (_img, rnd) => {
    // A fresh image whose PT_INTERP names something hostile.
    const img = tinyElf({ code: EXIT_0, interp: pick(interpTargets(), rnd) });
    return rnd(3) ? img : MUTATIONS[pick(['filesz>memsz', 'offset-past-end', 'zero-size', 'filesz-past-end'], rnd)](img, rnd);
  },
  'interp-header': (img, rnd) => {
    const p = phdrs(img).find((q) => q.type === PT_INTERP) ?? anyPh(img, rnd);
    if (!p) return img;
    new DataView(img.buffer, img.byteOffset).setUint32(p.at, PT_INTERP, true);
    if (rnd(2)) u64(img, p.at + 32, pick([0n, 1n, 4096n, BigInt(img.length), 1n << 40n], rnd));
    return img;
  },
  bytes: (img, rnd) => {
    const hot = Math.min(img.length, 64 + 56 * Math.max(1, phdrs(img).length));
    for (let k = 1 + rnd(8); k > 0; k--) img[rnd(hot)] = rnd(256);
    return img;
  },
  truncate: (img, rnd) => img.slice(0, rnd(Math.min(img.length, 64 + 56 * 4) + 1)),
};

// ---------------------------------------------------------------- running

const ONE_LINE = /^elfshim: [^\n]+\n$/;

interface Outcome {
  rejected: boolean;
  reason: string;
}

/** Runs one image through the CLI and checks the rules every outcome must follow. */
async function runImage(image: Uint8Array, label: string, name = 'prog'): Promise<Outcome> {
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

test('ELF mutants through the CLI: one-line error and status 126, or a run; never a trace, a hang or an escape', { timeout: 1_800_000 }, async () => {
  const rnd = prng(0xe1f08);
  const names = Object.keys(MUTATIONS);
  const reasons = new Map<string, number>();
  const perMutation = new Map<string, { rejected: number; ran: number }>();
  let rejected = 0;
  let ran = 0;
  const jobs: Array<() => Promise<void>> = [];
  for (let i = 0; i < CASES; i++) {
    const base = bases[i % bases.length];
    const kinds = [names[i % names.length], ...(rnd(3) === 0 ? [pick(names, rnd)] : [])];
    let img: Uint8Array = new Uint8Array(base.image);
    for (const k of kinds) img = MUTATIONS[k](img, rnd);
    const label = `case ${i} (${base.name}: ${kinds.join(' + ')})`;
    const frozen = img;
    jobs.push(async () => {
      // Runs go two at a time: each writes its own file.
      const o = await runImage(frozen, label, `prog-${i}`);
      const tally = perMutation.get(kinds[0]) ?? { rejected: 0, ran: 0 };
      if (o.rejected) {
        rejected++;
        tally.rejected++;
        const key = o.reason.replace(/0x[0-9a-f]+|\d+/g, 'N').replace(/'[^']*'|"[^"]*"/g, 'S').slice(0, 80);
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      } else {
        ran++;
        tally.ran++;
      }
      perMutation.set(kinds[0], tally);
    });
  }
  // Two at a time: the machine has two cores and each run is a node process.
  for (let i = 0; i < jobs.length; i += 2) await Promise.all(jobs.slice(i, i + 2).map((j) => j()));
  console.log(`ELF CLI fuzz: ${CASES} mutants, ${rejected} rejected with one line, ${ran} ran`);
  console.log([...perMutation].map(([k, v]) => `  ${k}: ${v.rejected} rejected, ${v.ran} ran`).join('\n'));
  console.log(`${reasons.size} distinct reasons:\n` + [...reasons].map(([r, n]) => `  ${n}× ${r}`).join('\n'));
  assert.ok(rejected > CASES / 3, 'most mutants are rejected');
  assert.ok(reasons.size >= 10, 'many different checks fire');
});

test('hostile PT_INTERP paths, each once: confined to the rootfs, one-line errors', { timeout: 600_000 }, async () => {
  const seen: string[] = [];
  for (const target of interpTargets()) {
    const text = Buffer.from(target).toString('latin1');
    const o = await runImage(tinyElf({ code: EXIT_0, interp: target }), `PT_INTERP ${JSON.stringify(text.slice(0, 60))}`);
    seen.push(`${JSON.stringify(text.slice(0, 40))} → ${o.reason}`);
  }
  console.log(seen.join('\n'));
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
