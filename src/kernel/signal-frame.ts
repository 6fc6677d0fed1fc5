import { RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP, R8, R9, R10, R11, R12, R13, R14, R15, type Cpu } from '../cpu/cpu.js';
import { fpuInitState, fxrstorFrom, fxsaveTo } from '../cpu/x87/fxsave.js';
import { GuestFault } from '../mem/fault.js';
import { SS_AUTODISARM, altStackState, fitsAltStack, onAltStack, resetAltStack, setAltStack } from './alt-stack.js';
import type { SigAction, Task } from './task.js';

/**
 * The x86-64 Linux signal frame (arch/x86/kernel/signal.c, rt_sigframe):
 *
 *   frame+0    pretcode (sa_restorer: the handler "returns" into rt_sigreturn)
 *   frame+8    struct ucontext { uc_flags, uc_link, uc_stack (24), uc_mcontext (sigcontext, 256), uc_sigmask (8) }
 *   frame+312  siginfo (128)
 *   fpstate (fxsave area, 512, 64-byte aligned) above the frame, pointed to by sigcontext.fpstate
 *
 * The handler starts with rsp = frame (as if called), rdi = signo,
 * rsi = &siginfo, rdx = &ucontext, rax = 0.
 */
const UC = 8;
const MCTX = UC + 40;
const SIGMASK = MCTX + 256;
const INFO = UC + 304;
const FRAME_SIZE = INFO + 128;
const FPSTATE_SIZE = 512;
const UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
const SA_SIGINFO = 4, SA_ONSTACK = 0x08000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
const TWO32 = 4294967296;
const EFLAGS_RF = 0x10000;

/** sigcontext register order (struct sigcontext_64). */
const SIGCONTEXT_REGS = [R8, R9, R10, R11, R12, R13, R14, R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP];

export interface SigInfo {
  signo: number;
  code: number;
  /** si_addr for faults; sender pid for kill. */
  addr?: number;
  pid?: number;
  uid?: number;
  syscall?: number;
  /** A CPU fault (not a trap): the saved eflags image has RF set, as the CPU pushes it for faults. */
  fault?: boolean;
}

/** Writes a siginfo_t (128 bytes) at a. */
export function writeSiginfo(c: Cpu, a: number, info: SigInfo): void {
  const m = c.mem;
  m.fill(a, 128, 0);
  m.write32(a, info.signo);
  m.write32(a + 8, info.code);
  if (info.addr !== undefined) {
    m.write64(a + 16, info.addr | 0, Math.floor(info.addr / TWO32));
    if (info.syscall !== undefined) {
      m.write32(a + 24, info.syscall);
      m.write32(a + 28, 0xc000003e); // AUDIT_ARCH_X86_64
    }
  } else {
    m.write32(a + 16, info.pid ?? 0);
    m.write32(a + 20, info.uid ?? 0);
  }
}

/**
 * Builds the frame on the guest stack and points the CPU at the handler, as
 * Linux's x64_setup_rt_frame and handle_signal do. Throws GuestFault if the
 * stack is unusable (the caller then kills the process with SIGSEGV).
 */
