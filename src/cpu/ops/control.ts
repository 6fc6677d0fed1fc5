import { Cpu, RCX, R11, Stop } from '../cpu.js';
import type { Instr } from '../instr.js';

const TWO32 = 4294967296;

// Every control-transfer instruction sets c.rip explicitly (taken or not):
// the engine relies on that to know where the block went.

export function jmpRel(c: Cpu, i: Instr): void {
  c.rip = i.target;
}
export function jcc(c: Cpu, i: Instr): void {
  c.rip = c.cond(i.sub) ? i.target : i.next;
}
/** jmp r/m64 */
export function jmpRm(c: Cpu, i: Instr): void {
  const lo = c.readRM(i, 8);
  c.rip = c.hi * TWO32 + (lo >>> 0);
}
export function callRel(c: Cpu, i: Instr): void {
  c.push64(i.next | 0, Math.floor(i.next / TWO32));
  c.rip = i.target;
}
/** call r/m64: the target is read before the push (call [rsp] sees the old rsp). */
export function callRm(c: Cpu, i: Instr): void {
  const lo = c.readRM(i, 8);
  const t = c.hi * TWO32 + (lo >>> 0);
  c.push64(i.next | 0, Math.floor(i.next / TWO32));
  c.rip = t;
}
/** ret / ret imm16 */
export function ret(c: Cpu, i: Instr): void {
  const lo = c.pop64();
  c.rip = c.hi * TWO32 + (lo >>> 0);
  if (i.imm) c.rsp = c.rsp + i.imm;
}
/** loop/loope/loopne (i.sub: 0 loopne, 1 loope, 2 loop), address size 64 */
export function loop(c: Cpu, i: Instr): void {
  let lo = c.r[2 * RCX], hi = c.r[2 * RCX + 1];
  if (i.adsize === 4) { lo = (lo - 1) | 0; c.set32(RCX, lo); hi = 0; }
  else { if (lo === 0) hi = (hi - 1) | 0; lo = (lo - 1) | 0; c.set64(RCX, lo, hi); }
  let take = (lo | hi) !== 0;
  if (i.sub === 0) take = take && c.getZF() === 0;
  else if (i.sub === 1) take = take && c.getZF() === 1;
  c.rip = take ? i.target : i.next;
}
/** jrcxz / jecxz */
export function jrcxz(c: Cpu, i: Instr): void {
  const z = i.adsize === 4 ? c.r[2 * RCX] === 0 : (c.r[2 * RCX] | c.r[2 * RCX + 1]) === 0;
  c.rip = z ? i.target : i.next;
}

/** syscall: as the hardware does, rcx ← return address and r11 ← rflags; the kernel takes over. */
export function syscall(c: Cpu, i: Instr): void {
  c.set64(RCX, i.next | 0, Math.floor(i.next / TWO32));
  c.set64(R11, c.getEflags() & 0x3c7fd7, 0);
  c.rip = i.next;
  c.stop = Stop.Syscall;
}
/** int3: SIGTRAP after the instruction. */
export function int3(c: Cpu, i: Instr): void {
  c.rip = i.next;
  c.stop = Stop.Trap;
}
/** hlt, int n, and privileged instructions: #GP in user mode → SIGSEGV at the instruction. */
export function privileged(c: Cpu, i: Instr): void {
  c.rip = i.addr;
  c.stop = Stop.Privileged;
}
/** ud2 and every encoding the core does not implement: SIGILL at the instruction. */
export function illegal(c: Cpu, i: Instr): void {
  c.rip = i.addr;
  c.stop = Stop.Illegal;
}
