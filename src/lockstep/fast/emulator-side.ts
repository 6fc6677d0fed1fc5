import type { Cpu } from '../../cpu/cpu.js';
import { readAllRegisters, writeRegister, REGNUM } from '../../gdb/registers.js';
import type { StopEvent } from '../../gdb/target.js';
import { DebugController } from '../../kernel/debug-target.js';
import { Kernel } from '../../kernel/kernel.js';
import type { KernelOptions } from '../../kernel/kernel-options.js';
import type { Task } from '../../kernel/task.js';
import { SignalFd } from '../../kernel/files/signalfd.js';
import type { AddressSpace } from '../../mem/address-space.js';
import type { StatePort } from '../port.js';
import { Registers } from '../side.js';
import { EMU_LAYOUT } from './native-registers.js';
import { emulatorRegisterBlock } from './emulator-registers.js';

/** What a step of elfshim's current thread ended with. */
export type Stepped = StopEvent | { kind: 'thread-exit' } | { kind: 'process-exit'; signal: number; code: number };

/**
 * elfshim in the differ's own process: a Kernel with the debugger interface
 * (DebugController, the same Target the gdb stub drives) attached, so a step
 * is a method call instead of RSP packets. The guest's stdio are the host
 * fds given (files the differ reads at the end).
 */
export class EmulatorSide implements StatePort {
  readonly kernel: Kernel;
  readonly ctl: DebugController;
  private readonly done: Promise<unknown>;

  constructor(program: string, args: string[], env: Record<string, string>, stdio: [number, number, number], cwd: string | null = null, onUnimplemented: KernelOptions['onUnimplemented'] = 'enosys', vdso = false) {
    // A smaller pool than the CLI's default: several runs share the differ's process.
    // By default no vDSO: the native side runs with elfshim's initial stack, so neither uses one (their images
    // differ); with one, the native process gets elfshim's image (FastLockstep.syncVdso).
    this.kernel = new Kernel({ memoryLimit: 1 << 30, vdso, cwd, onUnimplemented });
    const first = this.kernel.spawn({ hostPath: program, guestPath: program, execfn: program, argv: [program, ...args], envp: Object.entries(env).map(([k, v]) => `${k}=${v}`), stdio });
    this.ctl = new DebugController(this.kernel, first);
    this.first = this.task = first;
    this.kernel.attachDebugger(this.ctl);
    this.done = this.kernel.run();
  }

  /** The first process's main thread, and the thread the differ runs (of any followed process). */
  private readonly first: Task;
  private task: Task;

  /** The current thread's CPU (one object per thread for the whole run: exec reloads it in place). */
  get cpu(): Cpu {
    return this.task.cpu;
  }

  /** The main thread's tid. */
  mainTid(): number {
    return this.first.tid;
  }

  /** Makes thread tid (of any process) the one that steps; false if it is gone (a child process killed meanwhile). */
  select(tid: number): boolean {
    const t = this.kernel.tasks.find((x) => x.tid === tid);
    if (!t || t.state === 'exited') return false;
    this.task = t;
    return true;
  }

  /**
   * Whether thread tid has a signal pending that it can take (not blocked), without taking it. A vfork parent
   * cannot: it waits for its child killably, as on Linux.
   */
  hasDeliverableSignal(tid: number): boolean {
    const t = this.kernel.tasks.find((x) => x.tid === tid);
    return !!t && t.state !== 'exited' && !t.vforkWait && this.kernel.deliverableSignal(t) !== 0;
  }

  /** A signal that reached the current thread while it was not running, which it takes first when resumed (0: none). */
  takePendingSignal(): number {
    return this.kernel.takeDeliverableSignal(this.task);
  }

  /**
   * One instruction of the current thread (or the delivery of a Linux signal into its handler); a rep string
   * instruction to its end, like the tracer. Only this thread runs: every other thread and process stays stopped,
   * as natively. 'thread-exit': the thread ended with exit(2) and the process lives on; 'process-exit': its
   * process, a forked child, ended (the debugger interface reports no stop for these: the step is over when the
   * thread is gone).
   */
  step(signal: number): Stepped | Promise<Stepped> {
    // Most steps end before resumeNow returns: their event comes back as it is, without a promise.
    const ev = this.ctl.resumeNow({ step: true, tid: this.task.tid, signal, wholeInstruction: true });
    // A thread that ended is not reported by the debugger interface: its end is seen at once.
    return this.gone() ?? ev;
  }

