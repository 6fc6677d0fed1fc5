import type { Cpu } from './cpu.js';

/** Executes one decoded instruction. Must not allocate on the hot path. */
export type ExecFn = (c: Cpu, i: Instr) => void;

/** Segment override of a memory operand. */
export const SEG_NONE = 0;
export const SEG_FS = 4;
export const SEG_GS = 5;

/** Repeat prefix. */
export const REP_NONE = 0;
export const REP_F3 = 1; // rep / repe
export const REP_F2 = 2; // repne

/**
 * One decoded instruction. Every instance has the same shape (all fields set
 * in the constructor) so that property access in exec functions stays
 * monomorphic. Decoded once, cached per basic block, executed many times.
 */
export class Instr {
  exec: ExecFn = noop;
  /** Guest address of the first byte. */
  addr = 0;
  len = 0;
  /** addr + len: the return address of a call, the base of rip-relative operands. */
  next = 0;
  /** Primary opcode byte (after 0F / 0F38 / 0F3A escapes). */
  op = 0;
  /** 0 = one-byte map, 0x0f, 0x0f38, 0x0f3a. */
  map = 0;
  /** Operand size in bytes: 1, 2, 4 or 8. */
  opsize = 4;
  /** Address size in bytes (8, or 4 with the 0x67 prefix). */
  adsize = 8;
  /** ModRM.reg extended by REX.R (register number 0..15; for 8-bit operands see reg8 encoding in cpu.ts). */
  reg = 0;
  /** ModRM.rm extended by REX.B when the operand is a register; -1 for memory operands. */
  rm = -1;
  /** ModRM.mod (3 = register operand). */
  mod = 3;
  /** True when the r/m operand is in memory. */
  isMem = false;
  /** Memory operand: base register (0..15), or -1 for none. rip-relative operands have base -1 and disp = absolute target. */
  base = -1;
  /** Memory operand: index register, or -1 for none. */
  index = -1;
  /** Memory operand: scale shift (0..3). */
  scale = 0;
  /** Memory operand: displacement (sign-extended; for rip-relative the absolute address). */
  disp = 0;
  /** Memory operand segment override: SEG_NONE, SEG_FS or SEG_GS. */
  seg = SEG_NONE;
  /** Immediate (sign-extended to 32 bits where the encoding says so; imm8 of SSE ops zero-extended). */
  imm = 0;
  /** High 32 bits of a 64-bit immediate (movabs), or a second immediate (enter). */
  immHi = 0;
  /** Branch target for relative jumps/calls (absolute guest address). */
  target = 0;
  /** REX.W present. */
  rexW = false;
  /** Any REX prefix present (selects spl/bpl/sil/dil over ah/ch/dh/bh). */
  rex = false;
  /** 0x66 prefix present. */
  p66 = false;
  /** REP_NONE / REP_F3 / REP_F2. */
  rep = REP_NONE;
  /** LOCK prefix present. */
  lock = false;
  /** VEX-encoded (C4/C5). */
  vex = false;
  /** VEX.vvvv (an extra register operand, already un-inverted), 0..15. */
  vvvv = 0;
  /** VEX.L (vector length: 0 = 128-bit). */
  vexL = 0;
  /** Free slot for decoders that need to remember a sub-operation (x87, SSE, group opcodes). */
  sub = 0;
  /** Second free slot. */
  sub2 = 0;
}

function noop(): void {}
