import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StopEvent } from '../../gdb/target.js';
import { le64, writeRange } from '../bytes.js';
import { inVsyscallArea, vsyscallTimeCall } from '../vsyscall-results.js';
import { CORE_NAMES, EFLAGS_COMPARED, X87_NAMES, X87_POINTER_NAMES, XMM_NAMES, byteDifferences, compareRegisters } from '../compare.js';
import { transcendentalName, withinTranscendentalTolerance } from '../transcendental.js';
import { makeDivergence, type Divergence, type Executed, type LockstepResult } from '../differ.js';
import { ARITH, ZF, constantFacts, decodeAt, gprName, instructionFacts, type InstructionFacts } from '../instruction-facts.js';
import type { Instr } from '../../cpu/instr.js';
import type { Registers } from '../side.js';
import { alignSignalFrames } from '../signal-frames.js';
import { isRestartCode, reconcileRseqArea, reconcileSyscall, rseqRegistration, translatePids } from '../syscalls.js';
import { reconcileIds } from './process-ids.js';
import { ProcessFollowing } from './process-following.js';
import { EmulatorSide, type Stepped } from './emulator-side.js';
import { blockingKind } from '../blocking-calls.js';
import { NativeSide } from './native-side.js';
import { NativeTracer, type TracerRecord } from './tracer-client.js';
import { RegisterComparator } from './register-compare.js';
import { BatchWrites } from './batch-writes.js';
import { reconcileRobustList } from './robust-futexes.js';
import { ThreadSchedule } from '../thread-schedule.js';
import { pinnedCpu } from '../pinned-cpu.js';

export interface FastLockstepOptions {
  program: string;
  args: string[];
  /** The environment of both runs (nothing else is added). */
  env: Record<string, string>;
  max?: number;
  stdin?: string;
  /** The lockstep-tracer binary (built by scripts/build-fixtures.sh). */
  tracer: string;
  /** Instructions per tracer run (default 4096): memory is compared at the end of each. */
  batch?: number;
  x87Pointers?: boolean;
  /**
   * Each side starts in its own empty temporary directory (else both in this process's): for
   * programs that create files relative to where they run, which the two runs would otherwise share.
   */
  workDirs?: boolean;
  /**
   * What elfshim does at a syscall it lacks (`--on-unimplemented`; default enosys, whose result the differ replaces
   * with the native one). 'sigsys' pairs with a native seccomp filter that traps the same call (the sigsys fixture).
   */
  onUnimplemented?: 'enosys' | 'sigsys';
  /** Both runs with elfshim's vDSO (AT_SYSINFO_EHDR): see syncVdso. Without it neither has one. */
  vdso?: boolean;
  onProgress?: (compared: number) => void;
  /**
   * Called (synchronously, while the run goes on) with each pair of port numbers learned, elfshim's and the native
   * one (see ports.ts): a test's client reaches both runs' servers with it.
   */
  onPortLearned?: (elfshimPort: number, nativePort: number) => void;
  progressEvery?: number;
  /**
   * Self-test: after this many instructions (with thread: this many of the thread or child created thread-th, 0
   * being the main thread), write a wrong value into one of elfshim's registers, or flip a byte elfshim's last
   * memory-writing instruction wrote.
   */
  inject?: ({ after: number; register: string; value: Uint8Array } | { after: number; memory: true }) & { thread?: number };
}

const STACK_TOP = 0x7ffffffff000;
const SIGTRAP = 5;
const SYS_EXECVE = 59, SYS_EXECVEAT = 322;
const SYS_FUTEX = 202, SYS_SET_TID_ADDRESS = 218;
const ARG_REGISTERS = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'];

/**
 * The fast transport of the lockstep differ: the native program under a
 * small ptrace tracer that streams registers in batches, elfshim driven in
 * this process through its debugger interface. It checks what the RSP mode
 * (differ.ts, the reference) checks after every instruction — registers
 * with undefined flags masked, syscall results copied from native, signal
 * frames compared and lined up — except that the memory each instruction
 * writes is compared at the end of its batch (the native process has run on
 * by the time the record is read), with the instruction that last wrote a
 * differing byte named in the report.
 */
