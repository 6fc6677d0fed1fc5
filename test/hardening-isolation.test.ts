// Guest isolation (issue 8): with --rootfs, nothing outside the root is read or
// written — by the guest (test/fixtures/src/escape.c: ".." chains, absolute and
// relative symlinks, /proc/self/root, dirfds from before a chdir, rename / link /
// symlink escapes, chroot, execve, symlink races) or by the debugger (vFile).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fsDefault, { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, runElfshim } from './helpers/run.js';
import { CliProc } from './helpers/cli-proc.js';
import { haveGdb } from './helpers/gdb-run.js';
import { RspClient } from './gdb-client.js';
import { harness } from './kernel-harness.js';

const SECRET = 'CANARY-SECRET-' + process.pid;
const VARIANTS = ['glibc-static', 'glibc-pie', 'musl'];

let dir = '';
let root = '';
let canary = '';

/** What lies outside the root: names, sizes, contents and modes, to compare before and after. */
function outsideState(): string {
  return readdirSync(dir)
    .filter((n) => n !== 'root')
    .sort()
    .map((n) => {
      const p = join(dir, n);
      const st = statSync(p);
      return `${n} ${st.mode.toString(8)} ${st.size} ${st.isFile() ? readFileSync(p, 'latin1') : ''}`;
    })
    .join('\n');
}

/** A fresh rootfs with the traps the escape guest expects. */
function freshRoot(): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'racedir'));
  writeFileSync(join(root, 'inside.txt'), 'inside the rootfs\n');
  writeFileSync(join(root, 'inside-copy.txt'), 'inside copy\n');
  writeFileSync(join(root, 'inside-copy2.txt'), 'inside copy 2\n');
  writeFileSync(join(root, 'racedir', 'canary'), 'inside racedir\n');
  writeFileSync(join(root, 'race'), 'inside race\n');
  symlinkSync(canary, join(root, 'evil-abs'));
  symlinkSync('../canary', join(root, 'evil-rel'));
  symlinkSync('../../../../../../../../..' + canary, join(root, 'sub', 'evil-deep'));
  symlinkSync(dir, join(root, 'evil-dir'));
}

before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'elfshim-isolation-')));
  root = join(dir, 'root');
  canary = join(dir, 'canary');
  writeFileSync(canary, SECRET + '\n');
  // A program outside the root: running it would print ESCAPED.
  writeFileSync(join(dir, 'outside-prog'), '#!/bin/sh\necho ESCAPED\n');
  chmodSync(join(dir, 'outside-prog'), 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const variant of VARIANTS) {
  test(`escape guest (${variant}): nothing outside --rootfs is read or written`, async (t) => {
    const bin = fixturePath(variant, 'escape');
    if (!existsSync(bin)) return t.skip(`${bin} not built (npm run fixtures)`);
    freshRoot();
    copyFileSync(bin, join(root, 'bin', 'escape'));
    chmodSync(join(root, 'bin', 'escape'), 0o755);
    const before = outsideState();
    const r = await runElfshim(['--rootfs', root, join(root, 'bin', 'escape'), canary, dir]);
    const out = r.stdout.toString();
    const err = r.stderr.toString();
    assert.equal(r.status, 0, `status ${r.status}: ${err}\n${out}`);
    assert.ok(!out.includes(SECRET) && !err.includes(SECRET), `the canary leaked:\n${out}`);
    assert.doesNotMatch(out, /ESCAPED/);
    assert.equal(outsideState(), before, 'nothing outside the root changed');
    // The guest could work inside: the isolation is not a blanket failure.
    assert.match(out, /^try inside: read inside the rootfs/m);
    assert.match(out, /^try getcwd-after-chdir-up: \/$/m);
    assert.match(out, /^try readlink-proc-root: \/$/m);
    for (const line of out.split('\n').filter((l) => l.startsWith('try list-'))) {
      assert.doesNotMatch(line, / (canary|outside-prog|root)( |$)/, `a listing shows what is outside: ${line}`);
    }
    assert.doesNotMatch(out, /^try exec-outside: (done|E0)/m);
    assert.match(out, /^try race-summary: \d+ inside, 0 other$/m);
    // What the guest created went inside.
    assert.ok(existsSync(join(root, 'created-by-guest-2')), 'a create through ".." lands inside');
    const attempts = Number(/^attempts (\d+)$/m.exec(out)?.[1]);
    console.log(`${variant}: ${attempts} escape attempts, none got out`);
    assert.ok(attempts > 400);
  });
}

