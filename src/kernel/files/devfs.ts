import * as tty from 'node:tty';
import type { Task } from '../task.js';
import type { Blocked } from '../syscall-types.js';
import { ENOSPC, ENXIO } from '../errno.js';
import { O_RDWR, S_IFCHR, S_IFDIR } from '../syscalls/abi.js';
import { FileDescription } from './description.js';
import { makedev, syntheticStat, type StatInfo } from './stat.js';
import { HostStdio } from './stdio.js';
import { DEV_DEV, linkNode, synthIno, type SynthNode } from './synth.js';

/** A character device emulated in-process. */
abstract class CharDevice extends FileDescription {
  constructor(
    readonly guestPath: string,
    readonly rdev: number,
    flags: number,
  ) {
    super(flags);
  }
  get path(): string {
    return this.guestPath;
  }
  stat(): StatInfo {
    return syntheticStat(S_IFCHR | 0o666, { rdev: this.rdev, dev: DEV_DEV, ino: synthIno(this.guestPath) });
  }
  /** Character devices accept any position. */
  seek(): number {
    return 0;
  }
  pread(t: Task, addr: number, len: number): number {
    return this.read(t, addr, len) as number;
  }
  pwrite(t: Task, addr: number, len: number): number {
    return this.write(t, addr, len) as number;
  }
}

class DevNull extends CharDevice {
  read(): number {
    return 0;
  }
  write(_t: Task, _addr: number, len: number): number {
    return len;
  }
}

class DevZero extends CharDevice {
  read(t: Task, addr: number, len: number): number {
    len = Math.min(len, 1 << 24);
    t.mem.fill(addr, len, 0);
    return len;
  }
  write(_t: Task, _addr: number, len: number): number {
    return len;
  }
  mapData(): Uint8Array {
    return new Uint8Array(0); // mapping /dev/zero is an anonymous mapping
  }
}

class DevFull extends DevZero {
  write(): number {
    return -ENOSPC;
  }
}

class DevRandom extends CharDevice {
  read(t: Task, addr: number, len: number): number {
    len = Math.min(len, 1 << 25);
    t.mem.writeBytes(addr, t.kernel.randomBytes(len));
    return len;
  }
  write(_t: Task, _addr: number, len: number): number {
    return len;
  }
}

/** The controlling terminal: the host's terminal through the standard streams. */
class DevTty extends HostStdio {
  constructor(flags: number) {
    super(tty.isatty(0) ? 0 : tty.isatty(1) ? 1 : 2, flags, '/dev/tty');
  }
  write(t: Task, addr: number, len: number): number | Blocked {
    // Output goes to the terminal through stdout or stderr, whichever is it, to keep ordering with them.
    const out = tty.isatty(1) ? 1 : tty.isatty(2) ? 2 : this.hostFd;
    return new HostStdio(out, O_RDWR, '/dev/tty').write(t, addr, len);
  }
  stat(): StatInfo {
    return syntheticStat(S_IFCHR | 0o666, { rdev: makedev(5, 0), dev: DEV_DEV, ino: synthIno('/dev/tty') });
  }
}

type DevCtor = new (path: string, rdev: number, flags: number) => CharDevice;

const CHAR_DEVICES: Record<string, [DevCtor, number, number]> = {
  null: [DevNull, 1, 3],
  zero: [DevZero, 1, 5],
  full: [DevFull, 1, 7],
  random: [DevRandom, 1, 8],
  urandom: [DevRandom, 1, 9],
};

function hasTerminal(): boolean {
  return tty.isatty(0) || tty.isatty(1) || tty.isatty(2);
}

/** The emulated entries of /dev (layered over the rootfs's /dev). */
export function devNode(name: string): SynthNode | null {
  const path = `/dev/${name}`;
  const spec = CHAR_DEVICES[name];
  if (spec) {
    const [Ctor, major, minor] = spec;
    const rdev = makedev(major, minor);
    return {
      type: 'dev',
      ino: synthIno(path),
      mode: S_IFCHR | 0o666,
      rdev,
      dev: DEV_DEV,
      open: (flags) => new Ctor(path, rdev, flags),
    };
  }
  switch (name) {
    case 'tty':
      return {
        type: 'dev',
        ino: synthIno(path),
        mode: S_IFCHR | 0o666,
        rdev: makedev(5, 0),
        dev: DEV_DEV,
        open: (flags) => (hasTerminal() ? new DevTty(flags) : -ENXIO),
      };
    case 'stdin':
    case 'stdout':
    case 'stderr':
      return linkNode(path, () => `/proc/self/fd/${['stdin', 'stdout', 'stderr'].indexOf(name)}`);
    case 'fd':
      return linkNode(path, () => '/proc/self/fd');
  }
  return null;
}

/** Names devNode knows. */
export const DEV_NAMES = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'stdin', 'stdout', 'stderr', 'fd'];

/** /dev itself when the rootfs has none. */
export function devDirNode(): SynthNode {
  return {
    type: 'dir',
    ino: synthIno('/dev'),
    mode: S_IFDIR | 0o755,
    dev: DEV_DEV,
    list: () => DEV_NAMES.map((n) => devNode(n)!).map((c, k) => ({ name: DEV_NAMES[k], ino: c.ino, type: (c.mode >>> 12) & 15 })),
    lookup: devNode,
  };
}
