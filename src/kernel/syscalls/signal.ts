import { argI, argU, readU64, writeU64 } from '../args.js';
import { EINVAL, EPERM, ESRCH } from '../errno.js';
import { SIGKILL, SIGSTOP } from '../signals.js';
import type { SyscallImpl } from '../syscall-types.js';
import type { Task } from '../task.js';

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const UNBLOCKABLE_LO = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/** Signal dispositions and masks (delivery to guest handlers is not implemented yet). */
export const signalHandlers: Record<string, SyscallImpl> = {
  rt_sigaction: {
    handler: (t: Task) => {
      const sig = argI(t, 0), act = argU(t, 1), oact = argU(t, 2);
      if (argU(t, 3) !== 8) return -EINVAL;
      if (sig < 1 || sig > 64 || ((sig === SIGKILL || sig === SIGSTOP) && act)) return -EINVAL;
      const a = t.proc.sigactions[sig];
      if (oact) {
        writeU64(t, oact, a.handler);
        writeU64(t, oact + 8, a.flags);
        writeU64(t, oact + 16, a.restorer);
        t.mem.write64(oact + 24, a.maskLo, a.maskHi);
      }
      if (act) {
        a.handler = readU64(t, act);
        a.flags = readU64(t, act + 8);
        a.restorer = readU64(t, act + 16);
        a.maskLo = t.mem.read64(act + 24);
        a.maskHi = t.mem.hi;
      }
      return 0;
    },
    coverage: 'partial',
    note: 'dispositions are recorded; guest handlers are not invoked yet (the default action applies)',
  },
  rt_sigprocmask: {
    handler: (t: Task) => {
      const how = argI(t, 0), set = argU(t, 1), oset = argU(t, 2);
      if (argU(t, 3) !== 8) return -EINVAL;
      let lo = 0, hi = 0;
      if (set) {
        lo = t.mem.read64(set);
        hi = t.mem.hi;
      }
      if (oset) t.mem.write64(oset, t.sigmaskLo, t.sigmaskHi);
      if (!set) return 0;
      switch (how) {
        case SIG_BLOCK: t.sigmaskLo |= lo; t.sigmaskHi |= hi; break;
        case SIG_UNBLOCK: t.sigmaskLo &= ~lo; t.sigmaskHi &= ~hi; break;
        case SIG_SETMASK: t.sigmaskLo = lo; t.sigmaskHi = hi; break;
        default: return -EINVAL;
      }
      t.sigmaskLo &= ~UNBLOCKABLE_LO;
      return 0;
    },
  },
  sigaltstack: {
    handler: (t: Task) => {
      const ss = argU(t, 0), old = argU(t, 1);
      if (old) {
        writeU64(t, old, t.altStackSp);
        t.mem.write32(old + 8, t.altStackFlags);
        writeU64(t, old + 16, t.altStackSize);
      }
      if (ss) {
        const flags = t.mem.read32(ss + 8);
        if (flags & ~(2 | (1 << 31))) return -EINVAL;
        t.altStackSp = readU64(t, ss);
        t.altStackFlags = flags & 2;
        t.altStackSize = readU64(t, ss + 16);
      }
      return 0;
    },
  },
  kill: {
    handler: (t: Task) => signalProcess(t, argI(t, 0), argI(t, 1)),
    coverage: 'partial',
    note: 'only the calling process (and pid 0/-1 meaning it)',
  },
  tgkill: {
    handler: (t: Task) => {
      const tgid = argI(t, 0), tid = argI(t, 1), sig = argI(t, 2);
      if (sig < 0 || sig > 64 || tid <= 0) return -EINVAL;
      const target = t.kernel.tasks.find((x) => x.tid === tid && x.pid === tgid && x.state !== 'exited');
      if (!target) return -ESRCH;
      t.kernel.sendSignal(target.proc, sig);
      return 0;
    },
  },
  tkill: {
    handler: (t: Task) => {
      const tid = argI(t, 0), sig = argI(t, 1);
      if (sig < 0 || sig > 64 || tid <= 0) return -EINVAL;
      const target = t.kernel.tasks.find((x) => x.tid === tid && x.state !== 'exited');
      if (!target) return -ESRCH;
      t.kernel.sendSignal(target.proc, sig);
      return 0;
    },
  },
};

function signalProcess(t: Task, pid: number, sig: number): number {
  if (sig < 0 || sig > 64) return -EINVAL;
  const target = pid === 0 || pid === -1 || pid === t.pid ? t.proc : t.kernel.tasks.find((x) => x.pid === pid && x.state !== 'exited')?.proc;
  if (!target) return -ESRCH;
  if (target !== t.proc && pid < 0) return -EPERM;
  t.kernel.sendSignal(target, sig);
  return 0;
}
