/**
 * The lockstep differ's pure parts: the table of flags each instruction
 * leaves undefined, the memory each instruction writes, the syscall output
 * buffers, stop-reply parsing, and the register layout read from a target
 * description (with xi:include, as some servers split it), and the thread
 * schedule's decisions (when to park, switch, wake).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constantFacts, decodeAt, instructionFacts, undefinedEffects, AF, CF, OF, PF, SF, ZF, ARITH } from '../src/lockstep/instruction-facts.js';
import { Registers, parseStop } from '../src/lockstep/side.js';
import { RegisterLayout, readRegisterLayout } from '../src/lockstep/register-layout.js';
import { syscallOutputs } from '../src/lockstep/syscall-effects.js';
import type { RspClient } from '../src/lockstep/rsp-client.js';
import { nativeProcPath } from '../src/lockstep/proc-paths.js';
import { ThreadSchedule, FUTEX_CMP_REQUEUE, FUTEX_WAIT, FUTEX_WAKE } from '../src/lockstep/thread-schedule.js';
import { blockingKind } from '../src/lockstep/blocking-calls.js';
import { inVsyscallArea, vsyscallTimeCall } from '../src/lockstep/vsyscall-results.js';

const NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'fs_base', 'gs_base'];
const LAYOUT = new RegisterLayout(NAMES.map((name, k) => ({ name, regnum: k, size: 8, offset: 8 * k })));

/** A register file with the given values (others zero). */
function regs(values: Record<string, bigint>): Registers {
  const b = new Uint8Array(8 * NAMES.length);
  const v = new DataView(b.buffer);
  for (const [k, x] of Object.entries(values)) v.setBigUint64(8 * NAMES.indexOf(k), BigInt.asUintN(64, x), true);
  return new Registers(LAYOUT, b);
}

const ADDR = 0x401000;
function facts(hex: string, r: Record<string, bigint> = {}) {
  const bytes = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  const i = decodeAt(ADDR, bytes);
  assert.ok(i, `cannot decode ${hex}`);
  return instructionFacts(i, bytes, regs(r));
}
function undef(hex: string, gpr: Record<number, bigint> = {}) {
  const bytes = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  const i = decodeAt(ADDR, bytes)!;
  return undefinedEffects(i, (n) => gpr[n] ?? 0n);
}

test('undefined flags follow the SDM table, operand by operand', () => {
  assert.equal(undef('48 0f af c1').flags, SF | ZF | AF | PF); // imul rax, rcx
  assert.equal(undef('48 f7 e1').flags, SF | ZF | AF | PF); // mul rcx
  assert.equal(undef('48 f7 f1').flags, ARITH); // div rcx
  assert.equal(undef('21 c8').flags, AF); // and eax, ecx
  assert.equal(undef('48 01 c8').flags, 0); // add rax, rcx
  assert.equal(undef('d3 e0', { 1: 0n }).flags, 0); // shl eax, cl with cl = 0: flags untouched
  assert.equal(undef('d3 e0', { 1: 32n }).flags, 0); // cl = 32 is masked to 0
  assert.equal(undef('d1 e0').flags, AF); // shl eax, 1
  assert.equal(undef('c1 e0 03').flags, AF | OF); // shl eax, 3
  assert.equal(undef('d2 e0', { 1: 9n }).flags, AF | OF | CF); // shl al, 9: count ≥ operand size
  assert.equal(undef('c1 c0 03').flags, OF); // rol eax, 3
  assert.equal(undef('0f a3 c8').flags, OF | SF | AF | PF); // bt eax, ecx
  assert.equal(undef('f3 0f bc c1').flags, OF | SF | AF | PF); // tzcnt
  const bsf = undef('0f bc c1');
  assert.equal(bsf.flags, CF | OF | SF | AF | PF);
  assert.deepEqual([bsf.destReg, bsf.destOnlyIfZf], [0, true]);
  const shld = undef('66 0f a5 d0', { 1: 20n }); // shld ax, dx, cl with cl = 20 > 16
  assert.deepEqual([shld.flags, shld.destReg], [ARITH, 0]);
  assert.equal(undef('c4 e2 70 f7 c2').flags, AF | SF | PF); // bextr eax, edx, ecx
  assert.equal(undef('c4 e2 71 f7 c2').flags, 0); // shlx eax, edx, ecx
  assert.equal(undef('c4 e2 68 f2 c1').flags, AF | PF); // andn
  assert.equal(undef('c4 e2 6b f5 c1').flags, 0); // pdep
});

