import type { Cpu } from '../cpu/cpu.js';
import type { AddressSpace } from '../mem/address-space.js';
import type { FileTable } from './files/file-table.js';
import type { FsContext } from './files/fs-context.js';
import type { Kernel } from './kernel.js';
import type { LoadedProgram } from '../elf/index.js';
import type { SigInfo } from './signal-frame.js';
import type { RseqRegistration } from './syscalls/rseq.js';

/** Signal disposition as rt_sigaction stores it. */
export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  /** Blocked-during-handler mask, 64 bits as two halves. */
  maskLo: number;
  maskHi: number;
}

/** State shared by the threads of one process (thread group). */
export class Process {
  /** Guest path of the executable, as /proc/self/exe resolves it. */
  exePath = '';
  /** Host path of the executable (for reading it). */
  hostExePath = '';
  argv: string[] = [];
  envp: string[] = [];
  /** Auxiliary vector as placed on the initial stack (for gdb's qXfer:auxv). */
  auxv: Uint8Array = new Uint8Array(0);
  readonly sigactions: SigAction[] = Array.from({ length: 65 }, () => ({ handler: 0, flags: 0, restorer: 0, maskLo: 0, maskHi: 0 }));
  exitCode: number | null = null;
  /** Signal that killed the process, if any. */
  killedBy = 0;
  umask = 0o022;
  /** What the ELF loader set up (entry, auxv, stack and image ranges). */
  loaded: LoadedProgram | null = null;
  /** The last signal's siginfo essentials (for gdb's $_siginfo). */
  lastSiginfo: { signo: number; code: number; addr: number; syscall?: number } | null = null;
  children: Process[] = [];
  parent: Process | null = null;
  /** wait4/waitid callers parked until a child changes state. */
  childWaiters: (() => void)[] = [];
  coreDumped = false;
  pgid = 0;
  sid = 0;
  alarmTimer: ReturnType<typeof setTimeout> | null = null;
  alarmAt = 0;
  alarmIntervalMs = 0;
  /** A vfork child: lets the suspended parent go (at execve or exit). */
  vforkRelease: (() => void) | null = null;

  constructor(
    readonly pid: number,
    public ppid: number,
    public mem: AddressSpace,
    public files: FileTable,
    public fs: FsContext,
  ) {
    this.pgid = pid;
    this.sid = pid;
  }
}

/** One guest thread: its CPU state and per-thread kernel state. */
export class Task {
  /** Signal mask (64 bits as halves). */
  sigmaskLo = 0;
  sigmaskHi = 0;
  /** set_tid_address / CLONE_CHILD_CLEARTID. */
  clearChildTid = 0;
  robustList = 0;
  /** rseq(2) registration (see syscalls/rseq.ts). */
  rseq: RseqRegistration | null = null;
  state: 'runnable' | 'blocked' | 'exited' = 'runnable';
  altStackSp = 0;
  altStackSize = 0;
  /** As sigaltstack() stored them (Linux sas_ss_flags): 0 until set; threads start with SS_DISABLE (alt-stack.ts). */
  altStackFlags = 0;
  /** A syscall that returned Blocked: re-run it (not the instruction) when the task wakes. */
  restartSyscall = -1;
  /** The debugger has seen this syscall's entry stop (so the next run completes it). */
  entryReported = false;
  /** The syscall number at the entry stop (gdb may rewrite orig_rax). */
  entryNr = -1;
  /** Counts the times this task parked in a blocking call: a wake-up for an earlier parking is stale. */
  parkings = 0;
  /** rt_sigsuspend: the mask to restore once a signal has been handled. */
  suspendMask: [number, number] | null = null;
  /** Set by a successful execve (the syscall must not touch the new image's registers further). */
  execed = false;
  /** After rt_sigsuspend: the mask the next signal frame must save (restored by sigreturn). */
  pendingMaskRestore: [number, number] | null = null;
  /** Signal frames built so far: a debugger step that enters a handler stops at its first instruction. */
  signalFrames = 0;
  /** The last CPU exception (Linux thread.trap_nr, error_code, cr2): every signal frame's sigcontext shows them. */
  trapNr = 0;
  trapErr = 0;
  cr2 = 0;
  /** Signals sent but not yet delivered, with their siginfo. */
  readonly pendingSignals = new Map<number, SigInfo>();
  /** Pending signals already reported to the debugger (delivered on resume only if gdb passes them). */
  readonly debuggerSawSignal = new Set<number>();
  /** In vfork: the child, and whether it has exec'd or exited (the call then returns its pid). */
  vforkWait: { tid: number; done: boolean; released: Promise<void> } | null = null;
  /** Resume over a breakpoint at this address without reporting it again. */
  skipBreakpointAt = -1;

  constructor(
    readonly tid: number,
    readonly proc: Process,
    readonly cpu: Cpu,
    readonly kernel: Kernel,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }
  get mem(): AddressSpace {
    return this.proc.mem;
  }
  get files(): FileTable {
    return this.proc.files;
  }
  get fs(): FsContext {
    return this.proc.fs;
  }
}
