import * as fs from 'node:fs';
import { Cpu, RAX, RSP, Stop } from '../cpu/cpu.js';
import { Engine } from '../cpu/engine.js';
import { FEATURES } from '../cpu/cpuid.js';
import { AddressSpace } from '../mem/address-space.js';
import { GuestFault } from '../mem/fault.js';
import { PhysicalMemory } from '../mem/physical.js';
import { loadProgram, vdsoLayoutFromMaps, type LoadedProgram, type VdsoPart } from '../elf/index.js';
import { defaultOptions, type KernelOptions } from './kernel-options.js';
import { hostRandomBytes } from './host-random.js';
import { Process, Task } from './task.js';
import { FileTable } from './files/file-table.js';
import { FsContext } from './files/fs-context.js';
import { drainHostOutput } from './files/host-writer.js';
import { diagnosticBacklog, writeDiagnostic } from './files/elfshim-stderr.js';
import { readPinnedFile } from './files/pin.js';
import { Blocked } from './syscall-types.js';
import { SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSYS, SIGTRAP, signalInfo } from './signals.js';
import { setupSignalFrame, type SigInfo } from './signal-frame.js';
import { TRAP_BP, TRAP_DE, TRAP_GP, TRAP_PF, TRAP_UD, pageFaultError, type CpuException } from './cpu-exception.js';
import { EACCES, EINTR } from './errno.js';
import { forgetWaiter, wakeWaiters } from './syscalls/futex.js';
import { flushSharedMappings } from './syscalls/mm-shared.js';
import { interruptSleep } from './syscalls/time.js';
import { cpuinfoFlags } from './files/procfs.js';
import { cpuinfoFlagList } from '../cpu/cpuid.js';
import { SIGCHLD } from './signals.js';
import { signalQueued } from './signal-queue.js';
import { exitRobustList } from './syscalls/robust-list.js';
import { yieldRequests } from './syscalls/info.js';
import { RSEQ_ALIGN, RSEQ_FEATURE_SIZE, rseqFixup } from './syscalls/rseq.js';
import { vdsoImage } from '../elf/vdso-image.js';
import { isVsyscallFault, takeVsyscall } from './vsyscall.js';
import { AT_RSEQ_FEATURE_SIZE, decodeAuxv } from '../elf/auxv.js';

const SA_RESTART = 0x10000000;
/**
 * Calls that fail with EINTR after a handler even with SA_RESTART (signal(7)): poll, select,
 * pause, nanosleep, rt_sigtimedwait, clock_nanosleep, epoll_wait, pselect6, ppoll, epoll_pwait(2).
 */
const NEVER_RESTARTED = new Set([7, 23, 34, 35, 128, 230, 232, 270, 271, 281, 441]);

/** Whether sig is in t's signal mask. */
function isBlocked(t: Task, sig: number): boolean {
  return sig <= 32 ? (t.sigmaskLo & (1 << (sig - 1))) !== 0 : (t.sigmaskHi & (1 << (sig - 33))) !== 0;
}

/** Whether sig ends a blocking call of t (a vfork parent waits killably: SIGKILL only, as on Linux). */
function interrupts(t: Task, sig: number): boolean {
  return sig === SIGKILL || (!isBlocked(t, sig) && !t.vforkWait);
}

import { SyscallGate } from './syscall-gate.js';
import { formatSyscallReport } from './coverage-command.js';
import type { DebugController } from './debug-target.js';

/** How the first process ended. */
export interface ExitStatus {
  code: number;
  /** Signal that killed it (0 if it exited). */
  signal: number;
  /** Whether a core dump would have been written (for the shell-style message). */
  core: boolean;
  /** Output was still queued for a reader that does not read when the guest died by a signal. */
  outputStuck?: boolean;
}

export interface SpawnOptions {
  /** Host path of the program file. */
  hostPath: string;
  /** The path the guest sees (/proc/self/exe, the maps name). */
  guestPath: string;
  /** The path as given to execve (AT_EXECFN). */
  execfn?: string;
  argv: string[];
  envp: string[];
  /** Host fds that are the guest's stdin, stdout, stderr (default 0, 1, 2; the in-process lockstep differ redirects them). */
  stdio?: readonly [number, number, number];
}

/** Instructions per scheduling slice, and how long the guest may hold Node's event loop. */
const SLICE = 200_000;
/** How long the output of a guest killed by a signal may take to drain at exit. */
const DEATH_DRAIN_MS = 2000;
const YIELD_MS = 20;

