/**
 * Advisory file locks between the guest's processes: fcntl record locks
 * (POSIX, owned by the fd table as Linux owns them by files_struct; OFD,
 * owned by the open file description) and flock(2) locks (owned by the
 * description, a separate lock space). Files are identified by (dev, ino).
 * Host processes do not see these locks (Node has no fcntl).
 */
import { EAGAIN, EBADF, EINVAL } from '../errno.js';
import type { FileDescription } from './description.js';

export const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

/** A lock owner: an fd table (POSIX locks) or an open file description (OFD and flock locks). */
type Owner = object;

interface RecordLock {
  owner: Owner;
  /** Who set it (F_GETLK's l_pid; -1 for OFD locks). */
  pid: number;
  type: number;
  start: number;
  /** Exclusive; Infinity for "to the end of the file, however long". */
  end: number;
}

interface FileLocks {
  records: RecordLock[];
  /** flock(2): description → LOCK_SH or LOCK_EX. */
  flocks: Map<Owner, number>;
  /** Tasks waiting (F_SETLKW, blocking flock) for any change. */
  waiters: (() => void)[];
}

const files = new Map<string, FileLocks>();
/** Number of record locks each owner holds anywhere (close() only looks up the file when it is non-zero). */
const held = new WeakMap<Owner, number>();
/** Which files an owner holds locks on (keys), for release. */
const keysOf = new WeakMap<Owner, Set<string>>();

function fileKey(d: FileDescription): string | number {
  const st = d.stat();
  if (typeof st === 'number') return st;
  return `${st.dev}:${st.ino}`;
}

function locksOf(key: string): FileLocks {
  let f = files.get(key);
  if (!f) files.set(key, (f = { records: [], flocks: new Map(), waiters: [] }));
  return f;
}

function changed(key: string, f: FileLocks): void {
  const w = f.waiters;
  f.waiters = [];
  for (const wake of w) wake();
  if (!f.records.length && !f.flocks.size && !f.waiters.length) files.delete(key);
}

function account(owner: Owner, key: string, delta: number): void {
  const n = (held.get(owner) ?? 0) + delta;
  if (n > 0) held.set(owner, n);
  else held.delete(owner);
  let keys = keysOf.get(owner);
  if (!keys) keysOf.set(owner, (keys = new Set()));
  keys.add(key);
}

const conflicts = (a: RecordLock, type: number, start: number, end: number, owner: Owner) =>
  a.owner !== owner && a.start < end && start < a.end && (a.type === F_WRLCK || type === F_WRLCK);

/** Linux's list order (what F_GETLK reports first): grouped by owner, by start within an owner. */
function ownerOrder(locks: RecordLock[]): RecordLock[] {
  const rank = new Map<Owner, number>();
  for (const l of locks) if (!rank.has(l.owner)) rank.set(l.owner, rank.size);
  return locks.sort((a, b) => rank.get(a.owner)! - rank.get(b.owner)! || a.start - b.start);
}

/** A byte range request, resolved to absolute offsets. */
export interface LockRange {
  type: number;
  start: number;
  end: number;
}

/** The first lock of another owner that would block this request, or null. */
export function testRecordLock(d: FileDescription, owner: Owner, r: LockRange): RecordLock | null | number {
  const key = fileKey(d);
  if (typeof key === 'number') return key;
  const f = files.get(key);
  if (!f) return null;
  return f.records.find((l) => conflicts(l, r.type, r.start, r.end, owner)) ?? null;
}

/**
 * Sets (or with F_UNLCK clears) owner's lock over the range: 0, -EAGAIN when
 * another owner's lock is in the way, or a promise to wait on (F_SETLKW) that
 * settles when the file's locks change.
 */
export function setRecordLock(d: FileDescription, owner: Owner, pid: number, r: LockRange, wait: boolean): number | Promise<void> {
  const key = fileKey(d);
  if (typeof key === 'number') return key;
  const f = locksOf(key);
  if (r.type !== F_UNLCK && f.records.some((l) => conflicts(l, r.type, r.start, r.end, owner))) {
    if (!wait) return -EAGAIN;
    return new Promise<void>((resolve) => f.waiters.push(resolve));
  }
  let { start, end } = r;
  const kept: RecordLock[] = [];
  let removed = 0;
  for (const l of f.records) {
    if (l.owner !== owner || l.end < start || l.start > end) {
      kept.push(l);
      continue;
    }
    if (l.type === r.type) {
      // Same type, overlapping or adjacent: merge into the new lock.
      start = Math.min(start, l.start);
      end = Math.max(end, l.end);
      removed++;
    } else if (l.start < end && start < l.end) {
      // Overlapped by a different type (or unlock): keep the parts outside the range.
      removed++;
      if (l.start < start) { kept.push({ ...l, end: start }); removed--; }
      if (l.end > end) { kept.push({ ...l, start: end }); removed--; }
    } else kept.push(l);
  }
  if (r.type !== F_UNLCK) {
    kept.push({ owner, pid, type: r.type, start, end });
    removed--;
  }
  f.records = ownerOrder(kept);
  account(owner, key, -removed);
  changed(key, f);
  return 0;
}

/** Drops every record lock of owner on this file (POSIX: any close of the file by the fd table). */
function releaseRecords(owner: Owner, key: string): void {
  const f = files.get(key);
  if (!f) return;
  const before = f.records.length;
  f.records = f.records.filter((l) => l.owner !== owner);
  if (f.records.length !== before) {
    account(owner, key, f.records.length - before);
    changed(key, f);
  }
}

/** An fd of table was closed (or replaced by dup2): its POSIX locks on that file go, as on Linux. */
export function fdClosed(table: Owner, d: FileDescription): void {
  if (!held.has(table)) return;
  const key = fileKey(d);
  if (typeof key === 'number') return;
  releaseRecords(table, key);
}

/** The last reference to d is gone: its OFD and flock locks go. */
export function descriptionReleased(d: FileDescription): void {
  const keys = keysOf.get(d);
  if (!keys) return;
  keysOf.delete(d);
  for (const key of keys) {
    releaseRecords(d, key);
    const f = files.get(key);
    if (f?.flocks.delete(d)) changed(key, f);
  }
}

/** flock(2) on d: 0, -EAGAIN (LOCK_NB and held elsewhere), -EINVAL, or a promise to wait on. */
export function flockDescription(d: FileDescription, op: number): number | Promise<void> {
  const kind = op & ~LOCK_NB;
  if (kind !== LOCK_SH && kind !== LOCK_EX && kind !== LOCK_UN) return -EINVAL;
  const key = fileKey(d);
  if (typeof key === 'number') return key === -EBADF ? key : 0;
  const f = locksOf(key);
  if (kind === LOCK_UN) {
    if (f.flocks.delete(d)) changed(key, f);
    return 0;
  }
  const blocked = [...f.flocks].some(([owner, type]) => owner !== d && (type === LOCK_EX || kind === LOCK_EX));
  if (blocked) {
    // A conversion drops the old lock first, as Linux does.
    if (f.flocks.delete(d)) changed(key, f);
    if (op & LOCK_NB) return -EAGAIN;
    return new Promise<void>((resolve) => f.waiters.push(resolve));
  }
  f.flocks.set(d, kind);
  account(d, key, 0);
  return 0;
}
