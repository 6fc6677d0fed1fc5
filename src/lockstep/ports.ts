import type { Registers } from './side.js';
import type { SyscallContext } from './syscalls.js';

/**
 * Port numbers, translated as pids are. Both runs use host sockets, so a socket bound to port 0 (or bound by its
 * first sendto/connect) gets one ephemeral port natively and another under elfshim. The program sees elfshim's
 * numbers on both sides: where a syscall reports a socket address (getsockname, recvfrom's source, accept's peer…)
 * and the two ports differ, native gets elfshim's port in its memory and the pair is learned; where the program
 * passes a learned port to the kernel (bind, connect, sendto, sendmsg…), the native call gets the native port for
 * its duration. Each run thus keeps talking to its own sockets. Anything else in the address (family, host,
 * flowinfo, scope) is left to the comparison.
 */

const AF_INET = 2, AF_INET6 = 10;
/** struct msghdr: msg_name at 0; struct mmsghdr is a msghdr and a length, 64 bytes. */
const MMSGHDR = 64;
/** At most this many messages of a sendmmsg/recvmmsg are looked at (Linux's UIO_MAXIOV is 1024). */
const MAX_MESSAGES = 1024;

type Where = (r: Registers) => Array<{ at: number } | { msghdr: number } | { mmsg: number; count: number }>;

/** Socket addresses a syscall reads (the arguments holding them): connect, sendto, sendmsg, bind, sendmmsg. */
const INPUTS: Record<number, Where> = {
  42: (r) => [{ at: r.num('rsi') }],
  44: (r) => [{ at: r.num('r8') }],
  46: (r) => [{ msghdr: r.num('rsi') }],
  49: (r) => [{ at: r.num('rsi') }],
  307: (r) => [{ mmsg: r.num('rsi'), count: Math.min(r.num('rdx'), MAX_MESSAGES) }],
};

/** Socket addresses a syscall writes: accept, recvfrom, recvmsg, getsockname, getpeername, accept4, recvmmsg (count: its result). */
const OUTPUTS: Record<number, (r: Registers, result: number) => ReturnType<Where>> = {
  43: (r) => [{ at: r.num('rsi') }],
  45: (r) => [{ at: r.num('r8') }],
  47: (r) => [{ msghdr: r.num('rsi') }],
  51: (r) => [{ at: r.num('rsi') }],
  52: (r) => [{ at: r.num('rsi') }],
  288: (r) => [{ at: r.num('rsi') }],
  299: (r, result) => [{ mmsg: r.num('rsi'), count: Math.min(result, MAX_MESSAGES) }],
};

/** The syscalls whose arguments may name a learned port (a free run's hook stops at them). */
export const PORT_ARGUMENT_SYSCALLS = Object.keys(INPUTS).map(Number);

const u16 = (b: Uint8Array, off: number, bigEndian = false) => new DataView(b.buffer, b.byteOffset).getUint16(off, !bigEndian);
const be16 = (v: number) => new Uint8Array([v >> 8, v & 0xff]);

/** The addresses of the sockaddrs named by where, read from native memory (equal to elfshim's: msg_name pointers). */
async function sockaddrs(ctx: SyscallContext, where: ReturnType<Where>): Promise<number[]> {
  const out: number[] = [];
  for (const w of where) {
    if ('at' in w) out.push(w.at);
    else if ('msghdr' in w) out.push(await pointerAt(ctx, w.msghdr));
    else for (let k = 0; k < w.count; k++) out.push(await pointerAt(ctx, w.mmsg + k * MMSGHDR));
  }
  return out.filter((a) => a !== 0);
}

async function pointerAt(ctx: SyscallContext, addr: number): Promise<number> {
  if (!addr) return 0;
  const b = await ctx.native.readMemory(addr, 8);
  return b ? Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true)) : 0;
}

/** The port of an IPv4/IPv6 socket address at addr (its first 4 bytes: family, port in network order), or null. */
function inetPort(head: Uint8Array | null): number | null {
  if (!head || head.length < 4) return null;
  const family = u16(head, 0);
  return family === AF_INET || family === AF_INET6 ? u16(head, 2, true) : null;
}

/** Before native syscall nr: learned (elfshim) ports in the addresses it reads become the native ones; returns the undo. */
export async function translatePortArguments(ctx: SyscallContext, regs: Registers, nr: number): Promise<(() => Promise<void>) | null> {
  const where = INPUTS[nr];
  if (!where || !ctx.ports.size) return null;
  const restore: Array<[number, number]> = [];
  for (const addr of await sockaddrs(ctx, where(regs))) {
    const port = inetPort(await ctx.native.readMemory(addr, 4));
    const native = port === null ? undefined : ctx.ports.get(port);
    if (native === undefined || native === port) continue;
    if (!(await ctx.native.writeMemory(addr + 2, be16(native)))) continue;
    restore.push([addr, port!]);
    ctx.count("port in a syscall's argument (the native one given to native)");
  }
  if (!restore.length) return null;
  return async () => {
    for (const [addr, port] of restore) await ctx.native.writeMemory(addr + 2, be16(port));
  };
}

/**
 * After syscall nr succeeded on both sides (result: the native one): where it reported a socket address whose
 * port differs, native gets elfshim's port and the pair is learned. A pair that contradicts one learned before
 * (elfshim's port known with another native one, or the other way round: elfshim reported the wrong socket's
 * port) is a divergence, whose reason is returned.
 */
export async function portsToEmulator(ctx: SyscallContext, before: Registers, result: bigint): Promise<string | null> {
  const nr = before.num('rax');
  const where = OUTPUTS[nr];
  if (!where || result >= 1n << 63n) return null;
  for (const addr of await sockaddrs(ctx, where(before, Number(result)))) {
    const [n, e] = await Promise.all([ctx.native.readMemory(addr, 4), ctx.emu.readMemory(addr, 4)]);
    const pn = inetPort(n), pe = inetPort(e);
    if (pn === null || pe === null) continue;
    const known = ctx.ports.get(pe) ?? pe;
    const other = [...ctx.ports].find(([k, v]) => v === pn && k !== pe);
    if (known !== pn && (ctx.ports.has(pe) || other)) {
      return `the socket address at 0x${addr.toString(16)} holds port ${pn} natively and ${pe} under elfshim, which is ${ctx.ports.has(pe) ? `native port ${known}` : `unknown, where native port ${pn} is elfshim's ${other![0]}`}`;
    }
    if (pn === pe) continue;
    if (!ctx.ports.has(pe)) {
      ctx.ports.set(pe, pn);
      ctx.portLearned?.(pe, pn);
    }
    await ctx.native.writeMemory(addr + 2, be16(pe));
    ctx.count("port in a syscall's output (elfshim's given to native)");
  }
  return null;
}
