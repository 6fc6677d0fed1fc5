import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allSyscalls, syscallByNumber } from '../src/kernel/syscall-table.js';
import { CLI, ROOT, haveGdb, haveGdbserver, normaliseGdb, runGdb, runGdbserver } from './helpers/gdb-run.js';

const SYSCALLS = path.join(ROOT, 'test/fixtures/build/glibc-pie/syscalls');
const SYSCALLS_MUSL = path.join(ROOT, 'test/fixtures/build/musl/syscalls');
const skip = !haveGdb() ? 'gdb is not installed' : !fs.existsSync(SYSCALLS) ? 'fixtures not built (npm run fixtures)' : false;

/** The syscall the fixture uses as "not implemented": follow the table if it gets implemented. */
function unimplementedNr(): number {
  const r = spawnSync(process.execPath, [CLI, 'syscalls', '--json'], { encoding: 'utf8' });
  const rows = JSON.parse(r.stdout) as { nr: number; name: string; coverage: string }[];
  return rows.find((x) => x.nr === 333)!.coverage === 'missing' ? 333 : -1;
}

test('catch syscall openat: call and return stops with names; $rax is what the guest prints', { skip }, async () => {
  const r = await runGdb(SYSCALLS_MUSL, [], ['catch syscall openat', 'continue', 'p $orig_rax', 'p $rax', 'continue', 'p $rax', 'delete', 'continue']);
  assert.match(r.gdb, /Catchpoint 1 \(syscall 'openat' \[257\]\)/);
  assert.match(r.gdb, /Catchpoint 1 \(call to syscall openat\)/);
  assert.match(r.gdb, /\$1 = 257\n\$2 = -38/);
  assert.match(r.gdb, /Catchpoint 1 \(returned from syscall openat\)/);
  const ret = /\$3 = (-?\d+)/.exec(r.gdb)![1];
  assert.match(r.guestOut, new RegExp(`^openat=${ret}$`, 'm'));
});

test('catch syscall with several names, groups and numbers', { skip }, async () => {
  const r = await runGdb(SYSCALLS_MUSL, [], ['catch syscall write getpid', 'catch syscall group:file', 'catch syscall 333', 'continue', 'continue', 'continue', 'continue', 'continue', 'continue', 'kill']);
  assert.match(r.gdb, /Catchpoint 1 \(syscalls 'write' \[1\] 'getpid' \[39\]\)/);
  assert.match(r.gdb, /Catchpoint 2 \(syscalls .*'openat' \[257\]/);
  assert.match(r.gdb, /Catchpoint 3 \(syscall 'io_pgetevents' \[333\]\)/);
  assert.match(r.gdb, /\(call to syscall openat\)/);
});

test('catch syscall with no argument catches every call, entry then return', { skip }, async () => {
  // (gdbserver gets this backwards on the first call after the exec stop and reports "returned" first.)
  const r = await runGdb(SYSCALLS_MUSL, [], ['catch syscall', 'continue', 'p $orig_rax', 'continue', 'continue', 'continue', 'kill']);
  assert.match(r.gdb, /Catchpoint 1 \(any syscall\)/);
  assert.match(r.gdb, /Catchpoint 1 \(call to syscall arch_prctl\)[^]*\$1 = 158\n[^]*Catchpoint 1 \(returned from syscall arch_prctl\)[^]*Catchpoint 1 \(call to syscall set_tid_address\)[^]*Catchpoint 1 \(returned from syscall set_tid_address\)/);
});

test('set $orig_rax = -1 at the entry stop skips the call, as with gdbserver', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
  const commands = ['catch syscall getpid', 'continue', 'set $orig_rax = -1', 'set $rax = -1', 'continue', 'p $rax', 'delete', 'continue'];
  const ours = await runGdb(SYSCALLS_MUSL, [], commands);
  assert.match(ours.gdb, /\(call to syscall getpid\)[^]*\(returned from syscall getpid\)[^]*\$1 = -1/);
  // The guest sees the skipped call exactly as under gdbserver on Linux: getpid "returned" -1.
  const native = await runGdbserver(SYSCALLS_MUSL, [], commands);
  assert.match(native.guestOut, /getpid>0: 0/);
  assert.match(ours.guestOut, /getpid>0: 0/);
});