test('the memory an instruction writes is found from its operands and the registers before it', () => {
  assert.deepEqual(facts('48 89 43 08', { rbx: 0x5000n }).memory, [[0x5008, 8]]); // mov [rbx+8], rax
  assert.deepEqual(facts('48 8b 43 08', { rbx: 0x5000n }).memory, []); // a load writes nothing
  assert.deepEqual(facts('48 0f ab 0a', { rdx: 0x5000n, rcx: -9n }).memory, [[0x4ffe, 1]]); // bts [rdx], rcx: bit -9
  assert.deepEqual(facts('64 48 89 04 25 28 00 00 00', { fs_base: 0x7000n }).memory, [[0x7028, 8]]); // mov fs:0x28, rax
  assert.deepEqual(facts('48 0f c7 0f', { rdi: 0x6000n }).memory, [[0x6000, 16]]); // cmpxchg16b [rdi]
  assert.deepEqual(facts('f3 0f 7f 07', { rdi: 0x6000n }).memory, [[0x6000, 16]]); // movdqu [rdi], xmm0
  assert.deepEqual(facts('f3 0f 6f 07', { rdi: 0x6000n }).memory, []); // movdqu xmm0, [rdi]
  assert.deepEqual(facts('66 0f 7e 07', { rdi: 0x6000n }).memory, [[0x6000, 16]]); // movd [rdi], xmm0
  assert.deepEqual(facts('f3 0f 7e 07', { rdi: 0x6000n }).memory, []); // movq xmm0, [rdi]
  assert.deepEqual(facts('66 0f 3a 16 07 01', { rdi: 0x6000n }).memory, [[0x6000, 16]]); // pextrd [rdi], xmm0, 1
  assert.deepEqual(facts('0f 38 f1 07', { rdi: 0x6000n }).memory, [[0x6000, 4]]); // movbe [rdi], eax
  assert.deepEqual(facts('f2 0f 38 f1 07', { rdi: 0x6000n }).memory, []); // crc32 eax, dword [rdi]
  assert.equal(facts('53').kind, 'stack-write'); // push rbx
  assert.equal(facts('f3 aa').kind, 'rep-string');
  assert.equal(facts('0f 05').kind, 'syscall');
  assert.equal(facts('0f a2').kind, 'cpuid');
  assert.equal(facts('0f ae 00', { rax: 0x6000n }).uncomparable, true); // fxsave: layouts differ by design
});

test('facts computed once per instruction are those of every execution; register-dependent ones are not cached', () => {
  const cases: Array<[string, boolean]> = [
    ['48 01 c8', true], // add rax, rcx
    ['c1 e0 03', true], // shl eax, 3: the count is an immediate
    ['d3 e0', false], // shl eax, cl: the count decides the undefined flags
    ['0f bc c1', true], // bsf eax, ecx
    ['48 89 43 08', false], // mov [rbx+8], rax: a memory write at an address from the registers
    ['48 0f ab 0a', false], // bts [rdx], rcx: a bit string
    ['0f a3 c8', true], // bt eax, ecx: registers only
    ['48 8b 43 08', true], // a load
    ['53', true], // push rbx: the differ compares the stack by kind, not by memory range
    ['0f ae 00', false], // fxsave [rax]
    ['0f 05', true], // syscall
  ];
  let seed = 3;
  const rnd = () => BigInt((seed = (seed * 1103515245 + 12345) & 0x7fffffff)) << 20n;
  for (const [hex, constant] of cases) {
    const bytes = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
    const i = decodeAt(ADDR, bytes)!;
    const c = constantFacts(i, bytes);
    assert.equal(c !== null, constant, hex);
    if (!c) continue;
    for (let k = 0; k < 20; k++) {
      const r = regs(Object.fromEntries(NAMES.map((n) => [n, rnd()])));
      assert.deepEqual(instructionFacts(i, bytes, r), c, `${hex} with registers ${k}`);
    }
  }
});

