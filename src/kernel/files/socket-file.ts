import { S_IFSOCK } from '../syscalls/abi.js';
import { FileDescription } from './description.js';
import { makedev, syntheticStat, type StatInfo } from './stat.js';

/** sockfs's device number, as fstat on a socket shows it. */
const SOCKFS_DEV = makedev(0, 8);

/** What every socket description shares: its /proc name, its fstat, and that poll() applies. */
export abstract class SocketFile extends FileDescription {
  abstract readonly ino: number;

  get path(): string {
    return `socket:[${this.ino}]`;
  }

  stat(): StatInfo {
    return syntheticStat(S_IFSOCK | 0o777, { dev: SOCKFS_DEV, ino: this.ino, blksize: 4096 });
  }

  get pollable(): boolean {
    return true;
  }
}
