import { EINVAL, EEXIST, ENOENT } from '../errno.js';
import { S_IFREG } from '../syscalls/abi.js';
import { FileDescription, type Readiness } from './description.js';
import { syntheticStat, type StatInfo } from './stat.js';

export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDNORM = 0x040;
export const EPOLLWRNORM = 0x100;
export const EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLONESHOT = 1 << 30;
export const EPOLLET = 1 << 31;

/** One registered fd. */
interface Interest {
  fd: number;
  desc: FileDescription;
  events: number;
  /** epoll_data_t as two int32 halves. */
  dataLo: number;
  dataHi: number;
  /** EPOLLONESHOT fired: disabled until the next EPOLL_CTL_MOD. */
  disabled: boolean;
  /** EPOLLET: the readiness last reported, so an unchanged state is not reported again. */
  lastReported: number;
}

export interface ReadyEvent {
  events: number;
  dataLo: number;
  dataHi: number;
}

/** The events a readiness satisfies for an interest mask. */
export function eventsOf(r: Readiness, mask: number): number {
  let v = 0;
  if (r.readable) v |= mask & (EPOLLIN | EPOLLRDNORM);
  if (r.writable) v |= mask & (EPOLLOUT | EPOLLWRNORM);
  if (r.hangup) v |= EPOLLHUP | (mask & EPOLLRDHUP);
  if (r.error) v |= EPOLLERR;
  return v;
}

/**
 * An epoll instance: an interest list polled on demand (level-triggered;
 * EPOLLET reports only changes of the ready set; EPOLLONESHOT disables after
 * one report).
 */
export class EpollInstance extends FileDescription {
  private readonly interests = new Map<number, Interest>();

  get path(): string {
    return 'anon_inode:[eventpoll]';
  }

  stat(): StatInfo {
    return syntheticStat(S_IFREG | 0o600, { ino: 2 });
  }

  add(fd: number, desc: FileDescription, events: number, dataLo: number, dataHi: number): number {
    if (this.interests.has(fd)) return -EEXIST;
    if (desc === this) return -EINVAL;
    this.interests.set(fd, { fd, desc, events, dataLo, dataHi, disabled: false, lastReported: 0 });
    return 0;
  }

  modify(fd: number, events: number, dataLo: number, dataHi: number): number {
    const i = this.interests.get(fd);
    if (!i) return -ENOENT;
    Object.assign(i, { events, dataLo, dataHi, disabled: false, lastReported: 0 });
    return 0;
  }

  remove(fd: number): number {
    return this.interests.delete(fd) ? 0 : -ENOENT;
  }

  /** Drops interests whose fd no longer refers to the registered description. */
  prune(lookup: (fd: number) => FileDescription | undefined): void {
    for (const [fd, i] of this.interests) if (lookup(fd) !== i.desc) this.interests.delete(fd);
  }

  /** Ready events, at most max. */
  collect(max: number): ReadyEvent[] {
    const out: ReadyEvent[] = [];
    for (const i of this.interests.values()) {
      if (out.length >= max) break;
      if (i.disabled) continue;
      const ev = eventsOf(i.desc.poll(), i.events | EPOLLERR | EPOLLHUP);
      if (i.events & EPOLLET) {
        const changed = ev & ~i.lastReported;
        i.lastReported = ev;
        if (!changed) continue;
      }
      if (!ev) continue;
      out.push({ events: ev, dataLo: i.dataLo, dataHi: i.dataHi });
      if (i.events & EPOLLONESHOT) i.disabled = true;
    }
    return out;
  }

  /** The descriptions being watched (for waiting on their changes). */
  watched(): FileDescription[] {
    return [...this.interests.values()].filter((i) => !i.disabled).map((i) => i.desc);
  }

  get pollable(): boolean {
    return true;
  }

  poll(): Readiness {
    const any = [...this.interests.values()].some((i) => !i.disabled && eventsOf(i.desc.poll(), i.events) !== 0);
    return { readable: any, writable: false, hangup: false, error: false };
  }

  readinessChange(): Promise<void> | null {
    const ps = this.watched()
      .map((d) => d.readinessChange())
      .filter((p): p is Promise<void> => p !== null);
    return ps.length ? Promise.race(ps) : null;
  }
}
