import * as fs from 'node:fs';
import type { Task } from '../task.js';
import type { Blocked } from '../syscall-types.js';
import { hostErrno } from '../errno.js';
import { FIONREAD, O_NONBLOCK } from '../syscalls/abi.js';
import { FileDescription, type Readiness } from './description.js';
import { MAX_RW_COUNT } from './host-file.js';
import { HostReader, HostWriter } from './host-stream.js';
import { statFromHost, type StatInfo } from './stat.js';

/**
 * A host character device, FIFO or socket opened by path: reads are
 * asynchronous (they may wait indefinitely), writes are ordered.
 */
export class HostStreamFile extends FileDescription {
  private readonly reader: HostReader;
  private readonly writer: HostWriter;

  constructor(
    readonly fd: number,
    readonly guestPath: string,
    readonly host: string,
    flags: number,
  ) {
    super(flags);
    this.reader = new HostReader(fd);
    this.writer = new HostWriter(fd);
  }

  get path(): string {
    return this.guestPath;
  }
  get hostPath(): string {
    return this.host;
  }

  stat(): StatInfo | number {
    try {
      return statFromHost(fs.fstatSync(this.fd, { bigint: true }));
    } catch (e) {
      return hostErrno(e);
    }
  }

  read(t: Task, addr: number, len: number): number | Blocked {
    const r = this.reader.read(Math.min(len, MAX_RW_COUNT), (this.flags & O_NONBLOCK) !== 0);
    if (!(r instanceof Uint8Array)) return r;
    t.mem.writeBytes(addr, r);
    return r.length;
  }

  write(t: Task, addr: number, len: number): number | Blocked {
    return this.writer.write(t.mem.readBytes(addr, Math.min(len, MAX_RW_COUNT)));
  }

  ioctl(t: Task, req: number, arg: number): number {
    if (req === FIONREAD) {
      t.mem.write32(arg, this.reader.available);
      return 0;
    }
    return super.ioctl(t, req, arg) as number;
  }

  get pollable(): boolean {
    return true;
  }

  poll(): Readiness {
    return { readable: this.reader.ready, writable: true, hangup: false, error: false };
  }

  readinessChange(): Promise<void> {
    return this.reader.whenReady();
  }

  release(): void {
    this.writer.flush();
    try {
      fs.closeSync(this.fd);
    } catch {
      // already gone
    }
  }
}
