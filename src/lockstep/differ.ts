import { Side, parseStop, type Registers, type StopInfo } from './side.js';
import { ARITH, ZF, decodeAt, gprName, instructionFacts, type InstructionFacts } from './instruction-facts.js';
import { transcendentalName, withinTranscendentalTolerance } from './transcendental.js';
import { CORE_NAMES, EFLAGS_COMPARED, X87_NAMES, X87_POINTER_NAMES, XMM_NAMES, byteDifferences, compareRegisters, type MemoryDifference, type RegisterDifference } from './compare.js';
import { le32, le64, readRange, writeRange } from './bytes.js';
import { alignSignalFrames } from './signal-frames.js';
import { pidHook, reconcileSyscall, translatePids } from './syscalls.js';
import { pinnedCpu } from './pinned-cpu.js';
import { inVsyscallArea, vsyscallTimeCall } from './vsyscall-results.js';

export interface LockstepOptions {
  program: string;
  args: string[];
  /** The environment of both runs (the differ adds nothing else). */
  env: Record<string, string>;
  /** Stop after this many instructions (default: run to the end). */
  max?: number;
  stdin?: string;
  /** dist/cli.js of elfshim. */
  elfshimCli: string;
  elfshimArgs?: string[];
  /** Also compare the x87 instruction/operand pointers and last opcode. */
  x87Pointers?: boolean;
  /** Give the native process elfshim's initial stack (argv, envp, auxv) so both start equal (default true). */
  syncInitialStack?: boolean;
  /** Called every `progressEvery` instructions. */
  onProgress?: (compared: number) => void;
  progressEvery?: number;
  /** Called with one line per step (stop replies). */
  trace?: (line: string) => void;
  /** Self-test: after this many instructions, write a wrong value into one of elfshim's registers. */
  inject?: { after: number; register: string; value: Uint8Array };
}

/** One instruction executed, for the context shown with a divergence. */
export interface Executed {
  addr: number;
  bytes: Uint8Array;
  /** Non-zero when this step delivered a signal instead of executing the instruction. */
  signal: number;
}

export interface Divergence {
  /** Instructions compared equal before this one. */
  index: number;
  addr: number;
  bytes: Uint8Array;
  /** Non-zero when the step delivered this signal instead of executing an instruction. */
  signal: number;
  reason: string;
  registers: RegisterDifference[];
  memory?: MemoryDifference;
  native: Registers;
  elfshim: Registers;
  /** Native registers before the instruction. */
  before: Registers | null;
  recent: Executed[];
}

/** The divergence record both transports report; the last instruction executed names the place. */
export function makeDivergence(recent: readonly Executed[], index: number, names: readonly string[], reason: string, n: Registers, e: Registers, before: Registers | null, extra: Partial<Divergence> = {}): Divergence {
  const last = recent[recent.length - 1];
  return {
    index,
    addr: last?.addr ?? n.num('rip'),
    bytes: last?.bytes ?? new Uint8Array(),
    signal: last?.signal ?? 0,
    reason,
    registers: compareRegisters(n, e, names as string[], EFLAGS_COMPARED),
    native: n,
    elfshim: e,
    before,
    recent: recent.slice(0, -1),
    ...extra,
  };
}

export interface LockstepResult {
  compared: number;
  divergence: Divergence | null;
  /** How the run ended without a divergence. */
  end: string;
  /** Syscalls stepped over, and those whose native result was copied into elfshim. */
  syscalls: number;
  copied: Map<string, number>;
  notes: string[];
  nativeOutput: string;
  elfshimOutput: string;
  /** Threads followed (fast transport, when the program created any): instructions compared per thread (elfshim tid). */
  threads?: Array<{ tid: number; compared: number }>;
  /** How often the differ switched both runs to another thread. */
  switches?: number;
  /** The thread running when the run ended (a divergence is in it). */
  thread?: number;
}

const STACK_TOP = 0x7ffffffff000;
const SIGTRAP = 5;

/**
 * Runs the program natively under gdbserver and under elfshim's gdb stub,
 * single-stepping both and comparing the architectural state after every
 * instruction. Returns at the first divergence, at the end of the program,
 * or after `max` instructions.
 */
