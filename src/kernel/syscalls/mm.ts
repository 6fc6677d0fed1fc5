/** Memory syscalls: brk, mmap family, madvise, msync, mincore, mlock. */
import type { Task } from '../task.js';
import type { SyscallImpl } from '../syscall-types.js';
import { argI, argS, argU, argUI } from '../args.js';
import { EACCES, EBADF, EINVAL, ENODEV, ENOMEM } from '../errno.js';
import { devMajor, devMinor } from '../files/stat.js';
import { USER_END, type Vma } from '../../mem/address-space.js';
import { PAGE_SIZE } from '../../mem/fault.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE,
  O_ACCMODE, O_RDWR, O_WRONLY, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_WRITE,
} from './abi.js';
import { trackSharedMapping, writeBack } from './mm-shared.js';
import { fileOf, impl, partial } from './util.js';
import { committedBytes, mayCommit } from './mm-limit.js';

const PROT_MASK = PROT_READ | PROT_WRITE | PROT_EXEC;
/** MAP_* flags Linux accepts with MAP_SHARED_VALIDATE. */
const KNOWN_MAP_FLAGS = 0x1fff7f;

function pageUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

function sysBrk(t: Task): number {
  const want = argU(t, 0);
  // Over the --memory limit the break stays where it is, which is how brk reports failure.
  if (!mayCommit(t, pageUp(want) - pageUp(t.mem.brkEnd))) return t.mem.brkEnd;
  return t.mem.brk(want);
}