  /**
   * A step of the syscall instruction the current thread is at, unless the call blocks at once and blockingOk is
   * false: then it is taken back (the thread is again at its syscall instruction with its registers as before, and
   * nothing happened: a call that blocks has no effect until it completes) and 'blocked' returned. Otherwise the
   * step's outcome, once the call completed.
   */
  stepSyscall(blockingOk: boolean): Promise<Stepped | 'blocked'> {
    const t = this.task, c = t.cpu;
    const saved = { rip: c.rip, r: c.r.slice() };
    const ev = this.ctl.resume({ step: true, tid: t.tid, signal: 0, wholeInstruction: true });
    if (t.state !== 'blocked' || blockingOk) return Promise.resolve(this.gone() ?? ev);
    this.kernel.abandonSyscall(t);
    // The step ends (a trap report) once the abandoned call is out of the way.
    return ev.then(() => {
      // The syscall instruction set rcx and r11 and the call may have set rax: all as before.
      c.rip = saved.rip;
      c.r.set(saved.r);
      c.origRax = -1;
      return 'blocked' as const;
    });
  }

  /** The current thread's end (its own or its process's, the program going on), or null. */
  private gone(): Stepped | null {
    const t = this.task;
    if (t.state !== 'exited' || this.kernel.main?.exitCode !== null) return null;
    if (t.proc.exitCode === null) return { kind: 'thread-exit' };
    const p = t.proc;
    return p.killedBy ? { kind: 'process-exit', signal: p.killedBy, code: 0 } : { kind: 'process-exit', signal: 0, code: (p.exitCode ?? 0) & 0xff };
  }

  /** The `g` block now (elfshim's layout). */
  block(): Uint8Array {
    return emulatorRegisterBlock(this.cpu);
  }

  /** The gdb stub's own encoding, for checking emulatorRegisterBlock. */
  stubBlock(): Uint8Array {
    return readAllRegisters(this.cpu);
  }

  async registers(): Promise<Registers> {
    return this.registersNow();
  }

  registersNow(): Registers {
    return new Registers(EMU_LAYOUT, this.block());
  }

  setRegister(name: string, value: Uint8Array): void {
    if (!writeRegister(this.cpu, REGNUM[name], value.subarray(0, EMU_LAYOUT.get(name)!.size))) throw new Error(`elfshim: cannot write ${name}`);
  }

  async writeRegister(name: string, value: Uint8Array): Promise<void> {
    this.setRegister(name, value);
  }

  /** The child the current thread's vfork made and waits for inside the call (null: none). */
  vforkChild(): number | null {
    return this.task.vforkWait?.tid ?? null;
  }

  /** The current thread's robust list head (set_robust_list; 0: none). */
  robustListHead(): number {
    return this.task.robustList;
  }

  /** Whether fd of the current thread's process is a signalfd (its records carry pids). */
  isSignalFd(fd: number): boolean {
    return this.task.files.get(fd) instanceof SignalFd;
  }

  /** Closes fd in the current thread's process (an open that failed natively: the fd tables stay equal). */
  closeFd(fd: number): void {
    this.task.files.close(fd);
  }

  /** The current thread's process memory. */
  get mem(): AddressSpace {
    return this.task.mem;
  }

  peek(addr: number, len: number): Uint8Array | null {
    return this.task.mem.peek(addr, len);
  }

  async readMemory(addr: number, len: number): Promise<Uint8Array | null> {
    return this.peek(addr, len);
  }

  async writeMemory(addr: number, data: Uint8Array): Promise<boolean> {
    return this.task.mem.poke(addr, data);
  }

  /** Ends the guest (if it still runs) and waits for the kernel to finish. */
  async close(): Promise<void> {
    if (this.kernel.main?.exitCode === null) {
      this.ctl.current = this.first; // kill() ends the debugged process: the program, not the child last stepped
      this.ctl.kill();
    }
    await this.done;
  }
}