export async function runLockstep(o: LockstepOptions): Promise<LockstepResult> {
  const common = { program: o.program, args: o.args, env: o.env, ...(o.stdin ? { stdin: o.stdin } : {}) };
  const started = await Promise.allSettled([
    Side.start({ ...common, kind: 'native' }),
    Side.start({ ...common, kind: 'elfshim', elfshimCli: o.elfshimCli, elfshimArgs: ['--no-vdso', ...(o.elfshimArgs ?? [])] }), // see fast/emulator-side.ts
  ]);
  if (started[0].status === 'rejected' || started[1].status === 'rejected') {
    // Do not leave the side that did start behind (a stopped gdbserver keeps the caller alive).
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw started[0].status === 'rejected' ? started[0].reason : (started[1] as PromiseRejectedResult).reason;
  }
  const native = started[0].value, emu = started[1].value;
  let r: LockstepResult;
  try {
    r = await new Lockstep(native, emu, o).run();
  } catch (e) {
    await Promise.all([native.close(), emu.close()]);
    // Say what the processes printed last: a crashed stub explains a closed connection.
    const tail = (s: string) => s.trimEnd().split('\n').slice(-15).join('\n');
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${msg}\n--- native output (end; gdbserver ${native.exitStatus}) ---\n${tail(native.output)}\n--- elfshim output (end; ${emu.exitStatus}) ---\n${tail(emu.output)}`);
  }
  await Promise.all([native.close(), emu.close()]);
  // The output is complete once both processes are gone.
  r.nativeOutput = native.programOutput();
  r.elfshimOutput = emu.programOutput();
  return r;
}

class Lockstep {
  private compared = 0;
  private syscalls = 0;
  private readonly copied = new Map<string, number>();
  private readonly notes: string[] = [];
  private readonly recent: Executed[] = [];
  private readonly code = new Map<number, Uint8Array>();
  private readonly names: string[];
  private lastReason = '';

  constructor(
    readonly native: Side,
    readonly emu: Side,
    private readonly o: LockstepOptions,
  ) {
    this.names = [...CORE_NAMES, 'mxcsr', ...XMM_NAMES, ...X87_NAMES, ...(o.x87Pointers ? X87_POINTER_NAMES : [])];
  }

  private result(end: string, divergence: Divergence | null): LockstepResult {
    return {
      compared: this.compared,
      divergence,
      end,
      syscalls: this.syscalls,
      copied: this.copied,
      notes: this.notes,
      nativeOutput: this.native.programOutput(),
      elfshimOutput: this.emu.programOutput(),
    };
  }

  private divergence(reason: string, n: Registers, e: Registers, before: Registers | null, extra: Partial<Divergence> = {}): LockstepResult {
    return this.result('divergence', makeDivergence(this.recent, this.compared, this.names, reason, n, e, before, extra));
  }

  private registersBoth(): Promise<[Registers, Registers]> {
    return Promise.all([this.native.registers(), this.emu.registers()]);
  }

  async run(): Promise<LockstepResult> {
    let [n, e] = await this.registersBoth();
    if (this.o.syncInitialStack !== false) {
      await this.syncInitialStack(n, e);
      [n, e] = await this.registersBoth();
    }
    const entryDiffs = compareRegisters(n, e, this.names, EFLAGS_COMPARED);
    if (entryDiffs.length) return this.divergence('the state at the entry point differs', n, e, null);
    let signal = 0;
    const max = this.o.max ?? Infinity;
    const every = this.o.progressEvery ?? 0;
    while (this.compared < max) {
      const rip = n.num('rip');
      // A step that delivers a signal executes no instruction: it enters the handler (or ends the process).
      const delivering = signal;
      const bytes = delivering ? null : await this.codeAt(rip);
      const instr = bytes ? decodeAt(rip, bytes) : null;
      const facts = instr && bytes ? instructionFacts(instr, bytes, n) : null;
      if (facts?.kind === 'syscall' && startsThread(n)) return this.result(`stopped at the creation of a thread (0x${rip.toString(16)}): threads are followed by --fast only`, null);
      this.recent.push({ addr: rip, bytes: facts ? facts.bytes : (bytes ?? new Uint8Array()), signal: delivering });
      if (this.recent.length > 9) this.recent.shift();

      if (facts?.kind === 'syscall' && !delivering) await this.noteSigaction(n);
      const stepNative = async (): Promise<[StopInfo, Registers | null]> => {
        const st = await this.stepNative(facts, n, signal);
        return [st, st.kind === 'signal' ? await this.native.registers() : null];
      };
      const [[sn, rn], [se, re]] = await Promise.all([stepNative(), this.stepEmu(facts, n, signal)]);
      this.o.trace?.(`#${this.compared} 0x${rip.toString(16)}${delivering ? ` deliver ${delivering}` : ''}: native ${sn.raw.slice(0, 3)} elfshim ${se.raw.slice(0, 3)}`);
      signal = 0;
      const before = n;
      if (!rn || !re || sn.kind !== 'signal' || se.kind !== 'signal') {
        if (sameEnd(sn, se)) {
          this.compared++;
          return this.result(sn.kind === 'exited' ? `the program exited with status ${sn.code} on both sides` : `the program was killed by signal ${sn.signal} on both sides`, null);
        }
        return this.divergence(`the runs stopped differently: native ${describeStop(sn)}, elfshim ${describeStop(se)}`, rn ?? n, re ?? e, before);
      }
      n = rn;
      e = re;
      let sigN = sn.signal;
      const sigE = se.signal;
      // elfshim reports a signal that became pending during the step (say, unblocked by a syscall) at the end of
      // that step; ptrace reports it at the next resume, before any instruction. Ask native for that report now.
      if (sigN === SIGTRAP && sigE !== SIGTRAP && e.num('rip') !== before.num('rip')) {
        const again = await this.native.step();
        this.o.trace?.(`  native stepped again for the pending signal: ${again.raw.slice(0, 3)}`);
        if (again.kind === 'signal' && again.signal === sigE) {
          sigN = again.signal;
          n = await this.native.registers();
        }
      }
      if (sigN !== sigE) return this.divergence(`the runs stopped differently: native ${describeSignal(sigN)}, elfshim ${describeSignal(sigE)}`, n, e, before);
      if (sigN !== SIGTRAP) signal = sigN; // a fault or a pending signal: deliver it on both sides at the next step
      if (delivering && sigN === SIGTRAP && (n.num('rsp') !== e.num('rsp') || n.num('rip') !== e.num('rip'))) {
        const aligned = await alignSignalFrames(this, delivering, before, n, e);
        if ('reason' in aligned) return this.divergence(aligned.reason, n, e, before, aligned.memory ? { memory: aligned.memory } : {});
        if (aligned.ok) [n, e] = await this.registersBoth();
        else {
          // The frames cannot be lined up: run both handlers freely and compare again when they return.
          const [rn, re] = await Promise.all([this.native.runTo(rip, before.num('rsp'), this.pidHook), this.emu.runTo(rip, before.num('rsp'))]);
          this.count(`signal ${delivering} handler (run without lockstep)`);
          this.o.trace?.(`  signal handler run to 0x${rip.toString(16)}: native ${rn.raw.slice(0, 3)} elfshim ${re.raw.slice(0, 3)}`);
          if (rn.kind !== 'signal' || re.kind !== 'signal') {
            if (sameEnd(rn, re)) {
              return this.result(rn.kind === 'exited' ? `the program exited with status ${rn.code} on both sides (in a signal handler)` : `the program was killed on both sides (in a signal handler)`, null);
            }
            return this.divergence(`the signal handlers ended differently: native ${describeStop(rn)}, elfshim ${describeStop(re)}`, n, e, before);
          }
          [n, e] = await this.registersBoth();
          const diffs = compareRegisters(n, e, this.names, EFLAGS_COMPARED);
          if (diffs.length) return this.divergence(`after the signal ${delivering} handler returned, registers ${diffs.map((d) => d.name).join(', ')} differ`, n, e, before);
          this.compared++;
          continue;
        }
      }
      const executed = facts !== null && (sigN === SIGTRAP || n.num('rip') !== before.num('rip'));
      if (facts === null && sigN === SIGTRAP && inVsyscallArea(before.num('rip'))) {
        const call = vsyscallTimeCall(before.big('rip'), before.big('rdi'), before.big('rsi'));
        if (call) {
          await this.emu.writeRegister('rax', le64(n.big('rax')));
          for (const [addr, len] of call.writes) {
            const b = await this.native.readMemory(addr, len);
            if (b) await this.emu.writeMemory(addr, b);
          }
          this.count('vsyscall time (native result)');
          e = await this.emu.registers();
        }
      }

      let resync = false, interrupted = false;
      if (facts && executed) {
        const r = await this.afterSpecial(facts, before, n, e);
        if (r === 'diverged') return this.divergence(this.lastReason, n, e, before);
        interrupted = r === 'interrupted';
        resync = r === 'resync' || interrupted;
      }
      if (resync) [n, e] = await this.registersBoth();

      const mask = EFLAGS_COMPARED & ~(executed ? facts.undefinedFlags : 0);
      const u = executed ? facts.undefined : null;
      const skip = u && u.destReg >= 0 && (!u.destOnlyIfZf || n.num('eflags') & ZF) ? gprName(u.destReg) : '';
      const skipped = interrupted ? ['rax', 'rip', skip] : [skip];
      const diffs = compareRegisters(n, e, this.names.filter((x) => !skipped.includes(x)), mask, 0xffff & ~(executed ? facts.undefinedFsw : 0));
      const t = executed && diffs.length ? transcendentalName(facts.bytes) : null;
      if (t && withinTranscendentalTolerance(diffs, n, e)) {
        for (const d of diffs) await this.emu.writeRegister(d.name, n.raw(d.name));
        this.count(`${t} within 1 ulp of native (native result taken)`);
        e = await this.emu.registers();
      } else if (diffs.length) return this.divergence(`register${diffs.length > 1 ? 's' : ''} ${diffs.map((d) => d.name).join(', ')} differ${diffs.length > 1 ? '' : 's'}`, n, e, before);
      if (executed && (await this.syncUndefined(facts, n, e))) e = await this.emu.registers();

      if (executed) {
        const m = await this.compareMemory(facts, before, n);
        if (m) return this.divergence(`memory written at 0x${m.addr.toString(16)} differs`, n, e, before, { memory: m });
      }
      this.compared++;
      if (every && this.compared % every === 0) this.o.onProgress?.(this.compared);
      if (this.o.inject && this.compared === this.o.inject.after) {
        await this.emu.writeRegister(this.o.inject.register, this.o.inject.value);
        e = await this.emu.registers();
      }
    }
    return this.result(`stopped after --max ${max} instructions`, null);
  }

  /** Instruction bytes at rip, from the native process (cached: code does not change under us). */
  private async codeAt(rip: number): Promise<Uint8Array | null> {
    const hit = this.code.get(rip);
    if (hit) return hit;
    // Up to 16 bytes, not past the end of the page if the next one is unmapped.
    let b = await this.native.readMemory(rip, 16);
    if (!b) b = await this.native.readMemory(rip, 4096 - (rip % 4096));
    if (b) this.code.set(rip, b);
    return b;
  }

  /** One instruction natively (a rep string instruction to its end, see runRepString). */
  private async stepNative(facts: InstructionFacts | null, before: Registers, signal: number): Promise<StopInfo> {
    if (facts?.kind === 'syscall' && !signal) return this.stepNativeSyscall(before);
    return (await this.runRepString(this.native, facts, before, signal)) ?? this.native.step(signal);
  }

  /** One instruction in elfshim (a rep string instruction to its end), and the registers after it. */
  private async stepEmu(facts: InstructionFacts | null, before: Registers, signal: number): Promise<[StopInfo, Registers | null]> {
    const st = await this.runRepString(this.emu, facts, before, signal);
    if (!st) return this.emu.stepAndRegisters(signal);
    return [st, st.kind === 'signal' ? await this.emu.registers() : null];
  }

  /**
   * A rep string instruction with iterations to go traps after each one under
   * a single step, on both sides (a CPU's trap flag; elfshim's stub does the
   * same for gdb): run it to its end with a breakpoint after it instead.
   * null when the instruction is not one (the caller steps).
   */
  private async runRepString(side: Side, facts: InstructionFacts | null, before: Registers, signal: number): Promise<StopInfo | null> {
    if (!facts || facts.kind !== 'rep-string' || signal) return null;
    const i = facts.instr;
    const count = i.adsize === 4 ? before.big('rcx') & 0xffffffffn : before.big('rcx');
    if (count <= 1n) return null;
    const z = `${i.next.toString(16)},1`;
    if ((await side.rsp.request(`Z0,${z}`)) !== 'OK') return null;
    const stop = parseStop(await side.rsp.request('vCont;c'));
    await side.rsp.request(`z0,${z}`);
    return stop;
  }

  /** elfshim pid → native pid, learned from the calls that return pids. */
  readonly pids = new Map<number, number>();
  /** elfshim port → native port (ports.ts). */
  readonly ports = new Map<number, number>();
  /** The host CPU gdbserver and the native program run on (see pinned-cpu.ts). */
  readonly nativeCpu = pinnedCpu();

  /** Linux signal number → sa_flags of its handler (signal frames differ with and without SA_SIGINFO). */
  readonly sigactionFlags = new Map<number, bigint>();

  /** Before rt_sigaction(sig, act, …): remember act->sa_flags. */
  private async noteSigaction(r: Registers): Promise<void> {
    if (r.big('rax') !== 13n || r.big('rsi') === 0n) return;
    const b = await this.native.readMemory(r.num('rsi') + 8, 8);
    if (b) this.sigactionFlags.set(r.num('rdi'), new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  }

  /** Hook for free runs of the native side: pid translation at every pid-taking syscall. */
  private readonly pidHook = pidHook(this);

  /** A syscall natively, with pid arguments translated to the native process's pids for the call. */
  private async stepNativeSyscall(before: Registers): Promise<StopInfo> {
    const undo = await translatePids(this, before, Number(before.big('rax')));
    const stop = await this.native.step();
    if (stop.kind === 'signal') await undo?.();
    return stop;
  }

  /**
   * Instructions whose results legitimately differ: the native syscall
   * results are copied into elfshim (time, pids, file metadata), CPUID and
   * XGETBV answers go the other way (so that native library code picks the
   * same paths as under elfshim), and rdtsc is copied from native.
   */
  private async afterSpecial(f: InstructionFacts, before: Registers, n: Registers, e: Registers): Promise<'ok' | 'resync' | 'interrupted' | 'diverged'> {
    switch (f.kind) {
      case 'syscall': {
        this.syscalls++;
        const r = await reconcileSyscall(this, before, n, e);
        if (typeof r === 'object') {
          this.lastReason = r.diverged;
          return 'diverged';
        }
        return r;
      }
      case 'cpuid':
      case 'xgetbv': {
        const regs = f.kind === 'cpuid' ? ['rax', 'rbx', 'rcx', 'rdx'] : ['rax', 'rdx'];
        let changed = false;
        for (const r of regs) {
          if (n.big(r) !== e.big(r)) {
            await this.native.writeRegister(r, le64(e.big(r)));
            changed = true;
          }
        }
        if (changed) this.count(`${f.kind} (elfshim's answer given to native)`);
        return changed ? 'resync' : 'ok';
      }
      case 'rdtsc':
        for (const r of ['rax', 'rdx']) await this.emu.writeRegister(r, le64(n.big(r)));
        this.count('rdtsc');
        return 'resync';
      default:
        return 'ok';
    }
  }

  count(what: string): void {
    this.copied.set(what, (this.copied.get(what) ?? 0) + 1);
  }

  /** Undefined flags and destinations: give elfshim the native values so they cannot leak into later results. */
  private async syncUndefined(f: InstructionFacts, n: Registers, e: Registers): Promise<boolean> {
    let changed = false;
    const fn = n.num('eflags'), fe = e.num('eflags');
    if ((fn ^ fe) & ARITH) {
      this.o.trace?.(`  undefined flags synced: native ${(fn & ARITH).toString(16)} elfshim ${(fe & ARITH).toString(16)}`);
      await this.emu.writeRegister('eflags', le32((fe & ~ARITH) | (fn & ARITH)));
      changed = true;
    }
    if (f.undefinedFsw && n.has('fstat') && n.num('fstat') !== e.num('fstat')) {
      await this.emu.writeRegister('fstat', le32(n.num('fstat')));
      changed = true;
    }
    const u = f.undefined;
    if (u.destReg >= 0 && (!u.destOnlyIfZf || n.num('eflags') & ZF)) {
      const name = gprName(u.destReg);
      if (n.big(name) !== e.big(name)) {
        await this.emu.writeRegister(name, le64(n.big(name)));
        changed = true;
      }
    }
    if (u.destMem && f.memory.length) {
      const [addr, len] = f.memory[0];
      const a = await this.native.readMemory(addr, len);
      if (a) await this.emu.writeMemory(addr, a);
    }
    return changed;
  }

  /** pushf natively pushes TF = 1: the process is being single-stepped. Give native the value it would have pushed. */
  private async hideTrapFlag(sp: number, size: number): Promise<void> {
    const [a, b] = await Promise.all([this.native.readMemory(sp, size), this.emu.readMemory(sp, size)]);
    if (a && b && a[1] === (b[1] | 1) && (b[1] & 1) === 0 && byteDifferences(a, b).length === 1) {
      await this.native.writeMemory(sp, b);
      this.count('pushf (TF of the single-step hidden)');
    }
  }

  /** Compares the memory the instruction wrote. */
  private async compareMemory(f: InstructionFacts, before: Registers, after: Registers): Promise<MemoryDifference | null> {
    const ranges: Array<[number, number]> = f.undefined.destMem ? [] : [...f.memory];
    const i = f.instr;
    if (f.kind === 'stack-write' && i.map === 0 && i.op === 0x9c) await this.hideTrapFlag(after.num('rsp'), i.opsize);
    if (f.kind === 'stack-write') {
      const old = before.num('rsp'), now = after.num('rsp');
      if (now < old) ranges.push([now, Math.min(old - now, 64)]);
    }
    if ((f.kind === 'string' || f.kind === 'rep-string') && (i.op === 0xa4 || i.op === 0xa5 || i.op === 0xaa || i.op === 0xab)) {
      const b = before.num('rdi'), a = after.num('rdi');
      const size = i.op & 1 ? i.opsize : 1;
      const [lo, hi] = a >= b ? [b, a] : [a + size, b + size];
      if (hi > lo) ranges.push([lo, Math.min(hi - lo, 1 << 20)]);
    }
    for (const [addr, len] of ranges) {
      let [a, b] = await Promise.all([readRange(this.native, addr, len), readRange(this.emu, addr, len)]);
      if (!a || !b) {
        // The operand may reach past the end of a mapping: compare what both can read byte by byte at the start.
        [a, b] = await Promise.all([this.native.readMemory(addr, 1), this.emu.readMemory(addr, 1)]);
        if (!a && !b) continue;
        if (!a || !b) return { addr, native: a, elfshim: b };
      }
      const d = byteDifferences(a, b, 1);
      if (d.length) return { addr, native: a, elfshim: b };
    }
    return null;
  }

  /**
   * The kernel's initial stack differs in details (a vDSO, rseq and
   * AT_MINSIGSTKSZ entries, hwcaps): give the native process elfshim's
   * stack so both start from the same bytes. Nothing has run yet, so this
   * is only data.
   */
  private async syncInitialStack(n: Registers, e: Registers): Promise<void> {
    const rspN = n.num('rsp'), rspE = e.num('rsp');
    const len = STACK_TOP - rspE;
    const bytes = await readRange(this.emu, rspE, len);
    if (!bytes) {
      this.notes.push('could not read elfshim\'s initial stack; native stack left as is');
      return;
    }
    const nat = await readRange(this.native, rspE, len);
    if (rspN === rspE && nat && byteDifferences(nat, bytes, 1).length === 0) return;
    if (!(await writeRange(this.native, rspE, bytes))) {
      this.notes.push('could not write the native initial stack');
      return;
    }
    if (rspN !== rspE) await this.native.writeRegister('rsp', le64(BigInt(rspE)));
    this.notes.push(`native initial stack replaced by elfshim's (rsp 0x${rspN.toString(16)} → 0x${rspE.toString(16)}, ${len} bytes)`);
  }
}

/** clone with CLONE_THREAD, or clone3 (whose flags are in memory): the RSP transport follows one thread only. */
function startsThread(r: Registers): boolean {
  const nr = r.big('rax');
  return (nr === 56n && (r.big('rdi') & 0x10000n) !== 0n) || nr === 435n;
}

/** Both processes ended the same way (exit status or killing signal). */
function sameEnd(a: StopInfo, b: StopInfo): boolean {
  if (a.kind === 'exited' && b.kind === 'exited') return a.code === b.code;
  if (a.kind === 'killed' && b.kind === 'killed') return a.signal === b.signal;
  return false;
}

function describeSignal(signal: number): string {
  return signal === SIGTRAP ? 'stopped after the step' : `stopped with signal ${signal}`;
}

function describeStop(s: StopInfo): string {
  if (s.kind === 'exited') return `exited with status ${s.code}`;
  if (s.kind === 'killed') return `killed by signal ${s.signal}`;
  return s.signal === SIGTRAP ? 'stopped after the step' : `stopped with signal ${s.signal}`;
}
