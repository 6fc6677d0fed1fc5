import type { Task } from '../task.js';
import { EINVAL } from '../errno.js';
import { SEEK_CUR, SEEK_END, SEEK_SET, S_IFDIR, S_IFLNK, S_IFREG } from '../syscalls/abi.js';
import { FileDescription, type DirEntry } from './description.js';
import { makedev, syntheticStat, type StatInfo } from './stat.js';

/**
 * A node of the synthetic filesystems (/proc, the emulated /dev entries),
 * built on demand for one lookup. A "magic" link (/proc/self/fd/N for a pipe,
 * /proc/self/exe) opens something directly instead of following its text.
 */
export interface SynthNode {
  type: 'dir' | 'file' | 'link' | 'dev';
  ino: number;
  /** Full st_mode. */
  mode: number;
  rdev?: number;
  dev?: number;
  /** st_size when it is not the natural one (Linux shows 64 for /proc/PID/fd links). */
  size?: number;
  /** Directories: the entries (without . and ..). */
  list?(): DirEntry[];
  /** Directories: a child by name. */
  lookup?(name: string): SynthNode | null;
  /** Files: the contents, generated when opened. */
  content?(): Uint8Array;
  /** Writable files: takes what one write() wrote (bytes written or -errno). */
  store?(data: Uint8Array): number;
  /** Links: the target text. */
  target?(): string;
  /** Devices and magic links: open it. */
  open?(flags: number): FileDescription | number;
  /** Magic links: metadata of what they open. */
  targetStat?(): StatInfo | number;
}

export const PROC_DEV = makedev(0, 22);
export const DEV_DEV = makedev(0, 5);

export function synthStat(n: SynthNode): StatInfo {
  const nlink = n.type === 'dir' ? 2 : 1;
  const size = n.size ?? (n.type === 'link' && n.target ? Buffer.byteLength(n.target()) : 0);
  return syntheticStat(n.mode, { ino: n.ino, rdev: n.rdev ?? 0, dev: n.dev ?? PROC_DEV, nlink, size, blksize: 1024 });
}

/** Stable small inode numbers for synthetic names. */
export function synthIno(path: string): number {
  let h = 2166136261;
  for (let k = 0; k < path.length; k++) h = Math.imul(h ^ path.charCodeAt(k), 16777619);
  return (h >>> 0) % 0x3fffffff + 0x1000;
}

const enc = new TextEncoder();

export function textFile(path: string, text: () => string, mode = 0o444): SynthNode {
  return { type: 'file', ino: synthIno(path), mode: S_IFREG | mode, content: () => enc.encode(text()) };
}

export function bytesFile(path: string, bytes: () => Uint8Array, mode = 0o400): SynthNode {
  return { type: 'file', ino: synthIno(path), mode: S_IFREG | mode, content: bytes };
}

export function linkNode(path: string, target: () => string, magic?: Pick<SynthNode, 'open' | 'targetStat'>): SynthNode {
  return { type: 'link', ino: synthIno(path), mode: S_IFLNK | 0o777, target, ...magic };
}

/** A directory with a fixed set of named children (each built lazily). */
export function dirNode(path: string, children: Record<string, () => SynthNode | null>, mode = 0o555): SynthNode {
  return {
    type: 'dir',
    ino: synthIno(path),
    mode: S_IFDIR | mode,
    list: () => {
      const out: DirEntry[] = [];
      for (const name of Object.keys(children)) {
        const c = children[name]();
        if (c) out.push({ name, ino: c.ino, type: (c.mode >>> 12) & 15 });
      }
      return out;
    },
    lookup: (name) => (Object.hasOwn(children, name) ? children[name]() : null),
  };
}

/** An open synthetic file: contents snapshotted at open, then read like a file. */
export class SynthFile extends FileDescription {
  pos = 0;
  constructor(
    readonly guestPath: string,
    readonly data: Uint8Array,
    private readonly st: StatInfo,
    flags: number,
    private readonly store?: (data: Uint8Array) => number,
  ) {
    super(flags);
  }
  write(t: Task, addr: number, len: number): number {
    if (!this.store) return -EINVAL;
    return this.store(t.mem.readBytes(addr, Math.min(len, 4096)));
  }
  get path(): string {
    return this.guestPath;
  }
  stat(): StatInfo {
    return this.st;
  }
  read(t: Task, addr: number, len: number): number {
    const n = this.pread(t, addr, len, this.pos);
    if (n > 0) this.pos += n;
    return n;
  }
  pread(t: Task, addr: number, len: number, off: number): number {
    const chunk = this.data.subarray(Math.min(off, this.data.length), Math.min(off + len, this.data.length));
    t.mem.writeBytes(addr, chunk);
    return chunk.length;
  }
  seek(off: number, whence: number): number {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.pos : whence === SEEK_END ? this.data.length : NaN;
    if (Number.isNaN(base) || base + off < 0) return -EINVAL;
    this.pos = base + off;
    return this.pos;
  }
  mapData(off: number, len: number): Uint8Array {
    return this.data.slice(off, off + len);
  }
}

/** Entries of a synthetic directory with . and .. first. */
export function synthDirEntries(n: SynthNode, parentIno: number): DirEntry[] {
  return [{ name: '.', ino: n.ino, type: 4 }, { name: '..', ino: parentIno, type: 4 }, ...(n.list?.() ?? [])];
}

