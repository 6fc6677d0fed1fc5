import type { Cpu } from '../../cpu/cpu.js';
import { readAllRegisters, writeRegister, REGNUM } from '../../gdb/registers.js';
import type { StopEvent } from '../../gdb/target.js';
import { DebugController } from '../../kernel/debug-target.js';
import { Kernel } from '../../kernel/kernel.js';
import type { StatePort } from '../port.js';
import { Registers } from '../side.js';
import { EMU_LAYOUT } from './native-registers.js';
import { emulatorRegisterBlock } from './emulator-registers.js';

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

  constructor(program: string, args: string[], env: Record<string, string>, stdio: [number, number, number], cwd: string | null = null) {
    // A smaller pool than the CLI's default: several runs share the differ's process.
    // No vDSO: the native side runs with elfshim's initial stack, so neither uses one (their images differ).
    this.kernel = new Kernel({ memoryLimit: 1 << 30, vdso: false, cwd });
    const first = this.kernel.spawn({ hostPath: program, guestPath: program, execfn: program, argv: [program, ...args], envp: Object.entries(env).map(([k, v]) => `${k}=${v}`), stdio });
    this.ctl = new DebugController(this.kernel, first);
    this.ctl.otherProcessesRun = true;
    this.kernel.attachDebugger(this.ctl);
    this.done = this.kernel.run();
  }

  private cpuCache: Cpu | null = null;
  /** The thread the differ runs (0 until the first select: the main thread). */
  private tid = 0;

  /** The current thread's CPU (one object per thread for the whole run: exec reloads it in place). */
  get cpu(): Cpu {
    return (this.cpuCache ??= this.ctl.cpuOf(this.tid || this.ctl.threads()[0])!);
  }

  /** The main thread's tid. */
  mainTid(): number {
    return this.ctl.threads()[0];
  }

  /** Makes thread tid the one that steps. */
  select(tid: number): void {
    if (!this.ctl.cpuOf(tid)) throw new Error(`elfshim: no thread ${tid}`);
    this.tid = tid;
    this.cpuCache = null;
  }

  /**
   * One instruction of the current thread (or the delivery of a Linux signal into its handler); a rep string
   * instruction to its end, like the tracer. Only this thread of the process runs: its others stay stopped, as
   * natively (forked children run on: DebugController.otherProcessesRun). 'thread-exit': the thread ended with exit(2) and the process lives on
   * (the debugger interface reports no stop for that: the step is over when the thread is gone).
   */
  async step(signal: number): Promise<StopEvent | { kind: 'thread-exit' }> {
    const tid = this.tid || this.mainTid();
    const ev = this.ctl.resume({ step: true, tid, signal, wholeInstruction: true });
    const task = this.kernel.tasks.find((t) => t.tid === tid);
    if (task?.state === 'exited' && this.kernel.main?.exitCode === null) return { kind: 'thread-exit' };
    return ev;
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
    return new Registers(EMU_LAYOUT, this.block());
  }

  setRegister(name: string, value: Uint8Array): void {
    if (!writeRegister(this.cpu, REGNUM[name], value.subarray(0, EMU_LAYOUT.get(name)!.size))) throw new Error(`elfshim: cannot write ${name}`);
  }

  async writeRegister(name: string, value: Uint8Array): Promise<void> {
    this.setRegister(name, value);
  }

  peek(addr: number, len: number): Uint8Array | null {
    return this.ctl.mem.peek(addr, len);
  }

  async readMemory(addr: number, len: number): Promise<Uint8Array | null> {
    return this.peek(addr, len);
  }

  async writeMemory(addr: number, data: Uint8Array): Promise<boolean> {
    return this.ctl.mem.poke(addr, data);
  }

  /** Ends the guest (if it still runs) and waits for the kernel to finish. */
  async close(): Promise<void> {
    if (this.kernel.main?.exitCode === null) this.ctl.kill();
    await this.done;
  }
}
