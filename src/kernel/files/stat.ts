import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import type { Task } from '../task.js';
import { StructWriter } from '../args.js';

/** File metadata as the kernel reports it (times split into seconds and nanoseconds). */
export interface StatInfo {
  /** Encoded like glibc's dev_t (major/minor as in gnu_dev_makedev). */
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
  btimeSec: number;
  btimeNsec: number;
}

/** gnu_dev_makedev. */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | ((major & ~0xfff) * 2 ** 32);
}

export function devMajor(dev: number): number {
  const hi = Math.floor(dev / 2 ** 32);
  return ((dev >>> 8) & 0xfff) | (hi & ~0xfff);
}

export function devMinor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}

const NS = 1_000_000_000n;

function split(ns: bigint): [number, number] {
  let s = ns / NS;
  let r = ns % NS;
  if (r < 0n) {
    r += NS;
    s -= 1n;
  }
  return [Number(s), Number(r)];
}

/** Converts a host stat (bigint form, for nanosecond times) to StatInfo. */
export function statFromHost(st: BigIntStats): StatInfo {
  const [as, an] = split(st.atimeNs);
  const [ms, mn] = split(st.mtimeNs);
  const [cs, cn] = split(st.ctimeNs);
  const [bs, bn] = split(st.birthtimeNs);
  return {
    dev: Number(st.dev),
    ino: Number(st.ino),
    mode: Number(st.mode),
    nlink: Number(st.nlink),
    uid: Number(st.uid),
    gid: Number(st.gid),
    rdev: Number(st.rdev),
    size: Number(st.size),
    blksize: Number(st.blksize),
    blocks: Number(st.blocks),
    atimeSec: as,
    atimeNsec: an,
    mtimeSec: ms,
    mtimeNsec: mn,
    ctimeSec: cs,
    ctimeNsec: cn,
    btimeSec: bs,
    btimeNsec: bn,
  };
}

const startSec = Math.floor(Date.now() / 1000);

/** Metadata for a synthetic file (procfs, devices, pipes). */
export function syntheticStat(mode: number, opts: Partial<StatInfo> = {}): StatInfo {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const gid = typeof process.getgid === 'function' ? process.getgid() : 0;
  return {
    dev: 0,
    ino: 1,
    mode,
    nlink: 1,
    uid,
    gid,
    rdev: 0,
    size: 0,
    blksize: 4096,
    blocks: 0,
    atimeSec: startSec,
    atimeNsec: 0,
    mtimeSec: startSec,
    mtimeNsec: 0,
    ctimeSec: startSec,
    ctimeNsec: 0,
    btimeSec: 0,
    btimeNsec: 0,
    ...opts,
  };
}

/** Size of x86-64 struct stat. */
export const STAT_SIZE = 144;

/** Writes struct stat (x86-64 layout) to guest memory. */
export function writeStat(t: Task, addr: number, s: StatInfo): void {
  new StructWriter(STAT_SIZE)
    .u64(0, s.dev)
    .u64(8, s.ino)
    .u64(16, s.nlink)
    .u32(24, s.mode)
    .u32(28, s.uid)
    .u32(32, s.gid)
    .u64(40, s.rdev)
    .u64(48, s.size)
    .u64(56, s.blksize)
    .u64(64, s.blocks)
    .u64(72, s.atimeSec)
    .u64(80, s.atimeNsec)
    .u64(88, s.mtimeSec)
    .u64(96, s.mtimeNsec)
    .u64(104, s.ctimeSec)
    .u64(112, s.ctimeNsec)
    .writeTo(t, addr);
}

export const STATX_SIZE = 256;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_MNT_ID = 0x1000;

let mountIds: Map<number, number> | null = null;

/** The host mount id of a device (from /proc/self/mountinfo), or 0 when unknown. */
function mountIdOf(dev: number): number {
  if (mountIds === null) {
    mountIds = new Map();
    try {
      for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
        const [id, , majmin] = line.split(' ');
        if (!majmin) continue;
        const [maj, min] = majmin.split(':').map(Number);
        const d = makedev(maj, min);
        if (!mountIds.has(d)) mountIds.set(d, Number(id));
      }
    } catch {
      // no mountinfo: no mount ids
    }
  }
  return mountIds.get(dev) ?? 0;
}

/** Writes struct statx to guest memory; the birth time is reported when asked for and known (like ext4). */
export function writeStatx(t: Task, addr: number, s: StatInfo, requested: number): void {
  const btime = requested & STATX_BTIME && (s.btimeSec !== 0 || s.btimeNsec !== 0);
  const mnt = mountIdOf(s.dev);
  new StructWriter(STATX_SIZE)
    .u32(0, STATX_BASIC_STATS | (btime ? STATX_BTIME : 0) | (mnt ? STATX_MNT_ID : 0))
    .u32(4, s.blksize)
    .u64(8, 0) // stx_attributes
    .u32(16, s.nlink)
    .u32(20, s.uid)
    .u32(24, s.gid)
    .u16(28, s.mode)
    .u64(32, s.ino)
    .u64(40, s.size)
    .u64(48, s.blocks)
    .u64(56, 0) // stx_attributes_mask
    .u64(64, s.atimeSec)
    .u32(72, s.atimeNsec)
    .u64(80, s.btimeSec)
    .u32(88, s.btimeNsec)
    .u64(96, s.ctimeSec)
    .u32(104, s.ctimeNsec)
    .u64(112, s.mtimeSec)
    .u32(120, s.mtimeNsec)
    .u32(128, devMajor(s.rdev))
    .u32(132, devMinor(s.rdev))
    .u32(136, devMajor(s.dev))
    .u32(140, devMinor(s.dev))
    .u64(144, mnt)
    .writeTo(t, addr);
}
