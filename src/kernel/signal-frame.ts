import { RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP, R8, R9, R10, R11, R12, R13, R14, R15, type Cpu } from '../cpu/cpu.js';
import { fxrstorFrom, fxsaveTo } from '../cpu/x87/fxsave.js';
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
const SA_ONSTACK = 0x08000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
const SS_ONSTACK = 1, SS_DISABLE = 2;
const TWO32 = 4294967296;

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
}

function onAltStack(t: Task, sp: number): boolean {
  return t.altStackSize > 0 && sp > t.altStackSp && sp <= t.altStackSp + t.altStackSize;
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

/** Builds the frame on the guest stack and points the CPU at the handler. Throws GuestFault if the stack is unusable. */
export function setupSignalFrame(t: Task, act: SigAction, info: SigInfo, savedMask: [number, number] | null = null): void {
  const c = t.cpu;
  const m = c.mem;
  const oldSp = c.getS(RSP);
  let sp = oldSp - 128; // the red zone belongs to the interrupted code
  if (act.flags & SA_ONSTACK && !(t.altStackFlags & SS_DISABLE) && !onAltStack(t, oldSp)) sp = t.altStackSp + t.altStackSize;
  sp = Math.floor((sp - FPSTATE_SIZE) / 64) * 64;
  const fpstate = sp;
  sp = Math.floor((sp - FRAME_SIZE) / 16) * 16 - 8;
  const frame = sp;

  fxsaveTo(c, fpstate, true);
  m.write64(frame, act.restorer | 0, Math.floor(act.restorer / TWO32));
  // ucontext
  m.write64(frame + UC, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, 0);
  m.write64(frame + UC + 8, 0, 0);
  m.write64(frame + UC + 16, t.altStackSp | 0, Math.floor(t.altStackSp / TWO32));
  m.write32(frame + UC + 24, onAltStack(t, oldSp) ? SS_ONSTACK : t.altStackFlags);
  m.write32(frame + UC + 28, 0);
  m.write64(frame + UC + 32, t.altStackSize | 0, Math.floor(t.altStackSize / TWO32));
  // sigcontext
  SIGCONTEXT_REGS.forEach((reg, k) => m.write64(frame + MCTX + 8 * k, c.r[2 * reg], c.r[2 * reg + 1]));
  m.write64(frame + MCTX + 128, c.rip | 0, Math.floor(c.rip / TWO32));
  m.write64(frame + MCTX + 136, c.getEflags(), 0);
  m.write16(frame + MCTX + 144, 0x33); // cs
  m.write16(frame + MCTX + 146, 0); // gs
  m.write16(frame + MCTX + 148, 0); // fs
  m.write16(frame + MCTX + 150, 0x2b); // ss
  m.write64(frame + MCTX + 152, 0, 0); // err
  m.write64(frame + MCTX + 160, info.signo === 11 ? 14 : 0, 0); // trapno (page fault for SIGSEGV)
  m.write64(frame + MCTX + 168, t.sigmaskLo, 0); // oldmask
  const cr2 = info.addr ?? 0;
  m.write64(frame + MCTX + 176, cr2 | 0, Math.floor(cr2 / TWO32));
  m.write64(frame + MCTX + 184, fpstate | 0, Math.floor(fpstate / TWO32));
  m.write64(frame + SIGMASK, savedMask ? savedMask[0] : t.sigmaskLo, savedMask ? savedMask[1] : t.sigmaskHi);
  writeSiginfo(c, frame + INFO, info);

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
  if (fp) fxrstorFrom(c, fp, true);
  t.sigmaskLo = maskLo & ~((1 << 8) | (1 << 18));
  t.sigmaskHi = maskHi;
  return c.getS(RAX);
}
