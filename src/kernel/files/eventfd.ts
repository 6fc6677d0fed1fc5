import type { Task } from '../task.js';
import { Blocked } from '../syscall-types.js';
import { EAGAIN, EINVAL } from '../errno.js';
import { O_NONBLOCK, O_RDWR, S_IFREG } from '../syscalls/abi.js';
import { FileDescription, type Readiness } from './description.js';
import { WaitQueue } from './pipe.js';
import { syntheticStat, type StatInfo } from './stat.js';

const MAX = (1n << 64n) - 2n;
export const EFD_SEMAPHORE = 1;

/** eventfd: a 64-bit counter that read() drains and write() adds to. */
export class EventFd extends FileDescription {
  private counter: bigint;
  private readonly changed = new WaitQueue();

  constructor(
    initial: number,
    private readonly semaphore: boolean,
    flags: number,
  ) {
    super(O_RDWR | (flags & O_NONBLOCK));
    this.counter = BigInt(initial >>> 0);
  }

  get path(): string {
    return 'anon_inode:[eventfd]';
  }

  stat(): StatInfo {
    return syntheticStat(S_IFREG | 0o600, { ino: 1, size: 0 });
  }

  read(t: Task, addr: number, len: number): number | Blocked {
    if (len < 8) return -EINVAL;
    if (this.counter === 0n) {
      if (this.flags & O_NONBLOCK) return -EAGAIN;
      return new Blocked(this.changed.wait());
    }
    const v = this.semaphore ? 1n : this.counter;
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    t.mem.writeBytes(addr, b);
    this.counter -= v;
    this.changed.wakeAll();
    return 8;
  }

  write(t: Task, addr: number, len: number): number | Blocked {
    if (len < 8) return -EINVAL;
    const b = t.mem.readBytes(addr, 8);
    const v = new DataView(b.buffer).getBigUint64(0, true);
    if (v === 0xffffffffffffffffn) return -EINVAL;
    if (this.counter + v > MAX) {
      if (this.flags & O_NONBLOCK) return -EAGAIN;
      return new Blocked(this.changed.wait());
    }
    this.counter += v;
    this.changed.wakeAll();
    return 8;
  }

  get pollable(): boolean {
    return true;
  }

  poll(): Readiness {
    return { readable: this.counter > 0n, writable: this.counter < MAX, hangup: false, error: false };
  }

  readinessChange(): Promise<void> {
    return this.changed.wait();
  }
}
