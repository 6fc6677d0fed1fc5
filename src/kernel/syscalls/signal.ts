import { argI, argU, readU64, writeU64 } from '../args.js';
import { EINTR, EINVAL, ESRCH } from '../errno.js';
import { SIGALRM, SIGKILL, SIGSTOP } from '../signals.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { restoreSignalFrame } from '../signal-frame.js';
import { SS_AUTODISARM, altStackState, setAltStack } from '../alt-stack.js';
import { RSP } from '../../cpu/cpu.js';
import type { Process, Task } from '../task.js';

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const UNBLOCKABLE_LO = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/** Signal dispositions, masks, sending and the return from handlers. */
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
  },
  rt_sigreturn: {
    handler: (t: Task) => restoreSignalFrame(t),
  },
  rt_sigpending: {
    handler: (t: Task) => {
      let lo = 0, hi = 0;
      for (const sig of t.pendingSignals.keys()) {
        if (sig <= 32) lo |= 1 << (sig - 1);
        else hi |= 1 << (sig - 33);
      }
      t.mem.write64(argU(t, 0), lo & t.sigmaskLo, hi & t.sigmaskHi);
      return 0;
    },
  },
  rt_sigsuspend: {
    handler: (t: Task) => {
      // Wait with the given mask until a signal is delivered; then EINTR (the handler runs first).
      if (t.suspendMask === null) {
        t.suspendMask = [t.sigmaskLo, t.sigmaskHi];
        t.sigmaskLo = t.mem.read64(argU(t, 0)) & ~UNBLOCKABLE_LO;
        t.sigmaskHi = t.mem.hi;
        // A signal that arrived while blocked and that the new mask lets through ends the wait at once
        // (shells block everything, waitpid(WNOHANG), then sigsuspend: SIGCHLD may come in between).
        if (hasDeliverable(t)) {
          t.pendingMaskRestore = t.suspendMask;
          t.suspendMask = null;
          return -EINTR;
        }
      }
      return new Blocked(new Promise<void>(() => {}));
    },
    coverage: 'partial',
    note: 'the original mask is restored after the handler returns (not inside it)',
  },
  pause: {
    handler: () => new Blocked(new Promise<void>(() => {})),
  },
  setitimer: {
    handler: (t: Task) => {
      const which = argI(t, 0), nv = argU(t, 1), ov = argU(t, 2);
      if (which !== 0) return -EINVAL;
      const proc = t.proc;
      if (ov) writeItimer(t, ov, proc.alarmAt ? Math.max(0, proc.alarmAt - Date.now()) : 0, proc.alarmIntervalMs);
      if (!nv) return 0;
      const intervalMs = readU64(t, nv) * 1000 + readU64(t, nv + 8) / 1000;
      const valueMs = readU64(t, nv + 16) * 1000 + readU64(t, nv + 24) / 1000;
      armRealTimer(t, valueMs, intervalMs);
      return 0;
    },
    coverage: 'partial',
    note: 'ITIMER_REAL only',
  },
  getitimer: {
    handler: (t: Task) => {
      if (argI(t, 0) !== 0) return -EINVAL;
      const proc = t.proc;
      writeItimer(t, argU(t, 1), proc.alarmAt ? Math.max(0, proc.alarmAt - Date.now()) : 0, proc.alarmIntervalMs);
      return 0;
    },
    coverage: 'partial',
    note: 'ITIMER_REAL only',
  },
  alarm: {
    handler: (t: Task) => {
      const secs = argU(t, 0) >>> 0;
      const proc = t.proc;
      const left = proc.alarmAt ? Math.max(0, Math.round((proc.alarmAt - Date.now()) / 1000)) : 0;
      armRealTimer(t, secs * 1000, 0);
      return left;
    },
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
    // do_sigaltstack: the old stack is taken before the change and written only if the change succeeds.
    handler: (t: Task) => {
      const ss = argU(t, 0), old = argU(t, 1);
      const sp = t.cpu.getS(RSP);
      const was = [t.altStackSp, altStackState(t, sp) | (t.altStackFlags & SS_AUTODISARM), t.altStackSize];
      const r = ss ? setAltStack(t, sp, readU64(t, ss), readU64(t, ss + 16), t.mem.read32(ss + 8)) : 0;
      if (r === 0 && old) {
        writeU64(t, old, was[0]);
        t.mem.write64(old + 8, was[1], 0);
        writeU64(t, old + 16, was[2]);
      }
      return r;
    },
  },
  kill: {
    handler: (t: Task) => signalProcess(t, argI(t, 0), argI(t, 1)),
  },
  tgkill: {
    handler: (t: Task) => {
      const tgid = argI(t, 0), tid = argI(t, 1), sig = argI(t, 2);
      if (sig < 0 || sig > 64 || tid <= 0) return -EINVAL;
      const target = t.kernel.tasks.find((x) => x.tid === tid && x.pid === tgid && x.state !== 'exited');
      if (!target) return -ESRCH;
      t.kernel.sendSignal(target.proc, sig, { signo: sig, code: -6, pid: t.pid }, target);
      return 0;
    },
  },
  tkill: {
    handler: (t: Task) => {
      const tid = argI(t, 0), sig = argI(t, 1);
      if (sig < 0 || sig > 64 || tid <= 0) return -EINVAL;
      const target = t.kernel.tasks.find((x) => x.tid === tid && x.state !== 'exited');
      if (!target) return -ESRCH;
      t.kernel.sendSignal(target.proc, sig, { signo: sig, code: -6, pid: t.pid }, target);
      return 0;
    },
  },
};

