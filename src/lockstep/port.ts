import type { MemoryPort } from './bytes.js';
import type { Registers } from './side.js';

/**
 * What syscall reconciliation and signal-frame alignment need of a side:
 * its registers and memory. A gdb-stub `Side` (RSP) is one; the fast
 * transport's ptrace tracer and in-process emulator are others.
 */
export interface StatePort extends MemoryPort {
  registers(): Promise<Registers>;
  writeRegister(name: string, value: Uint8Array): Promise<void>;
}
