import type { Registers, Side } from './side.js';
import { GPR_NAMES, byteDifferences, type MemoryDifference } from './compare.js';
import { le32, le64, readRange, writeRange } from './bytes.js';

/** What signal-frame alignment needs from the differ. */
export interface FrameContext {
  native: Side;
  emu: Side;
  /** elfshim pid → native pid. */
  pids: Map<number, number>;
  /** Counts a difference made equal on purpose (shown in the summary). */
  count(what: string): void;
}

const SIGTRAP = 5;
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
 * ptrace stops at the handler's first instruction; if elfshim already ran
 * it, native is stepped once more first.
 */
export async function alignSignalFrames(ctx: FrameContext, signal: number, before: Registers, n: Registers, e: Registers): Promise<{ ok: boolean } | { memory: MemoryDifference }> {
  if (n.num('rip') !== e.num('rip')) {
    const st = await ctx.native.step();
    if (st.kind !== 'signal' || st.signal !== SIGTRAP) return { ok: false };
    n = await ctx.native.registers();
    ctx.count("signal delivery (elfshim's step also ran the handler's first instruction)");
    if (n.num('rip') !== e.num('rip')) return { ok: false };
  }
  const MCTX = 8 + 40, FPSTATE_PTR = MCTX + 184, ERR = MCTX + 152, TRAPNO = MCTX + 160, RESERVED = MCTX + 192, INFO = 8 + 304, FPSTATE_SIZE = 512;
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
  // sigcontext.trapno/err describe the last CPU exception: for a signal that is not a fault, natively that is
  // the debugger's single-step trap (trapno 1), nothing the program did.
  if (!FAULT_SIGNALS.has(signal)) ignore(ERR, TRAPNO + 8);
  const va = new DataView(a.buffer, a.byteOffset), vb = new DataView(b.buffer, b.byteOffset);
  if (va.getInt32(INFO, true) !== vb.getInt32(INFO, true)) {
    // Linux writes siginfo only for SA_SIGINFO handlers; elfshim always does. Without it, it is garbage.
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
  if (d.length) return { memory: { addr: nFrame, native: na, elfshim: nb, first: d[0] } };
  const delta = nFrame - eFrame;
  if (delta !== 0) {
    // Move elfshim's frame where the native one is: the native frame's bytes (equal where it matters, and the
    // same garbage elsewhere), elfshim's own FPU state and whatever its first handler instruction pushed.
    const fpE = Number(new DataView(nb.buffer).getBigUint64(FPSTATE_PTR, true));
    const lo = Math.min(e.num('rsp'), eFrame);
    if (eFrame - lo > 4096 || fpE < eFrame + len || fpE - eFrame > 1 << 16 || lo > before.num('rsp')) return { ok: false };
    const [below, fpstate] = await Promise.all([readRange(ctx.emu, lo, eFrame - lo), readRange(ctx.emu, fpE, FPSTATE_SIZE)]);
    if (!below || !fpstate) return { ok: false };
    na.set(le64(BigInt(fpE + delta)), FPSTATE_PTR);
    if (!(await writeRange(ctx.emu, lo + delta, below)) || !(await writeRange(ctx.emu, nFrame, na)) || !(await writeRange(ctx.emu, fpE + delta, fpstate))) return { ok: false };
    // Registers that point into the moved frame (rsp, rsi = &siginfo, rdx = &ucontext…): the native value is theirs moved.
    for (const name of GPR_NAMES) {
      const v = e.num(name);
      if (v >= lo && v < fpE + FPSTATE_SIZE && v + delta === n.num(name)) await ctx.emu.writeRegister(name, le64(BigInt(v + delta)));
    }
    ctx.count(`signal frame moved to the native frame's address`);
  }
  return { ok: true };
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
