import type { Task } from '../task.js';
import { EFBIG, EINVAL } from '../errno.js';
import { O_APPEND, O_RDWR, SEEK_CUR, SEEK_END, SEEK_SET, S_IFREG } from '../syscalls/abi.js';
import { FileDescription } from './description.js';
import { MAX_RW_COUNT } from './host-file.js';
import { syntheticStat, type StatInfo } from './stat.js';

let nextIno = 200000;
const MAX_SIZE = 1 << 30;

/** The contents of a memfd (shared by every description of it). */
class MemInode {
  readonly ino = nextIno++;
  data = new Uint8Array(0);
  size = 0;
  mtimeSec = Math.floor(Date.now() / 1000);

  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = new Uint8Array(Math.max(n, this.data.length * 2, 4096));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
}

/** memfd_create: an anonymous file in emulator memory. */
export class MemFile extends FileDescription {
  pos = 0;
  private readonly inode: MemInode;

  constructor(
    readonly name: string,
    flags: number,
    inode?: MemInode,
  ) {
    super(flags | O_RDWR);
    this.inode = inode ?? new MemInode();
  }

  get path(): string {
    return `/memfd:${this.name} (deleted)`;
  }

  stat(): StatInfo {
    const n = this.inode;
    return syntheticStat(S_IFREG | 0o777, { ino: n.ino, size: n.size, blocks: Math.ceil(n.size / 512), mtimeSec: n.mtimeSec, ctimeSec: n.mtimeSec });
  }

  read(t: Task, addr: number, len: number): number {
    const n = this.pread(t, addr, len, this.pos);
    if (n > 0) this.pos += n;
    return n;
  }

  write(t: Task, addr: number, len: number): number {
    const off = this.flags & O_APPEND ? this.inode.size : this.pos;
    const n = this.pwrite(t, addr, len, off);
    if (n > 0) this.pos = off + n;
    return n;
  }

  pread(t: Task, addr: number, len: number, off: number): number {
    const n = this.inode;
    const end = Math.min(n.size, off + Math.min(len, MAX_RW_COUNT));
    if (end <= off) return 0;
    t.mem.writeBytes(addr, n.data.subarray(off, end));
    return end - off;
  }

  pwrite(t: Task, addr: number, len: number, off: number): number {
    if (off + len > MAX_SIZE) return -EFBIG;
    const bytes = t.mem.readBytes(addr, len);
    const n = this.inode;
    n.ensure(off + len);
    n.data.set(bytes, off);
    n.size = Math.max(n.size, off + len);
    n.mtimeSec = Math.floor(Date.now() / 1000);
    return len;
  }

  seek(off: number, whence: number): number {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.pos : whence === SEEK_END ? this.inode.size : NaN;
    if (Number.isNaN(base) || base + off < 0) return -EINVAL;
    this.pos = base + off;
    return this.pos;
  }

  truncate(len: number): number {
    if (len < 0) return -EINVAL;
    if (len > MAX_SIZE) return -EFBIG;
    const n = this.inode;
    n.ensure(len);
    if (len < n.size) n.data.fill(0, len, n.size);
    n.size = len;
    return 0;
  }

  mapData(off: number, len: number): Uint8Array {
    const n = this.inode;
    return n.data.slice(Math.min(off, n.size), Math.min(off + len, n.size));
  }

  reopen(flags: number): FileDescription {
    return new MemFile(this.name, flags, this.inode);
  }
}