/** Flips a name in the rootfs from outside (as a second guest sharing the rootfs could). */
function startFlipper(mode: 'file' | 'dir'): { stop: () => Promise<void> } {
  const script = `
const fs = require('fs');
const [root, canary, dir, mode] = process.argv.slice(1);
const race = root + '/race', tmp = root + '/race.flip', rd = root + '/racedir', dtmp = root + '/racedir.flip', ltmp = root + '/racedir.link';
for (;;) {
  try {
    if (mode === 'file') {
      fs.rmSync(tmp, { force: true }); fs.symlinkSync(canary, tmp); fs.renameSync(tmp, race);
      fs.rmSync(tmp, { force: true }); fs.writeFileSync(tmp, 'inside race\\n'); fs.renameSync(tmp, race);
    } else {
      fs.renameSync(rd, dtmp); fs.rmSync(ltmp, { force: true }); fs.symlinkSync(dir, ltmp); fs.renameSync(ltmp, rd);
      fs.unlinkSync(rd); fs.renameSync(dtmp, rd);
    }
  } catch {}
}`;
  const child = spawn(process.execPath, ['-e', script, root, canary, dir, mode], { stdio: 'ignore' });
  return { stop: () => new Promise((r) => (child.kill('SIGKILL'), child.on('exit', () => r()))) };
}

for (const [mode, target] of [['file', '/race'], ['dir', '/racedir/canary']] as const) {
  test(`a symlink race from outside (${mode}: ${target}) never opens the outside`, async (t) => {
    const bin = fixturePath('musl', 'escape');
    if (!existsSync(bin)) return t.skip(`${bin} not built`);
    freshRoot();
    copyFileSync(bin, join(root, 'bin', 'escape'));
    const flipper = startFlipper(mode);
    try {
      const r = await runElfshim(['--rootfs', root, join(root, 'bin', 'escape'), 'race', target, '4000']);
      const out = r.stdout.toString();
      assert.equal(r.status, 0, r.stderr.toString());
      assert.ok(!out.includes(SECRET), `the race reached the canary:\n${out.split('\n').filter((l) => l.includes(SECRET)).slice(0, 3).join('\n')}`);
      console.log(`${mode} race: ${/race summary: (.*)/.exec(out)?.[1]}`);
    } finally {
      await flipper.stop();
    }
  });
}

/**
 * The same race made certain: the host check (lstat during the walk) sees a
 * regular file, and right after it the name becomes a symlink to the outside
 * (or a directory on the way does), before the open.
 */
for (const kind of ['final component', 'directory on the way'] as const) {
  test(`open() after a swap between check and use (${kind}) stays inside`, () => {
    const h = harness();
    const outside = realpathSync(mkdtempSync(join(tmpdir(), 'elfshim-outside-')));
    try {
      writeFileSync(join(outside, 'secret'), SECRET);
      mkdirSync(join(h.root, 'd'));
      writeFileSync(join(h.root, 'd', 'secret'), 'inside');
      const checked = kind === 'final component' ? join(h.root, 'd', 'secret') : join(h.root, 'd');
      const realLstat = fsDefault.lstatSync;
      const patchable = fsDefault as { lstatSync: typeof fsDefault.lstatSync };
      let swapped = false;
      patchable.lstatSync = ((p: string, o?: object) => {
        const st = realLstat(p, o as never);
        if (!swapped && p === checked) {
          swapped = true;
          // The other party acts right after the check.
          if (kind === 'final component') {
            fsDefault.rmSync(checked);
            fsDefault.symlinkSync(join(outside, 'secret'), checked);
          } else {
            fsDefault.renameSync(checked, checked + '.away');
            fsDefault.symlinkSync(outside, checked);
          }
        }
        return st;
      }) as typeof fsDefault.lstatSync;
      syncBuiltinESMExports();
      let fd: number;
      try {
        fd = h.sys('openat', -100, h.str('/d/secret'), 0, 0);
      } finally {
        patchable.lstatSync = realLstat;
        syncBuiltinESMExports();
      }
      assert.ok(swapped, 'the swap happened during the walk');
      if (fd >= 0) {
        const buf = h.buf(64);
        const n = h.sys('read', fd, buf, 64);
        assert.notEqual(h.text(buf, Math.max(0, n)), SECRET, 'read the file outside the root');
      } else assert.ok([-2, -40].includes(fd), `refused (${fd})`);
      assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), SECRET);
    } finally {
      rmSync(outside, { recursive: true, force: true });
      rmSync(h.root, { recursive: true, force: true });
    }
  });
}

