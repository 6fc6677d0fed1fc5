import * as fs from 'node:fs';
import type { Task } from '../task.js';
import type { Blocked } from '../syscall-types.js';
import { hostErrno } from '../errno.js';
import { FIONREAD, O_NONBLOCK } from '../syscalls/abi.js';
import { FileDescription, type Readiness } from './description.js';
import { MAX_RW_COUNT } from './host-file.js';
import { HostReader } from './host-stream.js';
import { HostWriter, trackWriter, untrackWriter } from './host-writer.js';
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
    this.writer = trackWriter(new HostWriter());
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
    return this.writer.write(this.fd, t.mem.readBytes(addr, Math.min(len, MAX_RW_COUNT)), (this.flags & O_NONBLOCK) !== 0);
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
    return { readable: this.reader.ready, writable: this.writer.writable, hangup: false, error: false };
  }

  readinessChange(): Promise<void> {
    return this.writer.writable ? this.reader.whenReady() : Promise.race([this.reader.whenReady(), this.writer.whenRoom()]);
  }

  release(): void {
    // The fd closes once what was written has reached it (as a pipe keeps a closed writer's bytes).
    void this.writer.drained().then(() => {
      untrackWriter(this.writer);
      try {
        fs.closeSync(this.fd);
      } catch {
        // already gone
      }
    });
  }
}
