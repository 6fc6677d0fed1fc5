/** fcntl record locks (F_GETLK/F_SETLK/F_SETLKW and the F_OFD_* forms) and flock(2). */
import type { Task } from '../task.js';
import { Blocked } from '../syscall-types.js';
import { argI, readStruct, viewS64 } from '../args.js';
import { EBADF, EINVAL, EOVERFLOW } from '../errno.js';
import type { FileDescription } from '../files/description.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, flockDescription, setRecordLock, testRecordLock, type LockRange } from '../files/locks.js';
import { F_GETLK, F_OFD_GETLK, F_OFD_SETLKW, F_SETLKW, O_ACCMODE, O_PATH, O_RDONLY, O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET } from './abi.js';
import { fileOf } from './util.js';

const FLOCK_SIZE = 32; // short l_type, short l_whence, (pad), off_t l_start, off_t l_len, pid_t l_pid
const OFF_MAX = Number.MAX_SAFE_INTEGER;

/** struct flock → an absolute byte range, or -errno. */
function readRange(t: Task, d: FileDescription, addr: number, ofd: boolean): LockRange | number {
  const v = readStruct(t, addr, FLOCK_SIZE);
  const type = v.getInt16(0, true);
  const whence = v.getInt16(2, true);
  const start = viewS64(v, 8);
  const len = viewS64(v, 16);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) return -EINVAL;
  if (ofd && v.getInt32(24, true) !== 0) return -EINVAL; // l_pid must be 0 for OFD locks
  let base: number;
  if (whence === SEEK_SET) base = 0;
  else if (whence === SEEK_CUR) {
    base = d.seek(0, SEEK_CUR);
    if (base < 0) base = 0;
  } else if (whence === SEEK_END) {
    const st = d.stat();
    if (typeof st === 'number') return st;
    base = st.size;
  } else return -EINVAL;
  let from = base + start;
  let to = len === 0 ? Infinity : from + len;
  if (len < 0) [from, to] = [from + len, from];
  if (from < 0) return -EINVAL;
  if (to !== Infinity && to - 1 > OFF_MAX) return -EOVERFLOW;
  return { type, start: from, end: to };
}

/** Writes the blocking lock (or F_UNLCK) back into struct flock. */
function writeConflict(t: Task, addr: number, l: { type: number; start: number; end: number; pid: number } | null): void {
  const b = new Uint8Array(FLOCK_SIZE);
  const v = new DataView(b.buffer);
  if (!l) {
    // Only l_type changes when nothing conflicts.
    t.mem.write16(addr, F_UNLCK);
    return;
  }
  v.setInt16(0, l.type, true);
  v.setInt16(2, SEEK_SET, true);
  v.setBigInt64(8, BigInt(l.start), true);
  v.setBigInt64(16, l.end === Infinity ? 0n : BigInt(l.end - l.start), true);
  v.setInt32(24, l.pid, true);
  t.mem.writeBytes(addr, b);
}

/** F_GETLK, F_SETLK, F_SETLKW and F_OFD_GETLK/SETLK/SETLKW on description d (fd's table owns POSIX locks). */
export function fcntlLock(t: Task, d: FileDescription, cmd: number, addr: number): number | Blocked {
  const ofd = cmd >= 36; // F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38
  if (d.flags & O_PATH) return -EBADF;
  const r = readRange(t, d, addr, ofd);
  if (typeof r === 'number') return r;
  const owner: object = ofd ? d : t.files;
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    if (r.type === F_UNLCK) return -EINVAL;
    const c = testRecordLock(d, owner, r);
    if (typeof c === 'number') return c;
    writeConflict(t, addr, c);
    return 0;
  }
  const mode = d.flags & O_ACCMODE;
  if ((r.type === F_RDLCK && mode === O_WRONLY) || (r.type === F_WRLCK && mode === O_RDONLY)) return -EBADF;
  const res = setRecordLock(d, owner, ofd ? -1 : t.pid, r, cmd === F_SETLKW || cmd === F_OFD_SETLKW);
  return typeof res === 'number' ? res : new Blocked(res);
}

export function sysFlock(t: Task): number | Blocked {
  const d = fileOf(t, argI(t, 0));
  if (typeof d === 'number') return d;
  if (d.flags & O_PATH) return -EBADF;
  const res = flockDescription(d, argI(t, 1));
  return typeof res === 'number' ? res : new Blocked(res);
}
