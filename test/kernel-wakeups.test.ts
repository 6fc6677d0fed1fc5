// A task parked in a blocking syscall wakes for its own reason only, and a signal
// that arrives while it is between a wake-up and the retry still interrupts it.
// (A stale wait4 wake-up once made busybox ash's sigsuspend deaf to SIGCHLD.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, type Harness } from './kernel-harness.js';
import { Process, Task } from '../src/kernel/task.js';
import { FileTable } from '../src/kernel/files/file-table.js';
import { FsContext } from '../src/kernel/files/fs-context.js';
import { syscallByName } from '../src/kernel/syscall-table.js';
import { Cpu, RAX } from '../src/cpu/cpu.js';

const SIGCHLD = 17, SIGUSR1 = 10, EINTR = 4;
const nr = (name: string) => syscallByName(name)!.nr;

/** A task that is its kernel's only one, with a SIGCHLD handler and one live child. */
function shellLike(): { h: Harness; child: Process } {
  const h = harness();
  const k = h.t.kernel;
  k.tasks.push(h.t);
  h.t.proc.sigactions[SIGCHLD].handler = 0x401000;
  h.t.proc.sigactions[SIGUSR1].handler = 0x401000;
  const child = new Process(4243, 4242, h.t.proc.mem, new FileTable(), new FsContext(h.root, '/'));
  child.parent = h.t.proc;
  h.t.proc.children.push(child);
  return { h, child };
}

/** Issues syscall name as the scheduler does (parking the task if it blocks). */
function enter(h: Harness, name: string, ...args: number[]): void {
  enterAs(h.t, name, ...args);
}

function enterAs(t: Task, name: string, ...args: number[]): void {
  args.forEach((v, i) => t.cpu.setS([7, 6, 2, 10, 8, 9][i], v));
  t.kernel.syscall(t, nr(name));
}

const microtasks = () => new Promise<void>((r) => setImmediate(r));

test('a wait4 wake-up that comes after a signal ended the wait does not wake a later rt_sigsuspend', async () => {
  const { h } = shellLike();
  const t = h.t;
  const status = h.buf(8);
  enter(h, 'wait4', -1, status, 0, 0);
  assert.equal(t.state, 'blocked');
  t.kernel.sendSignal(t.proc, SIGUSR1); // interrupts the wait (no SA_RESTART): EINTR
  assert.equal(t.state, 'runnable');
  assert.equal(t.cpu.getS(RAX), -EINTR);
  t.pendingSignals.clear(); // as if the handler ran

  const empty = h.buf(8);
  enter(h, 'rt_sigsuspend', empty, 8);
  assert.equal(t.state, 'blocked');
  // The child exits: wait4's leftover wake-up fires. sigsuspend waits for a signal, not for that.
  for (const w of t.proc.childWaiters.splice(0)) w();
  await microtasks();
  assert.equal(t.state, 'blocked', 'rt_sigsuspend woken by a stale wait4 wake-up');
  t.kernel.sendSignal(t.proc, SIGCHLD);
  assert.equal(t.state, 'runnable', 'SIGCHLD ends rt_sigsuspend');
  assert.equal(t.cpu.getS(RAX), -EINTR);
});

test('a signal that arrives between a wake-up and the retry interrupts the retried call', async () => {
  const { h } = shellLike();
  const t = h.t;
  const status = h.buf(8);
  enter(h, 'wait4', -1, status, 0, 0);
  assert.equal(t.state, 'blocked');
  // Woken (say, a stopped-child report it does not take): runnable, about to retry.
  for (const w of t.proc.childWaiters.splice(0)) w();
  await microtasks();
  assert.equal(t.state, 'runnable');
  assert.equal(t.restartSyscall, nr('wait4'));
  // SIGUSR1 comes now: the task is not parked, so nothing interrupts it yet...
  t.kernel.sendSignal(t.proc, SIGUSR1);
  assert.equal(t.state, 'runnable');
  // ...but the retry, which would park again, returns EINTR at once.
  t.kernel.syscall(t, t.restartSyscall);
  assert.equal(t.state, 'runnable');
  assert.equal(t.restartSyscall, -1);
  assert.equal(t.cpu.getS(RAX), -EINTR);
  assert.ok(t.pendingSignals.has(SIGUSR1), 'the signal stays pending for delivery');
});

test('a masked signal interrupts neither the wait nor its retry', async () => {
  const { h } = shellLike();
  const t = h.t;
  t.sigmaskLo = 1 << (SIGUSR1 - 1);
  const status = h.buf(8);
  enter(h, 'wait4', -1, status, 0, 0);
  t.kernel.sendSignal(t.proc, SIGUSR1);
  assert.equal(t.state, 'blocked', 'a masked signal leaves the wait alone');
  t.kernel.syscall(t, t.restartSyscall);
  assert.equal(t.state, 'blocked', 'and the retry parks again');
});

test('a futex wait that a signal ended leaves the queue: the next FUTEX_WAKE reaches a thread still waiting', async () => {
  const { h } = shellLike();
  const k = h.t.kernel;
  const other = new Task(4244, h.t.proc, new Cpu(h.t.proc.mem), k);
  k.tasks.push(other);
  const word = h.buf(4);
  const FUTEX_WAIT_PRIVATE = 128, FUTEX_WAKE_PRIVATE = 129;
  enterAs(h.t, 'futex', word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
  enterAs(other, 'futex', word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
  assert.equal(h.t.state, 'blocked');
  assert.equal(other.state, 'blocked');
  k.sendSignal(h.t.proc, SIGUSR1, undefined, h.t); // ends the first wait
  assert.equal(h.t.state, 'runnable');
  h.t.pendingSignals.clear();
  enterAs(h.t, 'futex', word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
  assert.equal(h.t.cpu.getS(RAX), 1, 'one waiter woken');
  await microtasks();
  assert.equal(other.state, 'runnable', 'the wake went to the thread that still waits');
});