test('syscall output buffers', async () => {
  const none = async () => [] as Array<[number, number]>;
  assert.deepEqual(await syscallOutputs(0, regs({ rsi: 0x9000n }), 12n, none), [[0x9000, 12]]); // read → 12 bytes
  assert.deepEqual(await syscallOutputs(0, regs({ rsi: 0x9000n }), -11n & 0xffffffffffffffffn, none), []); // error
  assert.deepEqual(await syscallOutputs(5, regs({ rsi: 0x9000n }), 0n, none), [[0x9000, 144]]); // fstat
  assert.deepEqual(await syscallOutputs(228, regs({ rsi: 0x9000n }), 0n, none), [[0x9000, 16]]); // clock_gettime
  assert.deepEqual(await syscallOutputs(16, regs({ rsi: 0x5413n, rdx: 0x9000n }), 0n, none), [[0x9000, 8]]); // TIOCGWINSZ
  const iov = async () => [[0xa000, 4], [0xb000, 100]] as Array<[number, number]>;
  assert.deepEqual(await syscallOutputs(19, regs({ rsi: 0x9000n, rdx: 2n }), 10n, iov), [[0xa000, 4], [0xb000, 6]]); // readv
});

test('stop replies', () => {
  assert.deepEqual(parseStop('T0506:00;thread:p1.1;'), { kind: 'signal', signal: 5, raw: 'T0506:00;thread:p1.1;' });
  assert.equal(parseStop('W0;process:1a').kind, 'exited');
  assert.deepEqual(parseStop('Xb;process:1a'), { kind: 'killed', signal: 11, raw: 'Xb;process:1a' });
  assert.throws(() => parseStop('E01'));
});

test('register layout from a target description with includes', async () => {
  const files: Record<string, string> = {
    'target.xml': '<target><xi:include href="core.xml"/><feature><reg name="mxcsr" bitsize="32" regnum="40"/><reg name="orig_rax" bitsize="64"/></feature></target>',
    'core.xml': '<feature><reg name="rax" bitsize="64" regnum="0"/><reg name="rip" bitsize="64"/><reg name="st0" bitsize="80" type="i387_ext"/></feature>',
  };
  const fake = { xfer: async (_o: string, annex: string) => new TextEncoder().encode(files[annex]) } as unknown as RspClient;
  const l = await readRegisterLayout(fake);
  assert.deepEqual(
    l.slots.map((s) => [s.name, s.regnum, s.size, s.offset]),
    [['rax', 0, 8, 0], ['rip', 1, 8, 8], ['st0', 2, 10, 16], ['mxcsr', 40, 4, 26], ['orig_rax', 41, 8, 30]],
  );
});

const PRIVATE = 128;

test('thread schedule: a blocking futex wait parks the thread, the next one in creation order runs', () => {
  const s = new ThreadSchedule(100, 0);
  s.add(101, 5001, 0x7000);
  s.add(102, 5002, 0x8000);
  // The word no longer holds the expected value: the call returns EAGAIN on both sides, no switch.
  assert.deepEqual(s.futexAction(FUTEX_WAIT | PRIVATE, 0x1000, 1, 0, false), { kind: 'step' });
  // Unreadable word: EFAULT on both sides.
  assert.deepEqual(s.futexAction(FUTEX_WAIT, 0x1000, 1, null, false), { kind: 'step' });
  // Not a wait: never blocks.
  assert.deepEqual(s.futexAction(FUTEX_WAKE | PRIVATE, 0x1000, 1, 1, false), { kind: 'step' });
  const a = s.futexAction(FUTEX_WAIT | PRIVATE, 0x1000, 1, 1, false);
  assert.deepEqual(a, { kind: 'park', addr: 0x1000 });
  s.park(0x1000);
  assert.equal(s.next(), 1);
  s.switchTo(1);
  assert.equal(s.switches, 1);
  // Thread 101 parks too: 102 is next, then (102 parking as well) nobody.
  s.park(0x2000);
  assert.equal(s.next(), 2);
  s.switchTo(2);
  assert.deepEqual(s.futexAction(FUTEX_WAIT, 0x3000, 7, 7, false), { kind: 'deadlock' });
  assert.deepEqual(s.futexAction(FUTEX_WAIT, 0x3000, 7, 7, true), { kind: 'step-blocking' });
});

