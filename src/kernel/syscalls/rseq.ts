/**
 * rseq(2), restartable sequences, as Linux implements it for one CPU.
 *
 * glibc registers an rseq area for every thread when the auxv offers
 * AT_RSEQ_FEATURE_SIZE; with the area registered, sched_getcpu() reads cpu_id
 * from it. elfshim runs every guest thread on one emulated CPU (0), so the
 * cpu/node/mm_cid fields are always 0, written at registration and, as Linux
 * does, again whenever the thread was preempted (a context switch between
 * guest threads, a debugger stop) or gets a signal. What must be kept is the
 * abort rule: a thread that is preempted or gets a signal inside a
 * critical section (rseq_cs) resumes at its abort handler, as on Linux.
 */
import { argI, argU } from '../args.js';
import { EBUSY, EFAULT, EINVAL, EPERM } from '../errno.js';
import type { SyscallImpl } from '../syscall-types.js';
import type { Task } from '../task.js';

const RSEQ_FLAG_UNREGISTER = 1;
const ORIG_RSEQ_SIZE = 32;
/** offsetof(struct rseq, end): cpu_id_start, cpu_id, rseq_cs, flags, node_id, mm_cid. */
export const RSEQ_FEATURE_SIZE = 28;
export const RSEQ_ALIGN = 32;
const USER_END = 0x800000000000;

/** A thread's registration (cleared by execve; threads start without one; fork children inherit it). */
export interface RseqRegistration {
  addr: number;
  len: number;
  sig: number;
}

/** RSEQ_CPU_ID_UNINITIALIZED: cpu_id of an area no kernel keeps up to date. */
const CPU_ID_UNINITIALIZED = 0xffffffff;

/** Writes cpu_id_start, cpu_id, node_id and mm_cid; false when the area is not writable. */
function writeIds(t: Task, addr: number, cpuStart: number, cpu = cpuStart): boolean {
  try {
    t.mem.write32(addr, cpuStart);
    t.mem.write32(addr + 4, cpu);
    t.mem.write32(addr + 20, 0);
    t.mem.write32(addr + 24, 0);
    return true;
  } catch {
    return false;
  }
}

function rseq(t: Task): number {
  const addr = argU(t, 0), len = argI(t, 1) >>> 0, flags = argI(t, 2), sig = argI(t, 3) >>> 0;
  const cur = t.rseq;
  if (flags & RSEQ_FLAG_UNREGISTER) {
    if (flags & ~RSEQ_FLAG_UNREGISTER) return -EINVAL;
    if (!cur || cur.addr !== addr || cur.len !== len) return -EINVAL;
    if (cur.sig !== sig) return -EPERM;
    // Linux resets the ids (rseq_reset_rseq_cpu_node_id): cpu_id_start 0, cpu_id uninitialized, node_id and mm_cid 0.
    if (!writeIds(t, addr, 0, CPU_ID_UNINITIALIZED)) return -EFAULT;
    t.rseq = null;
    return 0;
  }
  if (flags) return -EINVAL;
  if (cur) {
    if (cur.addr !== addr || cur.len !== len) return -EINVAL;
    return cur.sig === sig ? -EBUSY : -EPERM;
  }
  const misaligned = len === ORIG_RSEQ_SIZE ? addr % ORIG_RSEQ_SIZE !== 0 : addr % RSEQ_ALIGN !== 0 || len < RSEQ_FEATURE_SIZE;
  if (len < ORIG_RSEQ_SIZE || misaligned) return -EINVAL;
  if (addr + len > USER_END) return -EFAULT;
  t.rseq = { addr, len, sig };
  // Linux writes the ids on the way back to user space; a faulting area gets SIGSEGV there.
  if (!writeIds(t, addr, 0)) {
    t.rseq = null;
    // SIGSEGV, SI_KERNEL; not a CPU exception, so the sigcontext keeps the last one's trapno/err.
    t.kernel.forceSignal(t, 11, { code: 0x80, addr: 0 }, { nr: t.trapNr, err: t.trapErr, trap: true });
  }
  return 0;
}

const u64 = (t: Task, a: number) => (t.mem.read32(a) >>> 0) + (t.mem.read32(a + 4) >>> 0) * 2 ** 32;

/**
 * What Linux does on the way back to a thread that was preempted or is getting a
 * signal (rseq_handle_notify_resume): if rip lies in the registered critical
 * section, continue at abort_ip; rseq_cs is cleared either way; then the ids
 * are written again (a program that overwrote them sees them restored).
 * Returns false when the area or descriptor is bad (Linux then kills the
 * thread with SIGSEGV).
 */
export function rseqFixup(t: Task): boolean {
  const reg = t.rseq;
  if (!reg) return true;
  try {
    const cs = u64(t, reg.addr + 8);
    if (cs !== 0) {
      const version = t.mem.read32(cs);
      const start = u64(t, cs + 8), postCommit = u64(t, cs + 16), abort = u64(t, cs + 24);
      if (version !== 0 || start + postCommit < start || (abort >= start && abort < start + postCommit)) return false;
      const rip = t.cpu.rip;
      if (rip >= start && rip < start + postCommit) {
        if (t.mem.read32(abort - 4) >>> 0 !== reg.sig) return false;
        t.cpu.rip = abort;
      }
      t.mem.write32(reg.addr + 8, 0);
      t.mem.write32(reg.addr + 12, 0);
    }
    return writeIds(t, reg.addr, 0);
  } catch {
    return false;
  }
}

export const rseqHandlers: Record<string, SyscallImpl> = {
  rseq: { handler: rseq },
};
