import * as fs from 'node:fs';
import { Stop, type Cpu } from '../cpu/cpu.js';
import { USER_END, type AddressSpace } from '../mem/address-space.js';
import type { GuestFault } from '../mem/fault.js';
import type { BreakKind, GuestFiles, StopEvent, Target, WatchKind } from '../gdb/target.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';
import { SIGFPE, SIGILL, SIGINT, SIGSEGV, SIGSYS, SIGTRAP } from './signals.js';
import { formatSyscallReport } from './coverage-command.js';
import { ENOSYS } from './errno.js';
import { openedInsideRoot, withPinnedEntry } from './files/pin.js';
import { librariesSvr4Xml } from './svr4-libraries.js';
import { isVsyscallFault, vsyscallMapsLine } from './vsyscall.js';
import { tlsAddress } from './tls-address.js';
import { threadComm } from './syscalls/info.js';
import { ParkedCalls } from './debug-restart.js';

/** Distinct breakpoint addresses a debugger may have at once (each insertion rebuilds the set). */
const MAX_BREAKPOINTS = 4096;

/** [addr, addr+len) lies in the user half (gdb may send any 64-bit number, even beyond 2^53). */
function isUserAddress(addr: number, len: number): boolean {
  return Number.isSafeInteger(addr) && Number.isSafeInteger(len) && addr >= 0 && len > 0 && addr + len <= USER_END;
}

/**
 * Linux's TASK_SIZE_MAX: a debug register may not cover an address at or above it
 * (arch_check_bp_in_kernelspace), so hbreak/watch there fail under gdbserver too.
 */
const DEBUG_REGISTER_END = 0x7ffffffff000;

/** si_code values of SIGTRAP (include/uapi/asm-generic/siginfo.h) and SI_KERNEL. */
const TRAP_TRACE = 2;
const TRAP_HWBKPT = 4;
const SI_KERNEL = 0x80;
const SI_TKILL = -6;
const SIGSTOP = 19;
/** EFLAGS.RF: Linux sets it in the saved flags at an instruction breakpoint (so the return does not hit it again). */
const EFLAGS_RF = 0x10000;

function addRef(m: Map<number, number>, key: number, d: number): void {
  const n = (m.get(key) ?? 0) + d;
  if (n > 0) m.set(key, n);
  else m.delete(key);
}

export interface ResumeOptions {
  step: boolean;
  tid?: number;
  signal: number;
  othersRun?: boolean;
  /**
   * A step runs a rep string instruction to its end instead of stopping after one iteration as the CPU (and so
   * gdb) does — for the lockstep differ, whose native side does the same.
   */
  wholeInstruction?: boolean;
}

/** The Linux signal a CPU stop raises. */
const STOP_SIGNAL: Partial<Record<Stop, number>> = {
  [Stop.Fault]: SIGSEGV,
  [Stop.Illegal]: SIGILL,
  [Stop.Privileged]: SIGSEGV,
  [Stop.DivideError]: SIGFPE,
  [Stop.Trap]: SIGTRAP,
};

/**
 * The emulator as the gdb stub sees it: a stopped/running state machine on
 * top of the kernel's scheduler. While a debugger is attached, the scheduler
 * runs only between resume() and the next stop event.
 */
export class DebugController implements Target {
  paused = true;
  private pending: ((ev: StopEvent) => void) | null = null;
  /** An event that happened while nobody was waiting (e.g. before resume returned). */
  private queued: StopEvent | null = null;
  private interruptRequested = false;
  private readonly bpRefs = new Map<number, number>();
  /** How many of bpRefs' insertions at an address were hardware breakpoints (Z1): they report TRAP_HWBKPT. */
  private readonly hwRefs = new Map<number, number>();
  private catchSet: Set<number> | null = null;
  /** The task whose stop was reported last (gdb's current thread). */
  current: Task;
  /** A CPU stop reported to gdb but not yet acted on: its signal is delivered only if gdb passes it. */
  private pendingStop: { task: Task; stop: Stop; signal: number } | null = null;
  /** A syscall the shim lacks, stopped on with SIGSYS (--on-unimplemented=stop). */
  private sigsysPending: Task | null = null;
  detached = false;
  /** A task stopped at a hardware breakpoint, whose eflags show RF as under Linux until it runs on. */
  private resumeFlagSet: Task | null = null;
  /** Threads parked in a system call, as the debugger sees them (rax = the restart code). */
  private readonly parked = new ParkedCalls();
  /** The task a pending single step runs (null when no step is in flight). */
  private stepping: Task | null = null;
  /** The thread a debugger step is pending on: the scheduler must not run it (the step does). */
  get steppingTask(): Task | null {
    return this.stepping;
  }
  readonly vfs: GuestFiles;

