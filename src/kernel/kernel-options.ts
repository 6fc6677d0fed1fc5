import { writeDiagnostic } from './files/elfshim-stderr.js';
import { DEFAULT_CODE_CACHE_INSTRS, Engine, type EngineMode } from '../cpu/engine.js';
/** Everything the command line configures about a run. */
export interface KernelOptions {
  /** Host directory that is the guest's `/`, or null for the host's `/` (like qemu-x86_64). */
  rootfs: string | null;
  /** Host directory the guest starts in (inside rootfs; else it starts at `/`), or null for elfshim's own. */
  cwd: string | null;
  /** Seed for AT_RANDOM and getrandom; null = host randomness. */
  seed: number | null;
  /** One strace line per syscall, written to straceOut. */
  strace: boolean;
  straceOut: (line: string) => void;
  /** What an unimplemented syscall does. */
  onUnimplemented: 'enosys' | 'sigsys' | 'stop';
  /** Print the per-syscall table at exit. */
  syscallReport: boolean;
  /** Guest memory pool size in bytes. */
  memoryLimit: number;
  /** Maximum number of guest tasks (threads + processes). */
  maxTasks: number;
  /** How guest code runs: translated to JavaScript ('jit') or interpreted ('interp'). */
  engine: EngineMode;
  /** Decoded instructions an address space's code cache holds before it is flushed (bounds translated code too). */
  codeCacheInstrs: number;
  /** Give programs elfshim's vDSO (AT_SYSINFO_EHDR); off like Linux's vdso=0 (the lockstep differ runs without it). */
  vdso: boolean;
  /**
   * The memory pool is a SharedArrayBuffer, which spares a full GC at startup (mem/physical.ts);
   * for a process that runs this one kernel until it exits (the CLI).
   */
  sharedPool: boolean;
}

export const defaultOptions = (): KernelOptions => ({
  rootfs: null,
  cwd: null,
  seed: null,
  strace: false,
  straceOut: (line) => writeDiagnostic(line + '\n'),
  onUnimplemented: 'enosys',
  syscallReport: false,
  memoryLimit: 2 ** 31 - 4096,
  maxTasks: 256,
  engine: Engine.defaultMode,
  codeCacheInstrs: DEFAULT_CODE_CACHE_INSTRS,
  vdso: true,
  sharedPool: false,
});
