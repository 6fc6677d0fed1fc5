/** Waiting for signals instead of handling them: rt_sigtimedwait, signalfd, signalfd4. */
import type { Task } from '../task.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { argI, argU, readStruct, viewS64 } from '../args.js';
import { EAGAIN, EBADF, EINVAL } from '../errno.js';
import { O_CLOEXEC, O_NONBLOCK } from './abi.js';
import { SIGKILL, SIGSTOP } from '../signals.js';
import { writeSiginfo } from '../signal-frame.js';
import { nextSignal, takeSignal } from '../signal-queue.js';
import { SignalFd } from '../files/signalfd.js';
import { impl } from './util.js';

const NR_RT_SIGTIMEDWAIT = 128;
const UNBLOCKABLE_LO = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/** A wait in progress: its deadline (ms since the epoch, Infinity without a timeout) and whether it passed. */
const waits = new WeakMap<Task, { deadline: number; timedOut: boolean }>();

function sysRtSigtimedwait(t: Task): number | Blocked {
  const setAddr = argU(t, 0), infoAddr = argU(t, 1), timeoutAddr = argU(t, 2);
  if (argU(t, 3) !== 8) return -EINVAL;
  const lo = t.mem.read64(setAddr) & ~UNBLOCKABLE_LO;
  const hi = t.mem.hi;
  // The same call re-run after it blocked (the kernel sets restartSyscall before re-running it).
  const rerun = t.restartSyscall === NR_RT_SIGTIMEDWAIT;
  let w = rerun ? waits.get(t) : undefined;
  const got = takeSignal(t, lo, hi);
  if (got) {
    waits.delete(t);
    if (infoAddr) writeSiginfo(t.cpu, infoAddr, got);
    return got.signo;
  }
  if (w?.timedOut) {
    waits.delete(t);
    return -EAGAIN;
  }
  if (!w) {
    let deadline = Infinity;
    if (timeoutAddr) {
      const v = readStruct(t, timeoutAddr, 16);
      const sec = viewS64(v, 0), nsec = viewS64(v, 8);
      if (sec < 0 || nsec < 0 || nsec >= 1e9) return -EINVAL;
      if (sec === 0 && nsec === 0) return -EAGAIN;
      deadline = Date.now() + sec * 1000 + nsec / 1e6;
    }
    waits.set(t, (w = { deadline, timedOut: false }));
  }
  const wait = w;
  const queued = nextSignal(t.proc);
  if (wait.deadline === Infinity) return new Blocked(queued);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      wait.timedOut = true;
      resolve();
    }, Math.max(0, wait.deadline - Date.now()));
  });
  return new Blocked(Promise.race([queued, expired]).finally(() => clearTimeout(timer)));
}

const SFD_FLAGS = O_NONBLOCK | O_CLOEXEC;

function doSignalfd(t: Task, fd: number, maskAddr: number, size: number, flags: number): number {
  if (size !== 8 || flags & ~SFD_FLAGS) return -EINVAL;
  const lo = t.mem.read64(maskAddr) & ~UNBLOCKABLE_LO;
  const hi = t.mem.hi;
  if (fd !== -1) {
    const d = t.files.get(fd);
    if (!d) return -EBADF;
    if (!(d instanceof SignalFd)) return -EINVAL;
    d.maskLo = lo;
    d.maskHi = hi;
    return fd;
  }
  const proc = t.proc;
  const anyTask = () => t.kernel.tasks.find((x) => x.proc === proc && x.state !== 'exited');
  return t.files.install(new SignalFd(lo, hi, proc, anyTask, flags), (flags & O_CLOEXEC) !== 0);
}

export const sigwaitHandlers: Record<string, SyscallImpl> = {
  rt_sigtimedwait: impl(sysRtSigtimedwait),
  signalfd: impl((t) => doSignalfd(t, argI(t, 0), argU(t, 1), argU(t, 2), 0)),
  signalfd4: impl((t) => doSignalfd(t, argI(t, 0), argU(t, 1), argU(t, 2), argI(t, 3))),
};
