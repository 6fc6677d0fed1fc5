import type { Cpu } from '../cpu/cpu.js';
import type { StopEvent } from './target.js';
import { bytesToHex, hex2 } from './hex.js';
import { readRegister, REGNUM } from './registers.js';
import { linuxToGdbSignal } from './signals.js';
import { formatThreadId } from './thread-id.js';

/** What formatting a stop reply needs to know about the connection and the target. */
export interface StopReplyContext {
  pid: number;
  multiprocess: boolean;
  /** The peer announced swbreak+ / hwbreak+ (only then may those reasons be sent). */
  swbreak: boolean;
  hwbreak: boolean;
  cpuOf(tid: number): Cpu | undefined;
}

/** Registers sent along with every stop so gdb needs no round trip to show the frame (gdbserver sends the same). */
const EXPEDITED = [REGNUM.rbp, REGNUM.rsp, REGNUM.rip];

/** The reason part ("swbreak:;", "watch:ADDR;", "syscall_entry:NR;") of a signal stop. */
function reasonPart(ev: Extract<StopEvent, { kind: 'signal' }>, ctx: StopReplyContext): string {
  switch (ev.reason) {
    case 'swbreak':
      return ctx.swbreak ? 'swbreak:;' : '';
    case 'hwbreak':
      return ctx.hwbreak ? 'hwbreak:;' : '';
    case 'watch':
    case 'rwatch':
    case 'awatch':
      return `${ev.reason}:${(ev.addr ?? 0).toString(16)};`;
    case 'syscall_entry':
    case 'syscall_return':
      return `${ev.reason}:${(ev.syscall ?? 0).toString(16)};`;
    default:
      return '';
  }
}

/** T/W/X stop reply for a stop event (signals translated to gdb's numbers). */
export function formatStopReply(ev: StopEvent, ctx: StopReplyContext): string {
  const process = ctx.multiprocess ? `;process:${ctx.pid.toString(16)}` : '';
  switch (ev.kind) {
    case 'exited':
      return `W${hex2(ev.code & 0xff)}${process}`;
    case 'killed':
      return `X${hex2(linuxToGdbSignal(ev.signal))}${process}`;
    case 'signal': {
      let s = `T${hex2(linuxToGdbSignal(ev.signal))}` + reasonPart(ev, ctx);
      const cpu = ctx.cpuOf(ev.tid);
      if (cpu) for (const n of EXPEDITED) s += `${hex2(n)}:${bytesToHex(readRegister(cpu, n)!)};`;
      return s + `thread:${formatThreadId(ctx.pid, ev.tid, ctx.multiprocess)};core:0;`;
    }
  }
}
