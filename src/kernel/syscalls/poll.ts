/** Readiness waits: poll, ppoll, select, pselect6 (parking the task, never the host). */
import type { Task } from '../task.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { argI, argU, readStruct, StructWriter, viewS64 } from '../args.js';
import { EINVAL } from '../errno.js';
import type { FileDescription, Readiness } from '../files/description.js';
import { impl, partial } from './util.js';

const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const POLLRDNORM = 0x40;
const POLLWRNORM = 0x100;

function revents(r: Readiness, events: number): number {
  let v = 0;
  if (r.readable) v |= events & (POLLIN | POLLRDNORM);
  if (r.writable) v |= events & (POLLOUT | POLLWRNORM);
  if (r.hangup) v |= POLLHUP;
  if (r.error) v |= POLLERR;
  return v;
}

interface Wait {
  /** Deadline in ms (performance.now scale), or null for none. */
  deadline: number | null;
  rip: number;
}

/** Deadline of the wait a task is re-running (same syscall instruction). */
const waits = new WeakMap<Task, Wait>();

/** Returns the deadline (ms) for this call, reusing the one recorded when re-run. */
export function deadlineFor(t: Task, timeoutMs: number | null): number | null {
  const w = waits.get(t);
  if (w && w.rip === t.cpu.rip) return w.deadline;
  const deadline = timeoutMs === null ? null : performance.now() + timeoutMs;
  waits.set(t, { deadline, rip: t.cpu.rip });
  return deadline;
}

/** Parks the task until one of descs may have changed, or the deadline. */
export function waitAny(descs: FileDescription[], deadline: number | null): Blocked {
  const ps: Promise<unknown>[] = [];
  for (const d of descs) {
    const p = d.readinessChange();
    if (p) ps.push(p);
  }
  if (deadline !== null) ps.push(new Promise((r) => setTimeout(r, Math.max(0, Math.ceil(deadline - performance.now())))));
  return new Blocked(ps.length ? Promise.race(ps) : new Promise(() => {}));
}

export function expired(deadline: number | null): boolean {
  return deadline !== null && performance.now() >= deadline;
}

/** The wait of t completed: the next call starts a new deadline. */
export function endWait(t: Task): void {
  waits.delete(t);
}

function doPoll(t: Task, fdsAddr: number, nfds: number, timeoutMs: number | null): number | Blocked {
  if (nfds > t.files.limit || nfds < 0) return -EINVAL;
  const deadline = deadlineFor(t, timeoutMs);
  const raw = nfds ? readStruct(t, fdsAddr, 8 * nfds) : null;
  const out = new StructWriter(8 * nfds);
  const descs: FileDescription[] = [];
  let ready = 0;
  for (let k = 0; k < nfds; k++) {
    const fd = raw!.getInt32(8 * k, true);
    const events = raw!.getInt16(8 * k + 4, true);
    out.i32(8 * k, fd).u16(8 * k + 4, events & 0xffff);
    let re = 0;
    if (fd >= 0) {
      const d = t.files.get(fd);
      if (!d) re = POLLNVAL;
      else {
        re = revents(d.poll(), events);
        descs.push(d);
      }
    }
    out.u16(8 * k + 6, re);
    if (re) ready++;
  }
  if (ready === 0 && timeoutMs !== 0 && !expired(deadline)) return waitAny(descs, deadline);
  waits.delete(t);
  if (nfds) out.writeTo(t, fdsAddr);
  return ready;
}

function sysPoll(t: Task): number | Blocked {
  const timeout = argI(t, 2);
  return doPoll(t, argU(t, 0), argI(t, 1), timeout < 0 ? null : timeout);
}

function timespecMs(t: Task, addr: number): number | null | -1 {
  if (addr === 0) return null;
  const v = readStruct(t, addr, 16);
  const sec = viewS64(v, 0);
  const nsec = viewS64(v, 8);
  if (sec < 0 || nsec < 0 || nsec >= 1e9) return -1;
  return sec * 1000 + nsec / 1e6;
}

function sysPpoll(t: Task): number | Blocked {
  const ms = timespecMs(t, argU(t, 2));
  if (ms === -1) return -EINVAL;
  return doPoll(t, argU(t, 0), argI(t, 1), ms);
}

function doSelect(t: Task, nfds: number, rAddr: number, wAddr: number, eAddr: number, timeoutMs: number | null): number | Blocked {
  if (nfds < 0 || nfds > t.files.limit) return -EINVAL;
  const bytes = Math.ceil(nfds / 64) * 8;
  const deadline = deadlineFor(t, timeoutMs);
  const read = (a: number) => (a && bytes ? t.mem.readBytes(a, bytes) : null);
  const rin = read(rAddr);
  const win = read(wAddr);
  const ein = read(eAddr);
  const rout = new Uint8Array(bytes);
  const wout = new Uint8Array(bytes);
  const eout = new Uint8Array(bytes);
  const descs: FileDescription[] = [];
  let ready = 0;
  for (let fd = 0; fd < nfds; fd++) {
    const bit = 1 << (fd & 7);
    const byte = fd >> 3;
    const wantR = rin ? rin[byte] & bit : 0;
    const wantW = win ? win[byte] & bit : 0;
    const wantE = ein ? ein[byte] & bit : 0;
    if (!wantR && !wantW && !wantE) continue;
    const d = t.files.get(fd);
    if (!d) {
      waits.delete(t);
      return -9; // EBADF
    }
    descs.push(d);
    const r = d.poll();
    if (wantR && (r.readable || r.hangup)) {
      rout[byte] |= bit;
      ready++;
    }
    if (wantW && (r.writable || r.error)) {
      wout[byte] |= bit;
      ready++;
    }
  }
  if (ready === 0 && timeoutMs !== 0 && !expired(deadline)) return waitAny(descs, deadline);
  waits.delete(t);
  if (rAddr && bytes) t.mem.writeBytes(rAddr, rout);
  if (wAddr && bytes) t.mem.writeBytes(wAddr, wout);
  if (eAddr && bytes) t.mem.writeBytes(eAddr, eout);
  return ready;
}

function sysSelect(t: Task): number | Blocked {
  const tvAddr = argU(t, 4);
  let ms: number | null = null;
  if (tvAddr) {
    const v = readStruct(t, tvAddr, 16);
    const sec = viewS64(v, 0);
    const usec = viewS64(v, 8);
    if (sec < 0 || usec < 0 || usec >= 1e6) return -EINVAL;
    ms = sec * 1000 + usec / 1000;
  }
  const r = doSelect(t, argI(t, 0), argU(t, 1), argU(t, 2), argU(t, 3), ms);
  // Linux writes back the time left; a completed wait leaves 0 when it timed out.
  if (tvAddr && typeof r === 'number' && r === 0 && ms !== null) new StructWriter(16).writeTo(t, tvAddr);
  return r;
}

function sysPselect6(t: Task): number | Blocked {
  const ms = timespecMs(t, argU(t, 4));
  if (ms === -1) return -EINVAL;
  return doSelect(t, argI(t, 0), argU(t, 1), argU(t, 2), argU(t, 3), ms);
}

export const pollHandlers: Record<string, SyscallImpl> = {
  poll: impl(sysPoll),
  ppoll: partial(sysPpoll, 'the signal mask argument is ignored'),
  select: partial(sysSelect, 'exceptfds never report; remaining time written only on timeout'),
  pselect6: partial(sysPselect6, 'the signal mask argument is ignored; exceptfds never report'),
};

