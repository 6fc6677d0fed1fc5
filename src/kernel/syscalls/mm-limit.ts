/**
 * --memory: how much guest memory a process may commit. Accessible mappings
 * (anything but PROT_NONE) count at their full size when they are made, the
 * way Linux's strict overcommit accounting charges them, so mmap, brk,
 * mprotect and mremap fail with ENOMEM at the limit instead of the guest
 * faulting later when the pool of frames runs dry.
 */
import type { Task } from '../task.js';

/** Bytes of accessible mappings in [start, end) (the whole address space by default). */
export function committedBytes(t: Task, start = 0, end = Infinity): number {
  let n = 0;
  for (const v of t.mem.mappings) {
    if (v.prot === 0 || v.end <= start || v.start >= end) continue;
    n += Math.min(v.end, end) - Math.max(v.start, start);
  }
  return n;
}

/** Whether the process may commit `more` bytes on top of what it has (a negative amount always fits). */
export function mayCommit(t: Task, more: number): boolean {
  return more <= 0 || committedBytes(t) + more <= t.kernel.options.memoryLimit;
}
