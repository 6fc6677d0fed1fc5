import type { Registers } from './side.js';
import type { StatePort } from './port.js';
import { GPR_NAMES, byteDifferences, type MemoryDifference } from './compare.js';
import { le32, le64, readRange, writeRange } from './bytes.js';

/** What signal-frame alignment needs from the differ. */
export interface FrameContext {
  native: StatePort;
  emu: StatePort;
  /** elfshim pid → native pid. */
  pids: Map<number, number>;
  /** Linux signal number → sa_flags of its handler, from the rt_sigaction calls seen. */
  sigactionFlags: Map<number, bigint>;
  /** Counts a difference made equal on purpose (shown in the summary). */
  count(what: string): void;
}

const SA_SIGINFO = 4n;
/** SIGTRAP's bit in a signal mask. */
const SIGTRAP_BIT = 1n << 4n;
/** struct _fpx_sw_bytes.magic1: the frame's FPU state is an xsave area (arch/x86/include/uapi/asm/sigcontext.h). */
const FP_XSTATE_MAGIC1 = 0x46505853;
/** Signals a CPU exception raises (gdb numbering = Linux numbering for these): SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV. */
const FAULT_SIGNALS = new Set([4, 5, 7, 8, 11]);

/**
 * A signal delivery writes an rt_sigframe below the interrupted stack:
 * pretcode, ucontext (flags, link, stack, sigcontext, sigmask), siginfo,
 * and above them the FPU state, whose size depends on the CPU (the host's
 * holds AVX state, elfshim's is a 512-byte fxsave area). So the frames
 * start at different addresses. To keep stepping through the handler,
 * elfshim's frame is moved to where the native one is (pointers adjusted),
 * after comparing the two frames field by field (except uc_flags'
 * UC_FP_XSTATE bit and the fpstate pointer).
 *
 * ptrace stops at the handler's first instruction, and so must elfshim's
 * stub. The FPU state saved in the frame is compared too (the legacy
 * fxsave region both have, up to xmm15).
 */