test('registers changed at the entry stop change the call ($rdi, $rdx), as with gdbserver', { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
  // write(1, msg, 22) becomes write(2, msg, 8): 8 bytes on stderr, and the guest sees 8.
  const commands = ['catch syscall write', 'continue', 'set $rdi = 2', 'set $rdx = 8', 'continue', 'p $rax', 'delete', 'continue'];
  const ours = await runGdb(SYSCALLS_MUSL, [], commands);
  const native = await runGdbserver(SYSCALLS_MUSL, [], commands);
  for (const [side, r] of [['gdbserver', native], ['elfshim', ours]] as const) {
    assert.match(r.gdb, /\(returned from syscall write\)[^]*\$1 = 8\n/, `${side}: ${r.gdb}`);
    assert.match(r.guestOut, /^write=8$/m, side);
    assert.doesNotMatch(r.guestOut, /written with/, side);
  }
  assert.match(ours.elfshimErr, /written (?!with)/);
  // (The last line differs by design: io_pgetevents is EINVAL on Linux, ENOSYS in the shim.)
  const upToGetpid = (out: string) => out.split('\n').slice(0, 3).join('\n');
  assert.equal(upToGetpid(ours.guestOut), upToGetpid(native.guestOut));
});

test('monitor strace on|off and monitor unimplemented change the run from gdb', { skip }, async () => {
  const r = await runGdb(SYSCALLS_MUSL, [], ['catch syscall getpid', 'continue', 'monitor strace on', 'monitor unimplemented', 'monitor unimplemented stop', 'delete', 'continue', 'x/i $pc', 'monitor strace off', 'continue']);
  assert.match(r.gdb, /^strace on$/m);
  assert.match(r.gdb, /^unimplemented syscalls: enosys$/m);
  assert.match(r.gdb, /^unimplemented syscalls now: stop$/m);
  assert.match(r.gdb, /Program received signal SIGSYS, Bad system call\.[^]*=> 0x[0-9a-f]+ <[^>]+>:\s+syscall/);
  assert.match(r.gdb, /^strace off$/m);
  assert.match(r.gdb, /exited normally/);
  // Lines only while strace was on: from the caught getpid to the SIGSYS stop.
  assert.doesNotMatch(r.elfshimErr, /^openat\(/m);
  assert.match(r.elfshimErr, /^getpid\(\) = \d+$/m);
  assert.match(r.elfshimErr, /^io_pgetevents\(.*\) = -1 ENOSYS \(not implemented\)$/m);
  assert.doesNotMatch(r.elfshimErr, /^close\(3\)/m);
});

test('info proc: command line, cwd and exe; the pid is the one in the thread ids', { skip }, async () => {
  const r = await runGdb(SYSCALLS_MUSL, ['/etc/passwd'], ['info proc', 'info threads', 'kill']);
  const pid = /^process (\d+)$/m.exec(r.gdb)?.[1];
  assert.ok(pid, r.gdb);
  assert.match(r.gdb, new RegExp(`Thread ${pid}\\.${pid}\\b`));
  assert.match(r.gdb, new RegExp(`^cmdline = '${SYSCALLS_MUSL} /etc/passwd'$`, 'm'));
  assert.match(r.gdb, new RegExp(`^cwd = '${process.cwd()}'$`, 'm'));
  assert.match(r.gdb, new RegExp(`^exe = '${SYSCALLS_MUSL}'$`, 'm'));
});

test('--on-unimplemented=stop: SIGSYS at the syscall instruction, $_siginfo names it, continue returns ENOSYS', { skip }, async () => {
  const nr = unimplementedNr();
  if (nr < 0) return;
  const r = await runGdb(SYSCALLS, [], ['continue', 'x/i $pc', 'p $_siginfo.si_signo', 'p $_siginfo._sifields._sigsys._syscall', 'p $orig_rax', 'p $_siginfo._sifields._sigsys._call_addr == $pc + 2', 'p/x $_siginfo._sifields._sigsys._arch', 'continue'], { extra: ['--on-unimplemented=stop'] });
  assert.match(r.gdb, /Program received signal SIGSYS, Bad system call\./);
  assert.match(r.gdb, /=> 0x[0-9a-f]+ <syscall\+\d+>:\s+syscall/);
  // The siginfo of a seccomp trap: si_call_addr is the address after the instruction, as Linux fills it.
  assert.match(r.gdb, /\$1 = 31\n\$2 = 333\n\$3 = 333\n\$4 = 1\n\$5 = 0xc000003e/);
  assert.match(r.gdb, /exited normally/);
  assert.match(r.guestOut, /io_pgetevents=-1 errno=Function not implemented/);
});

test('info proc mappings, monitor syscalls and monitor maps', { skip }, async () => {
  const r = await runGdb(SYSCALLS, [], ['catch syscall getpid', 'continue', 'info proc mappings', 'monitor syscalls', 'monitor maps', 'monitor help', 'kill']);
  assert.match(r.gdb, /Start Addr\s+End Addr\s+Size\s+Offset\s+(Perms\s+)?objfile/);
  assert.match(r.gdb, /\[stack\]/);
  assert.match(r.gdb, /\[heap\]/);
  assert.match(r.gdb, /r-xp|r-x/);
  assert.match(r.gdb, /openat\s+257\s+1\s+0\s+implemented/);
  assert.match(r.gdb, /7ffffffff000 rw-p/);
  assert.match(r.gdb, /monitor strace on\|off/);
});

for (const program of [SYSCALLS, SYSCALLS_MUSL]) {
  test(`info proc mappings at a syscall stop is gdbserver's, line for line (${path.basename(path.dirname(program))})`, { skip: skip || (!haveGdbserver() && 'gdbserver is not installed') }, async () => {
    // Segments with their permissions and offsets, heap, stack, vDSO: the image is Linux's (no ASLR under gdbserver).
    const commands = ['catch syscall getpid', 'continue', 'info proc mappings', 'kill'];
    const ours = normaliseGdb((await runGdb(program, [], commands)).gdb);
    const native = normaliseGdb((await runGdbserver(program, [], commands)).gdb);
    const table = (lines: string[]) => lines.filter((l) => /^\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s/.test(l));
    assert.ok(table(native).some((l) => /r-xp\s+\S*syscalls$/.test(l)), native.join('\n'));
    assert.deepEqual(table(ours), table(native));
  });
}

test('elfshim syscalls lists every x86-64 syscall and agrees with the table', () => {
  const text = spawnSync(process.execPath, [CLI, 'syscalls'], { encoding: 'utf8' }).stdout;
  const json = JSON.parse(spawnSync(process.execPath, [CLI, 'syscalls', '--json'], { encoding: 'utf8' }).stdout) as { nr: number; name: string; coverage: string; note: string }[];
  const gdbNames = fs.existsSync('/usr/share/gdb/syscalls/amd64-linux.xml') ? [...fs.readFileSync('/usr/share/gdb/syscalls/amd64-linux.xml', 'utf8').matchAll(/name="([^"]+)" number="(\d+)"/g)] : [];
  for (const [, name, nr] of gdbNames) assert.ok(json.some((r) => r.name === name && r.nr === Number(nr)), `${name} (${nr})`);
  const summary = /# (\d+) syscalls: (\d+) implemented, (\d+) partial, (\d+) missing/.exec(text);
  assert.ok(summary, `no summary line; output ends with: ${JSON.stringify(text.slice(-300))}`);
  assert.equal(Number(summary[1]), json.length);
  assert.equal(Number(summary[2]), json.filter((r) => r.coverage === 'implemented').length);
  assert.equal(Number(summary[4]), json.filter((r) => r.coverage === 'missing').length);
  assert.ok(json.some((r) => r.name === 'openat' && r.coverage !== 'missing'));
  assert.equal(Number(summary[3]), json.filter((r) => r.coverage === 'partial').length);
  // One line per syscall, and every partial one says what is missing.
  assert.equal(text.split('\n').filter((l) => /^\s*\d+\s+\w+\s+(implemented|partial|missing)\b/.test(l)).length, json.length);
  for (const r of json) if (r.coverage === 'partial') assert.ok(r.note, `${r.name} is partial without a note`);
  // The coverage is the handler table's: a syscall has a handler exactly when it is not missing.
  for (const r of json) assert.equal(!!syscallByNumber(r.nr)?.impl, r.coverage !== 'missing', r.name);
  assert.deepEqual(json.map((r) => r.nr), allSyscalls().map((i) => i.nr));
});

test('--syscall-report lists the calls made, unimplemented first', () => {
  const r = spawnSync(process.execPath, [CLI, '--syscall-report', SYSCALLS_MUSL], { encoding: 'utf8' });
  const lines = r.stderr.split('\n').filter((l) => /^\w+\s+\d+\s+\d+\s+\d+\s+\w+/.test(l));
  assert.match(lines[0], /^io_pgetevents\s+333\s+1\s+1\s+MISSING/);
  assert.ok(lines.some((l) => /^openat\s+257\s+1\s+0\s+implemented/.test(l)));
});