/** Whether t has a pending signal its current mask lets through. */
function hasDeliverable(t: Task): boolean {
  for (const sig of t.pendingSignals.keys()) {
    const blocked = sig <= 32 ? (t.sigmaskLo >>> (sig - 1)) & 1 : (t.sigmaskHi >>> (sig - 33)) & 1;
    if (!blocked || sig === SIGKILL) return true;
  }
  return false;
}

/** Arms (or with valueMs 0 disarms) the process's ITIMER_REAL, shared with alarm(). */
function armRealTimer(t: Task, valueMs: number, intervalMs: number): void {
  const proc = t.proc;
  if (proc.alarmTimer) clearTimeout(proc.alarmTimer);
  proc.alarmTimer = null;
  proc.alarmAt = 0;
  proc.alarmIntervalMs = intervalMs;
  if (valueMs <= 0) return;
  proc.alarmAt = Date.now() + valueMs;
  proc.alarmTimer = setTimeout(function fire() {
    proc.alarmTimer = null;
    proc.alarmAt = 0;
    if (proc.exitCode !== null) return;
    t.kernel.sendSignal(proc, SIGALRM);
    if (proc.alarmIntervalMs > 0) {
      proc.alarmAt = Date.now() + proc.alarmIntervalMs;
      proc.alarmTimer = setTimeout(fire, proc.alarmIntervalMs);
    }
  }, valueMs);
}

function writeItimer(t: Task, a: number, valueMs: number, intervalMs: number): void {
  const put = (off: number, ms: number) => {
    writeU64(t, a + off, Math.floor(ms / 1000));
    writeU64(t, a + off + 8, Math.floor((ms % 1000) * 1000));
  };
  put(0, intervalMs);
  put(16, valueMs);
}

/**
 * kill(2): pid > 0 one process, 0 the caller's process group, -1 every other guest
 * process, < -1 the process group -pid. Signal 0 only checks that a target exists.
 */
function signalProcess(t: Task, pid: number, sig: number): number {
  if (sig < 0 || sig > 64) return -EINVAL;
  const live = new Set<Process>();
  for (const x of t.kernel.tasks) if (x.state !== 'exited' && x.proc.exitCode === null) live.add(x.proc);
  let targets: Process[];
  if (pid > 0) {
    // Any thread id names its whole process; a zombie child still exists (and ignores the signal).
    const x = t.kernel.tasks.find((y) => y.tid === pid && y.state !== 'exited' && y.proc.exitCode === null);
    if (!x) return t.proc.children.some((c) => c.pid === pid) ? 0 : -ESRCH;
    targets = [x.proc];
  }
  else if (pid === 0) targets = [...live].filter((p) => p.pgid === t.proc.pgid);
  else if (pid === -1) targets = [...live].filter((p) => p !== t.proc);
  else targets = [...live].filter((p) => p.pgid === -pid);
  if (!targets.length) return -ESRCH;
  // The caller last: a signal that kills it must not stop the others from being sent.
  targets.sort((a, b) => Number(a === t.proc) - Number(b === t.proc));
  if (sig) for (const p of targets) t.kernel.sendSignal(p, sig, { signo: sig, code: 0, pid: t.pid });
  return 0;
}
