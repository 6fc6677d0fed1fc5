// Symlink races on every path-taking syscall (issue 8). The walk in FsContext
// checks each component, then the call uses the path: another process sharing
// the rootfs can swap a directory on the way (or the final name) for a symlink
// to the outside in between. The swap is made certain here: it happens right
// after the walk's lstat of the checked component, before the call acts (the
// same technique as hardening-isolation's open() race). After each call the
// outside tree must be byte-for-byte, mode-for-mode unchanged, and nothing
// the call returns may come from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsDefault, { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harness, type Harness } from './kernel-harness.js';
import { EXIT_0, tinyElf, writeAndExit } from './helpers/tiny-elf.js';

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const O_DIRECTORY = 0o200000;
const SECRET = 'OUTSIDE-SECRET-'.padEnd(777, 'x'); // 777 bytes: a size nothing inside has
const ESCAPED = 'ESCAPED-THE-ROOTFS';
const OUTSIDE_LINK = 'outside-link-target';

type Kind = 'directory on the way' | 'final component';

interface Op {
  name: string;
  /** The entry under /d the call names (a final-component swap replaces it). */
  entry: string;
  /** Whether the entry exists before the call (only then can the final component be swapped). */
  exists: boolean;
  /** Makes the call; returns a complaint if what it returned came from outside, else null. */
  run(h: Harness): string | null;
}

/** A statx/stat buffer's size field must not be the outside secret's. */
function sizeFrom(h: Harness, buf: number, off: number): number {
  return Number(Buffer.from(h.read(buf + off, 8)).readBigUInt64LE());
}

const OPS: Op[] = [
  { name: 'stat (newfstatat)', entry: 'secret', exists: true, run: (h) => statCheck(h, 'newfstatat', 0) },
  { name: 'lstat (newfstatat NOFOLLOW)', entry: 'secret', exists: true, run: (h) => statCheck(h, 'newfstatat', AT_SYMLINK_NOFOLLOW) },
  {
    name: 'statx',
    entry: 'secret',
    exists: true,
    run: (h) => {
      const buf = h.buf(256);
      const r = h.sys('statx', AT_FDCWD, h.str('/d/secret'), 0, 0x7ff, buf);
      return r === 0 && sizeFrom(h, buf, 40) === SECRET.length ? 'statx described the outside file' : null;
    },
  },
  { name: 'faccessat2', entry: 'secret', exists: true, run: (h) => (h.sys('faccessat2', AT_FDCWD, h.str('/d/secret'), 2, 0), null) },
  {
    name: 'readlinkat',
    entry: 'link',
    exists: true,
    run: (h) => {
      const buf = h.buf(256);
      const n = h.sys('readlinkat', AT_FDCWD, h.str('/d/link'), buf, 256);
      return n > 0 && h.text(buf, n) === OUTSIDE_LINK ? 'readlink read the outside link' : null;
    },
  },
  { name: 'unlinkat', entry: 'secret', exists: true, run: (h) => (h.sys('unlinkat', AT_FDCWD, h.str('/d/secret'), 0), null) },
  { name: 'rmdir (unlinkat AT_REMOVEDIR)', entry: 'sub', exists: true, run: (h) => (h.sys('unlinkat', AT_FDCWD, h.str('/d/sub'), AT_REMOVEDIR), null) },
  { name: 'mkdirat', entry: 'new', exists: false, run: (h) => (h.sys('mkdirat', AT_FDCWD, h.str('/d/new'), 0o755), null) },
  { name: 'mknodat', entry: 'node', exists: false, run: (h) => (h.sys('mknodat', AT_FDCWD, h.str('/d/node'), 0o100644, 0), null) },
  { name: 'renameat2', entry: 'secret', exists: true, run: (h) => (h.sys('renameat2', AT_FDCWD, h.str('/d/secret'), AT_FDCWD, h.str('/d/renamed'), 0), null) },
  { name: 'symlinkat', entry: 'newlink', exists: false, run: (h) => (h.sys('symlinkat', h.str('x'), AT_FDCWD, h.str('/d/newlink')), null) },
  { name: 'linkat', entry: 'secret', exists: true, run: (h) => (h.sys('linkat', AT_FDCWD, h.str('/d/secret'), AT_FDCWD, h.str('/d/hard'), 0), null) },
  { name: 'fchmodat', entry: 'secret', exists: true, run: (h) => (h.sys('fchmodat', AT_FDCWD, h.str('/d/secret'), 0o777), null) },
  { name: 'utimensat', entry: 'secret', exists: true, run: (h) => (h.sys('utimensat', AT_FDCWD, h.str('/d/secret'), 0, 0), null) },
  { name: 'truncate', entry: 'secret', exists: true, run: (h) => (h.sys('truncate', h.str('/d/secret'), 0), null) },
  {
    name: 'statfs',
    entry: 'secret',
    exists: true,
    run: (h) => (h.sys('statfs', h.str('/d/secret'), h.buf(128)), null),
  },
  {
    name: 'execve',
    entry: 'prog',
    exists: true,
    run: (h) => {
      const path = h.str('/d/prog');
      const argv = h.buf(16);
      h.t.mem.write64(argv, path, 0);
      const envp = h.buf(8);
      const r = h.sys('execve', path, argv, envp);
      if (r !== 0) return null;
      const phys = h.t.kernel.phys;
      return Buffer.from(phys.buffer, 0, phys.highWater).indexOf(ESCAPED) >= 0 ? 'execve loaded the outside program' : null;
    },
  },
];

