/** Event descriptors: epoll, eventfd, memfd_create. */
import type { Task } from '../task.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { argI, argU, argUI, readCString, readStruct, StructWriter } from '../args.js';
import { EBADF, EFAULT, EINVAL, ENAMETOOLONG, EPERM } from '../errno.js';
import { EpollInstance } from '../files/epoll.js';
import { EventFd, EFD_SEMAPHORE } from '../files/eventfd.js';
import { MemFile } from '../files/memfd.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from './abi.js';
import { deadlineFor, endWait, expired, waitAny } from './poll.js';
import { fileOf, impl, partial } from './util.js';

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
/** struct epoll_event is packed on x86-64: u32 events, u64 data. */
const EVENT_SIZE = 12;

function install(t: Task, d: import('../files/description.js').FileDescription, cloexec: boolean): number {
  const fd = t.files.install(d, cloexec);
  if (fd < 0) d.release();
  return fd;
}

function sysEpollCreate1(t: Task): number {
  const flags = argI(t, 0);
  if (flags & ~O_CLOEXEC) return -EINVAL;
  return install(t, new EpollInstance(O_RDWR), (flags & O_CLOEXEC) !== 0);
}

function epollOf(t: Task, fd: number): EpollInstance | number {
  const d = fileOf(t, fd);
  if (typeof d === 'number') return d;
  return d instanceof EpollInstance ? d : -EINVAL;
}

function sysEpollCtl(t: Task): number {
  const ep = epollOf(t, argI(t, 0));
  if (typeof ep === 'number') return ep;
  const op = argI(t, 1);
  const fd = argI(t, 2);
  const target = t.files.get(fd);
  if (!target) return -EBADF;
  // Regular files and directories cannot be watched (they are always ready).
  if (!target.pollable) return -EPERM;
  if (op === EPOLL_CTL_DEL) return ep.remove(fd);
  const ev = readStruct(t, argU(t, 3), EVENT_SIZE);
  const events = ev.getUint32(0, true);
  const lo = ev.getInt32(4, true);
  const hi = ev.getInt32(8, true);
  if (op === EPOLL_CTL_ADD) return ep.add(fd, target, events, lo, hi);
  if (op === EPOLL_CTL_MOD) return ep.modify(fd, events, lo, hi);
  return -EINVAL;
}

function doEpollWait(t: Task, epfd: number, evAddr: number, max: number, timeoutMs: number | null): number | Blocked {
  const ep = epollOf(t, epfd);
  if (typeof ep === 'number') return ep;
  if (max <= 0 || max > (1 << 26)) return -EINVAL;
  if (evAddr === 0) return -EFAULT;
  ep.prune((fd) => t.files.get(fd));
  const deadline = deadlineFor(t, timeoutMs);
  const ready = ep.collect(max);
  if (ready.length === 0 && timeoutMs !== 0 && !expired(deadline)) return waitAny(ep.watched(), deadline);
  endWait(t);
  if (ready.length === 0) return 0;
  const w = new StructWriter(EVENT_SIZE * ready.length);
  ready.forEach((e, k) => w.u32(EVENT_SIZE * k, e.events).i32(EVENT_SIZE * k + 4, e.dataLo).i32(EVENT_SIZE * k + 8, e.dataHi));
  w.writeTo(t, evAddr);
  return ready.length;
}

function timeoutArg(ms: number): number | null {
  return ms < 0 ? null : ms;
}

function sysEpollPwait2(t: Task): number | Blocked {
  const tsAddr = argU(t, 3);
  let ms: number | null = null;
  if (tsAddr) {
    const v = readStruct(t, tsAddr, 16);
    const sec = Number(v.getBigInt64(0, true));
    const nsec = Number(v.getBigInt64(8, true));
    if (sec < 0 || nsec < 0 || nsec >= 1e9) return -EINVAL;
    ms = sec * 1000 + nsec / 1e6;
  }
  return doEpollWait(t, argI(t, 0), argU(t, 1), argI(t, 2), ms);
}

function doEventfd(t: Task, initval: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE)) return -EINVAL;
  return install(t, new EventFd(initval, (flags & EFD_SEMAPHORE) !== 0, flags), (flags & O_CLOEXEC) !== 0);
}

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const MFD_NOEXEC_SEAL = 8;
const MFD_EXEC = 0x10;

function sysMemfdCreate(t: Task): number {
  const flags = argUI(t, 1);
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC)) return -EINVAL;
  const name = readCString(t, argU(t, 0), 250);
  if (name === null) return -ENAMETOOLONG;
  return install(t, new MemFile(name, 0), (flags & MFD_CLOEXEC) !== 0);
}

export const eventHandlers: Record<string, SyscallImpl> = {
  epoll_create: impl((t) => (argI(t, 0) <= 0 ? -EINVAL : install(t, new EpollInstance(O_RDWR), false))),
  epoll_create1: impl(sysEpollCreate1),
  epoll_ctl: partial(sysEpollCtl, 'EPOLLEXCLUSIVE/EPOLLWAKEUP ignored; edge-triggered mode reports changes of the ready set'),
  epoll_wait: impl((t) => doEpollWait(t, argI(t, 0), argU(t, 1), argI(t, 2), timeoutArg(argI(t, 3)))),
  epoll_pwait: partial((t) => doEpollWait(t, argI(t, 0), argU(t, 1), argI(t, 2), timeoutArg(argI(t, 3))), 'the signal mask argument is ignored'),
  epoll_pwait2: partial(sysEpollPwait2, 'the signal mask argument is ignored'),
  eventfd: impl((t) => doEventfd(t, argUI(t, 0), 0)),
  eventfd2: impl((t) => doEventfd(t, argUI(t, 0), argI(t, 1))),
  memfd_create: partial(sysMemfdCreate, 'no seals; MAP_SHARED mappings are private copies'),
};