test('thread schedule: a wake makes one parked waiter runnable; its re-executed wait returns 0 if the word still matches', () => {
  const s = new ThreadSchedule(100, 0);
  s.add(101, 5001, 0);
  s.add(102, 5002, 0);
  s.park(0x1000); // 100 waits
  s.switchTo(1);
  s.park(0x1000); // 101 waits on the same word
  s.switchTo(2);
  s.noteFutexCall(FUTEX_WAKE | PRIVATE, 0x1000, 1, 0, 0, 0, 0);
  assert.deepEqual(s.threads.map((t) => t.woken), [true, false, false], 'the oldest waiter (creation order) is woken, one of them');
  // 102 goes on running while it can; when it parks, the woken 100 is next, 101 still waits.
  s.park(0x4000);
  assert.equal(s.next(), 0);
  s.switchTo(0);
  assert.equal(s.cur.parkedOn, null);
  assert.deepEqual(s.futexAction(FUTEX_WAIT | PRIVATE, 0x1000, 1, 1, false), { kind: 'return-woken' }, 'woken while parked: 0 without the call');
  assert.equal(s.cur.woken, false);
  // A second wait of the same thread is an ordinary one again.
  // 101 and 102 still wait: nobody could wake it.
  assert.deepEqual(s.futexAction(FUTEX_WAIT | PRIVATE, 0x1000, 1, 1, false), { kind: 'deadlock' });
});

test('thread schedule: a thread exit wakes its clear-tid word (the joiner); requeue moves waiters to the second word', () => {
  const s = new ThreadSchedule(100, 0);
  s.add(101, 5001, 0x7000);
  s.park(0x7000); // main joins 101
  s.switchTo(1);
  s.exitCurrent();
  assert.equal(s.cur.exited, true);
  assert.equal(s.threads[0].woken, true);
  assert.equal(s.next(), 0);
  s.switchTo(0);
  assert.deepEqual(s.live().map((t) => t.tid), [100]);

  const r = new ThreadSchedule(100, 0);
  r.add(101, 5001, 0);
  r.add(102, 5002, 0);
  r.switchTo(1);
  r.park(0x1000);
  r.switchTo(2);
  r.park(0x1000);
  r.switchTo(0);
  // CMP_REQUEUE whose word does not hold val3 fails with EAGAIN: nothing moves.
  r.noteFutexCall(FUTEX_CMP_REQUEUE | PRIVATE, 0x1000, 0, 1, 0x2000, 5, 6);
  assert.deepEqual(r.threads.map((t) => t.parkedOn), [null, 0x1000, 0x1000]);
  // Wake none, requeue one: 101 moves to 0x2000, a wake there reaches it.
  r.noteFutexCall(FUTEX_CMP_REQUEUE | PRIVATE, 0x1000, 0, 1, 0x2000, 6, 6);
  assert.deepEqual(r.threads.map((t) => t.parkedOn), [null, 0x2000, 0x1000]);
  assert.equal(r.wake(0x2000, 10), 1);
  assert.equal(r.threads[1].woken, true);
  assert.equal(r.threads[2].woken, false);
});

test('thread schedule: a blocking call parks its thread until some syscall completes; then it is tried again', () => {
  // A parent (100) and a forked child (101, its own process): the parent reads an empty pipe the child will fill.
  const s = new ThreadSchedule(100, 0);
  s.add(101, 5001, 0, 101);
  assert.equal(s.threads[1].pid, 101);
  assert.equal(s.mayPark(false), true, 'the child can run: try the read, park if it blocks');
  s.parkInCall(0, false);
  assert.equal(s.next(), 1);
  s.switchTo(1);
  // The child's own wait (wait4 for a grandchild, say) blocks too: nobody can run — run it in place.
  assert.equal(s.mayPark(false), false, 'the parent was tried and nothing completed since');
  // The child writes to the pipe instead (a syscall completes): the parent's read is worth trying again.
  s.syscallCompleted();
  assert.equal(s.threads[0].probed, false);
  assert.equal(s.threads[0].blockedIn?.nr, 0, 'still parked before its read (not executed)');
  s.parkInCall(61, false); // the child's wait4 blocks
  assert.equal(s.next(), 0);
  s.switchTo(0);
  s.syscallCompleted(); // the parent's read completed
  assert.equal(s.cur.blockedIn, null);
  // The child's exit ends its process: its threads are gone, the parent's wait may end.
  s.switchTo(1);
  s.exitProcess(101);
  assert.deepEqual(s.live().map((t) => t.tid), [100]);
  assert.equal(s.next(), 0);
});