function statCheck(h: Harness, call: string, flags: number): string | null {
  const buf = h.buf(256);
  const r = h.sys(call, AT_FDCWD, h.str('/d/secret'), buf, flags);
  return r === 0 && sizeFrom(h, buf, 48) === SECRET.length ? `${call} described the outside file` : null;
}

/** Everything observable about a tree: names, types, modes, sizes, times, contents, link texts. */
function snapshot(dir: string): string {
  const out: string[] = [];
  (function walk(d: string) {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isDirectory() ? 'dir' : readFileSync(p).toString('latin1');
      out.push(`${p} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${what}`);
      if (st.isDirectory()) walk(p);
    }
  })(dir);
  return out.join('\n');
}

function populate(root: string, outside: string): void {
  mkdirSync(join(root, 'd', 'sub'), { recursive: true });
  writeFileSync(join(root, 'd', 'secret'), 'inside', { mode: 0o644 });
  symlinkSync('secret', join(root, 'd', 'link'));
  writeFileSync(join(root, 'd', 'prog'), tinyElf({ code: EXIT_0 }), { mode: 0o755 });
  mkdirSync(join(outside, 'sub'));
  writeFileSync(join(outside, 'secret'), SECRET, { mode: 0o600 });
  utimesSync(join(outside, 'secret'), 1e9, 1e9);
  symlinkSync(OUTSIDE_LINK, join(outside, 'link'));
  writeFileSync(join(outside, 'prog'), tinyElf({ code: writeAndExit(ESCAPED + '\n') }), { mode: 0o755 });
  writeFileSync(join(outside, 'outside-only'), 'x');
}

/** Runs f with a hook that makes the swap right after the first lstat of `checked`; returns whether it fired. */
function withSwapAfterCheck(checked: string, swap: () => void, f: () => void): boolean {
  const realLstat = fsDefault.lstatSync;
  const patchable = fsDefault as { lstatSync: typeof fsDefault.lstatSync };
  let swapped = false;
  patchable.lstatSync = ((p: string, o?: object) => {
    const st = realLstat(p, o as never);
    if (!swapped && p === checked) {
      swapped = true;
      swap();
    }
    return st;
  }) as typeof fsDefault.lstatSync;
  syncBuiltinESMExports();
  try {
    f();
  } finally {
    patchable.lstatSync = realLstat;
    syncBuiltinESMExports();
  }
  return swapped;
}

let attempts = 0;

for (const kind of ['directory on the way', 'final component'] as Kind[]) {
  test(`path syscalls after a swap between check and use (${kind}) never reach outside the rootfs`, () => {
    const tried: string[] = [];
    const escapes: string[] = [];
    for (const op of OPS) {
      if (kind === 'final component' && !op.exists) continue;
      const h = harness();
      const outside = realpathSync(mkdtempSync(join(tmpdir(), 'elfshim-outside-')));
      try {
        populate(h.root, outside);
        const before = snapshot(outside);
        const d = join(h.root, 'd');
        const checked = kind === 'directory on the way' ? d : join(d, op.entry);
        const swap =
          kind === 'directory on the way'
            ? () => {
                fsDefault.renameSync(d, d + '.away');
                fsDefault.symlinkSync(outside, d);
              }
            : () => {
                fsDefault.rmSync(checked, { recursive: true });
                fsDefault.symlinkSync(join(outside, op.entry), checked);
              };
        let complaint: string | null = null;
        const swapped = withSwapAfterCheck(checked, swap, () => (complaint = op.run(h)));
        assert.ok(swapped, `${op.name}: the swap happened during the walk`);
        if (complaint) escapes.push(`${op.name}: ${complaint}`);
        else if (snapshot(outside) !== before) escapes.push(`${op.name}: changed the outside`);
        attempts++;
        tried.push(op.name);
      } finally {
        rmSync(outside, { recursive: true, force: true });
        rmSync(h.root, { recursive: true, force: true });
      }
    }
    assert.deepEqual(escapes, [], `reached outside the rootfs (${kind})`);
    console.log(`path races (${kind}): ${tried.length} syscalls, each swapped between check and use, none reached outside: ${tried.join(', ')}`);
  });
}

test('getdents and fstat on a directory opened (after chdir) before it was swapped for a symlink list nothing outside', () => {
  const h = harness();
  const outside = realpathSync(mkdtempSync(join(tmpdir(), 'elfshim-outside-')));
  try {
    populate(h.root, outside);
    assert.equal(h.sys('chdir', h.str('/d')), 0);
    const fd = h.sys('openat', AT_FDCWD, h.str('.'), O_DIRECTORY, 0);
    assert.ok(fd >= 0, `open . → ${fd}`);
    const d = join(h.root, 'd');
    fsDefault.renameSync(d, d + '.away');
    fsDefault.symlinkSync(outside, d);
    const buf = h.buf(4096);
    const n = h.sys('getdents64', fd, buf, 4096);
    const listing = n > 0 ? Buffer.from(h.read(buf, n)).toString('latin1') : '';
    assert.ok(!listing.includes('outside-only'), 'getdents listed the outside directory');
    const st = h.buf(256);
    const r = h.sys('fstat', fd, st);
    assert.ok(r < 0 || Number(Buffer.from(h.read(st + 8, 8)).readBigUInt64LE()) !== lstatSync(outside).ino, 'fstat described the outside directory');
    attempts++;
    console.log(`getdents after chdir and a swap: ${n < 0 ? `refused (${n})` : 'listed nothing from outside'}; ${attempts} race attempts in all, 0 escapes`);
  } finally {
    rmSync(outside, { recursive: true, force: true });
    rmSync(h.root, { recursive: true, force: true });
  }
});
