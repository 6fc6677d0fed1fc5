import type { Task } from '../task.js';
import type { AddressSpace } from '../../mem/address-space.js';
import type { FileDescription } from '../files/description.js';

/**
 * Writable MAP_SHARED file mappings. Guest memory holds a copy of the file
 * range (AddressSpace copies at map time), so changes are written back to
 * the file at msync, munmap and process exit: other readers of the file see
 * them then rather than immediately.
 */
interface SharedFileMapping {
  start: number;
  end: number;
  /** File offset of start. */
  offset: number;
  desc: FileDescription;
}

const mappings = new WeakMap<AddressSpace, SharedFileMapping[]>();

function listOf(mem: AddressSpace): SharedFileMapping[] {
  let l = mappings.get(mem);
  if (!l) mappings.set(mem, (l = []));
  return l;
}

/** Records a new shared writable file mapping (the description stays referenced until unmapped). */
export function trackSharedMapping(t: Task, start: number, len: number, offset: number, desc: FileDescription): void {
  desc.refs++;
  listOf(t.mem).push({ start, end: start + len, offset, desc });
}

/**
 * Writes the pages of [start, end) that belong to shared file mappings back
 * to their files (never past the file's end, like Linux). With forget, the
 * range stops being tracked (munmap).
 */
export function writeBack(t: Task, start: number, end: number, forget: boolean): void {
  const list = mappings.get(t.mem);
  if (!list || list.length === 0) return;
  const keep: SharedFileMapping[] = [];
  for (const m of list) {
    if (m.end <= start || m.start >= end) {
      keep.push(m);
      continue;
    }
    const a = Math.max(m.start, start);
    const b = Math.min(m.end, end);
    flushRange(t, m, a, b);
    if (!forget) {
      keep.push(m);
      continue;
    }
    // The parts outside the range stay tracked, each holding its own reference.
    const pieces: SharedFileMapping[] = [];
    if (m.start < a) pieces.push({ ...m, end: a });
    if (b < m.end) pieces.push({ ...m, start: b, offset: m.offset + (b - m.start) });
    keep.push(...pieces);
    m.desc.refs += pieces.length;
    if (--m.desc.refs === 0) m.desc.release();
  }
  mappings.set(t.mem, keep);
}

function flushRange(t: Task, m: SharedFileMapping, a: number, b: number): void {
  const st = m.desc.stat();
  if (typeof st === 'number') return;
  const off = m.offset + (a - m.start);
  const len = Math.min(b - a, st.size - off);
  if (len <= 0) return;
  const bytes = t.mem.peek(a, len);
  if (!bytes) return;
  // Stage the bytes through the description's own guest-memory interface.
  const scratch = t.mem.mmap(0, Math.ceil(len / 4096) * 4096, 3, {});
  if (scratch < 0) return;
  try {
    t.mem.writeBytes(scratch, bytes);
    m.desc.pwrite(t, scratch, len, off);
  } finally {
    t.mem.munmap(scratch, Math.ceil(len / 4096) * 4096);
  }
}

/** Writes back and forgets every shared file mapping of t's address space (process exit, execve). */
export function flushSharedMappings(t: Task): void {
  writeBack(t, 0, 2 ** 48, true);
}
