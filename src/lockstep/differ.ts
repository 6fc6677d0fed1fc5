import { Side, parseStop, type Registers, type StopInfo } from './side.js';
import { ARITH, ZF, decodeAt, gprName, instructionFacts, type InstructionFacts } from './instruction-facts.js';
import { CORE_NAMES, EFLAGS_COMPARED, GPR_NAMES, X87_NAMES, X87_POINTER_NAMES, XMM_NAMES, byteDifferences, compareRegisters, type RegisterDifference } from './compare.js';
import { EMULATOR_RESULT, MUST_MATCH, PID_ARGS, PID_RESULT, SYSCALL_ARG_REGISTERS, syscallOutputs } from './syscall-effects.js';
import { syscallByNumber } from '../kernel/syscall-table.js';

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
  /** Memory that differs; `first` is the offset of the first difference that counts (some bytes may be ignored). */
  memory?: { addr: number; native: Uint8Array | null; elfshim: Uint8Array | null; first?: number };
  native: Registers;
  elfshim: Registers;
  /** Native registers before the instruction. */
  before: Registers | null;
  recent: Executed[];
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
}

const STACK_TOP = 0x7ffffffff000;
/** Signals a CPU exception raises (gdb numbering = Linux numbering for these): SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV. */
const FAULT_SIGNALS = new Set([4, 5, 7, 8, 11]);
const CHUNK = 0x800;
const SIGTRAP = 5;

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v & 0xffffffffffffffffn, true);
  return b;
}
function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** Reads [addr, addr+len) in chunks; null if any part is unreadable. */
async function readRange(s: Side, addr: number, len: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(len);
  for (let off = 0; off < len; off += CHUNK) {
    const part = await s.readMemory(addr + off, Math.min(CHUNK, len - off));
    if (!part) return null;
    out.set(part, off);
  }
  return out;
}
async function writeRange(s: Side, addr: number, data: Uint8Array): Promise<boolean> {
  for (let off = 0; off < data.length; off += CHUNK) {
    if (!(await s.writeMemory(addr + off, data.subarray(off, Math.min(data.length, off + CHUNK))))) return false;
  }
  return true;
}

/**
 * Runs the program natively under gdbserver and under elfshim's gdb stub,
 * single-stepping both and comparing the architectural state after every
 * instruction. Returns at the first divergence, at the end of the program,
 * or after `max` instructions.
 */
