/**
 * --memory: how much guest memory all guest processes together may commit.
 * Accessible mappings (anything but PROT_NONE) count at their full size when
 * they are made, the way Linux's strict overcommit accounting charges them, so
 * mmap, brk, mprotect, mremap and fork fail with ENOMEM at the limit instead of
 * a guest faulting later when the shared pool of frames runs dry. The limit is
 * one budget for the whole run (fork children included): the frames behind it
 * are one pool.
 */
import type { AddressSpace } from '../../mem/address-space.js';
import type { Task } from '../task.js';

/** Bytes of accessible mappings of mem in [start, end) (the whole address space by default). */
export function mappedBytes(mem: AddressSpace, start = 0, end = Infinity): number {
  let n = 0;
  for (const v of mem.mappings) {
    if (v.prot === 0 || v.end <= start || v.start >= end) continue;
    n += Math.min(v.end, end) - Math.max(v.start, start);
  }
  return n;
}

/** Bytes of accessible mappings of t's process in [start, end). */
export function committedBytes(t: Task, start = 0, end = Infinity): number {
  return mappedBytes(t.mem, start, end);
}

/** What every live guest process has committed (threads share their process's address space). */
export function totalCommitted(t: Task): number {
  const seen = new Set<AddressSpace>();
  let n = 0;
  for (const x of t.kernel.tasks) {
    if (x.state === 'exited' || seen.has(x.mem)) continue;
    seen.add(x.mem);
    n += mappedBytes(x.mem);
  }
  // t itself may be between tasks (a fork child not yet listed): count it once.
  if (!seen.has(t.mem)) n += mappedBytes(t.mem);
  return n;
}

/** Whether `more` bytes may be committed on top of what all guest processes hold (a negative amount always fits). */
export function mayCommit(t: Task, more: number): boolean {
  return more <= 0 || totalCommitted(t) + more <= t.kernel.options.memoryLimit;
}
