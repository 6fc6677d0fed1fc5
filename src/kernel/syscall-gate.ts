import { dispatchSyscall, syscallByNumber, unimplementedHooks } from './syscall-table.js';
import { writeDiagnostic } from './files/elfshim-stderr.js';
import type { Blocked } from './syscall-types.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';

/**
 * The kernel's entry to the syscall table: runs the call, and applies the
 * --on-unimplemented policy to calls the shim does not have. The notice for
 * a missing call is printed once per syscall number.
 */
export class SyscallGate {
  constructor(private readonly kernel: Kernel) {
    unimplementedHooks.onFirstUse = (t, nr, name) => {
      const pc = t.cpu.rip - 2;
      writeDiagnostic(`elfshim: unimplemented syscall ${name} (${nr}) at 0x${pc.toString(16)}\n`);
    };
  }

  /** Whether the shim implements nr (fully or partially). */
  implemented(nr: number): boolean {
    return !!syscallByNumber(nr)?.impl;
  }

  call(t: Task, nr: number): number | Blocked {
    // Numbers no kernel has (negative, huge: e.g. a debugger's orig_rax) simply fail with ENOSYS.
    if (!Number.isInteger(nr) || nr < 0 || nr > 4095) return -38;
    const r = dispatchSyscall(t, nr);
    if (!this.implemented(nr) && this.kernel.options.onUnimplemented === 'sigsys') {
      this.kernel.sigsys(t, nr);
      // seccomp rolls the call back (syscall_rollback): rax holds the number again, not -ENOSYS.
      return nr;
    }
    return r;
  }
}
