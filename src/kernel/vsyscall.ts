/**
 * The legacy vsyscall page at 0xffffffffff600000, as Linux's default
 * "xonly" mode provides it: not readable, but a call to one of its three
 * entries (gettimeofday, time, getcpu) is emulated by the kernel — the call
 * runs and returns to the caller as if the page held code. Old static
 * binaries still call it. Present when the host has it (its /proc/self/maps
 * shows [vsyscall]), so /proc/PID/maps and gdb's `info proc mappings` read as
 * they do natively.
 */
import * as fs from 'node:fs';
import { RSP } from '../cpu/cpu.js';
import type { GuestFault } from '../mem/fault.js';
import type { Task } from './task.js';

/** 0xffffffffff600000 as a signed 64-bit number. */
const VSYSCALL_SIGNED = -0xa00000;

/** Entry offset → syscall number. */
const ENTRIES = new Map<number, number>([
  [0x000, 96], // gettimeofday
  [0x400, 201], // time
  [0x800, 309], // getcpu
]);

let hostLine: string | null | undefined;
/** The host's [vsyscall] line of /proc/self/maps, or null when it has none. */
export function vsyscallMapsLine(): string | null {
  if (hostLine === undefined) {
    try {
      hostLine = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.endsWith('[vsyscall]')) ?? null;
    } catch {
      hostLine = null;
    }
    if (hostLine) hostLine += '\n';
  }
  return hostLine;
}

/** Whether fault f is a fetch of a vsyscall entry, which the kernel emulates (no signal: a debugger sees no stop). */
export function isVsyscallFault(f: GuestFault): boolean {
  return f.access === 'exec' && f.addr < 0 && ENTRIES.has(f.addr - VSYSCALL_SIGNED) && vsyscallMapsLine() !== null;
}

/**
 * A fetch fault at a vsyscall entry: pops the return address and returns the
 * syscall to run (its arguments are already in rdi/rsi/rdx), or -1 when the
 * fault is a real SIGSEGV.
 */
export function takeVsyscall(t: Task, f: GuestFault): number {
  // rip holds kernel-half addresses as negative numbers (two's complement), exact in a double.
  if (f.access !== 'exec' || f.addr >= 0 || !vsyscallMapsLine()) return -1;
  const nr = ENTRIES.get(f.addr - VSYSCALL_SIGNED);
  if (nr === undefined) return -1;
  const c = t.cpu;
  const sp = c.getU(RSP);
  let ret: number;
  try {
    ret = (t.mem.read32(sp) >>> 0) + (t.mem.read32(sp + 4) >>> 0) * 2 ** 32;
  } catch {
    return -1;
  }
  c.rip = ret;
  c.setS(RSP, sp + 8);
  return nr;
}
