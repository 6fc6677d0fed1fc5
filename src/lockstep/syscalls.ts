import type { Registers, SyscallHook } from './side.js';
import type { StatePort } from './port.js';
import { byteDifferences } from './compare.js';
import { le64, readRange, writeRange } from './bytes.js';
import { MUST_MATCH, PID_ARGS, PID_RESULT, SYSCALL_ARG_REGISTERS, syscallOutputs } from './syscall-effects.js';
import { syscallByNumber } from '../kernel/syscall-table.js';
import { PROC_PATH_SYSCALLS, translateProcPath } from './proc-paths.js';
import { PORT_ARGUMENT_SYSCALLS, portsToEmulator, translatePortArguments } from './ports.js';

const RSEQ = 334, RSEQ_FLAG_UNREGISTER = 1;
const RT_SIGTIMEDWAIT = 128;
/** -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK as 64-bit values. */
const RESTART_CODES = new Set([512n, 513n, 514n, 516n].map((v) => (1n << 64n) - v));

/** rax holds a kernel-internal restart code: a syscall interrupted by a signal not yet delivered (ptrace shows it). */
export function isRestartCode(rax: bigint): boolean {
  return RESTART_CODES.has(rax);
}

/** What syscall reconciliation needs from the differ. */
export interface SyscallContext {
  native: StatePort;
  emu: StatePort;
  /** elfshim pid → native pid, learned from the calls that return pids. */
  pids: Map<number, number>;
  /** elfshim port → native port, learned from the calls that report socket addresses (ports.ts). */
  ports: Map<number, number>;
  /** Told of each port pair learned (a test's driver talks to both runs' servers). */
  portLearned?: (elfshimPort: number, nativePort: number) => void;
  /** Counts a difference made equal on purpose (shown in the summary). */
  count(what: string): void;
  /** The host CPU the native run is pinned to (pinned-cpu.ts). */
  nativeCpu: number;
}

/**
 * Rewrites the arguments of native syscall nr (about to run): pids from
 * elfshim's to the native ones (without this, a native kill(getpid(), …)
 * would signal elfshim), also in /proc paths (proc-paths.ts). Returns how to
 * restore the registers (and memory).
 */
export async function translatePids(ctx: SyscallContext, regs: Registers, nr: number): Promise<(() => Promise<void>) | null> {
  const restore: Array<[string, bigint]> = [];
  const undoPorts = await translatePortArguments(ctx, regs, nr);
  const undoProc = await translateProcPath(ctx.native, regs, nr, ctx.pids);
  if (undoProc) ctx.count("/proc path with elfshim's pid or tid (the native one given to native)");
  const undoPath = undoPorts && undoProc ? async () => { await undoProc(); await undoPorts(); } : undoPorts ?? undoProc;
  for (const k of PID_ARGS[nr] ?? []) {
    const reg = SYSCALL_ARG_REGISTERS[k];
    const raw = regs.big(reg);
    const v = Number(BigInt.asIntN(32, raw));
    const mapped = ctx.pids.get(Math.abs(v));
    if (mapped === undefined || v === 0) continue;
    await ctx.native.writeRegister(reg, le64(BigInt(v < 0 ? -mapped : mapped)));
    restore.push([reg, raw]);
  }
  if (!restore.length) return undoPath;
  return async () => {
    for (const [reg, raw] of restore) await ctx.native.writeRegister(reg, le64(raw));
    await undoPath?.();
  };
}

/** A hook for free runs of the native side: the same pid translation at every pid-taking syscall. */
export function pidHook(ctx: SyscallContext): SyscallHook {
  return {
    numbers: [...Object.keys(PID_ARGS).map(Number), ...PROC_PATH_SYSCALLS, ...PORT_ARGUMENT_SYSCALLS],
    entry: (regs: Registers) => translatePids(ctx, regs, Number(regs.big('orig_rax'))),
  };
}

/**
 * After a syscall stepped on both sides: results that legitimately differ
 * are copied native → elfshim (with the buffers of read-like calls), pids go
 * the other way, and address-space calls must match. Returns 'resync' when
 * registers were written, or the reason of a divergence.
 */
