import type { Registers } from '../side.js';
import { siginfoPidToEmulator, type SyscallContext } from '../syscalls.js';
import type { EmulatorSide } from './emulator-side.js';

const SYS_READ = 0, SYS_OPEN = 2, SYS_GETSOCKOPT = 55, SYS_FCNTL = 72, SYS_OPENAT = 257;
const F_GETLK = 5, SOL_SOCKET = 1, SO_PEERCRED = 17;

/**
 * Where a finished syscall wrote pids into memory natively, beyond siginfos (syscalls.ts): a signalfd record's
 * ssi_pid (offset 12 of each 128-byte record), F_GETLK's l_pid (offset 24 of struct flock: the lock owner),
 * SO_PEERCRED's ucred.pid (the peer).
 */
function pidFields(emu: EmulatorSide, before: Registers, result: bigint): number[] {
  const nr = before.num('rax'), ret = result < 1n << 30n ? Number(result) : -1;
  const out: number[] = [];
  if (nr === SYS_READ && ret > 0 && emu.isSignalFd(before.num('rdi'))) for (let off = 0; off + 128 <= ret; off += 128) out.push(before.num('rsi') + off + 12);
  if (nr === SYS_FCNTL && ret === 0 && before.num('rsi') === F_GETLK) out.push(before.num('rdx') + 24);
  if (nr === SYS_GETSOCKOPT && ret === 0 && before.num('rsi') === SOL_SOCKET && before.num('rdx') === SO_PEERCRED) out.push(before.num('r10'));
  return out;
}

/**
 * The fast differ's fix-ups after a syscall stepped on both sides, for the ids the two runs number differently
 * (the fast transport follows several processes, whose native pids differ from elfshim's): pids the host kernel
 * wrote into memory become elfshim's natively (before reconcileSyscall copies buffers to elfshim), and an open
 * that failed natively but not under elfshim (a /proc path naming an id proc-paths.ts could not translate: one the
 * differ never saw returned) has elfshim's fd closed, so the fd tables stay equal.
 */
export async function reconcileIds(ctx: SyscallContext, emu: EmulatorSide, before: Registers, n: Registers, e: Registers): Promise<void> {
  const nr = before.num('rax'), rn = BigInt.asIntN(64, n.big('rax')), re = BigInt.asIntN(64, e.big('rax'));
  if ((nr === SYS_OPEN || nr === SYS_OPENAT) && rn < 0n && re >= 0n) {
    emu.closeFd(Number(re));
    ctx.count('open that failed natively (the fd elfshim opened closed)');
  }
  for (const addr of pidFields(emu, before, n.big('rax'))) if (await siginfoPidToEmulator(ctx, addr)) ctx.count("pid in a syscall's output (elfshim's given to native)");
}