test('thread schedule: with nobody else runnable, a call that ends by itself runs in place before an untimed one', () => {
  // locks: the child waits for a file lock (untimed), the parent sleeps (timed) before it unlocks.
  const s = new ThreadSchedule(100, 0);
  s.add(101, 5001, 0, 101);
  assert.equal(s.mayPark(true), true, 'the child can run');
  s.parkInCall(35, true); // the parent's nanosleep, tried: it blocks
  s.switchTo(1);
  // The child's F_SETLKW blocks: the parent's sleep will end by itself, so the child parks and the parent sleeps.
  assert.equal(s.mayPark(false), true);
  s.parkInCall(72, false);
  assert.equal(s.next(), 0, 'the sleeping parent, as a fallback');
  s.switchTo(0);
  assert.equal(s.mayPark(true), false, 'the sleep runs in place: nothing else can run');
  // Two untimed waits and nothing else: no fallback (the differ then runs the call in place).
  const d = new ThreadSchedule(100, 0);
  d.add(101, 5001, 0, 101);
  d.parkInCall(0, false);
  d.switchTo(1);
  assert.equal(d.mayPark(false), false);
  d.parkInCall(0, false);
  assert.equal(d.next(), null);
});

test('thread schedule: futex words are per process (a forked child waits on the same address as its parent)', () => {
  const s = new ThreadSchedule(100, 0);
  s.add(101, 5001, 0); // a thread of the parent
  s.add(200, 6000, 0, 200); // a forked child
  s.switchTo(2);
  s.park(0x1000); // the child waits on its copy of the word
  s.switchTo(1);
  s.park(0x1000); // so does the parent's thread
  s.switchTo(0);
  assert.equal(s.wake(0x1000, 10), 1, 'the parent wakes its own thread only');
  assert.deepEqual(s.threads.map((t) => t.woken), [false, true, false]);
  // An untimed futex wait with only a timed call elsewhere parks: the timed one runs in place.
  const t = new ThreadSchedule(100, 0);
  t.add(101, 5001, 0, 101);
  t.parkInCall(230, true);
  t.switchTo(1);
  assert.deepEqual(t.futexAction(FUTEX_WAIT, 0x2000, 0, 0, false), { kind: 'park', addr: 0x2000 });
});

test('blocking calls: which may block, and which end by themselves', () => {
  const a = (...v: number[]) => [...v, 0, 0, 0, 0, 0, 0].slice(0, 6).map(BigInt);
  assert.equal(blockingKind(0, a(3, 0x1000, 1)), 'untimed', 'read');
  assert.equal(blockingKind(1, a(3, 0x1000, 1)), null, 'write: not tried (it may write part before blocking)');
  assert.equal(blockingKind(61, a(-1, 0, 0)), 'untimed', 'wait4');
  assert.equal(blockingKind(61, a(-1, 0, 1)), null, 'wait4 WNOHANG');
  assert.equal(blockingKind(247, a(0, 0, 0, 4)), 'untimed', 'waitid WEXITED');
  assert.equal(blockingKind(247, a(0, 0, 0, 5)), null, 'waitid WNOHANG');
  assert.equal(blockingKind(72, a(3, 7, 0x1000)), 'untimed', 'F_SETLKW');
  assert.equal(blockingKind(72, a(3, 6, 0x1000)), null, 'F_SETLK');
  assert.equal(blockingKind(73, a(3, 2)), 'untimed', 'flock LOCK_EX');
  assert.equal(blockingKind(73, a(3, 2 | 4)), null, 'flock LOCK_EX|LOCK_NB');
  assert.equal(blockingKind(128, a(0x1000, 0, 0)), 'untimed', 'sigtimedwait without a timeout');
  assert.equal(blockingKind(128, a(0x1000, 0, 0x2000)), 'timed');
  assert.equal(blockingKind(7, a(0x1000, 1, 0xffffffff)), 'untimed', 'poll with timeout -1');
  assert.equal(blockingKind(7, a(0x1000, 1, 10000)), 'timed');
  assert.equal(blockingKind(35, a(0x1000, 0)), 'timed', 'nanosleep');
  assert.equal(blockingKind(202, a(0x1000, 0, 1)), null, 'futex: the futex schedule decides');
});

