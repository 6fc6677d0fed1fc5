import type { Cpu } from '../cpu/cpu.js';
import type { AddressSpace } from '../mem/address-space.js';

/**
 * Why the guest stopped, as the stub must report it. Signal numbers here are
 * Linux's; the stub translates them to gdb's numbering on the wire.
 */
export type StopEvent =
  | {
      kind: 'signal';
      /** Linux signal number (SIGTRAP=5 for breakpoints/steps, SIGINT=2, SIGSEGV=11, SIGSYS=31 ...). */
      signal: number;
      /** Extra stop-reply detail. */
      reason?: 'swbreak' | 'hwbreak' | 'watch' | 'rwatch' | 'awatch' | 'syscall_entry' | 'syscall_return';
      /** Data address for watch reasons. */
      addr?: number;
      /** Syscall number for syscall_entry / syscall_return. */
      syscall?: number;
      /** Thread that stopped. */
      tid: number;
    }
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number };

export type BreakKind = 'sw' | 'hw';
export type WatchKind = 'watch' | 'rwatch' | 'awatch';

/** siginfo of thread tid's last signal (default: the stopped one), for qXfer:siginfo:read (128 bytes as the kernel lays it out). */
export interface SigInfoSource {
  siginfo(tid?: number): Uint8Array | null;
}

/**
 * What the gdb stub needs from the emulator. The stub never pokes the CPU or
 * kernel directly: it goes through this interface (see docs/ARCHITECTURE.md).
 */
export interface Target extends SigInfoSource {
  readonly pid: number;
  /** Thread ids of the debugged process (first is the main thread). */
  threads(): number[];
  /** A thread's name (comm, as `info threads` shows it), if the target knows names. */
  threadName?(tid: number): string | null;
  /** The CPU state of a thread (registers are read/written through src/gdb/registers.ts). */
  cpuOf(tid: number): Cpu | undefined;
  /** The debugged process's address space. */
  readonly mem: AddressSpace;

  insertBreakpoint(kind: BreakKind, addr: number): boolean;
  removeBreakpoint(kind: BreakKind, addr: number): boolean;
  insertWatchpoint(kind: WatchKind, addr: number, len: number): boolean;
  removeWatchpoint(kind: WatchKind, addr: number, len: number): boolean;

  /**
   * Resumes the guest. step: execute exactly one instruction of thread tid.
   * For a continue, tid names the thread that receives the resume signal (or
   * the thread gdb named); undefined means all threads run. signal: Linux
   * signal to deliver on resume (0 = none). othersRun (vCont "s:T;c"): while
   * thread tid steps, the other threads run, and the first stop of any
   * thread ends the resume. Resolves with the next stop.
   */
  resume(opts: { step: boolean; tid?: number; signal: number; othersRun?: boolean }): Promise<StopEvent>;
  /**
   * Stops a running guest as soon as possible (Ctrl-C); the pending resume()
   * resolves with SIGINT. May be called right after resume() (Ctrl-C in the
   * same read as the continue packet).
   */
  interrupt(): void;
  /** A debugger connects to a guest running without one (--no-wait, re-attach): stop it wherever it is. */
  attach?(): Promise<StopEvent>;
  /** Ends the guest (gdb `kill`). */
  kill(): void;
  /**
   * Lets the guest run to completion without the debugger (gdb `detach`, or a
   * dropped connection). detach(), removeBreakpoint() and removeWatchpoint()
   * may be called while a resume() is pending; its late result is ignored.
   */
  detach(): void;

  /** Syscall catchpoints: null = off, empty set = all, else those numbers. */
  setCatchSyscalls(set: Set<number> | null): void;

  /** Auxiliary vector bytes (qXfer:auxv:read). */
  auxv(): Uint8Array;
  /**
   * The dynamic linker's list of loaded objects as a <library-list-svr4>
   * document (qXfer:libraries-svr4:read), or null when unavailable (gdb then
   * reads r_debug itself).
   */
  librariesSvr4?(): string | null;
  /**
   * qGetTLSAddr: the address of offset in the TLS block of the module whose
   * link_map is at lm, for thread tid; null when it cannot be found.
   */
  tlsAddress?(tid: number, offset: number, lm: number): number | null;
  /** Guest path of the executable (qXfer:exec-file:read). */
  execFile(): string;
  /** Reads a file from the guest's filesystem view (vFile). */
  vfs: GuestFiles;
  /** Monitor command (qRcmd) → text output, or null if unknown. */
  monitor(cmd: string): string | null;
}

/**
 * The guest's filesystem as the debugger sees it (vFile:* packets). Negative
 * numbers are -errno (Linux values; the stub translates them to gdb's). open()
 * receives Linux O_* flags (the stub translates gdb's File-I/O flags).
 */
export interface GuestFiles {
  open(path: string, flags: number, mode: number): number;
  pread(fd: number, count: number, offset: number): Uint8Array | number;
  pwrite(fd: number, data: Uint8Array, offset: number): number;
  close(fd: number): number;
  /** struct stat in gdb's fileio format (big-endian, 64 bytes), or -errno. */
  fstat(fd: number): Uint8Array | number;
  readlink(path: string): string | number;
  unlink(path: string): number;
}