  private readonly files: DebuggerFiles;

  constructor(private readonly kernel: Kernel, first: Task) {
    this.current = first;
    // The stop after exec that a debug run starts in: SIGTRAP with si_code 0, as ptrace reports it.
    first.proc.lastSiginfo ??= { signo: SIGTRAP, code: 0, addr: 0 };
    this.vfs = this.files = new DebuggerFiles(kernel, () => this.current);
  }

  get pid(): number {
    return this.current.pid;
  }
  get mem(): AddressSpace {
    return this.current.mem;
  }
  threads(): number[] {
    return this.kernel.tasks.filter((t) => t.proc === this.current.proc && t.state !== 'exited').map((t) => t.tid);
  }
  threadName(tid: number): string | null {
    const t = this.kernel.tasks.find((x) => x.tid === tid && x.state !== 'exited');
    return t ? Buffer.from(threadComm(t)).toString('utf8') : null;
  }
  cpuOf(tid: number): Cpu | undefined {
    return this.kernel.tasks.find((t) => t.tid === tid)?.cpu;
  }

  // ------------------------------------------------------------ breakpoints

  insertBreakpoint(kind: BreakKind, addr: number): boolean {
    if (!isUserAddress(addr, 1)) return false;
    // gdbserver plants an int3 through ptrace, which fails where nothing is mapped: gdb then says
    // "Cannot insert breakpoint N. Cannot access memory at address …". A debug register needs nothing mapped.
    if (kind === 'sw' && !this.current.mem.peek(addr, 1)) return false;
    if (kind === 'hw' && addr + 1 > DEBUG_REGISTER_END) return false;
    if (!this.bpRefs.has(addr) && this.bpRefs.size >= MAX_BREAKPOINTS) return false;
    addRef(this.bpRefs, addr, 1);
    if (kind === 'hw') addRef(this.hwRefs, addr, 1);
    this.syncBreakpoints();
    return true;
  }
  removeBreakpoint(kind: BreakKind, addr: number): boolean {
    if (!this.bpRefs.get(addr) || (kind === 'hw' && !this.hwRefs.get(addr))) return false;
    addRef(this.bpRefs, addr, -1);
    if (kind === 'hw') addRef(this.hwRefs, addr, -1);
    this.syncBreakpoints();
    return true;
  }
  /** Only hardware breakpoints sit at addr (a software one there wins, as int3 would trap first). */
  private isHardwareOnly(addr: number): boolean {
    return (this.hwRefs.get(addr) ?? 0) === (this.bpRefs.get(addr) ?? 0) && this.hwRefs.has(addr);
  }
  private syncBreakpoints(): void {
    const e = this.kernel.engineOf(this.current.mem);
    e.breakpoints.clear();
    for (const a of this.bpRefs.keys()) e.breakpoints.add(a);
    e.flush(); // blocks must end before breakpoint addresses
  }
  insertWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    // Like Linux's debug registers: user addresses only (the page walk below must stay finite).
    if (!isUserAddress(addr, len) || addr + len > DEBUG_REGISTER_END) return false;
    const e = this.kernel.engineOf(this.current.mem);
    e.watchpoints.push({ addr, len, kind });
    e.updateWatchpoints();
    return true;
  }
  removeWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    const e = this.kernel.engineOf(this.current.mem);
    const k = e.watchpoints.findIndex((w) => w.kind === kind && w.addr === addr && w.len === len);
    if (k < 0) return false;
    e.watchpoints.splice(k, 1);
    e.updateWatchpoints();
    return true;
  }

  setCatchSyscalls(set: Set<number> | null): void {
    this.catchSet = set;
  }
  catches(nr: number): boolean {
    return this.catchSet !== null && (this.catchSet.size === 0 || this.catchSet.has(nr));
  }

  // ------------------------------------------------------------ execution

  /** Runs or steps the guest; the promise settles at its next stop. */
  resume(opts: ResumeOptions): Promise<StopEvent> {
    const r = this.resumeNow(opts);
    return r instanceof Promise ? r : Promise.resolve(r);
  }

  /**
   * resume, with the stop event itself when the guest stopped before this returns (a single step that neither
   * blocked nor waited): the lockstep differ steps millions of times, and a promise per step costs it an
   * event-loop turn. Otherwise a promise of the event, as resume gives.
   */
  resumeNow(opts: ResumeOptions): StopEvent | Promise<StopEvent> {
    const ts = this.kernel.tasks;
    const t = (opts.tid !== undefined && opts.tid > 0 ? (ts.length === 1 && ts[0].tid === opts.tid ? ts[0] : ts.find((x) => x.tid === opts.tid)) : undefined) ?? this.current;
    const frames = t.signalFrames;
    // A signal passed with the resume of a named thread is that thread's (the lockstep differ switches threads and
    // processes without a stop report in between).
    if (opts.tid !== undefined && t.state !== 'exited') this.current = t;
    this.clearResumeFlag();
    this.settleParkedCalls();
    // Natively every stopped thread slept in ptrace_stop: one that runs now leaves an rseq critical section it was
    // stopped in for its abort handler (so a step inside one lands there, as under gdb on Linux).
    if (opts.step) {
      if (t.state === 'runnable') this.kernel.preempted(t);
    } else for (const x of ts) if (x.state === 'runnable') this.kernel.preempted(x);
    this.applyResumeSignal(opts.signal);
    // Events reported from here until the end of this call are queued (deliver) and returned at once. A waiter of
    // an earlier resume whose event was never awaited (its caller saw the thread end) is superseded.
    this.pending = null;
    if (!this.queued) {
      if (t.state === 'exited') {
        // The program ended, or only t's process (a child the lockstep differ follows, killed by the signal passed).
        this.deliver(this.kernel.main?.exitCode !== null ? this.exitEvent() : { kind: 'signal', signal: 0, tid: t.tid });
      } else if (opts.step && t.signalFrames !== frames) {
        // The step delivered a signal into a handler: like ptrace (signal_setup_done → SIGTRAP), it stops at the
        // handler's first instruction without running it.
        this.report(t, { kind: 'signal', signal: SIGTRAP, tid: t.tid });
      } else if (opts.step) {
        this.paused = true;
        this.stepping = t;
        this.kernel.debugStep(t, opts.wholeInstruction);
        // A step that did not finish at once (a blocking syscall): the other threads
        // run meanwhile if gdb asked for it; the scheduler leaves the stepping one alone.
        if (opts.othersRun && this.stepping === t && !this.queued) {
          this.paused = false;
          this.kernel.wakeScheduler();
        }
      } else {
        this.paused = false;
        this.kernel.wakeScheduler();
      }
    }
    const ev = this.queued;
    if (ev) {
      this.queued = null;
      return ev;
    }
    return new Promise<StopEvent>((resolve) => (this.pending = resolve));
  }

  private processTasks(): readonly Task[] {
    const ts = this.kernel.tasks;
    // One task (every single-threaded program): no new array per step.
    if (ts.length === 1) return ts[0].proc === this.current.proc && ts[0].state !== 'exited' ? ts : [];
    return ts.filter((t) => t.proc === this.current.proc && t.state !== 'exited');
  }
  private settleParkedCalls(): void {
    this.parked.settle(this.processTasks(), (t) => this.kernel.abandonSyscall(t));
  }

  /** RF lasts one instruction on a CPU: the resumed instruction is past the breakpoint already (skipBreakpointAt). */
  private clearResumeFlag(): void {
    const c = this.resumeFlagSet?.cpu;
    this.resumeFlagSet = null;
    if (c) c.setEflags(c.getEflags() & ~EFLAGS_RF);
  }

  /** gdb's resume signal: deliver the pending stop's signal only if gdb passes one. */
  private applyResumeSignal(signal: number): void {
    const sys = this.sigsysPending;
    if (sys) {
      // --on-unimplemented=stop: the call returns -ENOSYS and the guest goes on.
      this.sigsysPending = null;
      sys.cpu.rip += 2;
      sys.cpu.setS(0, -ENOSYS);
      sys.cpu.origRax = -1;
      return;
    }
    const ps = this.pendingStop;
    this.pendingStop = null;
    const t = this.current;
    // A queued signal gdb saw: delivered only if gdb passes it now.
    for (const sig of t.debuggerSawSignal) {
      const info = t.pendingSignals.get(sig);
      t.debuggerSawSignal.delete(sig);
      t.pendingSignals.delete(sig);
      if (sig === signal && info) {
        this.kernel.deliverNow(t, sig, info);
        return;
      }
    }
    if (!signal) return;
    if (ps && ps.signal === signal) this.kernel.handleStop(ps.task, ps.stop);
    else this.kernel.deliverNow(t, signal, { signo: signal, code: 0, pid: process.pid });
  }

  /** --no-wait: a debugger connects to the running guest; stop it wherever it is. */
  attach(): Promise<StopEvent> {
    const p = new Promise<StopEvent>((resolve) => (this.pending = resolve));
    this.detached = false;
    this.paused = false;
    this.interruptRequested = true;
    this.kernel.attachDebugger(this);
    this.kernel.wakeScheduler();
    if (this.kernel.main?.exitCode !== null) this.deliver(this.exitEvent());
    return p;
  }

  interrupt(): void {
    if (this.paused) {
      // A single step waiting in a blocking syscall (stepi over read/pause): Ctrl-C
      // interrupts the call with SIGINT, as it does a ptrace'd process.
      const t = this.stepping;
      if (this.pending && t && t.state === 'blocked') this.kernel.sendSignal(t.proc, SIGINT, undefined, t);
      return;
    }
    this.interruptRequested = true;
    this.kernel.wakeScheduler();
  }

  /** Called by the scheduler between slices. */
  takeInterrupt(): boolean {
    if (!this.interruptRequested) return false;
    this.interruptRequested = false;
    return true;
  }

  kill(): void {
    this.files.closeAll();
    this.detached = true;
    this.paused = false;
    this.kernel.killProcess(this.current.proc, 9);
    this.kernel.wakeScheduler();
  }

  detach(): void {
    // The debugger's vFile handles end with its session (a later debugger starts afresh).
    this.files.closeAll();
    this.detached = true;
    const e = this.kernel.engineOf(this.current.mem);
    e.breakpoints.clear();
    e.watchpoints.length = 0;
    e.updateWatchpoints();
    e.flush();
    this.catchSet = null;
    this.clearResumeFlag();
    this.settleParkedCalls();
    this.applyResumeSignal(0);
    this.paused = false;
    this.kernel.detachDebugger();
  }

  // ------------------------------------------------------------ stop reports (from the kernel)

  /** A CPU stop while running under the debugger. Returns true if the debugger takes it (the guest pauses). */
  onCpuStop(t: Task, stop: Stop): boolean {
    const c = t.cpu;
    // $_siginfo of a SIGTRAP stop as Linux fills it for a ptraced process: int3 gives SI_KERNEL with
    // no address; debug-register hits and single-steps give TRAP_HWBKPT / TRAP_TRACE with the pc.
    if (stop === Stop.Breakpoint) {
      const hw = this.isHardwareOnly(c.rip);
      t.proc.lastSiginfo = hw ? { signo: SIGTRAP, code: TRAP_HWBKPT, addr: c.rip } : { signo: SIGTRAP, code: SI_KERNEL, addr: 0 };
      if (hw) {
        c.setEflags(c.getEflags() | EFLAGS_RF);
        this.resumeFlagSet = t;
      }
      this.report(t, { kind: 'signal', signal: SIGTRAP, reason: hw ? 'hwbreak' : 'swbreak', tid: t.tid });
      return true;
    }
    if (stop === Stop.Watchpoint) {
      t.proc.lastSiginfo = { signo: SIGTRAP, code: TRAP_HWBKPT, addr: c.rip };
      this.report(t, { kind: 'signal', signal: SIGTRAP, reason: c.watchKind, addr: c.watchHit, tid: t.tid });
      return true;
    }
    if (stop === Stop.Step) {
      t.proc.lastSiginfo = { signo: SIGTRAP, code: TRAP_TRACE, addr: c.rip };
      this.report(t, { kind: 'signal', signal: SIGTRAP, tid: t.tid });
      return true;
    }
    const sig = STOP_SIGNAL[stop];
    if (sig === undefined) return false;
    // A call into the vsyscall page is emulated by the kernel, not a SIGSEGV: natively ptrace reports no signal.
    if (stop === Stop.Fault && isVsyscallFault(c.fault as GuestFault)) return false;
    if (stop === Stop.Fault) {
      const f = c.fault as { addr: number; kind: string };
      t.proc.lastSiginfo = { signo: SIGSEGV, code: f.kind === 'unmapped' ? 1 : 2, addr: f.addr };
    } else if (stop === Stop.Illegal) t.proc.lastSiginfo = { signo: SIGILL, code: 2, addr: c.rip };
    else if (stop === Stop.DivideError) t.proc.lastSiginfo = { signo: SIGFPE, code: 1, addr: c.rip };
    else t.proc.lastSiginfo = { signo: sig, code: 0x80, addr: 0 };
    this.pendingStop = { task: t, stop, signal: sig };
    this.report(t, { kind: 'signal', signal: sig, tid: t.tid });
    return true;
  }

  syscallEntry(t: Task, nr: number): void {
    this.report(t, { kind: 'signal', signal: SIGTRAP, reason: 'syscall_entry', syscall: nr, tid: t.tid });
  }
  syscallReturn(t: Task, nr: number): void {
    this.report(t, { kind: 'signal', signal: SIGTRAP, reason: 'syscall_return', syscall: nr, tid: t.tid });
  }
  /**
   * --on-unimplemented=stop: SIGSYS at the syscall instruction. $_siginfo is the one
   * seccomp's trap would give (si_call_addr just after the instruction, as Linux fills it).
   */
  unimplemented(t: Task, nr: number): void {
    t.proc.lastSiginfo = { signo: SIGSYS, code: 1, addr: t.cpu.rip, syscall: nr };
    t.cpu.rip -= 2;
    t.cpu.origRax = nr;
    this.sigsysPending = t;
    this.report(t, { kind: 'signal', signal: SIGSYS, tid: t.tid });
  }
  /** A signal is about to be delivered to t: gdb sees it first ("Program received signal …"). */
  signalStop(t: Task, sig: number): void {
    this.report(t, { kind: 'signal', signal: sig, tid: t.tid });
  }
  interrupted(t: Task): void {
    t.proc.lastSiginfo = { signo: SIGINT, code: 0, addr: 0 }; // SI_USER: gdbserver kill()s the inferior
    this.report(t, { kind: 'signal', signal: SIGINT, tid: t.tid });
  }
  exited(): void {
    this.paused = true;
    this.deliver(this.exitEvent());
  }

  private exitEvent(): StopEvent {
    const p = this.kernel.main!;
    return p.killedBy ? { kind: 'killed', signal: p.killedBy } : { kind: 'exited', code: (p.exitCode ?? 0) & 0xff };
  }

  /** Stop reports so far (lets a step tell whether something else already reported). */
  reports = 0;

  private report(t: Task, ev: StopEvent): void {
    this.reports++;
    this.stepping = null;
    this.paused = true;
    this.current = t;
    this.parked.show(this.processTasks());
    this.deliver(ev);
  }
  private deliver(ev: StopEvent): void {
    const p = this.pending;
    if (p) {
      this.pending = null;
      p(ev);
    } else this.queued = ev;
  }

  // ------------------------------------------------------------ information

  siginfo(tid?: number): Uint8Array | null {
    const t = tid === undefined ? this.current : this.kernel.tasks.find((x) => x.tid === tid && x.state !== 'exited');
    if (!t) return null;
    const b = new Uint8Array(128);
    const v = new DataView(b.buffer);
    if (t !== this.current) {
      // The other threads of an all-stop: gdbserver stops them with tkill(SIGSTOP), so theirs
      // is SIGSTOP / SI_TKILL from the stub's pid.
      v.setInt32(0, SIGSTOP, true);
      v.setInt32(8, SI_TKILL, true);
      v.setInt32(16, process.pid, true);
      v.setInt32(20, process.getuid?.() ?? 0, true);
      return b;
    }
    const si = t.proc.lastSiginfo;
    if (!si) return null;
    v.setInt32(0, si.signo, true);
    v.setInt32(8, si.code, true);
    if (si.signo === SIGSYS) {
      v.setBigUint64(16, BigInt(Math.max(0, si.addr)), true); // si_call_addr
      v.setInt32(24, si.syscall ?? -1, true); // si_syscall
      v.setUint32(28, 0xc000003e, true); // si_arch = AUDIT_ARCH_X86_64
    } else {
      v.setBigUint64(16, BigInt.asUintN(64, BigInt(Math.trunc(si.addr))), true); // si_addr
    }
    return b;
  }
  auxv(): Uint8Array {
    return this.current.proc.auxv;
  }
  librariesSvr4(): string {
    return librariesSvr4Xml(this.current.mem, this.current.proc.auxv);
  }
  tlsAddress(tid: number, offset: number, lm: number): number | null {
    const t = this.kernel.tasks.find((x) => x.tid === tid && x.state !== 'exited' && x.proc === this.current.proc);
    return t ? tlsAddress(t.mem, t.proc.auxv, t.cpu.fsBase, offset, lm) : null;
  }
  execFile(): string {
    return this.current.proc.exePath;
  }

  monitor(cmd: string): string | null {
    const [word, arg] = cmd.trim().split(/\s+/, 2);
    switch (word) {
      case 'help':
        return [
          'monitor help                      this list',
          'monitor syscalls                  the syscalls the guest made so far (unimplemented first)',
          'monitor strace on|off             one line per syscall on elfshim\'s stderr',
          'monitor maps                      the guest memory map (/proc/PID/maps)',
          'monitor unimplemented enosys|sigsys|stop   what an unimplemented syscall does',
          '',
        ].join('\n');
      case 'syscalls':
        return formatSyscallReport();
      case 'maps':
        return this.current.mem.formatMaps() + (vsyscallMapsLine() ?? '');
      case 'strace':
        if (arg !== 'on' && arg !== 'off') return 'usage: monitor strace on|off\n';
        this.kernel.options.strace = arg === 'on';
        return `strace ${arg}\n`;
      case 'unimplemented':
        if (arg !== 'enosys' && arg !== 'sigsys' && arg !== 'stop') return `unimplemented syscalls: ${this.kernel.options.onUnimplemented}\nusage: monitor unimplemented enosys|sigsys|stop\n`;
        this.kernel.options.onUnimplemented = arg;
        return `unimplemented syscalls now: ${arg}\n`;
      default:
        return null;
    }
  }
}