export async function alignSignalFrames(ctx: FrameContext, signal: number, before: Registers, n: Registers, e: Registers): Promise<{ ok: boolean } | { reason: string; memory?: MemoryDifference }> {
  if (n.num('rip') !== e.num('rip')) {
    return { reason: `after delivering the signal, native stopped at 0x${n.num('rip').toString(16)} (the handler's first instruction) and elfshim at 0x${e.num('rip').toString(16)}` };
  }
  const MCTX = 8 + 40, OLDMASK = MCTX + 168, UC_SIGMASK = 8 + 296, FPSTATE_PTR = MCTX + 184, ERR = MCTX + 152, TRAPNO = MCTX + 160, RESERVED = MCTX + 192, INFO = 8 + 304, FPSTATE_SIZE = 512;
  const len = INFO + 128;
  const nFrame = n.num('rdx') - 8, eFrame = e.num('rdx') - 8;
  if (nFrame !== n.num('rsi') - INFO || eFrame !== e.num('rsi') - INFO) return { ok: false };
  // Compare pretcode, ucontext and siginfo, except what legitimately differs.
  const [a, b] = await Promise.all([readRange(ctx.native, nFrame, len), readRange(ctx.emu, eFrame, len)]);
  if (!a || !b) return { ok: false };
  const na = a.slice(), nb = b.slice();
  const ignore = (from: number, to: number) => {
    a.fill(0, from, to);
    b.fill(0, from, to);
  };
  // UC_FP_XSTATE: the frame holds an xsave area (elfshim's CPU has no XSAVE bit); the fpstate pointers differ;
  // the kernel leaves uc_mcontext's reserved words alone (stack garbage, from different addresses).
  a[8] &= ~1;
  b[8] &= ~1;
  ignore(FPSTATE_PTR, FPSTATE_PTR + 8);
  ignore(RESERVED, RESERVED + 64);
  // The padding after uc_stack.ss_flags: __save_altstack writes ss_sp, ss_flags and ss_size one by one.
  ignore(36, 40);
  // sigcontext.trapno/err describe the last CPU exception: for a signal that is not a fault, natively that is
  // the debugger's single-step trap (trapno 1), nothing the program did.
  if (!FAULT_SIGNALS.has(signal)) ignore(ERR, TRAPNO + 8);
  const va = new DataView(a.buffer, a.byteOffset), vb = new DataView(b.buffer, b.byteOffset);
  // The mask before delivery (oldmask, uc_sigmask): natively the single-step trap unblocks SIGTRAP (the kernel
  // forces it), so a program that blocked it has it blocked under elfshim only. elfshim's frame takes the native
  // mask, so that sigreturn restores the same mask on both sides.
  for (const off of [OLDMASK, UC_SIGMASK]) {
    const mn = va.getBigUint64(off, true), me = vb.getBigUint64(off, true);
    if ((mn ^ me) !== SIGTRAP_BIT || mn & SIGTRAP_BIT) continue;
    vb.setBigUint64(off, mn, true);
    nb.set(na.subarray(off, off + 8), off);
    if (!(await ctx.emu.writeMemory(eFrame + off, na.slice(off, off + 8)))) return { ok: false };
    ctx.count('signal frame mask: SIGTRAP unblocked natively by the single-step trap (native mask taken)');
  }
  // uc_stack.ss_flags is the flags of the thread's last sigaltstack call (0 if there was none). With no alternate
  // stack (ss_sp and ss_size 0 on both sides), SS_DISABLE natively against 0 is the fast transport's doing: the
  // tracer's in-process stepping (tracer/turbo.h) ran with its own alternate stack and put SS_DISABLE back.
  // elfshim's frame takes the native value, so that sigreturn restores the same on both sides.
  const SS_FLAGS = 32, SS_DISABLE = 2;
  if (va.getUint32(SS_FLAGS, true) === SS_DISABLE && vb.getUint32(SS_FLAGS, true) === 0 && [24, 40].every((o) => va.getBigUint64(o, true) === 0n && vb.getBigUint64(o, true) === 0n)) {
    vb.setUint32(SS_FLAGS, SS_DISABLE, true);
    nb.set(na.subarray(SS_FLAGS, SS_FLAGS + 4), SS_FLAGS);
    if (!(await ctx.emu.writeMemory(eFrame + SS_FLAGS, na.slice(SS_FLAGS, SS_FLAGS + 4)))) return { ok: false };
    ctx.count('signal frame uc_stack.ss_flags: SS_DISABLE natively, left by in-process stepping (native value taken)');
  }
  // The handler's signal number (Linux numbering; `signal` is gdb's) and whether it asked for a siginfo.
  const signo = n.num('rdi');
  const flags = ctx.sigactionFlags.get(signo);
  const withInfo = flags === undefined ? va.getInt32(INFO, true) === vb.getInt32(INFO, true) : (flags & SA_SIGINFO) !== 0n;
  if (!withInfo) {
    // Linux writes siginfo only for SA_SIGINFO handlers: otherwise that part of the frame is stack garbage, and
    // the garbage differs (the native frames sit elsewhere, below a larger FPU state).
    ignore(INFO, INFO + 128);
    ctx.count('signal frame without SA_SIGINFO: siginfo not compared');
  } else {
    // si_pid of a signal sent with kill(): the sender's pid differs between the runs.
    const pn = va.getUint32(INFO + 16, true), pe = vb.getUint32(INFO + 16, true);
    if (pn !== pe && ctx.pids.get(pe) === pn) {
      await ctx.native.writeMemory(nFrame + INFO + 16, le32(pe));
      na.set(le32(pe), INFO + 16);
      va.setUint32(INFO + 16, pe, true);
    }
  }
  const d = byteDifferences(a, b, 1);
  if (d.length) return { reason: `the signal frame at 0x${nFrame.toString(16)} differs in ${sigframeField(d[0])}`, memory: { addr: nFrame, native: na, elfshim: nb, first: d[0] } };
  const fp = await compareFpstate(ctx, new DataView(na.buffer).getBigUint64(FPSTATE_PTR, true), new DataView(nb.buffer).getBigUint64(FPSTATE_PTR, true));
  if (fp) return fp;
  const delta = nFrame - eFrame;
  if (delta !== 0) {
    // Move elfshim's frame where the native one is: the native frame's bytes (equal where it matters, and the
    // same garbage elsewhere), elfshim's own FPU state and whatever its first handler instruction pushed. The FPU
    // state goes where the native one is too (its legacy region, which is all elfshim's is, compared equal), so
    // that a handler reading uc_mcontext.fpregs gets the same pointer on both sides.
    const fpE = Number(new DataView(nb.buffer).getBigUint64(FPSTATE_PTR, true));
    const fpN = Number(new DataView(na.buffer).getBigUint64(FPSTATE_PTR, true));
    const lo = Math.min(e.num('rsp'), eFrame);
    if (eFrame - lo > 4096 || fpE < eFrame + len || fpE - eFrame > 1 << 16 || lo > before.num('rsp')) return { ok: false };
    if (fpN < nFrame + len || fpN + FPSTATE_SIZE > before.num('rsp')) return { ok: false };
    const [below, fpstate] = await Promise.all([readRange(ctx.emu, lo, eFrame - lo), readRange(ctx.emu, fpE, FPSTATE_SIZE)]);
    if (!below || !fpstate) return { ok: false };
    // Above elfshim's 512 bytes, the native frame holds the AVX state (its size is in the fxsave area's software
    // bytes, extended_size at +468): copied too, so that the stack the program later reuses (and may read before
    // writing, as a `lock or $0,(%rsp)` fence does) is the same on both sides.
    const sw = await ctx.native.readMemory(fpN + 464, 8);
    const magic = sw ? new DataView(sw.buffer, sw.byteOffset).getUint32(0, true) : 0, size = sw ? new DataView(sw.buffer, sw.byteOffset).getUint32(4, true) : 0;
    const extended = magic === FP_XSTATE_MAGIC1 && size > FPSTATE_SIZE && size <= 1 << 16 ? size - FPSTATE_SIZE : 0;
    const rest = extended ? await readRange(ctx.native, fpN + FPSTATE_SIZE, extended) : new Uint8Array();
    if (!rest || !(await writeRange(ctx.emu, lo + delta, below)) || !(await writeRange(ctx.emu, nFrame, na)) || !(await writeRange(ctx.emu, fpN, fpstate)) || !(await writeRange(ctx.emu, fpN + FPSTATE_SIZE, rest))) return { ok: false };
    // Registers that point into the moved frame (rsp, rsi = &siginfo, rdx = &ucontext…): the native value is theirs moved.
    for (const name of GPR_NAMES) {
      const v = e.num(name);
      if (v >= lo && v < fpE + FPSTATE_SIZE && v + delta === n.num(name)) await ctx.emu.writeRegister(name, le64(BigInt(v + delta)));
    }
    ctx.count(`signal frame moved to the native frame's address`);
  }
  return { ok: true };
}