/**
 * The Linux personality: processes and threads, the scheduler that runs them
 * in slices on Node's event loop, and the bridge from CPU stops (syscalls,
 * faults) to system calls and signals.
 */
export class Kernel {
  readonly options: KernelOptions;
  readonly phys: PhysicalMemory;
  readonly tasks: Task[] = [];
  readonly gate: SyscallGate;
  private rngState: number;
  private nextPid: number;
  private rr = 0;
  /** The task the scheduler ran last (a different one next means a context switch). */
  private lastRan: Task | null = null;
  /** Everyone parked until something changes (the scheduler loop, a debugger step waiting on a blocked syscall). */
  private wakers: (() => void)[] = [];
  private readonly engines = new WeakMap<AddressSpace, Engine>();
  /** The first process: its exit is elfshim's exit. */
  main: Process | null = null;
  private mainDone: ((s: ExitStatus) => void) | null = null;
  readonly startTime = process.hrtime.bigint();
  /** The attached debugger, if any: the scheduler runs only while it says so. */
  debug: DebugController | null = null;

  constructor(options: Partial<KernelOptions> = {}) {
    this.options = { ...defaultOptions(), ...options };
    this.rngState = (this.options.seed ?? 0) >>> 0 || 0x9e3779b9;
    this.phys = new PhysicalMemory(this.options.memoryLimit, this.options.sharedPool);
    this.nextPid = process.pid > 1 ? process.pid : 1000;
    this.gate = new SyscallGate(this);
    cpuinfoFlags.list = cpuinfoFlagList();
  }