export async function runLockstep(o: LockstepOptions): Promise<LockstepResult> {
  const common = { program: o.program, args: o.args, env: o.env, ...(o.stdin ? { stdin: o.stdin } : {}) };
  const [native, emu] = await Promise.all([
    Side.start({ ...common, kind: 'native' }),
    Side.start({ ...common, kind: 'elfshim', elfshimCli: o.elfshimCli, elfshimArgs: o.elfshimArgs ?? [] }),
  ]);
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
    private readonly native: Side,
    private readonly emu: Side,
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
    const last = this.recent[this.recent.length - 1];
    return this.result('divergence', {
      index: this.compared,
      addr: last?.addr ?? n.num('rip'),
      bytes: last?.bytes ?? new Uint8Array(),
      signal: last?.signal ?? 0,
      reason,
      registers: compareRegisters(n, e, this.names, EFLAGS_COMPARED),
      native: n,
      elfshim: e,
      before,
      recent: this.recent.slice(0, -1),
      ...extra,
    });
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
      this.recent.push({ addr: rip, bytes: facts ? facts.bytes : (bytes ?? new Uint8Array()), signal: delivering });
      if (this.recent.length > 9) this.recent.shift();

      const stepNative = async (): Promise<[StopInfo, Registers | null]> => {
        const st = await this.stepNative(facts, n, signal);
        return [st, st.kind === 'signal' ? await this.native.registers() : null];
      };
      const [[sn, rn], [se, re]] = await Promise.all([stepNative(), this.emu.stepAndRegisters(signal)]);
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
        const aligned = await this.alignSignalFrames(delivering, before, n, e);
        if ('memory' in aligned) return this.divergence(`the signal frame at 0x${aligned.memory.addr.toString(16)} differs in ${sigframeField(aligned.memory.first ?? 0)}`, n, e, before, aligned);
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

      let resync = false;
      if (facts && executed) {
        const r = await this.afterSpecial(facts, before, n, e);
        if (r === 'diverged') return this.divergence(this.lastReason, n, e, before);
        resync = r === 'resync';
      }
      if (resync) [n, e] = await this.registersBoth();

      const mask = EFLAGS_COMPARED & ~(executed ? facts.undefinedFlags : 0);
      const u = executed ? facts.undefined : null;
      const skip = u && u.destReg >= 0 && (!u.destOnlyIfZf || n.num('eflags') & ZF) ? gprName(u.destReg) : '';
      const diffs = compareRegisters(n, e, skip ? this.names.filter((x) => x !== skip) : this.names, mask, 0xffff & ~(executed ? facts.undefinedFsw : 0));
      if (diffs.length) return this.divergence(`register${diffs.length > 1 ? 's' : ''} ${diffs.map((d) => d.name).join(', ')} differ${diffs.length > 1 ? '' : 's'}`, n, e, before);
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

  /** One instruction natively. A rep string instruction traps after each iteration: run it to its end with a breakpoint. */
  private async stepNative(facts: InstructionFacts | null, before: Registers, signal: number): Promise<StopInfo> {
    if (facts?.kind === 'syscall' && !signal) return this.stepNativeSyscall(before);
    if (!facts || facts.kind !== 'rep-string' || signal) return this.native.step(signal);
    const i = facts.instr;
    const count = i.adsize === 4 ? before.big('rcx') & 0xffffffffn : before.big('rcx');
    if (count <= 1n) return this.native.step();
    const z = `${i.next.toString(16)},1`;
    if ((await this.native.rsp.request(`Z0,${z}`)) !== 'OK') return this.native.step();
    const stop = parseStop(await this.native.rsp.request('vCont;c'));
    await this.native.rsp.request(`z0,${z}`);
    return stop;
  }

  /** elfshim pid → native pid, learned from the calls that return pids. */
  private readonly pids = new Map<number, number>();

  /** A syscall natively, with pid arguments translated to the native process's pids for the call. */
  private async stepNativeSyscall(before: Registers): Promise<StopInfo> {
    const undo = await this.translatePids(before, Number(before.big('rax')));
    const stop = await this.native.step();
    if (stop.kind === 'signal') await undo?.();
    return stop;
  }

  /**
   * Rewrites the pid arguments of native syscall nr (about to run) from elfshim's pids to the native ones; returns how to restore
   * them. Without this, a native kill(getpid(), …) would signal elfshim.
   */
  private async translatePids(regs: Registers, nr: number): Promise<(() => Promise<void>) | null> {
    const restore: Array<[string, bigint]> = [];
    for (const k of PID_ARGS[nr] ?? []) {
      const reg = SYSCALL_ARG_REGISTERS[k];
      const raw = regs.big(reg);
      const v = Number(BigInt.asIntN(32, raw));
      const mapped = this.pids.get(Math.abs(v));
      if (mapped === undefined || v === 0) continue;
      await this.native.writeRegister(reg, le64(BigInt(v < 0 ? -mapped : mapped)));
      restore.push([reg, raw]);
    }
    if (!restore.length) return null;
    return async () => {
      for (const [reg, raw] of restore) await this.native.writeRegister(reg, le64(raw));
    };
  }

  /** Hook for free runs of the native side: the same pid translation at every pid-taking syscall. */
  private readonly pidHook = {
    numbers: Object.keys(PID_ARGS).map(Number),
    entry: (regs: Registers) => this.translatePids(regs, Number(regs.big('orig_rax'))),
  };

  /**
   * Instructions whose results legitimately differ: the native syscall
   * results are copied into elfshim (time, pids, file metadata), CPUID and
   * XGETBV answers go the other way (so that native library code picks the
   * same paths as under elfshim), and rdtsc is copied from native.
   */
  private async afterSpecial(f: InstructionFacts, before: Registers, n: Registers, e: Registers): Promise<'ok' | 'resync' | 'diverged'> {
    switch (f.kind) {
      case 'syscall': {
        this.syscalls++;
        const nr = Number(before.big('rax'));
        const name = syscallByNumber(nr)?.name ?? `syscall ${nr}`;
        let changed = false;
        // r11 ← rflags: natively TF is set there because the process is being single-stepped.
        if ((n.big('r11') ^ e.big('r11')) === 0x100n) {
          await this.native.writeRegister('r11', le64(e.big('r11')));
          changed = true;
        }
        const rn = n.big('rax'), re = e.big('rax');
        if (rn !== re && PID_RESULT.has(nr) && rn < 1n << 31n && re < 1n << 31n) {
          // Different processes, different pids: native continues with elfshim's, and pid arguments are mapped back.
          this.pids.set(Number(re), Number(rn));
          await this.native.writeRegister('rax', le64(re));
          this.count(`${name} (elfshim's pid given to native)`);
          return 'resync';
        }
        if (rn !== re && EMULATOR_RESULT.has(nr)) {
          await this.native.writeRegister('rax', le64(re));
          this.count(`${name} (elfshim's result given to native)`);
          return 'resync';
        }
        if (rn !== re) {
          if (MUST_MATCH.has(nr)) {
            this.lastReason = `${name} returned 0x${rn.toString(16)} natively and 0x${re.toString(16)} under elfshim`;
            return 'diverged';
          }
          await this.emu.writeRegister('rax', le64(rn));
          this.count(`${name} (result)`);
          changed = true;
        }
        const ranges = await syscallOutputs(nr, before, rn, (addr, count) => this.readIovecs(addr, count));
        for (const [addr, len] of ranges) {
          const [a, b] = await Promise.all([readRange(this.native, addr, len), readRange(this.emu, addr, len)]);
          if (a && (!b || byteDifferences(a, b, 1).length)) {
            await writeRange(this.emu, addr, a);
            this.count(`${name} (memory)`);
          }
        }
        return changed ? 'resync' : 'ok';
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

  private count(what: string): void {
    this.copied.set(what, (this.copied.get(what) ?? 0) + 1);
  }

  private async readIovecs(addr: number, count: number): Promise<Array<[number, number]>> {
    const b = await this.native.readMemory(addr, count * 16);
    if (!b) return [];
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    const out: Array<[number, number]> = [];
    for (let k = 0; k < count; k++) out.push([Number(v.getBigUint64(16 * k, true)), Number(v.getBigUint64(16 * k + 8, true))]);
    return out;
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
  private async compareMemory(f: InstructionFacts, before: Registers, after: Registers): Promise<Divergence['memory'] | null> {
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
   * A signal delivery writes an rt_sigframe below the interrupted stack:
   * pretcode, ucontext (flags, link, stack, sigcontext, sigmask), siginfo,
   * and above them the FPU state, whose size depends on the CPU (the host's
   * holds AVX state, elfshim's is a 512-byte fxsave area). So the frames
   * start at different addresses. To keep stepping through the handler,
   * elfshim's frame is moved to where the native one is (pointers adjusted),
   * after comparing the two frames field by field (except uc_flags'
   * UC_FP_XSTATE bit and the fpstate pointer).
   *
   * ptrace stops at the handler's first instruction; if elfshim already ran
   * it, native is stepped once more first.
   */
  private async alignSignalFrames(signal: number, before: Registers, n: Registers, e: Registers): Promise<{ ok: boolean } | { memory: NonNullable<Divergence['memory']> }> {
    if (n.num('rip') !== e.num('rip')) {
      const st = await this.native.step();
      if (st.kind !== 'signal' || st.signal !== SIGTRAP) return { ok: false };
      n = await this.native.registers();
      this.count("signal delivery (elfshim's step also ran the handler's first instruction)");
      if (n.num('rip') !== e.num('rip')) return { ok: false };
    }
    const MCTX = 8 + 40, FPSTATE_PTR = MCTX + 184, ERR = MCTX + 152, TRAPNO = MCTX + 160, RESERVED = MCTX + 192, INFO = 8 + 304, FPSTATE_SIZE = 512;
    const len = INFO + 128;
    const nFrame = n.num('rdx') - 8, eFrame = e.num('rdx') - 8;
    if (nFrame !== n.num('rsi') - INFO || eFrame !== e.num('rsi') - INFO) return { ok: false };
    // Compare pretcode, ucontext and siginfo, except what legitimately differs.
    const [a, b] = await Promise.all([readRange(this.native, nFrame, len), readRange(this.emu, eFrame, len)]);
    if (!a || !b) return { ok: false };
    const na = a.slice(), nb = b.slice();
    const ignore = (from: number, to: number) => {
      a.fill(0, from, to);
      b.fill(0, from, to);
    };
    // UC_FP_XSTATE: the frame holds an xsave area (elfshim's CPU has no XSAVE bit); the fpstate pointers differ;
    // the kernel leaves uc_mcontext's reserved words alone (stack garbage, from different addresses).
    a[8] &= ~1;
    b[8] &= ~1;
    ignore(FPSTATE_PTR, FPSTATE_PTR + 8);
    ignore(RESERVED, RESERVED + 64);
    // sigcontext.trapno/err describe the last CPU exception: for a signal that is not a fault, natively that is
    // the debugger's single-step trap (trapno 1), nothing the program did.
    if (!FAULT_SIGNALS.has(signal)) ignore(ERR, TRAPNO + 8);
    const va = new DataView(a.buffer, a.byteOffset), vb = new DataView(b.buffer, b.byteOffset);
    if (va.getInt32(INFO, true) !== vb.getInt32(INFO, true)) {
      // Linux writes siginfo only for SA_SIGINFO handlers; elfshim always does. Without it, it is garbage.
      ignore(INFO, INFO + 128);
      this.count('signal frame without SA_SIGINFO: siginfo not compared');
    } else {
      // si_pid of a signal sent with kill(): the sender's pid differs between the runs.
      const pn = va.getUint32(INFO + 16, true), pe = vb.getUint32(INFO + 16, true);
      if (pn !== pe && this.pids.get(pe) === pn) {
        await this.native.writeMemory(nFrame + INFO + 16, le32(pe));
        na.set(le32(pe), INFO + 16);
        va.setUint32(INFO + 16, pe, true);
      }
    }
    const d = byteDifferences(a, b, 1);
    if (d.length) return { memory: { addr: nFrame, native: na, elfshim: nb, first: d[0] } };
    const delta = nFrame - eFrame;
    if (delta !== 0) {
      // Move elfshim's frame where the native one is: the native frame's bytes (equal where it matters, and the
      // same garbage elsewhere), elfshim's own FPU state and whatever its first handler instruction pushed.
      const fpE = Number(new DataView(nb.buffer).getBigUint64(FPSTATE_PTR, true));
      const lo = Math.min(e.num('rsp'), eFrame);
      if (eFrame - lo > 4096 || fpE < eFrame + len || fpE - eFrame > 1 << 16 || lo > before.num('rsp')) return { ok: false };
      const [below, fpstate] = await Promise.all([readRange(this.emu, lo, eFrame - lo), readRange(this.emu, fpE, FPSTATE_SIZE)]);
      if (!below || !fpstate) return { ok: false };
      na.set(le64(BigInt(fpE + delta)), FPSTATE_PTR);
      if (!(await writeRange(this.emu, lo + delta, below)) || !(await writeRange(this.emu, nFrame, na)) || !(await writeRange(this.emu, fpE + delta, fpstate))) return { ok: false };
      // Registers that point into the moved frame (rsp, rsi = &siginfo, rdx = &ucontext…): the native value is theirs moved.
      for (const name of GPR_NAMES) {
        const v = e.num(name);
        if (v >= lo && v < fpE + FPSTATE_SIZE && v + delta === n.num(name)) await this.emu.writeRegister(name, le64(BigInt(v + delta)));
      }
      this.count(`signal frame moved to the native frame's address`);
    }
    return { ok: true };
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

/** The rt_sigframe field at a byte offset (arch/x86/include/uapi/asm/sigcontext.h, ucontext.h). */
function sigframeField(off: number): string {
  const SC = ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'eflags', 'cs/gs/fs/ss', 'err', 'trapno', 'oldmask', 'cr2', 'fpstate'];
  if (off < 8) return 'pretcode';
  if (off < 48) return ['uc_flags', 'uc_link', 'uc_stack.ss_sp', 'uc_stack.ss_flags', 'uc_stack.ss_size'][(off - 8) >> 3];
  if (off < 48 + 8 * SC.length) return `uc_mcontext.${SC[(off - 48) >> 3]}`;
  if (off < 304) return 'uc_mcontext reserved';
  if (off < 312) return 'uc_sigmask';
  return `siginfo (+${off - 312})`;
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
