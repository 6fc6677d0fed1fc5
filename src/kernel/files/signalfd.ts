import type { Process, Task } from '../task.js';
import { Blocked } from '../syscall-types.js';
import { EAGAIN, EINVAL } from '../errno.js';
import { O_NONBLOCK, O_RDONLY, S_IFREG } from '../syscalls/abi.js';
import { FileDescription, type Readiness } from './description.js';
import { syntheticStat, type StatInfo } from './stat.js';
import { nextSignal, takeSignal } from '../signal-queue.js';
import type { SigInfo } from '../signal-frame.js';

/** sizeof(struct signalfd_siginfo). */
export const SIGNALFD_SIGINFO = 128;

/**
 * signalfd: read() takes pending signals in the mask out of the reader's
 * queue (they are not delivered) as struct signalfd_siginfo records.
 */
export class SignalFd extends FileDescription {
  constructor(
    public maskLo: number,
    public maskHi: number,
    /** The creating process: poll() reports its pending signals. */
    private readonly proc: Process,
    private readonly anyTask: () => Task | undefined,
    flags: number,
  ) {
    super(O_RDONLY | (flags & O_NONBLOCK));
  }

  get path(): string {
    return 'anon_inode:[signalfd]';
  }

  stat(): StatInfo {
    return syntheticStat(S_IFREG | 0o600, { ino: 1, size: 0 });
  }

  read(t: Task, addr: number, len: number): number | Blocked {
    if (len < SIGNALFD_SIGINFO) return -EINVAL;
    let n = 0;
    while (n + SIGNALFD_SIGINFO <= len) {
      const info = takeSignal(t, this.maskLo, this.maskHi);
      if (!info) break;
      t.mem.writeBytes(addr + n, encode(info));
      n += SIGNALFD_SIGINFO;
    }
    if (n) return n;
    if (this.flags & O_NONBLOCK) return -EAGAIN;
    return new Blocked(nextSignal(t.proc));
  }

  get pollable(): boolean {
    return true;
  }

  poll(): Readiness {
    const t = this.anyTask();
    const readable = t !== undefined && takeSignal(t, this.maskLo, this.maskHi, true) !== null;
    return { readable, writable: false, hangup: false, error: false };
  }

  readinessChange(): Promise<void> {
    return nextSignal(this.proc);
  }
}

function encode(info: SigInfo): Uint8Array {
  const b = new Uint8Array(SIGNALFD_SIGINFO);
  const v = new DataView(b.buffer);
  v.setUint32(0, info.signo, true);
  v.setInt32(8, info.code, true);
  if (info.addr !== undefined) v.setBigUint64(72, BigInt(info.addr), true);
  else {
    v.setUint32(12, info.pid ?? 0, true);
    v.setUint32(16, info.uid ?? 0, true);
  }
  return b;
}