  /** Random bytes for AT_RANDOM and getrandom: deterministic when --seed is given. */
  randomBytes(n: number): Uint8Array {
    if (this.options.seed === null) return hostRandomBytes(n);
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      // xorshift32: reproducible, not cryptographic (only used when a seed is asked for).
      let x = this.rngState;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rngState = x >>> 0;
      out[k] = x & 0xff;
    }
    return out;
  }

  allocPid(): number {
    return this.nextPid++;
  }

  /** The code cache of an address space (shared by its threads). */
  engineOf(mem: AddressSpace): Engine {
    let e = this.engines.get(mem);
    if (!e) {
      e = new Engine(mem, { engine: this.options.engine, codeCacheInstrs: this.options.codeCacheInstrs });
      this.engines.set(mem, e);
    }
    return e;
  }

  /**
   * Loads a program into a fresh process and makes it runnable. Throws
   * ElfError for files that are not loadable x86-64 ELF programs.
   */
  spawn(opts: SpawnOptions): Task {
    const image = new Uint8Array(fs.readFileSync(opts.hostPath));
    const mem = new AddressSpace(this.phys);
    const fsx = new FsContext(this.options.rootfs, guestCwd(this.options.rootfs, this.options.cwd ?? process.cwd()));
    const pid = this.allocPid();
    const first = !this.main;
    const proc = new Process(pid, first ? process.ppid : process.pid, mem, FileTable.withStdio(opts.stdio), fsx);
    if (first) {
      // The first process is elfshim's own (same pid): it is in elfshim's process group and session.
      const ids = hostGroupAndSession();
      if (ids) [proc.pgid, proc.sid] = ids;
    }
    const cpu = new Cpu(mem);
    const t = new Task(pid, proc, cpu, this);
    // Linux names a program by its canonical path (/proc/self/exe, the maps), as execve does here:
    // /bin/busybox is /usr/bin/busybox on a merged /usr.
    const r = fsx.resolve(t, -100, opts.guestPath, { follow: true });
    if (typeof r !== 'number' && r.kind === 'host' && r.st) opts = { ...opts, guestPath: r.guestPath };
    const loaded = this.load(t, image, opts);
    proc.exePath = opts.guestPath;
    proc.hostExePath = opts.hostPath;
    proc.argv = opts.argv;
    proc.envp = opts.envp;
    proc.auxv = loaded.auxv;
    proc.loaded = loaded;
    this.tasks.push(t);
    if (!this.main) this.main = proc;
    return t;
  }

  /** Maps a program into t's (fresh) address space and sets the registers for its first instruction. */
  load(t: Task, image: Uint8Array, opts: SpawnOptions): LoadedProgram {
    const fsx = t.fs;
    const loaded = loadProgram({
      mem: t.mem,
      image,
      path: opts.execfn ?? opts.guestPath,
      file: fileIdentity(opts.guestPath, opts.hostPath),
      vdso: { layout: hostVdsoLayout(), image: this.options.vdso ? vdsoImage() : null },
      rseq: hostOffersRseq() ? { featureSize: RSEQ_FEATURE_SIZE, align: RSEQ_ALIGN } : null,
      argv: opts.argv,
      envp: opts.envp,
      random16: this.randomBytes(16),
      hwcap: FEATURES.leaf1Edx,
      hwcap2: 0,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      readInterp: (p) => {
        const r = fsx.resolve(t, -100, p, { follow: true });
        if (typeof r === 'number' || r.kind !== 'host' || !r.st) {
          const e = new Error('missing') as Error & { code: string };
          e.code = 'ENOENT';
          throw e;
        }
        if (!r.st.isFile()) {
          // Like Linux: a FIFO or device interpreter is EACCES (reading it could block or never end).
          const e = new Error('not a regular file') as Error & { code: string };
          e.code = 'EACCES';
          throw e;
        }
        // Read through a pinned fd (files/pin.ts): a name swapped since the walk cannot lead outside.
        const image = readPinnedFile(fsx.root, r.hostPath);
        if (typeof image === 'number') {
          const e = new Error('cannot read') as Error & { code: string };
          e.code = image === -EACCES ? 'EACCES' : 'ENOENT';
          throw e;
        }
        return { image, ...fileIdentity(r.guestPath, r.hostPath) };
      },
    });
    const c = t.cpu;
    c.r.fill(0);
    c.rip = loaded.entry;
    c.setS(RSP, loaded.rsp);
    c.setEflags(0x202);
    return loaded;
  }

  // ------------------------------------------------------------------ scheduling

  /** Runs every task until the first process exits. */
  run(): Promise<ExitStatus> {
    // A guest that waits (pause, a read from a silent terminal) must keep elfshim alive, as Linux keeps the process.
    const keepAlive = setInterval(() => {}, 1 << 30);
    return new Promise<ExitStatus>((resolve) => {
      this.mainDone = resolve;
      void this.loop();
    })
      // Output the guest wrote is handed to the host before elfshim reports and exits. A guest
      // killed by a signal (SIGTERM to elfshim, say) waits at most DEATH_DRAIN_MS for a reader
      // that may never read: Linux would not keep the dead process either.
      .then(async (status) => {
        const drained = drainHostOutput().then(() => true);
        if (status.signal === 0) await drained;
        else {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), DEATH_DRAIN_MS)));
          if (!(await Promise.race([drained, late]))) status.outputStuck = true;
          clearTimeout(timer);
        }
        return status;
      })
      .finally(() => clearInterval(keepAlive));
  }

  private async loop(): Promise<void> {
    let lastYield = Date.now();
    for (;;) {
      if (this.mainDone === null) return;
      if (this.debug?.paused) {
        await this.sleep();
        continue;
      }
      if (this.debug?.takeInterrupt()) {
        this.debug.interrupted(this.debug.current);
        continue;
      }
      const backlog = diagnosticBacklog();
      if (backlog) {
        // --strace to a slow reader: the guest waits for its lines, as under strace.
        await backlog;
        continue;
      }
      const t = this.pickRunnable();
      if (!t) {
        if (!this.tasks.some((x) => x.state !== 'exited')) return;
        await this.sleep();
        continue;
      }
      if (t !== this.lastRan) {
        // A context switch: Linux aborts an rseq critical section the thread was preempted in.
        this.lastRan = t;
        if (!this.preempted(t)) continue;
      }
      this.runSlice(t, SLICE);
      if (Date.now() - lastYield >= YIELD_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = Date.now();
      }
    }
  }

  /** The next runnable task (round robin). */
  private pickRunnable(): Task | undefined {
    const n = this.tasks.length;
    const stepping = this.debug?.steppingTask;
    for (let k = 0; k < n; k++) {
      const t = this.tasks[(this.rr + k) % n];
      if (t.state === 'runnable' && t !== stepping) {
        this.rr = (this.rr + k + 1) % n;
        return t;
      }
    }
    return undefined;
  }

  /** Runs one task for up to budget instructions, handling syscalls inline. */
  runSlice(t: Task, budget: number): void {
    const c = t.cpu;
    const end = c.icount + budget;
    while (t.state === 'runnable' && c.icount < end) {
      if (t.pendingSignals.size && t.restartSyscall < 0 && !this.deliverPending(t)) return;
      if (t.state !== 'runnable') return;
      if (t.restartSyscall >= 0) {
        this.syscall(t, t.restartSyscall);
        if (this.debug?.paused) return;
        continue;
      }
      const skip = t.skipBreakpointAt;
      t.skipBreakpointAt = -1;
      const stop = this.engineOf(t.mem).run(c, end - c.icount, skip);
      if (stop === Stop.Budget) break;
      if (this.debug && stop !== Stop.Syscall && this.debug.onCpuStop(t, stop)) {
        if (stop === Stop.Breakpoint) t.skipBreakpointAt = c.rip;
        return;
      }
      this.handleStop(t, stop);
      if (this.debug?.paused) return;
      if (yieldRequests.delete(t)) return; // sched_yield: the rest of the slice goes to the others
    }
  }

  /**
   * t was scheduled out (a context switch, or a debugger stop: a ptraced thread sleeps in ptrace_stop): on its way
   * back to user space Linux moves it out of an rseq critical section to its abort handler. False if the rseq area
   * or descriptor is bad: the process is killed with SIGSEGV, as Linux does.
   */
  preempted(t: Task): boolean {
    if (!t.rseq || rseqFixup(t)) return true;
    this.killProcess(t.proc, SIGSEGV);
    return false;
  }

  /**
   * gdb stepi: one instruction of t (one iteration of a rep string
   * instruction unless wholeInstruction), then a stop report (a syscall
   * instruction runs its whole call).
   */
  debugStep(t: Task, wholeInstruction = false): void {
    const dbg = this.debug;
    if (!dbg) return;
    const before = dbg.reports;
    const reported = () => dbg.reports !== before || this.debug !== dbg;
    // A thread parked in a blocking call is already waiting: issuing the call again would park it
    // a second time, and the wake-up meant for the first parking would be ignored (a futex wake
    // takes one waiter). finishDebugStep waits for it as the scheduler would.
    if (t.state === 'blocked') {
      // nothing to start
    } else if (t.restartSyscall >= 0) this.syscall(t, t.restartSyscall);
    else {
      let stop = this.engineOf(t.mem).step(t.cpu, wholeInstruction);
      if (stop === Stop.Fault && isVsyscallFault(t.cpu.fault as GuestFault)) {
        // A call into the vsyscall page: the kernel emulates it in its page-fault handler, which retires no
        // instruction, so natively the single-step trap comes after the next one, at the return address.
        this.handleStop(t, stop);
        if (t.state === 'runnable' && t.restartSyscall < 0 && !t.pendingSignals.size) stop = this.engineOf(t.mem).step(t.cpu, wholeInstruction);
        else stop = Stop.Step;
      }
      t.skipBreakpointAt = -1;
      if (stop === Stop.Syscall) this.syscall(t, t.cpu.r[2 * RAX + 1] === 0 ? t.cpu.r[2 * RAX] : -1);
      else if (stop !== Stop.Step && stop !== Stop.Watchpoint) {
        if (dbg.onCpuStop(t, stop)) return;
        this.handleStop(t, stop);
      }
    }
    // The common step (an instruction that neither blocked nor left a signal) is reported synchronously: the
    // lockstep differ takes the report without an event-loop turn (DebugController.resumeNow).
    if (t.state === 'blocked' || t.restartSyscall >= 0) void this.finishDebugStep(t, dbg, reported);
    else this.reportDebugStep(t, dbg, reported);
  }

  /** A syscall that blocked: let it finish before the step is reported. */
  private async finishDebugStep(t: Task, dbg: DebugController, reported: () => boolean): Promise<void> {
    while (!reported() && t.state !== 'exited' && (t.state === 'blocked' || t.restartSyscall >= 0)) {
      if (t.state === 'blocked') await this.sleep();
      else this.syscall(t, t.restartSyscall);
    }
    this.reportDebugStep(t, dbg, reported);
  }

  private reportDebugStep(t: Task, dbg: DebugController, reported: () => boolean): void {
    if (reported() || t.state === 'exited') return;
    if (t.pendingSignals.size && !this.deliverPending(t)) return;
    dbg.onCpuStop(t, t.cpu.stop === Stop.Watchpoint ? Stop.Watchpoint : Stop.Step);
  }

  wakeScheduler(): void {
    this.wake();
  }

  /**
   * Parks the caller until the next wake(). Several may wait at once (the
   * loop and a debugger step): each gets woken, none replaces another.
   */
  private sleep(): Promise<void> {
    return new Promise<void>((r) => this.wakers.push(r));
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  attachDebugger(ctl: DebugController): void {
    this.debug = ctl;
  }
  detachDebugger(): void {
    this.debug = null;
    this.wake();
  }

  /** Turns a CPU stop into kernel action. Returns false when the debugger must take over. */
  handleStop(t: Task, stop: Stop): void {
    const c = t.cpu;
    switch (stop) {
      case Stop.Syscall:
        this.syscall(t, c.r[2 * RAX + 1] === 0 ? c.r[2 * RAX] : -1);
        return;
      case Stop.Fault: {
        const f = c.fault as GuestFault;
        const vsyscall = takeVsyscall(t, f);
        if (vsyscall >= 0) return this.syscall(t, vsyscall);
        this.forceSignal(t, SIGSEGV, { code: f.kind === 'unmapped' ? 1 : 2, addr: f.addr }, { nr: TRAP_PF, err: pageFaultError(f), cr2: f.addr });
        return;
      }
      case Stop.Illegal: {
        const bytes = Array.from(this.engineOf(t.mem).bytesAt(c.rip).subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
        writeDiagnostic(`elfshim: illegal or unimplemented instruction at 0x${c.rip.toString(16)}: ${bytes}\n`);
        this.forceSignal(t, SIGILL, { code: 2, addr: c.rip }, { nr: TRAP_UD, err: 0 });
        return;
      }
      case Stop.Privileged:
        this.forceSignal(t, SIGSEGV, { code: 0x80, addr: 0 }, { nr: TRAP_GP, err: 0 });
        return;
      case Stop.DivideError:
        this.forceSignal(t, SIGFPE, { code: 1, addr: c.rip }, { nr: TRAP_DE, err: 0 });
        return;
      case Stop.Trap:
        this.forceSignal(t, SIGTRAP, { code: 0x80, addr: 0 }, { nr: TRAP_BP, err: 0, trap: true });
        return;
      default:
        return;
    }
  }

  /** Runs syscall nr for t (possibly parking it), and writes the result to rax. */
  syscall(t: Task, nr: number): void {
    const c = t.cpu;
    const dbg = this.debug;
    if (dbg && !t.entryReported && dbg.catches(nr)) {
      // Entry stop: registers as Linux shows them (orig_rax = nr, rax = -ENOSYS); gdb may change both.
      t.entryReported = true;
      t.entryNr = nr;
      t.restartSyscall = nr;
      c.origRax = nr;
      c.setS(RAX, -38);
      dbg.syscallEntry(t, nr);
      return;
    }
    if (t.entryReported) {
      nr = c.origRax;
      if (nr === -1) {
        // gdb skipped the call (set $orig_rax = -1): rax keeps what it holds; Linux still reports the exit stop.
        t.entryReported = false;
        t.restartSyscall = -1;
        if (dbg) dbg.syscallReturn(t, t.entryNr);
        return;
      }
    }
    c.origRax = nr;
    if (dbg && this.options.onUnimplemented === 'stop' && !this.gate.implemented(nr)) {
      this.gate.call(t, nr); // counts it and prints the notice
      t.entryReported = false;
      t.restartSyscall = -1;
      dbg.unimplemented(t, nr);
      return;
    }
    const r = this.gate.call(t, nr);
    if (r instanceof Blocked) {
      t.restartSyscall = nr;
      t.state = 'blocked';
      // Only this parking's promise may wake it: one left from an earlier parking that a signal
      // ended (a wait4 whose child exits later) would make a later rt_sigsuspend deaf to signals.
      const parking = ++t.parkings;
      const wake = () => {
        if (t.parkings === parking) this.unblock(t);
      };
      r.wake.then(wake, wake);
      // A signal that came between the wake-up and this retry interrupts the call as it would have then.
      const sig = this.interruptingSignal(t);
      if (sig) this.interruptSyscall(t, sig);
      return;
    }
    t.restartSyscall = -1;
    const reported = t.entryReported;
    t.entryReported = false;
    if (t.state === 'exited') return;
    c.setS(RAX, r);
    if (dbg && (reported || dbg.catches(nr))) {
      dbg.syscallReturn(t, nr);
      return;
    }
    c.origRax = -1;
  }

  private unblock(t: Task): void {
    if (t.state === 'blocked') t.state = 'runnable';
    this.wake();
  }

  // ------------------------------------------------------------------ signals and exit

  /**
   * A synchronous signal caused by the instruction at rip (fault, illegal
   * instruction, divide error). A guest handler runs if one is installed and
   * the signal is not blocked; otherwise the default action (terminate) applies,
   * as Linux forces it for these.
   */
  forceSignal(t: Task, sig: number, info: { code: number; addr: number }, exc: CpuException): void {
    t.proc.lastSiginfo = { signo: sig, code: info.code, addr: info.addr };
    t.trapNr = exc.nr;
    t.trapErr = exc.err;
    if (exc.cr2 !== undefined) t.cr2 = exc.cr2;
    const act = t.proc.sigactions[sig];
    if (act.handler > 1 && !isBlocked(t, sig)) {
      try {
        setupSignalFrame(t, act, { signo: sig, code: info.code, addr: info.addr, fault: !exc.trap });
        return;
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
      }
    }
    this.killProcess(t.proc, sig);
  }

  /** An asynchronous signal to a process (kill, tgkill, raise, alarm): queued, delivered when a thread can take it. */
  sendSignal(proc: Process, sig: number, info: SigInfo = { signo: sig, code: 0, pid: process.pid }, target?: Task): void {
    if (sig <= 0 || sig > 64 || proc.exitCode !== null) return;
    const act = proc.sigactions[sig];
    const t = target ?? this.tasks.find((x) => x.proc === proc && x.state !== 'exited' && !isBlocked(x, sig)) ?? this.tasks.find((x) => x.proc === proc && x.state !== 'exited');
    if (!t) return;
    // Ignored signals are discarded when generated (they neither queue nor interrupt syscalls),
    // unless blocked: then they stay pending for sigwait/signalfd, as Linux's sig_ignored() says.
    if (sig !== SIGKILL && (act.handler === 1 || (act.handler === 0 && signalInfo(sig).action === 'ign')) && !isBlocked(t, sig)) return;
    t.pendingSignals.set(sig, { ...info, signo: sig });
    signalQueued(proc);
    // A vfork parent is not interrupted (Linux waits killably): the signal waits for the call to return.
    if (t.state === 'blocked' && interrupts(t, sig)) this.interruptSyscall(t, sig);
    this.wake();
  }

  /** A pending signal that ends t's blocking call now, or 0. */
  private interruptingSignal(t: Task): number {
    for (const sig of t.pendingSignals.keys()) if (interrupts(t, sig)) return sig;
    return 0;
  }

  /**
   * The debugger changed the registers of t while it waited in a system call
   * (an inferior function call, `jump`): t leaves the call, as a ptrace'd
   * thread does, and its registers say what comes next (debug-restart.ts).
   */
  abandonSyscall(t: Task): void {
    this.leaveCall(t);
    if (t.suspendMask) {
      // rt_sigsuspend's mask lasts only as long as the call.
      [t.sigmaskLo, t.sigmaskHi] = t.suspendMask;
      t.suspendMask = null;
    }
    this.wake();
  }

  /**
   * t stops waiting in its call: off the sleep timer and the futex queue (a wake meant for a
   * thread still waiting must not be spent on it), runnable, and deaf to the call's own wake-up.
   * Returns the time a sleep had left.
   */
  private leaveCall(t: Task): ReturnType<typeof interruptSleep> {
    const left = interruptSleep(t);
    forgetWaiter(t);
    if (t.state === 'blocked') t.state = 'runnable';
    t.parkings++;
    t.restartSyscall = -1;
    t.entryReported = false;
    return left;
  }

  /** A signal arrived while t waited in a syscall: the call returns EINTR, or restarts after the handler (SA_RESTART). */
  private interruptSyscall(t: Task, sig: number): void {
    const nr = t.restartSyscall;
    const left = this.leaveCall(t);
    if (left && (nr === 35 || nr === 230)) {
      // nanosleep / clock_nanosleep (relative) report the time left in rem.
      const rem = nr === 35 ? t.cpu.getU(6) : t.cpu.getU(10);
      const relative = nr === 35 || (t.cpu.r[2 * 6] & 1) === 0;
      if (rem && relative) {
        try {
          t.mem.write64(rem, left.sec | 0, Math.floor(left.sec / 4294967296));
          t.mem.write64(rem + 8, left.nsec | 0, 0);
        } catch {
          // an unwritable rem is the guest's problem: the call still returns EINTR
        }
      }
    }
    if (t.suspendMask) {
      // The handler's frame must save the mask from before rt_sigsuspend; it is restored on sigreturn.
      const [lo, hi] = t.suspendMask;
      t.suspendMask = null;
      t.cpu.setS(RAX, -EINTR);
      t.pendingMaskRestore = [lo, hi];
      return;
    }
    const act = t.proc.sigactions[sig];
    if (act.handler > 1 && act.flags & SA_RESTART && nr >= 0 && !NEVER_RESTARTED.has(nr)) {
      t.cpu.setS(RAX, nr);
      t.cpu.rip -= 2; // back onto the syscall instruction
    } else t.cpu.setS(RAX, -EINTR);
  }

  /**
   * The lockstep differ switches to t: the pending signal deliverPending would take first (0: none), marked as seen
   * by the debugger so that a resume passing it delivers it with its siginfo — what ptrace reports at a tracee's
   * first resume when a signal arrived while it was stopped.
   */
  takeDeliverableSignal(t: Task): number {
    const sig = this.deliverableSignal(t);
    if (!sig) return 0;
    const info = t.pendingSignals.get(sig)!;
    t.debuggerSawSignal.add(sig);
    t.proc.lastSiginfo = { signo: sig, code: info.code, addr: info.addr ?? 0 };
    return sig;
  }

  /** The first pending signal t can take now (not blocked; SIGKILL always), or 0. */
  deliverableSignal(t: Task): number {
    for (const sig of t.pendingSignals.keys()) if (!isBlocked(t, sig) || sig === SIGKILL) return sig;
    return 0;
  }

  /** Delivers t's pending, unblocked signals: runs handlers or default actions. Returns false if the debugger took a stop. */
  deliverPending(t: Task): boolean {
    for (const [sig, info] of t.pendingSignals) {
      if (isBlocked(t, sig) && sig !== SIGKILL) continue;
      if (this.debug && !t.debuggerSawSignal.has(sig) && sig !== SIGKILL) {
        t.debuggerSawSignal.add(sig);
        t.proc.lastSiginfo = { signo: sig, code: info.code, addr: info.addr ?? 0 };
        this.debug.signalStop(t, sig);
        return false;
      }
      t.debuggerSawSignal.delete(sig);
      t.pendingSignals.delete(sig);
      this.deliverNow(t, sig, info);
      if (t.state === 'exited') return true;
    }
    return true;
  }

  /** Runs sig's disposition on t now. */
  deliverNow(t: Task, sig: number, info: SigInfo): void {
    const act = t.proc.sigactions[sig];
    if (sig !== SIGKILL && act.handler === 1) return; // SIG_IGN
    if (sig === SIGKILL || act.handler === 0) {
      const a = signalInfo(sig).action;
      if (a === 'term' || a === 'core') this.killProcess(t.proc, sig);
      return;
    }
    if (t.rseq && !rseqFixup(t)) return this.killProcess(t.proc, SIGSEGV);
    try {
      setupSignalFrame(t, act, info, t.pendingMaskRestore);
      t.pendingMaskRestore = null;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      this.killProcess(t.proc, SIGSEGV);
    }
  }

  killProcess(proc: Process, sig: number): void {
    proc.killedBy = sig;
    proc.coreDumped = signalInfo(sig).action === 'core';
    this.exitProcess(proc, 128 + sig);
  }

  /** Ends every thread of proc; it stays a zombie until its parent waits for it. */
  exitProcess(proc: Process, code: number): void {
    if (proc.exitCode !== null) return;
    proc.exitCode = code;
    for (const t of this.tasks) if (t.proc === proc) t.state = 'exited';
    if (proc.alarmTimer) clearTimeout(proc.alarmTimer);
    const anyTask = this.tasks.find((t) => t.proc === proc);
    if (anyTask) {
      try {
        flushSharedMappings(anyTask);
      } catch {
        // a write-back failure must not stop the exit
      }
    }
    proc.files.closeAll();
    proc.vforkRelease?.();
    // A CLONE_VM child (vfork) shares its parent's memory: that stays.
    const shared = this.tasks.some((t) => t.proc !== proc && t.proc.mem === proc.mem && t.state !== 'exited');
    if (proc !== this.main && !shared) proc.mem.destroy();
    this.tasks.splice(0, this.tasks.length, ...this.tasks.filter((t) => t.state !== 'exited' || t.proc === this.main));
    const parent = proc.parent;
    if (parent && parent.exitCode === null) {
      const waiters = parent.childWaiters;
      parent.childWaiters = [];
      for (const w of waiters) w();
      this.sendSignal(parent, SIGCHLD, { signo: SIGCHLD, code: proc.killedBy ? 2 : 1, pid: proc.pid });
    }
    if (proc === this.main && this.mainDone) {
      const done = this.mainDone;
      this.mainDone = null;
      const sig = proc.killedBy;
      this.debug?.exited();
      done({ code: sig ? 128 + sig : code & 0xff, signal: sig, core: sig ? signalInfo(sig).action === 'core' : false });
    }
    this.wake();
  }

  /** Ends one thread; the process ends with its last thread. */
  exitThread(t: Task, code: number): void {
    exitRobustList(t);
    t.state = 'exited';
    if (t.clearChildTid) {
      // CLONE_CHILD_CLEARTID: pthread_join waits on this futex.
      try {
        t.mem.write32(t.clearChildTid, 0);
        wakeWaiters(t, t.clearChildTid, 1, -1);
      } catch {
        // the guest unmapped it: nothing to wake
      }
    }
    if (!this.tasks.some((x) => x.proc === t.proc && x.state !== 'exited')) this.exitProcess(t.proc, code);
  }

  get instructions(): number {
    return this.tasks.reduce((n, t) => n + t.cpu.icount, 0);
  }

  /**
   * SIGSYS for unimplemented syscalls (--on-unimplemented=sigsys), as seccomp's
   * SECCOMP_RET_TRAP delivers it: SYS_SECCOMP, si_call_addr is the address after the
   * `syscall` instruction (the saved rip, whatever seccomp(2) says), si_syscall the number.
   */
  sigsys(t: Task, nr: number): void {
    const info = { signo: SIGSYS, code: 1, addr: t.cpu.rip, syscall: nr };
    t.proc.lastSiginfo = info;
    this.sendSignal(t.proc, SIGSYS, info, t);
  }

  /** The --syscall-report table: every syscall made, unimplemented ones first. */
  syscallReport(): string {
    return formatSyscallReport();
  }

}

/** How /proc/PID/maps names a mapped file: path, inode and device as major:minor. */
function fileIdentity(name: string, hostPath: string): { name: string; inode: number; dev: string } {
  try {
    const st = fs.statSync(hostPath);
    const dev = `${((st.dev >> 8) & 0xfff).toString(16).padStart(2, '0')}:${((st.dev & 0xff) | ((st.dev >> 12) & 0xfff00)).toString(16).padStart(2, '0')}`;
    return { name, inode: st.ino, dev };
  } catch {
    return { name, inode: 0, dev: '00:00' };
  }
}

let hostRseq: boolean | null = null;
/** AT_RSEQ_* appear in the auxv only on kernels with extensible rseq (6.3+): follow the host, like its vDSO block. */
function hostOffersRseq(): boolean {
  if (hostRseq === null) {
    try {
      hostRseq = decodeAuxv(new Uint8Array(fs.readFileSync('/proc/self/auxv'))).some(([type]) => type === AT_RSEQ_FEATURE_SIZE);
    } catch {
      hostRseq = false;
    }
  }
  return hostRseq;
}

let vdsoLayout: VdsoPart[] | null = null;
/** The host's [vvar]/[vdso] block sizes: reserving the same space puts libraries where they are natively. */
function hostVdsoLayout(): VdsoPart[] {
  if (vdsoLayout === null) {
    try {
      vdsoLayout = vdsoLayoutFromMaps(fs.readFileSync('/proc/self/maps', 'utf8'));
    } catch {
      vdsoLayout = [];
    }
  }
  return vdsoLayout;
}

/** elfshim's own process group and session ids (from /proc/self/stat), or null. */
function hostGroupAndSession(): [number, number] | null {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp session …
    const pgid = Number(f[2]), sid = Number(f[3]);
    return pgid > 0 && sid > 0 ? [pgid, sid] : null;
  } catch {
    return null;
  }
}

/** The guest's initial working directory: the host directory cwd when it lies inside the guest's root, else "/". */
function guestCwd(rootfs: string | null, cwd: string): string {
  if (rootfs === null) return cwd;
  let root: string;
  try {
    root = fs.realpathSync(rootfs);
  } catch {
    return '/';
  }
  if (cwd === root) return '/';
  return cwd.startsWith(root + '/') ? cwd.slice(root.length) : '/';
}