export async function runFastLockstep(o: FastLockstepOptions): Promise<LockstepResult> {
  if (!fs.existsSync(o.tracer)) throw new Error(`${o.tracer} is missing: run bash scripts/build-fixtures.sh`);
  fs.accessSync(o.program, fs.constants.R_OK);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-io-'));
  const files = { nOut: path.join(dir, 'native.out'), eOut: path.join(dir, 'elfshim.out') };
  const stdin = o.stdin ?? '/dev/null';
  const nIo: [number, number, number] = [fs.openSync(stdin, 'r'), fs.openSync(files.nOut, 'w'), 0];
  nIo[2] = nIo[1];
  const eIo: [number, number, number] = [fs.openSync(stdin, 'r'), fs.openSync(files.eOut, 'w'), 0];
  eIo[2] = eIo[1];
  let tracer: NativeTracer | null = null, emu: EmulatorSide | null = null;
  try {
    const cwds = o.workDirs ? [path.join(dir, 'native-cwd'), path.join(dir, 'elfshim-cwd')] : [];
    for (const d of cwds) fs.mkdirSync(d);
    tracer = new NativeTracer(o.tracer, o.program, o.args, o.env, nIo, cwds[0]);
    emu = new EmulatorSide(o.program, o.args, o.env, eIo, cwds[1] ?? null, o.onUnimplemented, o.vdso ?? false);
    const r = await new FastLockstep(new NativeSide(tracer), emu, o).run();
    await tracer.close();
    await emu.close();
    tracer = emu = null;
    r.nativeOutput = fs.readFileSync(files.nOut, 'latin1');
    r.elfshimOutput = fs.readFileSync(files.eOut, 'latin1').replace(/^elfshim: .*\n/gm, '');
    return r;
  } finally {
    await tracer?.close();
    await emu?.close();
    for (const fd of new Set([...nIo, ...eIo])) if (fd > 2) fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Outcome = LockstepResult | null;
/** An instruction's bytes, decoded, with its facts when they do not depend on the registers (constantFacts). */
interface Decoded {
  bytes: Uint8Array;
  instr: Instr | null;
  facts: InstructionFacts | null;
}
/** A tracer record with a register state (a step or a signal stop). */
type StateRecord = Extract<TracerRecord, { user: Uint8Array }>;

class FastLockstep {
  private compared = 0;
  private syscalls = 0;
  private readonly copied = new Map<string, number>();
  private readonly notes: string[] = [];
  private readonly recent: Executed[] = [];
  readonly pids = new Map<number, number>();
  /** elfshim port → native port (ports.ts). */
  readonly ports = new Map<number, number>();
  get portLearned() {
    return this.o.onPortLearned;
  }
  /** The host CPU the tracer pins the native program to (see pinned-cpu.ts). */
  readonly nativeCpu = pinnedCpu();
  readonly sigactionFlags = new Map<number, bigint>();
  private readonly names: string[];
  private readonly cmp: RegisterComparator;
  private readonly writes = new BatchWrites();
  /** A signal elfshim reported at the end of its last step; ptrace reports it at the next resume. */
  private emuPending = 0;
  /** Signal to deliver with the next step (Linux numbering). */
  private deliver = 0;
  private undo: (() => Promise<void>) | null = null;
  /** Threads, the one running and the schedule (see thread-schedule.ts); the main thread's native tid is 0 (the tracer's leader). */
  private sched: ThreadSchedule | null = null;
  private following: ProcessFollowing | null = null;
  /** The current thread parked or exited: switch before the next run. */
  private switchNeeded = false;
  /** The outcome of a blocking call already stepped on elfshim's side (tried first: see threadSyscall). */
  private emuAhead: Stepped | null = null;
  /** The thread switched to has a signal pending: the next run is one step, in which ptrace reports it. */
  private signalAtSwitch = false;
  /** An rseq registration of this thread, whose area is compared once the thread ran on (see reconcileRseqArea). */
  private rseqCheck: { addr: number; tid: number; compared: number } | null = null;
  /** See decoded(). */
  private readonly decodeCache = new Map<number, Decoded>();

  constructor(
    readonly native: NativeSide,
    readonly emu: EmulatorSide,
    private readonly o: FastLockstepOptions,
  ) {
    this.names = [...CORE_NAMES, 'mxcsr', ...XMM_NAMES, ...X87_NAMES, ...(o.x87Pointers ? X87_POINTER_NAMES : [])];
    this.cmp = new RegisterComparator(this.names);
  }

  count(what: string): void {
    this.copied.set(what, (this.copied.get(what) ?? 0) + 1);
  }

  private result(end: string, divergence: Divergence | null): LockstepResult {
    const s = this.sched;
    const threads = s && s.threads.length > 1 ? { threads: s.threads.map((t) => ({ tid: t.tid, compared: t.compared })), switches: s.switches, thread: s.cur.tid } : s ? { thread: s.cur.tid } : {};
    return { compared: this.compared, divergence, end, syscalls: this.syscalls, copied: this.copied, notes: this.notes, nativeOutput: '', elfshimOutput: '', ...threads };
  }

  private divergence(reason: string, n: Registers, e: Registers, before: Registers | null, extra: Partial<Divergence> = {}): LockstepResult {
    return this.result('divergence', makeDivergence(this.recent, this.compared, this.names, reason, n, e, before, extra));
  }

  async run(): Promise<LockstepResult> {
    const tracer = this.native.tracer;
    const first = tracer.next();
    if (first.type !== 'step') throw new Error(`the native program did not start (${first.type === 'exit' ? `exit status ${first.code}` : first.type})`);
    this.native.update(first.user, first.fp);
    this.sched = new ThreadSchedule(this.emu.mainTid(), 0);
    this.following = new ProcessFollowing({ native: this.native, emu: this.emu, pids: this.pids, schedule: this.sched, count: (w) => this.count(w) });
    await this.syncInitialStack();
    const n = this.native.current(), e = await this.emu.registers();
    if (byteDifferences(e.bytes, this.emu.stubBlock()).length) throw new Error('emulatorRegisterBlock disagrees with the gdb stub\'s register encoding');
    const entry = compareRegisters(n, e, this.names, EFLAGS_COMPARED);
    if (entry.length) return this.divergence('the state at the entry point differs', n, e, null);
    const max = this.o.max ?? Infinity;
    const batch = this.o.batch ?? 4096;
    let special = false;
    while (this.compared < max) {
      if (this.switchNeeded) {
        this.switchNeeded = false;
        const r = await this.switchThread();
        if (r) return r;
        // The tracer stops before a syscall at once if the thread is at one (a parked wait): it is checked again.
        special = false;
      }
      const deliver = this.deliver;
      this.deliver = 0;
      // A delivery comes first: the handler runs before the syscall (the tracer stops before it again later).
      if (deliver) special = false;
      // A signal that reached the thread while it was stopped: ptrace reports it at the first step, before any instruction.
      const signalFirst = this.signalAtSwitch;
      this.signalAtSwitch = false;
      if (signalFirst) special = false;
      if (special) {
        const r = await this.beforeSpecial();
        if (r === 'switch' || r === 'skip') {
          special = false;
          continue;
        }
        if (r) return r;
      }
      tracer.run(special || signalFirst ? 1 : Math.min(batch, max - this.compared), deliver, special || signalFirst);
      // Records are handled as they arrive (the tracer runs on meanwhile), except in a run of one special step or
      // delivery, whose handling sends the tracer commands: that run is read to its end first.
      const wholeRun: boolean = special || deliver !== 0 || signalFirst;
      const pending: TracerRecord[] = [];
      if (wholeRun) while (!isLast(pending[pending.length - 1])) pending.push(tracer.next());
      special = false;
      let first = true;
      for (;;) {
        const rec: TracerRecord = wholeRun ? pending.shift()! : tracer.next();
        if (rec.type === 'end') {
          special = rec.special;
          break;
        }
        let r = this.record(rec, first ? deliver : 0);
        if (r instanceof Promise) r = await r;
        first = false;
        if (r) return r;
        if (isLast(rec)) break;
      }
      const m = (await this.checkWrites()) ?? (await this.checkRseqArea());
      if (m) return m;
    }
    return this.result(`stopped after --max ${max} instructions`, null);
  }

  /**
   * Switches both runs to the next runnable thread (of any followed process) and compares its registers (the first
   * time: a new thread's or child's start).
   */
  private async switchThread(): Promise<Outcome> {
    const sched = this.sched!;
    this.interruptParked();
    let i = sched.next();
    // A child process killed (SIGKILL) while stopped is gone on both sides: its parent's wait may end now.
    while (i !== null && !this.emu.select(sched.threads[i].tid)) {
      sched.exitProcess(sched.threads[i].pid);
      this.count('child process killed while stopped');
      i = sched.next();
    }
    if (i === null) {
      const waits = sched.live().map((t) => `${t.tid} ${t.parkedOn !== null ? `at the futex 0x${t.parkedOn.toString(16)}` : `in syscall ${t.blockedIn?.nr}`}`).join(', ');
      return this.result(`every thread waits for something that no running thread can do (${waits}): the program deadlocks`, null);
    }
    sched.switchTo(i);
    this.decodeCache.clear();
    const t = sched.cur;
    const rec = this.native.tracer.select(t.nativeTid);
    if (rec.type !== 'step') throw new Error(`lockstep-tracer: switching to thread ${t.nativeTid} gave ${rec.type}`);
    let n = this.native.update(rec.user, rec.fp);
    await this.following!.switched(t);
    const e = await this.emu.registers();
    const pending = this.emu.takePendingSignal();
    if (pending) {
      this.emuPending = pending;
      this.signalAtSwitch = true;
    }
    // A new thread's r11 (rflags at its parent's clone) has TF natively: the parent was being single-stepped.
    if ((n.big('r11') ^ e.big('r11')) === 0x100n) {
      await this.native.writeRegister('r11', le64(e.big('r11')));
      n = this.native.current();
      this.count('new thread r11 (TF of the single-step hidden)');
    }
    const diffs = compareRegisters(n, e, this.names, EFLAGS_COMPARED);
    if (diffs.length) return this.divergence(`registers ${diffs.map((d) => d.name).join(', ')} differ when switching to thread ${t.tid}`, n, e, null);
    return null;
  }

  /**
   * Thread bookkeeping before a syscall of the current thread: a thread- or process-creating call is followed
   * (process-following.ts), a futex wait that would block parks the thread ('switch'), a woken waiter's wait
   * returns 0 without running ('skip'), a wake marks the parked waiters.
   */
  private async threadSyscall(n: Registers, nr: number): Promise<Outcome | 'switch' | 'skip'> {
    const sched = this.sched!;
    // Before deciding whether another thread could run.
    this.interruptParked();
    const create = await this.following!.before(n, nr);
    if (create) {
      if (create.kind === 'stop') return this.result(create.why, null);
      if (create.kind === 'ahead') this.emuAhead = create.stepped;
      if (create.kind !== 'park') return null;
      this.switchNeeded = true;
      return 'switch';
    }
    if (nr === SYS_SET_TID_ADDRESS) sched.cur.clearTid = n.num('rdi');
    const kind = blockingKind(nr, ARG_REGISTERS.map((r) => n.big(r)));
    if (kind && sched.mayPark(kind === 'timed')) {
      // Tried on elfshim first: if it blocks there, it would natively too (both runs are in the same state).
      const r = await this.emu.stepSyscall(false);
      if (r === 'blocked') {
        sched.parkInCall(nr, kind === 'timed');
        this.switchNeeded = true;
        this.count('blocking call parked (tried on elfshim: it blocked)');
        return 'switch';
      }
      this.emuAhead = r;
      return null;
    }
    if (nr !== SYS_FUTEX) return null;
    const word = (addr: number) => {
      const b = this.emu.peek(addr, 4);
      return b ? new DataView(b.buffer, b.byteOffset).getUint32(0, true) : null;
    };
    const op = n.num('rsi'), uaddr = n.num('rdi'), val = Number(n.big('rdx') & 0xffffffffn);
    const action = sched.futexAction(op, uaddr, val, word(uaddr), n.big('r10') !== 0n);
    if (action.kind === 'park') {
      sched.park(action.addr);
      this.switchNeeded = true;
      return 'switch';
    }
    if (action.kind === 'deadlock') return this.result(`thread ${sched.cur.tid} waits on the futex at 0x${uaddr.toString(16)} and no other thread can run: the program deadlocks`, null);
    if (action.kind === 'return-woken') {
      // The wake that ended the wait reached it before the call ran (it was parked): what the call returns after a wake.
      const e = await this.emu.registers();
      const next = le64(n.big('rip') + 2n), flags = le64(e.big('eflags'));
      for (const side of [this.native, this.emu] as const) {
        await side.writeRegister('rax', le64(0n));
        await side.writeRegister('rcx', next);
        await side.writeRegister('r11', flags);
        await side.writeRegister('rip', next);
      }
      this.syscalls++;
      this.count('futex wait woken while parked (0 returned on both sides without the call)');
      return 'skip';
    }
    sched.noteFutexCall(op, uaddr, val, Number(n.big('r10') & 0xffffffffn), n.num('r8'), word(uaddr), Number(n.big('r9') & 0xffffffffn));
    return null;
  }

  /** A signal sent to a parked thread: natively it would interrupt the wait, so the thread runs (the signal first). */
  private interruptParked(): void {
    const sched = this.sched!;
    for (const t of sched.live()) if (this.emu.hasDeliverableSignal(t.tid) && sched.interrupt(t)) this.count('parked thread made runnable by a signal sent to it (taken before its call)');
  }

  /** Before a syscall (or cpuid/xgetbv) runs natively: what the RSP mode does before stepping one. */
  private async beforeSpecial(): Promise<Outcome | 'switch' | 'skip'> {
    const n = this.native.current();
    if (n.big('rax') === 13n && n.big('rsi') !== 0n) {
      const b = this.emu.peek(n.num('rsi') + 8, 8);
      if (b) this.sigactionFlags.set(n.num('rdi'), new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    }
    const bytes = this.emu.peek(n.num('rip'), 2);
    if (bytes && bytes[0] === 0x0f && bytes[1] === 0x05) {
      const nr = n.big('rax');
      const r = await this.threadSyscall(n, Number(nr));
      if (r) return r;
      this.undo = await translatePids(this, n, Number(nr));
    }
    return null;
  }

  /**
   * The instruction at rip (its bytes, decoded), kept by address until the next syscall or thread switch (which may
   * map other code there), as the tracer keeps its code: code rewritten without a syscall in between is not
   * supported by either.
   */
  private decoded(rip: number): Decoded | null {
    const hit = this.decodeCache.get(rip);
    if (hit) return hit;
    const bytes = this.code(rip);
    if (!bytes) return null;
    const instr = decodeAt(rip, bytes);
    const d = { bytes, instr, facts: instr ? constantFacts(instr, bytes) : null };
    if (this.decodeCache.size >= 65536) this.decodeCache.clear();
    this.decodeCache.set(rip, d);
    return d;
  }

  /** Code at rip, from elfshim (equal to native's: both ran the same instructions). */
  private code(rip: number): Uint8Array | null {
    let b = this.emu.peek(rip, 16);
    for (let len = 15; !b && len > 0; len--) b = this.emu.peek(rip, len);
    return b;
  }

  /**
   * One native record (an instruction, a delivery, a signal stop or the end) against one elfshim step. A plain
   * instruction whose elfshim step ended at once is checked without a promise (the common case, millions of times
   * a run); everything else goes on in recordAfterStep.
   */
  private record(rec: Exclude<TracerRecord, { type: 'end' }>, delivering: number): Outcome | Promise<Outcome> {
    if (rec.type === 'process-exit' || rec.type === 'thread-exit' || rec.type === 'vforked') return this.recordEnd(rec, delivering);
    if (rec.type === 'stop' && this.emuPending === rec.signal) return this.recordPendingStop(rec);
    const before = this.native.current();
    const rip = before.num('rip');
    const d = delivering ? null : this.decoded(rip);
    const bytes = d ? d.bytes : null, instr = d ? d.instr : null;
    const facts = d && d.facts ? d.facts : instr && bytes ? instructionFacts(instr, bytes, before) : null;
    this.recent.push({ addr: rip, bytes: facts ? facts.bytes : (bytes ?? new Uint8Array()), signal: delivering });
    if (this.recent.length > 9) this.recent.shift();

    const ev = this.takeEmuStep(delivering);
    if (ev instanceof Promise || rec.type !== 'step' || delivering || ev.kind !== 'signal' || ev.signal !== SIGTRAP || (facts && facts.kind !== 'plain') || (!facts && inVsyscallArea(rip))) return this.recordAfterStep(rec, delivering, before, rip, facts, ev);
    return this.compareStep(facts, before, this.native.update(rec.user, rec.fp), this.emu.registersNow(), facts !== null, false);
  }

  /** A record of the end of a thread or process. */
  private async recordEnd(rec: Extract<TracerRecord, { type: 'process-exit' | 'thread-exit' | 'vforked' }>, delivering: number): Promise<Outcome> {
    const before = this.native.current();
    if (rec.type === 'process-exit') {
      const ev = await this.takeEmuStep(delivering);
      const cur = this.sched!.cur;
      const nEnd = describeStatus(rec.status), eEnd = describeEvent(ev);
      if (ev.kind !== 'process-exit' || nEnd !== eEnd) return this.divergence(`the runs stopped differently: native process ${cur.pid} ${nEnd}, elfshim ${eEnd}`, before, await this.emu.registers(), before);
      this.compared++;
      cur.compared++;
      this.undo = null; // the native process is gone, and its registers with it
      this.sched!.exitProcess(cur.pid);
      this.switchNeeded = true;
      return null;
    }
    if (rec.type === 'thread-exit') {
      const ev = await this.takeEmuStep(delivering);
      if (ev.kind !== 'thread-exit') return this.divergence(`the runs stopped differently: native thread ${this.sched!.cur.tid} exited, elfshim ${describeEvent(ev)}`, before, await this.emu.registers(), before);
      this.compared++;
      this.syscalls++;
      this.sched!.cur.compared++;
      await this.undo?.();
      this.undo = null;
      await reconcileRobustList(this.emu, this.native, this.sched!, this.sched!.cur.tid, (w) => this.count(w));
      this.sched!.exitCurrent();
      this.switchNeeded = true;
      return null;
    }
    throw new Error('lockstep-tracer: a vfork outside a vfork step'); // vfork() reads it
  }

  /** elfshim already reported this signal at the end of the previous step; no instruction ran. */
  private async recordPendingStop(rec: StateRecord): Promise<Outcome> {
    const before = this.native.current();
    this.emuPending = 0;
    const n = this.native.update(rec.user, rec.fp);
    this.deliver = rec.signal;
    const e = await this.emu.registers();
    // An interrupted syscall: until delivery, ptrace shows -ERESTART* and the pc after it (see reconcileSyscall).
    const names = isRestartCode(n.big('rax')) ? this.names.filter((x) => x !== 'rax' && x !== 'rip') : this.names;
    const diffs = compareRegisters(n, e, names, EFLAGS_COMPARED);
    return diffs.length ? this.divergence(`registers ${diffs.map((d) => d.name).join(', ')} differ at the signal ${rec.signal} stop`, n, e, before) : null;
  }

  /** The rest of record() for anything but a plain instruction stepped at once on elfshim's side. */
  private async recordAfterStep(rec: Exclude<TracerRecord, { type: 'end' | 'process-exit' | 'thread-exit' | 'vforked' }>, delivering: number, before: Registers, rip: number, facts: InstructionFacts | null, step: Stepped | Promise<Stepped>): Promise<Outcome> {
    const ev = await step;
    if (ev.kind === 'thread-exit' || ev.kind === 'process-exit') return this.divergence(`the runs stopped differently: native ${describeRecord(rec)}, elfshim ${describeEvent(ev)}`, this.native.current(), before, before);
    if (rec.type === 'exit' || rec.type === 'killed' || ev.kind !== 'signal') {
      if (sameEnd(rec, ev)) {
        this.compared++;
        return this.result(rec.type === 'exit' ? `the program exited with status ${rec.code} on both sides` : `the program was killed by signal ${(rec as { signal: number }).signal} on both sides`, null);
      }
      const e = await this.emu.registers();
      return this.divergence(`the runs stopped differently: native ${describeRecord(rec)}, elfshim ${describeEvent(ev)}`, this.native.current(), e, before);
    }
    let n = this.native.update(rec.user, rec.fp);
    let e = await this.emu.registers();
    const nSig = rec.type === 'stop' ? rec.signal : SIGTRAP;
    if (ev.signal !== nSig) {
      // A signal that became pending during the step: elfshim reports it now, ptrace at the next resume.
      if (nSig === SIGTRAP && e.num('rip') !== rip) this.emuPending = ev.signal;
      else return this.divergence(`the runs stopped differently: native ${describeRecord(rec)}, elfshim ${describeEvent(ev)}`, n, e, before);
    }
    if (nSig !== SIGTRAP) this.deliver = nSig;
    if (delivering && (n.num('rsp') !== e.num('rsp') || n.num('rip') !== e.num('rip'))) {
      const aligned = await alignSignalFrames(this, delivering, before, n, e);
      if ('reason' in aligned) return this.divergence(aligned.reason, n, e, before, aligned.memory ? { memory: aligned.memory } : {});
      if (!aligned.ok) return this.divergence(`the signal ${delivering} frames cannot be lined up (the RSP mode runs such handlers freely)`, n, e, before);
      n = this.native.current();
      e = await this.emu.registers();
    }
    const executed = facts !== null && (nSig === SIGTRAP || n.num('rip') !== rip);
    const call = !facts && nSig === SIGTRAP && inVsyscallArea(rip) ? vsyscallTimeCall(before.big('rip'), before.big('rdi'), before.big('rsi')) : null;
    if (call) {
      // The tracer streams records here: no native memory is read. time(tloc) stores its result, rax, at tloc
      // too; gettimeofday's timeval (not in a register) is left to the comparisons of what reads it.
      this.emu.setRegister('rax', n.raw('rax'));
      if (call.entry === 'time') for (const [addr] of call.writes) this.emu.mem.poke(addr, n.raw('rax').slice(0, 8));
      this.count('vsyscall time (native result)');
      e = await this.emu.registers();
    }
    let interrupted = false;
    if (facts && executed && facts.kind !== 'plain') {
      const r = await this.afterSpecial(facts, before, n, e);
      if (typeof r === 'string') return this.divergence(r, this.native.current(), await this.emu.registers(), before);
      interrupted = r.interrupted;
      n = this.native.current();
      e = await this.emu.registers();
    }
    return this.compareStep(executed ? facts : null, before, n, e, executed, interrupted);
  }

  /** The registers after an instruction (facts when it executed), then the bookkeeping of a compared instruction. */
  private compareStep(facts: InstructionFacts | null, before: Registers, n: Registers, e: Registers, executed: boolean, interrupted: boolean): Outcome {
    const mask = EFLAGS_COMPARED & ~(facts ? facts.undefinedFlags : 0);
    const fswMask = 0xffff & ~(facts ? facts.undefinedFsw : 0);
    const u = facts ? facts.undefined : null;
    const skip = u && u.destReg >= 0 && (!u.destOnlyIfZf || n.num('eflags') & ZF) ? gprName(u.destReg) : '';
    if (!this.cmp.same(n.bytes, e.bytes, mask, fswMask)) {
      const skipped = interrupted ? ['rax', 'rip', skip] : [skip];
      const diffs = compareRegisters(n, e, this.names.filter((x) => !skipped.includes(x)), mask, fswMask);
      const t = facts && diffs.length ? transcendentalName(facts.bytes) : null;
      if (t && withinTranscendentalTolerance(diffs, n, e)) {
        for (const d of diffs) this.emu.setRegister(d.name, n.raw(d.name));
        this.count(`${t} within 1 ulp of native (native result taken)`);
      } else if (diffs.length) return this.divergence(`register${diffs.length > 1 ? 's' : ''} ${diffs.map((d) => d.name).join(', ')} differ${diffs.length > 1 ? '' : 's'}`, n, e, before);
    }
    if (facts && executed) {
      this.syncUndefined(facts, n, e, skip);
      this.writes.note(facts, before, n, this.compared);
    }
    this.compared++;
    this.sched!.cur.compared++;
    const every = this.o.progressEvery ?? 0;
    if (every && this.compared % every === 0) this.o.onProgress?.(this.compared);
    const inj = this.o.inject;
    const sched = this.sched!;
    if (inj && (inj.thread === undefined ? this.compared : sched.current === inj.thread ? sched.cur.compared : -1) === inj.after) {
      if ('register' in inj) this.emu.setRegister(inj.register, inj.value);
      else {
        const w = this.writes.last();
        const b = w && this.emu.peek(w.addr, 1);
        if (b) this.emu.mem.poke(w.addr, new Uint8Array([b[0] ^ 0xff]));
      }
    }
    return null;
  }

  /** elfshim's step matching a native record: the one tried ahead (a blocking call that did not block), or a new one. */
  private takeEmuStep(delivering: number): Stepped | Promise<Stepped> {
    const ahead = this.emuAhead;
    this.emuAhead = null;
    return ahead ?? this.emu.step(delivering);
  }

  /** Syscall reconciliation, CPUID/XGETBV answers to native, rdtsc to elfshim. Returns a divergence reason or what to skip. */
  private async afterSpecial(f: InstructionFacts, before: Registers, n: Registers, e: Registers): Promise<string | { interrupted: boolean }> {
    if (f.kind === 'syscall') {
      this.decodeCache.clear();
      this.syscalls++;
      this.sched!.syscallCompleted();
      await this.following!.after();
      n = this.native.current();
      await reconcileIds(this, this.emu, before, n, e);
      if ((before.num('rax') === SYS_EXECVE || before.num('rax') === SYS_EXECVEAT) && n.big('rax') === 0n && e.big('rax') === 0n) {
        // A new image: its initial stack is the host kernel's natively (another auxv), as at the start.
        await this.syncInitialStack();
        n = this.native.current();
      }
      const r = await reconcileSyscall(this, before, n, e);
      await this.undo?.();
      this.undo = null;
      const rseqArea = rseqRegistration(before, n.big('rax'));
      if (rseqArea !== null) this.rseqCheck = { addr: rseqArea, tid: this.sched!.cur.tid, compared: this.sched!.cur.compared + 1 };
      if (typeof r === 'object') return r.diverged;
      return { interrupted: r === 'interrupted' };
    }
    if (f.kind === 'cpuid' || f.kind === 'xgetbv') {
      let changed = false;
      for (const r of f.kind === 'cpuid' ? ['rax', 'rbx', 'rcx', 'rdx'] : ['rax', 'rdx']) {
        if (n.big(r) !== e.big(r)) {
          await this.native.writeRegister(r, le64(e.big(r)));
          changed = true;
        }
      }
      if (changed) this.count(`${f.kind} (elfshim's answer given to native)`);
    } else if (f.kind === 'rdtsc') {
      for (const r of ['rax', 'rdx']) this.emu.setRegister(r, le64(n.big(r)));
      this.count('rdtsc');
    }
    return { interrupted: false };
  }

  /** Undefined flags, x87 status bits and destinations: elfshim takes the native values, so they cannot leak. */
  private syncUndefined(f: InstructionFacts, n: Registers, e: Registers, skip: string): void {
    const fn = n.num('eflags'), fe = e.num('eflags');
    if ((fn ^ fe) & ARITH) this.emu.cpu.setEflags((fe & ~ARITH) | (fn & ARITH));
    if (f.undefinedFsw && n.num('fstat') !== e.num('fstat')) this.emu.cpu.x87.statusWord = n.num('fstat');
    if (skip && n.big(skip) !== e.big(skip)) this.emu.setRegister(skip, n.raw(skip));
  }

  /** A registered rseq area, once its thread ran on after the registration: the ids both kernels wrote must agree. */
  private async checkRseqArea(): Promise<Outcome> {
    const c = this.rseqCheck, cur = this.sched!.cur;
    if (!c || cur.tid !== c.tid || cur.compared <= c.compared) return null;
    this.rseqCheck = null;
    const reason = await reconcileRseqArea(this, c.addr);
    return reason ? this.divergence(reason, this.native.current(), await this.emu.registers(), null) : null;
  }

  /** Compares the final contents of everything the batch wrote. */
  private async checkWrites(): Promise<Outcome> {
    const d = await this.writes.check(this.native, this.emu);
    if (!d) return null;
    const w = d.write, n = this.native.current(), e = await this.emu.registers();
    return this.result('divergence', {
      index: w.index,
      addr: w.rip,
      bytes: this.code(w.rip)?.subarray(0, decodeAt(w.rip, this.code(w.rip)!)?.len ?? 16) ?? new Uint8Array(),
      signal: 0,
      reason: `memory at 0x${d.at.toString(16)} differs at the end of the batch; last written by the instruction at 0x${w.rip.toString(16)} (instruction #${w.index}; registers below are from the end of the batch, ${this.compared} instructions compared)`,
      registers: compareRegisters(n, e, this.names, EFLAGS_COMPARED),
      native: n,
      elfshim: e,
      before: null,
      recent: [],
      memory: d.memory,
    });
  }

  /** The native process gets elfshim's initial stack (argv, envp, auxv), as in the RSP mode. */
  private async syncInitialStack(): Promise<void> {
    const e = await this.emu.registers(), n = this.native.current();
    const rspE = e.num('rsp'), rspN = n.num('rsp');
    const bytes = this.emu.peek(rspE, STACK_TOP - rspE);
    if (!bytes || !(await writeRange(this.native, rspE, bytes))) {
      this.notes.push('could not copy elfshim\'s initial stack to native');
      return;
    }
    if (rspN !== rspE) await this.native.writeRegister('rsp', le64(BigInt(rspE)));
    this.notes.push(`native initial stack replaced by elfshim's (rsp 0x${rspN.toString(16)} → 0x${rspE.toString(16)}, ${bytes.length} bytes)`);
    if (this.o.vdso) await this.syncVdso();
  }

  /**
   * With a vDSO (o.vdso): the native process runs elfshim's, whose functions make the syscalls the differ steps
   * over (the host's answers from its data page, and its code differs). Both kernels put the block at one address
   * (elfshim reserves the host's [vvar…]/[vdso] sizes where Linux does); the host's [vdso] pages are overwritten
   * (through /proc/PID/mem, which copies them on write).
   */
  private async syncVdso(): Promise<void> {
    const v = this.emu.mem.mappings.find((m) => m.name === '[vdso]');
    const bytes = v && this.emu.peek(v.start, v.end - v.start);
    if (!v || !bytes || !(await writeRange(this.native, v.start, bytes))) {
      this.notes.push("could not copy elfshim's vDSO to native");
      return;
    }
    this.notes.push(`native vDSO replaced by elfshim's (0x${v.start.toString(16)}, ${bytes.length} bytes)`);
  }
}

/** A record after which the tracer waits for a command. */
function isLast(rec: TracerRecord | undefined): boolean {
  return rec !== undefined && rec.type !== 'step';
}

function sameEnd(rec: TracerRecord, ev: StopEvent): boolean {
  if (rec.type === 'exit' && ev.kind === 'exited') return rec.code === ev.code;
  if (rec.type === 'killed' && ev.kind === 'killed') return rec.signal === ev.signal;
  return false;
}

function describeRecord(rec: TracerRecord): string {
  if (rec.type === 'exit') return `exited with status ${rec.code}`;
  if (rec.type === 'killed') return `killed by signal ${rec.signal}`;
  if (rec.type === 'stop') return `stopped with signal ${rec.signal}`;
  if (rec.type === 'process-exit') return `process ${describeStatus(rec.status)}`;
  if (rec.type === 'thread-exit') return 'thread exited';
  if (rec.type === 'vforked') return `vforked ${rec.pid}`;
  return 'stopped after the step';
}

/** A native wait status as describeEvent says it. */
function describeStatus(st: number): string {
  return (st & 0x7f) === 0 ? `exited with status ${(st >> 8) & 0xff}` : `killed by signal ${st & 0x7f}`;
}

function describeEvent(ev: Stepped): string {
  if (ev.kind === 'thread-exit') return 'the thread exited';
  if (ev.kind === 'process-exit') return ev.signal ? `killed by signal ${ev.signal}` : `exited with status ${ev.code}`;
  if (ev.kind === 'exited') return `exited with status ${ev.code}`;
  if (ev.kind === 'killed') return `killed by signal ${ev.signal}`;
  return ev.signal === SIGTRAP ? 'stopped after the step' : `stopped with signal ${ev.signal}`;
}