/** Hostile paths for the debugger's vFile requests. */
function hostilePaths(): string[] {
  return [
    '/../canary', '/../../../../../../canary', '../canary', canary, `/../../../../../../..${canary}`,
    '/evil-abs', '/evil-rel', '/sub/evil-deep', '/evil-dir/canary', '/proc/self/root/../canary', `/proc/self/root${canary}`,
    '/proc/self/cwd/../../canary', '/proc/1/root/canary', '/../../etc/shadow', '/proc/self/fd/0',
  ];
}

test('gdb vFile requests are confined to --rootfs too (RSP client)', async () => {
  freshRoot();
  const bin = join(root, 'bin', 'hello');
  copyFileSync(fixturePath('musl', 'hello'), bin);
  const p = new CliProc(['--gdb', '0', '--rootfs', root, bin]);
  try {
    const c = await RspClient.connect(await p.port());
    await c.handshake();
    const hex = (s: string) => Buffer.from(s).toString('hex');
    let tried = 0;
    for (const path of hostilePaths()) {
      tried++;
      const r = await c.request(`vFile:open:${hex(path)},0,0`);
      if (!r.startsWith('F-1')) {
        const fd = r.slice(1);
        const data = await c.request(`vFile:pread:${fd},100,0`);
        assert.ok(!data.includes(SECRET), `${path} read the canary`);
        await c.request(`vFile:close:${fd}`);
      }
      const link = await c.request(`vFile:readlink:${hex(path)}`);
      assert.ok(!link.includes(SECRET));
      // Writes and deletions are refused outright.
      assert.match(await c.request(`vFile:open:${hex(path)},601,1a4`), /^F-1,/);
      assert.match(await c.request(`vFile:unlink:${hex(path)}`), /^F-1,/);
    }
    // The inside is readable (the confinement is not a blanket refusal).
    const ok = await c.request(`vFile:open:${hex('/inside.txt')},0,0`);
    assert.match(ok, /^F[0-9a-f]+$/);
    assert.match(await c.request(`vFile:pread:${ok.slice(1)},100,0`), /^F12;inside the rootfs/);
    assert.equal(readFileSync(canary, 'utf8'), SECRET + '\n');
    console.log(`vFile: ${tried} hostile paths, none reached outside`);
    c.destroy();
  } finally {
    p.kill();
  }
});

test('gdb "remote get" of paths outside the rootfs fails (real gdb)', async (t) => {
  if (!haveGdb()) return t.skip('gdb not installed');
  freshRoot();
  const bin = join(root, 'bin', 'hello');
  copyFileSync(fixturePath('musl', 'hello'), bin);
  const p = new CliProc(['--gdb', '0', '--rootfs', root, bin]);
  try {
    const port = await p.port();
    const got = join(dir, 'got');
    const args = ['-batch', '-nx', '-ex', `target remote 127.0.0.1:${port}`];
    for (const [i, path] of ['/../canary', '/evil-abs', '/proc/self/root/../canary', canary].entries()) args.push('-ex', `remote get ${path} ${got}-${i}`);
    args.push('-ex', `remote get /inside.txt ${got}-inside`, '-ex', 'kill');
    const gdb = spawn('gdb', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    gdb.stdout!.on('data', (d) => (text += d));
    gdb.stderr!.on('data', (d) => (text += d));
    await new Promise((r) => gdb.on('close', r));
    for (let i = 0; i < 4; i++) assert.ok(!existsSync(`${got}-${i}`) || !readFileSync(`${got}-${i}`, 'utf8').includes(SECRET), `remote get ${i} fetched the canary`);
    assert.equal(readFileSync(`${got}-inside`, 'utf8'), 'inside the rootfs\n', text);
  } finally {
    p.kill();
  }
});
