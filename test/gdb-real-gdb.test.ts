import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startGdbServer } from '../src/gdb/server.js';
import type { StopEvent } from '../src/gdb/target.js';
import { CODE_BASE, FakeTarget, STACK_TOP } from './gdb-fake-target.js';

/**
 * The stub against the real gdb installed on this machine: gdb in batch
 * mode connects to the server (serving the fake target) and we check what
 * it prints.
 */

function gdbAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile('gdb', ['--version'], (err) => resolve(!err)));
}

async function runGdb(target: FakeTarget, commands: string[]): Promise<string> {
  const server = await startGdbServer({ port: 0, target, log: () => {} });
  try {
    const args = ['-nx', '-batch', '-ex', 'set confirm off', '-ex', `target remote 127.0.0.1:${server.port}`];
    for (const c of commands) args.push('-ex', c);
    return await new Promise<string>((resolve, reject) => {
      // The timeout only guards against a hang; nothing here depends on speed.
      execFile('gdb', args, { timeout: 120_000 }, (err, stdout, stderr) => {
        if (err && err.killed) reject(new Error(`gdb hung:\n${stdout}\n${stderr}`));
        else resolve(stdout + stderr);
      });
    });
  } finally {
    await server.close();
  }
}

const ONE_POINT_FIVE = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x3f];

test('gdb reads registers and memory through the stub', async (t) => {
  if (!(await gdbAvailable())) return t.skip('gdb not installed');
  const target = new FakeTarget();
  const cpu = target.mainCpu;
  cpu.setEflags(0x246);
  cpu.xmm.set([1, 2, 3, 4], 0);
  cpu.x87.top = 7;
  cpu.x87.ftw = 0x3fff; // R7 valid
  cpu.x87.regs.set(ONE_POINT_FIVE, 70);
  cpu.setBig(3, 0xdeadbeefn); // rbx
  cpu.fsBase = 0x7ffff7d8a740;
  const out = await runGdb(target, [
    'info registers rip',
    `x/4xb ${CODE_BASE}`,
    'p $xmm0.v4_int32',
    'p $st0',
    'info registers eflags',
    'info registers rbx cs ss fs_base orig_rax',
    'p $_siginfo',
    'set $rax = 0x1234',
    'set $rip = 0x401008',
    'info registers rip',
    'monitor hello',
    'detach',
  ]);
  assert.match(out, /rip\s+0x401000\s+0x401000/);
  assert.match(out, /0x401000:\s+0x55\s+0x48\s+0x89\s+0xe5/);
  assert.match(out, /= \{1, 2, 3, 4\}/);
  assert.match(out, /= 1\.5\b/);
  assert.match(out, /eflags\s+0x246\s+\[ PF ZF IF \]/);
  assert.match(out, /rbx\s+0xdeadbeef\s+3735928559/);
  assert.match(out, /cs\s+0x33\s+51/);
  assert.match(out, /ss\s+0x2b\s+43/);
  assert.match(out, /fs_base\s+0x7ffff7d8a740/);
  assert.match(out, /orig_rax\s+0xffffffffffffffff\s+-1/);
  assert.match(out, /rip\s+0x401008\s+0x401008/);
  assert.match(out, /hello from the fake/);
  assert.match(out, /\[Inferior 1 \(process 4660\) detached\]/);
  assert.equal(cpu.getBig(0), 0x1234n);
  assert.ok(target.calls.includes('detach'));
});

test('gdb breakpoints, continue, stepi, hardware breakpoint limit', async (t) => {
  if (!(await gdbAvailable())) return t.skip('gdb not installed');
  const target = new FakeTarget();
  const out = await runGdb(target, [
    `break *${CODE_BASE + 0x10}`,
    'continue',
    'stepi',
    'info registers rip',
    'delete',
    ...[1, 2, 3, 4, 5].map((i) => `hbreak *${CODE_BASE + 0x20 + i}`),
    'continue',
    'detach',
  ]);
  assert.match(out, /Breakpoint 1, 0x0000000000401010 in \?\? \(\)/);
  assert.match(out, /rip\s+0x401011\s+0x401011/);
  assert.match(out, /Cannot insert hardware breakpoint 6\./); // the fifth hbreak (breakpoint 1 was deleted)
  assert.match(out, /too many hardware breakpoints\/watchpoints/);
  assert.ok(target.calls.includes(`insert sw ${(CODE_BASE + 0x10).toString(16)}`));
  assert.equal(target.breakpoints.size, 0, 'everything removed after detach');
});

test('gdb sees signals, syscall catchpoints, watchpoints and exit in its own terms', async (t) => {
  if (!(await gdbAvailable())) return t.skip('gdb not installed');
  const target = new FakeTarget();
  const watched = STACK_TOP - 0x100;
  const stops: Array<() => StopEvent> = [
    () => ({ kind: 'signal', signal: 31, tid: target.pid }), // SIGSYS
    () => ({ kind: 'signal', signal: 7, tid: target.pid }), // SIGBUS
    () => ({ kind: 'signal', signal: 5, tid: target.pid, reason: 'syscall_entry', syscall: 1 }),
    () => {
      target.mem.poke(watched, Uint8Array.of(42));
      return { kind: 'signal', signal: 5, tid: target.pid, reason: 'watch', addr: watched };
    },
    () => ({ kind: 'exited', code: 3 }),
  ];
  target.onResume = async () => stops.shift()!();
  const out = await runGdb(target, [
    'continue',
    'continue',
    'catch syscall write',
    'continue',
    'delete',
    `watch *(char*)${watched}`,
    'continue',
    'continue',
  ]);
  assert.match(out, /Program received signal SIGSYS, Bad system call\./);
  assert.match(out, /Program received signal SIGBUS, Bus error\./);
  assert.match(out, /Catchpoint 1 \(call to syscall write\)/);
  assert.match(out, /Hardware watchpoint 2: \*\(char\*\)/);
  assert.match(out, /New value = 42 '\*'/);
  assert.match(out, /\[Inferior 1 \(process 4660\) exited with code 03\]/);
  assert.ok(target.calls.includes('catch 1'));
  assert.ok(target.calls.includes(`insert watch ${watched.toString(16)},1`));
  // The signals gdb passes back on resume are Linux numbers again, for the thread that got them.
  assert.deepEqual(
    target.calls.filter((c) => c.startsWith('resume')),
    ['resume step=false tid=all signal=0', 'resume step=false tid=4660 signal=31', 'resume step=false tid=4660 signal=7', 'resume step=false tid=all signal=0', 'resume step=false tid=all signal=0'],
  );
});