test('thread schedule: a signal to a parked thread makes it runnable; its wait, re-executed after the handler, parks again', () => {
  const s = new ThreadSchedule(100, 0);
  s.add(101, 5001, 0);
  s.switchTo(1);
  s.park(0x1000); // 101 waits on a futex
  s.switchTo(0);
  assert.equal(s.interrupt(s.threads[0]), false, 'the running thread is not parked');
  // 100 would now block in an untimed call: nobody else can run, so it would run in place (forever).
  assert.equal(s.mayPark(false), false);
  assert.equal(s.interrupt(s.threads[1]), true);
  assert.equal(s.mayPark(false), true, 'the signalled waiter can run: the call is tried and parks');
  s.parkInCall(0, false);
  assert.equal(s.next(), 1);
  s.switchTo(1);
  // Back from its handler at the futex call: the word still holds the value, so it waits again.
  assert.deepEqual(s.futexAction(FUTEX_WAIT, 0x1000, 0, 0, false), { kind: 'deadlock' }, 'no syscall completed: 100 is still probed');
  assert.equal(s.interrupt(s.threads[0]), true, "a signal to the thread parked in a call makes it try the call again");
  assert.deepEqual(s.futexAction(FUTEX_WAIT, 0x1000, 0, 0, false), { kind: 'park', addr: 0x1000 });
});

test('/proc paths naming elfshim ids get the native ones', () => {
  const ids = new Map([[100, 5000], [101, 5001]]);
  assert.equal(nativeProcPath('/proc/self/task/101/comm', ids), '/proc/self/task/5001/comm');
  assert.equal(nativeProcPath('/proc/100/task/101', ids), '/proc/5000/task/5001');
  assert.equal(nativeProcPath('/proc/100/status', ids), '/proc/5000/status');
  assert.equal(nativeProcPath('/proc/self/status', ids), null);
  assert.equal(nativeProcPath('/proc/1001/status', ids), null, 'an id the differ does not know stays');
  assert.equal(nativeProcPath('/proc/1001', ids), null);
  assert.equal(nativeProcPath('/proc/100x/status', ids), null, 'not an id');
  assert.equal(nativeProcPath('/tmp/proc/100', ids), null);
});

test('vsyscall time calls: their results are copied from native, like a syscall\'s (the clock can tick between the two calls)', () => {
  const page = 0xffffffffff600000n;
  assert.ok(inVsyscallArea(Number(page + 0x400n)));
  assert.ok(!inVsyscallArea(0x7ffffffff000) && !inVsyscallArea(0x401138));
  assert.deepEqual(vsyscallTimeCall(page + 0x400n, 0x7fffffffeb78n, 0n), { entry: 'time', writes: [[0x7fffffffeb78, 8]] }); // time(tloc)
  assert.deepEqual(vsyscallTimeCall(page + 0x400n, 0n, 0n), { entry: 'time', writes: [] }); // time(NULL): rax only
  assert.deepEqual(vsyscallTimeCall(page, 0x1000n, 0x2000n), { entry: 'gettimeofday', writes: [[0x1000, 16], [0x2000, 8]] }); // gettimeofday(tv, tz)
  assert.equal(vsyscallTimeCall(page + 0x800n, 0x1000n, 0n), null); // getcpu: the same on both sides
  assert.equal(vsyscallTimeCall(0x401134n, 0n, 0n), null);
});
