// The command line itself: programs that cannot be run (malformed ELF files made
// at test time, directories, missing paths), --version, --help, argument passing
// and -E/--env.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tinyElf } from './helpers/tiny-elf.js';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import {
  compareWithNative,
  fixturePath,
  fixturesDir,
  repoRoot,
  requireElfshim,
  runElfshim,
  runNative,
  shellStatus,
  tail,
  tempDir,
} from './helpers/run.js';

const demo = path.join(fixturesDir, 'prebuilt', 'hello-demo');
const hello = fixturePath('musl', 'hello');

/** A copy of the demo guest with some bytes changed. */
function patched(changes: Record<number, number>, length?: number): Buffer {
  const image = Buffer.from(readFileSync(demo));
  for (const [offset, value] of Object.entries(changes)) image[Number(offset)] = value;
  return length === undefined ? image : image.subarray(0, length);
}

/** A plausible 32-bit i386 ELF header (ELFCLASS32, EM_386, ET_EXEC) and nothing else. */
function elf32Header(): Buffer {
  const h = Buffer.alloc(52);
  h.write('\x7fELF', 0, 'latin1');
  h[4] = 1; // ELFCLASS32
  h[5] = 1; // little-endian
  h[6] = 1; // EV_CURRENT
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(3, 18); // EM_386
  h.writeUInt32LE(1, 20);
  h.writeUInt32LE(0x08048054, 24); // e_entry
  h.writeUInt32LE(52, 28); // e_phoff
  h.writeUInt16LE(52, 40); // e_ehsize
  h.writeUInt16LE(32, 42); // e_phentsize
  return h;
}

function garbage(size: number): Buffer {
  const b = Buffer.alloc(size);
  let s = 0x2545f491;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    b[i] = s & 0xff;
  }
  return b;
}