export function setupSignalFrame(t: Task, act: SigAction, info: SigInfo, savedMask: [number, number] | null = null): void {
  const c = t.cpu;
  const m = c.mem;
  const oldSp = c.getS(RSP);
  // get_sigframe: below the red zone, or at the top of the alternate stack when SA_ONSTACK asks for it and the
  // task is not already on it.
  const nested = onAltStack(t, oldSp);
  let sp = oldSp - 128;
  let entering = false;
  if (act.flags & SA_ONSTACK && altStackState(t, sp) === 0) {
    sp = t.altStackSp + t.altStackSize;
    entering = true;
  }
  sp = Math.floor((sp - FPSTATE_SIZE) / 64) * 64;
  const fpstate = sp;
  // align_sigframe: ((sp + 8) & -16) - 8, so that the handler starts as if called (rsp + 8 16-byte aligned).
  sp = Math.floor((sp - FRAME_SIZE + 8) / 16) * 16 - 8;
  const frame = sp;
  // A frame that would overflow the alternate stack is not written (Linux returns a bogus address: SIGSEGV).
  if ((nested || entering) && !fitsAltStack(t, frame)) throw new GuestFault(frame, 'unmapped', 'write');
  const mask = savedMask ?? [t.sigmaskLo, t.sigmaskHi];

  fxsaveTo(c, fpstate, true);
  m.write64(frame, act.restorer | 0, Math.floor(act.restorer / TWO32));
  // ucontext
  m.write64(frame + UC, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, 0);
  m.write64(frame + UC + 8, 0, 0);
  // unsafe_save_altstack: the task's stack and its flags as sigaltstack stored them (0 normally, not SS_ONSTACK).
  m.write64(frame + UC + 16, t.altStackSp | 0, Math.floor(t.altStackSp / TWO32));
  m.write32(frame + UC + 24, t.altStackFlags);
  m.write32(frame + UC + 28, 0);
  m.write64(frame + UC + 32, t.altStackSize | 0, Math.floor(t.altStackSize / TWO32));
  if (t.altStackFlags & SS_AUTODISARM) resetAltStack(t);
  // sigcontext
  SIGCONTEXT_REGS.forEach((reg, k) => m.write64(frame + MCTX + 8 * k, c.r[2 * reg], c.r[2 * reg + 1]));
  m.write64(frame + MCTX + 128, c.rip | 0, Math.floor(c.rip / TWO32));
  m.write64(frame + MCTX + 136, c.getEflags() | (info.fault ? EFLAGS_RF : 0), 0);
  m.write16(frame + MCTX + 144, 0x33); // cs
  m.write16(frame + MCTX + 146, 0); // gs
  m.write16(frame + MCTX + 148, 0); // fs
  m.write16(frame + MCTX + 150, 0x2b); // ss
  // err, trapno and cr2 are the task's last CPU exception (thread.error_code/trap_nr/cr2), whatever the signal.
  m.write64(frame + MCTX + 152, t.trapErr, 0);
  m.write64(frame + MCTX + 160, t.trapNr, 0);
  m.write64(frame + MCTX + 168, mask[0], mask[1]); // oldmask: the first (64-bit) word of the mask sigreturn restores
  m.write64(frame + MCTX + 176, t.cr2 | 0, Math.floor(t.cr2 / TWO32));
  m.write64(frame + MCTX + 184, fpstate | 0, Math.floor(fpstate / TWO32));
  m.write64(frame + SIGMASK, mask[0], mask[1]);
  // Only SA_SIGINFO handlers get a siginfo; otherwise the frame's info area keeps what the stack held.
  if (act.flags & SA_SIGINFO) writeSiginfo(c, frame + INFO, info);

  // Block the handler's mask (and the signal itself unless SA_NODEFER) while it runs.
  t.sigmaskLo |= act.maskLo;
  t.sigmaskHi |= act.maskHi;
  if (!(act.flags & SA_NODEFER)) {
    if (info.signo <= 32) t.sigmaskLo |= 1 << (info.signo - 1);
    else t.sigmaskHi |= 1 << (info.signo - 33);
  }
  t.sigmaskLo &= ~((1 << 8) | (1 << 18)); // SIGKILL, SIGSTOP
  if (act.flags & SA_RESETHAND) act.handler = 0;

  c.setS(RSP, frame);
  c.setS(RDI, info.signo);
  c.setS(RSI, frame + INFO);
  c.setS(RDX, frame + UC);
  c.set64(RAX, 0, 0);
  c.rip = act.handler;
  c.setEflags(c.getEflags() & ~((1 << 10) | (1 << 8))); // clear DF and TF
  // fpu__clear_user_states: the handler starts with the FPU/SSE state of a new process (saved state is in the frame).
  fpuInitState(c);
  t.signalFrames++;
}

/** rt_sigreturn: restores what setupSignalFrame saved. rsp points just above pretcode. Returns rax to keep. */
export function restoreSignalFrame(t: Task): number {
  const c = t.cpu;
  const m = c.mem;
  const frame = c.getS(RSP) - 8;
  const regs = SIGCONTEXT_REGS.map((_, k) => {
    const lo = m.read64(frame + MCTX + 8 * k);
    return [lo, m.hi];
  });
  const ripLo = m.read64(frame + MCTX + 128), ripHi = m.hi;
  const flags = m.read32(frame + MCTX + 136);
  const fpLo = m.read64(frame + MCTX + 184), fpHi = m.hi;
  const maskLo = m.read64(frame + SIGMASK), maskHi = m.hi;
  SIGCONTEXT_REGS.forEach((reg, k) => c.set64(reg, regs[k][0], regs[k][1]));
  c.rip = ripHi * TWO32 + (ripLo >>> 0);
  c.setEflags((c.getEflags() & ~0x254dd5) | (flags & 0x254dd5));
  const fp = fpHi * TWO32 + (fpLo >>> 0);
  // fpu__restore_sig: a NULL fpstate means "start afresh".
  if (fp) fxrstorFrom(c, fp, true);
  else fpuInitState(c);
  // restore_altstack: sigaltstack(&uc_stack) from the restored stack pointer, errors ignored (EPERM when nested).
  const ssSp = m.read64(frame + UC + 16), ssSpHi = m.hi;
  const ssFlags = m.read32(frame + UC + 24);
  const ssSize = m.read64(frame + UC + 32), ssSizeHi = m.hi;
  setAltStack(t, c.getS(RSP), ssSpHi * TWO32 + (ssSp >>> 0), ssSizeHi * TWO32 + (ssSize >>> 0), ssFlags);
  t.sigmaskLo = maskLo & ~((1 << 8) | (1 << 18));
  t.sigmaskHi = maskHi;
  return c.getS(RAX);
}