function sysMmap(t: Task): number {
  let addr = argU(t, 0);
  const len = argU(t, 1);
  const prot = argI(t, 2);
  const flags = argI(t, 3);
  const fd = argI(t, 4);
  const off = argS(t, 5);
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return -EINVAL;
  if (type === MAP_SHARED_VALIDATE && flags & ~KNOWN_MAP_FLAGS) return -95; // EOPNOTSUPP
  if (len === 0 || off < 0 || off % PAGE_SIZE !== 0) return -EINVAL;
  if (prot & ~(PROT_MASK | PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
  const size = pageUp(len);
  if (size > USER_END) return -ENOMEM;
  const fixed = (flags & MAP_FIXED) !== 0;
  const noReplace = !fixed && (flags & MAP_FIXED_NOREPLACE) !== 0;
  if ((fixed || noReplace) && addr % PAGE_SIZE !== 0) return -EINVAL;
  if (!fixed && !noReplace) addr -= addr % PAGE_SIZE; // a hint: Linux rounds it down
  const shared = type !== MAP_PRIVATE;
  if (prot & PROT_MASK && !mayCommit(t, size - (fixed ? committedBytes(t, addr, addr + size) : 0))) return -ENOMEM;
  // MAP_FIXED replaces what is there: shared file pages in the range go back to their file first.
  if (fixed) writeBack(t, addr, addr + size, true);
  if (flags & MAP_ANONYMOUS) return t.mem.mmap(addr, size, prot & PROT_MASK, { fixed, noReplace, shared, anonymous: !shared });

  const d = fileOf(t, fd);
  if (typeof d === 'number') return -EBADF;
  const acc = d.flags & O_ACCMODE;
  if (acc === O_WRONLY) return -EACCES;
  if (shared && prot & PROT_WRITE && acc !== O_RDWR) return -EACCES;
  if (d.isDirectory) return -ENODEV;
  const data = d.mapData(off, size);
  if (typeof data === 'number') return data;
  const st = d.stat();
  const ino = typeof st === 'number' ? 0 : st.ino;
  const dev = typeof st === 'number' ? '00:00' : `${hex2(devMajor(st.dev))}:${hex2(devMinor(st.dev))}`;
  // Mapping /dev/zero is an anonymous mapping.
  const anonymous = data.length === 0 && d.path === '/dev/zero';
  const r = t.mem.mmap(addr, size, prot & PROT_MASK, {
    fixed,
    noReplace,
    shared,
    name: anonymous ? '' : d.path,
    offset: anonymous ? 0 : off,
    inode: anonymous ? 0 : ino,
    dev: anonymous ? '00:00' : dev,
    data: data.length ? data : undefined,
  });
  if (r >= 0 && shared && acc === O_RDWR && !anonymous) trackSharedMapping(t, r, size, off, d);
  return r;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function sysMunmap(t: Task): number {
  const addr = argU(t, 0);
  const len = argU(t, 1);
  if (addr % PAGE_SIZE !== 0 || len === 0 || addr + len > USER_END) return -EINVAL;
  writeBack(t, addr, addr + pageUp(len), true);
  return t.mem.munmap(addr, len);
}

function sysMprotect(t: Task): number {
  const addr = argU(t, 0);
  const len = argU(t, 1);
  const prot = argI(t, 2);
  if (addr % PAGE_SIZE !== 0 || prot & ~(PROT_MASK | PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
  if (len === 0) return 0;
  if (addr + pageUp(len) > USER_END) return -ENOMEM;
  if (prot & PROT_MASK && !mayCommit(t, pageUp(len) - committedBytes(t, addr, addr + pageUp(len)))) return -ENOMEM;
  return t.mem.mprotect(addr, len, prot & PROT_MASK);
}

/** The VMAs overlapping [start, end), clipped to it. */
function vmasIn(t: Task, start: number, end: number): Vma[] {
  return t.mem.mappings.filter((v) => v.start < end && v.end > start).map((v) => ({ ...v, start: Math.max(v.start, start), end: Math.min(v.end, end) }));
}

function fullyMapped(t: Task, start: number, end: number): boolean {
  for (let a = start; a < end; ) {
    const v = t.mem.findVma(a);
    if (!v) return false;
    a = v.end;
  }
  return true;
}

function sysMremap(t: Task): number {
  const old = argU(t, 0);
  const oldLen = pageUp(argU(t, 1));
  const newLen = pageUp(argU(t, 2));
  const flags = argI(t, 3);
  const newAddr = argU(t, 4);
  if (old % PAGE_SIZE !== 0 || flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return -EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  if (newLen === 0 || oldLen === 0) return -EINVAL;
  if (flags & MREMAP_DONTUNMAP) return -EINVAL;
  if (!fullyMapped(t, old, old + oldLen)) return -14; // EFAULT, as Linux reports an unmapped source
  if (t.mem.findVma(old)!.prot !== 0 && !mayCommit(t, newLen - oldLen)) return -ENOMEM;
  // A moved or resized shared file mapping is written back and no longer tracked.
  writeBack(t, old, old + oldLen, true);
  if (!(flags & MREMAP_FIXED)) return t.mem.mremap(old, oldLen, newLen, (flags & MREMAP_MAYMOVE) !== 0);
  // Move to a fixed address: copy the contents, map there, drop the old range.
  if (newAddr % PAGE_SIZE !== 0 || (newAddr < old + oldLen && newAddr + newLen > old)) return -EINVAL;
  const src = t.mem.findVma(old)!;
  const keep = Math.min(oldLen, newLen);
  const bytes = t.mem.peek(old, keep) ?? new Uint8Array(0);
  const r = t.mem.mmap(newAddr, newLen, src.prot, { fixed: true, shared: src.shared, name: src.name, offset: src.offset, inode: src.inode, dev: src.dev, data: bytes });
  if (r < 0) return r;
  t.mem.munmap(old, oldLen);
  return r;
}

const MADV_DONTNEED = 4;
const MADV_REMOVE = 9;

function sysMadvise(t: Task): number {
  const addr = argU(t, 0);
  const len = pageUp(argU(t, 1));
  const advice = argI(t, 2);
  if (addr % PAGE_SIZE !== 0 || advice < 0 || advice > 25 || (advice > 4 && advice < 8)) return -EINVAL;
  if (len === 0) return 0;
  if (!fullyMapped(t, addr, addr + len)) return -ENOMEM;
  if (advice === MADV_DONTNEED || advice === MADV_REMOVE) {
    // Private anonymous memory reads back as zeros afterwards: remap it fresh (frees the frames).
    for (const v of vmasIn(t, addr, addr + len)) {
      if (v.inode !== 0 || v.shared) continue;
      t.mem.mmap(v.start, v.end - v.start, v.prot, { fixed: true, name: v.name });
    }
  }
  return 0;
}

function sysMsync(t: Task): number {
  const addr = argU(t, 0);
  const len = pageUp(argU(t, 1));
  const flags = argI(t, 2);
  if (addr % PAGE_SIZE !== 0 || flags & ~7 || (flags & 1 && flags & 4)) return -EINVAL;
  if (!fullyMapped(t, addr, addr + len)) return -ENOMEM;
  writeBack(t, addr, addr + len, false);
  return 0;
}

function sysMincore(t: Task): number {
  const addr = argU(t, 0);
  const len = pageUp(argU(t, 1));
  const vec = argU(t, 2);
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  if (!fullyMapped(t, addr, addr + len)) return -ENOMEM;
  t.mem.writeBytes(vec, new Uint8Array(len / PAGE_SIZE).fill(1));
  return 0;
}

function lockRange(t: Task): number {
  const addr = argU(t, 0) - (argU(t, 0) % PAGE_SIZE);
  const len = pageUp(argU(t, 1) + (argU(t, 0) % PAGE_SIZE));
  return fullyMapped(t, addr, addr + len) ? 0 : -ENOMEM;
}

export const mmHandlers: Record<string, SyscallImpl> = {
  brk: impl(sysBrk),
  mmap: partial(sysMmap, 'MAP_SHARED file mappings are written back at msync/munmap/exit, not coherent with read/write meanwhile; MAP_SHARED memory is not shared across fork'),
  munmap: impl(sysMunmap),
  mprotect: partial(sysMprotect, 'PROT_GROWSDOWN/GROWSUP ignored'),
  pkey_mprotect: partial((t) => (argI(t, 3) === -1 ? sysMprotect(t) : -EINVAL), 'pkey -1 only'),
  mremap: partial(sysMremap, 'no MREMAP_DONTUNMAP; a remapped MAP_SHARED file range is written back and then private'),
  madvise: partial(sysMadvise, 'MADV_DONTNEED zeroes private anonymous memory; other advice is accepted and ignored'),
  msync: impl(sysMsync),
  mincore: impl(sysMincore),
  mlock: impl(lockRange),
  munlock: impl(lockRange),
  mlock2: impl(lockRange),
  mlockall: impl((t) => (argUI(t, 0) & ~7 || argUI(t, 0) === 0 ? -EINVAL : 0)),
  munlockall: impl(() => 0),
};