/**
 * Legacy fxsave bytes compared: FCW, FSW, FTW, MXCSR, ST0-7, XMM0-15 (MXCSR_MASK and bytes 416+ are CPU/kernel
 * specific; the last x87 opcode and instruction/operand pointers are not compared in registers either unless
 * --x87-pointers).
 */
const FX_COMPARED: Array<[number, number]> = [[0, 6], [24, 28], [32, 416]];
const FX_FIELDS: Array<[number, string]> = [[0, 'fcw'], [2, 'fsw'], [4, 'ftw'], [6, 'fop'], [8, 'fip'], [16, 'fdp'], [24, 'mxcsr'], [32, 'st0-7'], [160, 'xmm0-15']];

/** The FPU state the kernel saved in both frames (the interrupted code's), legacy region only. */
async function compareFpstate(ctx: FrameContext, nAddr: bigint, eAddr: bigint): Promise<{ reason: string; memory: MemoryDifference } | null> {
  const [a, b] = await Promise.all([readRange(ctx.native, Number(nAddr), 416), readRange(ctx.emu, Number(eAddr), 416)]);
  if (!a || !b) return { reason: 'the FPU state of a signal frame is unreadable', memory: { addr: Number(nAddr), native: a, elfshim: b } };
  for (const [from, to] of FX_COMPARED) {
    const d = byteDifferences(a.subarray(from, to), b.subarray(from, to), 1);
    if (!d.length) continue;
    const off = from + d[0];
    const field = [...FX_FIELDS].reverse().find(([o]) => o <= off)![1];
    return { reason: `the FPU state saved in the signal frame (fpstate 0x${nAddr.toString(16)}) differs in ${field} (+${off})`, memory: { addr: Number(nAddr), native: a, elfshim: b, first: off } };
  }
  return null;
}

/** The rt_sigframe field at a byte offset (arch/x86/include/uapi/asm/sigcontext.h, ucontext.h). */
export function sigframeField(off: number): string {
  const SC = ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'eflags', 'cs/gs/fs/ss', 'err', 'trapno', 'oldmask', 'cr2', 'fpstate'];
  if (off < 8) return 'pretcode';
  if (off < 48) return ['uc_flags', 'uc_link', 'uc_stack.ss_sp', 'uc_stack.ss_flags', 'uc_stack.ss_size'][(off - 8) >> 3];
  if (off < 48 + 8 * SC.length) return `uc_mcontext.${SC[(off - 48) >> 3]}`;
  if (off < 304) return 'uc_mcontext reserved';
  if (off < 312) return 'uc_sigmask';
  return `siginfo (+${off - 312})`;
}
