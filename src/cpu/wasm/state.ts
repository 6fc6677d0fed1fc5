/**
 * The scratch frame through which the engine and a translated WebAssembly
 * region exchange the CPU state (PhysicalMemory.scratch): byte offsets.
 * The engine writes the registers the region reads, the lazy flags and the
 * segment bases before the call; the region writes back the registers it
 * changed, the flags, rip and how it left.
 */

/**
 * The registers, as a Cpu keeps them in the pool (16 general registers of
 * 8 bytes, little-endian: the Cpu's int32 halves in order; then 16 xmm
 * registers of 16 bytes), for a Cpu whose registers are not in the pool
 * (see S_REGP).
 */
export const S_REGS = 1024;
/** Offset of the xmm registers from the general ones. */
export const XMM_OFFSET = 128;
/** Exit rip (i64). */
export const S_RIP = 128;
/** Lazy flags as the Cpu keeps them: op (FlagOp; 0: the bits in S_FL), size, carry in, result, operands. */
export const S_FOP = 136;
export const S_FSZ = 140;
export const S_FCIN = 144;
export const S_FL = 148;
export const S_FRES = 152;
export const S_FA = 160;
export const S_FB = 168;
/** 1 when the region left just before an instruction for the interpreter (a slow path), else 0. */
export const S_SLOW = 176;
/** Index of the block the region left from. */
export const S_FROM = 180;
/** fs and gs bases (i64). */
export const S_FS = 184;
export const S_GS = 192;
/** The address space's TLB offset in the pool (i32; the write TLB follows at TLB_BYTES). */
export const S_TLB = 200;
/** DF (i32 0/1), written by the engine for regions with string instructions. */
export const S_DF = 204;
/** Pool offset of the registers (the Cpu's own, Cpu.rOffset, or S_REGS of this frame). */
export const S_REGP = 208;
/** Table index of the region that ran last (see chain.ts). */
export const S_LAST = 212;
/**
 * Bumped by the engine whenever a region stops being valid (dropped, the code cache flushed): a region that
 * called others (chain.ts, nest) continues after the call only if it is unchanged.
 */
export const S_GEN = 216;
/** How many more nested region calls may start (the runner sets NEST_DEPTH; nest counts down and back up). */
export const S_NEST = 220;
/** The address space's chain cache offset in the pool (i32), for nest. */
export const S_CHAIN = 224;
/** Calls out of a region that continued in place after the callee returned (i32, wrapping; for tests and --stats). */
export const S_NESTED = 228;
/** Region calls by the dispatcher and nest (i32, wrapping; for --stats): how often control passed between regions. */
export const S_ENTRIES = 232;
/**
 * MXCSR as the scalar floating-point fast paths need it (i32): bit 0 set when it rounds to nearest without
 * FTZ or DAZ, bit 1 when PE is raised already (sse/mxcsr.ts). The runner sets it from the Cpu, and the
 * fallback again after each instruction it runs (ldmxcsr, fxrstor).
 */
export const S_MXFAST = 236;