const unrunnable: { name: string; contents: () => Buffer }[] = [
  { name: 'truncated ELF (cut inside the program headers)', contents: () => patched({}, 100) },
  { name: 'truncated ELF (only the ident bytes)', contents: () => patched({}, 16) },
  { name: 'wrong e_machine (AArch64)', contents: () => patched({ 18: 0xb7, 19: 0 }) },
  { name: 'ELFCLASS32 byte in a 64-bit file', contents: () => patched({ 4: 1 }) },
  { name: '32-bit i386 ELF header', contents: elf32Header },
  { name: 'big-endian ELF', contents: () => patched({ 5: 2 }) },
  { name: 'relocatable object (ET_REL)', contents: () => patched({ 16: 1, 17: 0 }) },
  { name: 'random garbage', contents: () => garbage(4096) },
  { name: 'empty file', contents: () => Buffer.alloc(0) },
  { name: 'text file', contents: () => Buffer.from('this is not a program\njust text\n') },
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exactly one line `elfshim: PATH: REASON` on stderr, nothing on stdout, the given status. */
async function expectRefusal(t: TestContext, target: string, status: number, reason?: RegExp) {
  requireElfshim();
  const r = await runElfshim([target, 'arg1']);
  const stderr = r.stderr.toString('utf8');
  assert.equal(r.status, status, `exit status ${r.status}, want ${status}; stderr: ${tail(r.stderr)}`);
  assert.equal(r.stdout.length, 0, `stdout should be empty, got ${JSON.stringify(tail(r.stdout))}`);
  assert.match(stderr, new RegExp(`^elfshim: ${escapeRegExp(target)}: [^\\n]*\\S[^\\n]*\\n$`), `stderr: ${JSON.stringify(stderr)}`);
  if (reason) assert.match(stderr, reason);
  t.diagnostic(stderr.trimEnd());
}

describe('programs that cannot run', () => {
  for (const c of unrunnable) {
    test(`${c.name} → one line on stderr, status 126`, async (t) => {
      const file = path.join(tempDir(t), 'guest');
      writeFileSync(file, c.contents());
      chmodSync(file, 0o755);
      await expectRefusal(t, file, 126);
    });
  }

  test('a directory → status 126', async (t) => {
    const dir = path.join(tempDir(t), 'a-directory');
    mkdirSync(dir);
    await expectRefusal(t, dir, 126);
  });

  test('a nonexistent path → status 127, No such file or directory', async (t) => {
    await expectRefusal(t, path.join(tempDir(t), 'does-not-exist'), 127, /No such file or directory/);
  });
});

describe('command line', () => {
  test('--version prints the package version and exits 0', async () => {
    requireElfshim();
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const r = await runElfshim(['--version']);
    assert.equal(r.status, 0, tail(r.stderr));
    assert.match(r.stdout.toString(), new RegExp(escapeRegExp(version)));
  });

  test('--help lists the options and exits 0', async () => {
    requireElfshim();
    const r = await runElfshim(['--help']);
    assert.equal(r.status, 0, tail(r.stderr));
    const help = r.stdout.toString();
    for (const option of ['--strace', '--env', '-E', '--rootfs', '--seed', '--version', '--help']) {
      assert.ok(help.includes(option), `--help should mention ${option}:\n${help}`);
    }
    assert.match(help, /usage/i);
  });

  test('no program → non-zero status and a message on stderr', async () => {
    requireElfshim();
    const r = await runElfshim([]);
    assert.notEqual(r.status, 0);
    assert.ok(r.stderr.length > 0, 'expected a message on stderr');
  });

  test('options after the program go to the guest untouched', (t) =>
    compareWithNative(t, hello, ['-v', '--x', '--', '-E', 'FIXTURE_X=1', '--help', '--version', '--strace']).then(
      () => {},
    ));

  test('the demo guest gets dash arguments too', (t) =>
    compareWithNative(t, demo, ['-v', '--x', '-E']).then(() => {}));

  test('-E adds variables', (t) =>
    compareWithNative(t, hello, [], {
      elfshimOptions: ['-E', 'FIXTURE_GREETING=bonjour', '-E', 'FIXTURE_Z=a=b=c'],
      nativeEnv: { FIXTURE_GREETING: 'bonjour', FIXTURE_Z: 'a=b=c' },
    }).then(() => {}));

  test('--env overrides an inherited variable without adding an entry', (t) =>
    compareWithNative(t, hello, [], {
      env: { FIXTURE_GREETING: 'inherited' },
      elfshimOptions: ['--env', 'FIXTURE_GREETING=overridden'],
      nativeEnv: { FIXTURE_GREETING: 'overridden' },
    }).then(() => {}));

  test('-E with an empty value', (t) =>
    compareWithNative(t, hello, [], {
      elfshimOptions: ['-E', 'FIXTURE_EMPTY='],
      nativeEnv: { FIXTURE_EMPTY: '' },
    }).then(() => {}));

  for (const variant of ['musl', 'glibc-pie']) {
    test(`${variant}: --seed N fixes AT_RANDOM and getrandom; without it they change`, async () => {
      const random = fixturePath(variant, 'random');
      const [a, b, c, d, e] = await Promise.all([
        runElfshim(['--seed', '42', random]),
        runElfshim(['--seed', '42', random]),
        runElfshim(['--seed', '43', random]),
        runElfshim([random]),
        runElfshim([random]),
      ]);
      for (const r of [a, b, c, d, e]) assert.equal(r.status, 0, tail(r.stderr));
      assert.match(a.stdout.toString(), /^AT_RANDOM [0-9a-f]{32}\ngetrandom [0-9a-f]{32}\n$/);
      assert.equal(b.stdout.toString(), a.stdout.toString(), 'same seed, same bytes');
      const lines = (r: typeof a) => r.stdout.toString().split('\n');
      for (const k of [0, 1]) {
        assert.notEqual(lines(c)[k], lines(a)[k], 'another seed, other bytes');
        assert.notEqual(lines(e)[k], lines(d)[k], 'no seed: host randomness');
      }
    });
  }

  test('--seed that is not a number is refused with status 2', async () => {
    const r = await runElfshim(['--seed', 'abc', fixturePath('musl', 'random')]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout.length, 0);
    assert.equal(r.stderr.toString(), "elfshim: --seed expects a whole number, got 'abc'\n");
  });

  test('the inherited environment reaches the guest', (t) =>
    compareWithNative(t, fixturePath('glibc-static', 'hello'), ['inherit'], {
      env: { FIXTURE_GREETING: 'from the parent', FIXTURE_OTHER: 'x' },
    }).then(() => {}));
});

describe('instructions the CPU does not run', () => {
  // ud2 (illegal everywhere) after `mov $1, %edi`; and an AVX-512 instruction (EVEX), which the core
  // lacks and CPUID does not advertise.
  const ud2 = Uint8Array.from([0xbf, 1, 0, 0, 0, 0x0f, 0x0b]);
  const evex = Uint8Array.from([0x62, 0xf1, 0x7d, 0x48, 0xfe, 0xc0, 0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05]);

  for (const [name, code, bytes] of [['ud2', ud2, '0f 0b'], ['vpaddd %zmm0 (AVX-512)', evex, '62 f1 7d 48 fe c0']] as const) {
    test(`${name}: SIGILL, one line naming the address and the bytes, status 132 like the shell's`, async (t) => {
      const program = path.join(tempDir(t), 'guest');
      writeFileSync(program, tinyElf({ code }), { mode: 0o755 });
      const r = await runElfshim([program]);
      const at = 0x400000 + 64 + 56 + (code === ud2 ? 5 : 0);
      assert.equal(r.status, 132, tail(r.stderr));
      const [line, report, rest] = r.stderr.toString().split('\n');
      assert.match(line, new RegExp(`^elfshim: illegal or unimplemented instruction at 0x${at.toString(16)}: ${bytes}( [0-9a-f]{2})*$`));
      assert.equal(report, 'Illegal instruction');
      assert.equal(rest, '');
      if (code === ud2) assert.equal(shellStatus(await runNative(program, [])), 132, 'native ud2');
    });
  }
});