export async function reconcileSyscall(ctx: SyscallContext, before: Registers, n: Registers, e: Registers): Promise<'ok' | 'resync' | 'interrupted' | { diverged: string }> {
  const nr = Number(before.big('rax'));
  const name = syscallByNumber(nr)?.name ?? `syscall ${nr}`;
  let changed = false;
  // r11 ← rflags: natively TF is set there because the process is being single-stepped.
  if ((n.big('r11') ^ e.big('r11')) === 0x100n) {
    await ctx.native.writeRegister('r11', le64(e.big('r11')));
    changed = true;
  }
  const rn = n.big('rax'), re = e.big('rax');
  if (RESTART_CODES.has(rn)) {
    // Interrupted by a signal: at this stop ptrace shows the kernel's -ERESTART* code and the pc after the
    // syscall; delivery turns that into -EINTR or a restart. elfshim decides when interrupting (EINTR, or rax =
    // nr and the pc back on the syscall). The delivery's signal frame (or the next step) compares the outcome.
    ctx.count(`${name} interrupted (native -ERESTART* not compared before delivery)`);
    return 'interrupted';
  }
  if (rn !== re && PID_RESULT.has(nr) && rn < 1n << 31n && re < 1n << 31n) {
    // Different processes, different pids: native continues with elfshim's, and pid arguments are mapped back.
    ctx.pids.set(Number(re), Number(rn));
    await ctx.native.writeRegister('rax', le64(re));
    ctx.count(`${name} (elfshim's pid given to native)`);
    return 'resync';
  }
  if (rn !== re) {
    if (MUST_MATCH.has(nr)) {
      return { diverged: `${name} returned 0x${rn.toString(16)} natively and 0x${re.toString(16)} under elfshim` };
    }
    await ctx.emu.writeRegister('rax', le64(rn));
    ctx.count(`${name} (result)`);
    changed = true;
  }
  if (nr === RT_SIGTIMEDWAIT && rn > 0n && rn < 65n && before.big('rsi') !== 0n && (await siginfoPidToEmulator(ctx, before.num('rsi') + 16))) {
    ctx.count(`${name} (elfshim's pid in the siginfo given to native)`);
  }
  const wrongPort = await portsToEmulator(ctx, before, rn);
  if (wrongPort) return { diverged: `${name}: ${wrongPort}` };
  const ranges = await syscallOutputs(nr, before, rn, (addr, count) => readIovecs(ctx, addr, count));
  for (const [addr, len] of ranges) {
    const [a, b] = await Promise.all([readRange(ctx.native, addr, len), readRange(ctx.emu, addr, len)]);
    if (a && (!b || byteDifferences(a, b, 1).length)) {
      await writeRange(ctx.emu, addr, a);
      ctx.count(`${name} (memory)`);
    }
  }
  return changed ? 'resync' : 'ok';
}

/** struct rseq's fields the kernel writes: cpu_id_start, cpu_id (offsets 0, 4), node_id, mm_cid (20, 24). */
const RSEQ_IDS: Array<[number, string]> = [[0, 'cpu_id_start'], [4, 'cpu_id'], [20, 'node_id'], [24, 'mm_cid']];

/** The area of an rseq registration that before (the registers at the syscall) made, if it succeeded (result). */
export function rseqRegistration(before: Registers, result: bigint): number | null {
  return before.num('rax') === RSEQ && result === 0n && (before.num('rdx') & RSEQ_FLAG_UNREGISTER) === 0 ? before.num('rdi') : null;
}

/**
 * After an rseq registration that succeeded on both sides, once the native thread ran on (the host kernel writes
 * the ids on its way back to user space, after the ptrace stop that ends the syscall's step): the ids the kernels
 * wrote into the area must agree. Native runs pinned to one CPU; when that is not CPU 0 (a restricted affinity),
 * elfshim, which reports CPU 0 throughout, gets the native cpu numbers (counted). Any other difference is a
 * divergence (its reason returned).
 */
export async function reconcileRseqArea(ctx: SyscallContext, addr: number): Promise<string | null> {
  const [a, b] = await Promise.all([ctx.native.readMemory(addr, 28), ctx.emu.readMemory(addr, 28)]);
  if (!a || !b) return null;
  const u32 = (x: Uint8Array, off: number) => new DataView(x.buffer, x.byteOffset).getUint32(off, true);
  if (ctx.nativeCpu !== 0 && u32(a, 4) === ctx.nativeCpu && u32(b, 4) === 0) {
    for (const off of [0, 4]) await ctx.emu.writeMemory(addr + off, a.subarray(off, off + 4));
    ctx.count(`rseq cpu ids (native pinned to CPU ${ctx.nativeCpu}; elfshim's 0 replaced)`);
  }
  const c = (await ctx.emu.readMemory(addr, 28)) ?? b;
  const diff = RSEQ_IDS.filter(([off]) => u32(a, off) !== u32(c, off));
  if (!diff.length) return null;
  return `the rseq area registered at 0x${addr.toString(16)} holds ${diff.map(([off, name]) => `${name} ${u32(a, off)} natively and ${u32(c, off)} under elfshim`).join(', ')}`;
}

/** si_pid at addr natively: the native pid of a process the differ knows becomes elfshim's, as getpid's result does. */
export async function siginfoPidToEmulator(ctx: SyscallContext, addr: number): Promise<boolean> {
  const b = await ctx.native.readMemory(addr, 4);
  if (!b) return false;
  const v = new DataView(b.buffer, b.byteOffset).getInt32(0, true);
  for (const [e, n] of ctx.pids) {
    if (n !== v || e === n) continue;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setInt32(0, e, true);
    return ctx.native.writeMemory(addr, out);
  }
  return false;
}

async function readIovecs(ctx: SyscallContext, addr: number, count: number): Promise<Array<[number, number]>> {
  const b = await ctx.native.readMemory(addr, count * 16);
  if (!b) return [];
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const out: Array<[number, number]> = [];
  for (let k = 0; k < count; k++) out.push([Number(v.getBigUint64(16 * k, true)), Number(v.getBigUint64(16 * k + 8, true))]);
  return out;
}
