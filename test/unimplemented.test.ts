// --on-unimplemented without a debugger: the default notice (once per syscall, naming the
// syscall instruction), `stop` falling back to `enosys`, and `sigsys` delivering exactly
// what a seccomp SECCOMP_RET_TRAP filter gives natively (the host run is the oracle).
// The gdb side of `stop` is in gdb-syscalls.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { cliPath, fixturePath, requireElfshim, requireFile, runElfshim, runNative, shellStatus, tail } from './helpers/run.js';

/** The fixture traps io_pgetevents (333); the tests follow the table if the shim gains it. */
function missing333(): boolean {
  const r = spawnSync(process.execPath, [cliPath, 'syscalls', '--json'], { encoding: 'utf8' });
  const rows = JSON.parse(r.stdout) as { nr: number; coverage: string }[];
  return rows.find((x) => x.nr === 333)?.coverage === 'missing';
}
const skip = !missing333() && 'io_pgetevents is implemented now: pick another missing syscall for the sigsys fixture';

const VARIANTS = ['glibc-pie', 'glibc-static', 'musl'];

/** Native run with the seccomp filter; skips when the host refuses seccomp (status 3). */
async function nativeSeccomp(t: TestContext, program: string, args: string[]) {
  const r = await runNative(program, ['seccomp', ...args]);
  if (r.status === 3) t.skip(`seccomp is not available here: ${r.stderr.toString().trim()}`);
  return r;
}

describe('unimplemented syscalls without a debugger', { skip }, () => {
  for (const variant of VARIANTS) {
    const program = fixturePath(variant, 'sigsys');

    test(`${variant}: default: -ENOSYS to the guest, one notice per syscall naming the syscall instruction`, async () => {
      requireElfshim();
      requireFile(program);
      const r = await runElfshim([program, 'where']);
      const out = r.stdout.toString();
      assert.equal(r.status, 0, tail(r.stderr));
      assert.match(out, /^first call returned -38, handler ran 0 time\(s\)$/m);
      assert.match(out, /^second call returned -38, handler ran 0 time\(s\)$/m);
      const at = /^syscall instruction at (0x[0-9a-f]+)$/m.exec(out)![1];
      // Called twice, reported once.
      assert.equal(r.stderr.toString(), `elfshim: unimplemented syscall io_pgetevents (333) at ${at}\n`);
    });

    test(`${variant}: --on-unimplemented=stop with no debugger behaves like enosys`, async () => {
      const enosys = await runElfshim(['--on-unimplemented=enosys', program, 'where']);
      const stop = await runElfshim(['--on-unimplemented=stop', program, 'where']);
      assert.equal(stop.status, 0, tail(stop.stderr));
      assert.equal(stop.stdout.toString(), enosys.stdout.toString());
      assert.equal(stop.stderr.toString(), enosys.stderr.toString());
    });

    test(`${variant}: --on-unimplemented=sigsys: the handler sees what a native seccomp trap gives`, async (t) => {
      requireFile(program);
      const native = await nativeSeccomp(t, program, []);
      const ours = await runElfshim(['--on-unimplemented=sigsys', program]);
      assert.equal(native.status, 0, tail(native.stderr));
      assert.match(native.stdout.toString(), /handler ran 2 time\(s\)/);
      // si_code SYS_SECCOMP, si_syscall, si_arch, si_call_addr after the instruction, rax rolled back to the number.
      assert.equal(ours.stdout.toString(), native.stdout.toString(), tail(ours.stderr));
      assert.equal(ours.status, 0);
    });

    test(`${variant}: --on-unimplemented=sigsys with no handler: killed by SIGSYS, status 159`, async (t) => {
      const native = await nativeSeccomp(t, program, ['default']);
      const ours = await runElfshim(['--on-unimplemented=sigsys', program, 'default']);
      assert.equal(shellStatus(native), 128 + 31);
      assert.equal(ours.status, shellStatus(native), tail(ours.stderr));
      assert.equal(ours.stdout.toString(), native.stdout.toString());
      assert.match(ours.stderr.toString(), /^Bad system call$/m);
    });
  }
});
