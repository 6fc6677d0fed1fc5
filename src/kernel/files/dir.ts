import * as fs from 'node:fs';
import { EINVAL, EISDIR, hostErrno } from '../errno.js';
import { SEEK_CUR, SEEK_SET, dtypeOf } from '../syscalls/abi.js';
import { FileDescription, type DirEntry } from './description.js';
import { statFromHost, type StatInfo } from './stat.js';
import { withPinnedObject } from './pin.js';

/**
 * An open directory. The listing is snapshotted when reading starts (or
 * restarts after a seek to 0); the position is an index into it, which is
 * also what d_off reports, so telldir/seekdir work.
 */
export class DirDescription extends FileDescription {
  private entries: DirEntry[] | null = null;
  pos = 0;

  constructor(
    readonly guestPath: string,
    private readonly list: () => DirEntry[] | number,
    private readonly statFn: () => StatInfo | number,
    private readonly host: string | null,
    flags: number,
  ) {
    super(flags);
  }

  get path(): string {
    return this.guestPath;
  }
  get isDirectory(): boolean {
    return true;
  }
  get hostPath(): string | null {
    return this.host;
  }

  stat(): StatInfo | number {
    return this.statFn();
  }

  read(): number {
    return -EISDIR;
  }
  pread(): number {
    return -EISDIR;
  }
  write(): number {
    return -EISDIR;
  }

  dirEntries(): DirEntry[] | number {
    if (this.entries === null || this.pos === 0) {
      const l = this.list();
      if (typeof l === 'number') return l;
      this.entries = l;
    }
    return this.entries.slice(this.pos);
  }

  consumeDirEntries(n: number): void {
    this.pos += n;
  }

  seek(off: number, whence: number): number {
    if (whence === SEEK_SET) {
      if (off < 0) return -EINVAL;
      this.pos = off;
    } else if (whence === SEEK_CUR) {
      if (this.pos + off < 0) return -EINVAL;
      this.pos += off;
    } else return -EINVAL;
    return this.pos;
  }
}

/** Lists a host directory as getdents would, with . and .. first. */
export function listHostDir(hostPath: string, parentHostPath: string, extra: DirEntry[] = []): DirEntry[] | number {
  const names: string[] = [];
  let self: fs.Stats;
  try {
    self = fs.statSync(hostPath);
    // opendir keeps the filesystem's own order (readdirSync sorts, which Linux does not).
    const dir = fs.opendirSync(hostPath, { bufferSize: 256 });
    try {
      for (let d = dir.readSync(); d !== null; d = dir.readSync()) names.push(d.name);
    } finally {
      dir.closeSync();
    }
  } catch (e) {
    return hostErrno(e);
  }
  const parent = fs.statSync(parentHostPath, { throwIfNoEntry: false }) ?? self;
  const out: DirEntry[] = [
    { name: '.', ino: self.ino, type: 4 },
    { name: '..', ino: parent.ino, type: 4 },
  ];
  const seen = new Set<string>();
  for (const name of names) {
    const st = fs.lstatSync(`${hostPath}/${name}`, { throwIfNoEntry: false });
    if (!st) continue; // vanished while listing
    out.push({ name, ino: st.ino, type: dtypeOf(st.mode) });
    seen.add(name);
  }
  for (const e of extra) if (!seen.has(e.name)) out.push(e);
  return out;
}

/** Host stat of an opened directory or O_PATH file, looked up inside root each time (files/pin.ts). */
export function hostStat(root: string, hostPath: string): () => StatInfo | number {
  return () =>
    withPinnedObject(root, hostPath, (p) => {
      try {
        return statFromHost(fs.statSync(p, { bigint: true }));
      } catch (e) {
        return hostErrno(e);
      }
    });
}