/** Host files a debugger may hold open through vFile at once. */
const MAX_DEBUGGER_FILES = 64;

/** vFile access to the guest's filesystem view (the same confinement as the guest's own opens). */
class DebuggerFiles implements GuestFiles {
  private readonly open_ = new Map<number, { data: Uint8Array | null; fd: number; st: fs.Stats | null }>();
  private nextFd = 3;

  constructor(private readonly kernel: Kernel, private readonly task: () => Task) {}

  private resolve(path: string): { data: Uint8Array | null; hostPath: string | null; st: fs.Stats | null } | number {
    const t = this.task();
    // gdb asks for /proc/PID/... of the guest pid; the synthetic /proc serves "self".
    const p = path.replace(new RegExp(`^/proc/${t.pid}(?=/|$)`), '/proc/self');
    const r = t.fs.resolve(t, -100, p, { follow: true });
    if (typeof r === 'number') return r;
    if (r.kind === 'synth') {
      if (!r.node.content) return -21; // EISDIR or not a file
      return { data: r.node.content(), hostPath: null, st: null };
    }
    if (r.kind !== 'host' || !r.st) return -2;
    return { data: null, hostPath: r.hostPath, st: r.st };
  }

  open(path: string, flags: number, _mode: number): number {
    if ((flags & 3) !== 0) return -30; // EROFS: the debugger gets read-only access
    if (this.open_.size >= MAX_DEBUGGER_FILES) return -24; // EMFILE: a debugger loop must not use up the host's fds
    const r = this.resolve(path);
    if (typeof r === 'number') return r;
    let fd = -1;
    if (r.hostPath) {
      // Only files and directories: opening a FIFO or a terminal would block the whole
      // emulator (guest included) until someone else wrote to it.
      if (!r.st || !(r.st.isFile() || r.st.isDirectory())) return -13; // EACCES
      try {
        // O_NONBLOCK in case the path was swapped for a FIFO since the stat.
        fd = fs.openSync(r.hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      } catch (e) {
        return -((e as { errno?: number }).errno ? Math.abs((e as { errno: number }).errno) : 2);
      }
      const st = fs.fstatSync(fd);
      if (!(st.isFile() || st.isDirectory())) {
        fs.closeSync(fd);
        return -13;
      }
      if (!openedInsideRoot(this.task().fs.root, fd)) {
        // A directory on the way was swapped for a symlink since the walk.
        fs.closeSync(fd);
        return -2;
      }
    }
    const h = this.nextFd++;
    this.open_.set(h, { data: r.data, fd, st: r.st });
    return h;
  }
  pread(h: number, count: number, offset: number): Uint8Array | number {
    const f = this.open_.get(h);
    if (!f) return -9;
    if (f.data) return f.data.subarray(offset, offset + count);
    const buf = new Uint8Array(Math.min(count, 1 << 20));
    try {
      const n = fs.readSync(f.fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n);
    } catch {
      return -5;
    }
  }
  pwrite(): number {
    return -30;
  }
  close(h: number): number {
    const f = this.open_.get(h);
    if (!f) return -9;
    if (f.fd >= 0) fs.closeSync(f.fd);
    this.open_.delete(h);
    return 0;
  }
  fstat(h: number): Uint8Array | number {
    const f = this.open_.get(h);
    if (!f) return -9;
    // gdb's fileio struct stat: big-endian fields.
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    const st = f.st;
    v.setUint32(0, st ? st.dev : 0);
    v.setUint32(4, st ? st.ino : 0);
    v.setUint32(8, st ? st.mode : 0o100444);
    v.setUint32(12, st ? st.nlink : 1);
    v.setUint32(16, st ? st.uid : 0);
    v.setUint32(20, st ? st.gid : 0);
    v.setUint32(24, 0);
    v.setBigUint64(28, BigInt(st ? st.size : f.data!.length));
    v.setBigUint64(36, BigInt(st ? st.blksize : 4096));
    v.setBigUint64(44, BigInt(st ? st.blocks : 0));
    v.setUint32(52, st ? Math.floor(st.atimeMs / 1000) : 0);
    v.setUint32(56, st ? Math.floor(st.mtimeMs / 1000) : 0);
    v.setUint32(60, st ? Math.floor(st.ctimeMs / 1000) : 0);
    return b;
  }
  readlink(path: string): string | number {
    const t = this.task();
    const p = path.replace(new RegExp(`^/proc/${t.pid}(?=/|$)`), '/proc/self');
    const r = t.fs.resolve(t, -100, p, { follow: false });
    if (typeof r === 'number') return r;
    if (r.kind === 'synth') return r.node.target ? r.node.target() : -22;
    if (r.kind !== 'host' || !r.st) return -2;
    return withPinnedEntry(t.fs.root, r.hostPath, (q) => {
      try {
        return fs.readlinkSync(q);
      } catch {
        return -22;
      }
    });
  }
  unlink(): number {
    return -30;
  }
  closeAll(): void {
    for (const h of [...this.open_.keys()]) this.close(h);
  }
}
