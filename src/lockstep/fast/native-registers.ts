import { REGISTERS, REGISTER_BLOCK_SIZE } from '../../gdb/registers.js';
import { RegisterLayout } from '../register-layout.js';
import { BlockRing } from './block-ring.js';

/**
 * ptrace's register structures (struct user_regs_struct, 27 × 8 bytes, and
 * user_fpregs_struct, the 512-byte fxsave image) turned into the `g` block
 * of elfshim's own register layout, so that both sides of the fast differ
 * are compared byte for byte through one layout. The x87 tag word is
 * widened from fxsave's abridged form exactly as gdb does it (i387_tag), as
 * gdbserver shows it.
 */
export const USER_REGS_SIZE = 216;
export const FPREGS_SIZE = 512;

/** Offsets in struct user_regs_struct. */
export const USER_REG_OFFSET: Record<string, number> = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, rbx: 40, r11: 48, r10: 56, r9: 64, r8: 72, rax: 80, rcx: 88, rdx: 96,
  rsi: 104, rdi: 112, orig_rax: 120, rip: 128, cs: 136, eflags: 144, rsp: 152, ss: 160, fs_base: 168, gs_base: 176,
  ds: 184, es: 192, fs: 200, gs: 208,
};

/** elfshim's register layout (the `g` block), shared by both sides in the fast differ. */
export const EMU_LAYOUT = new RegisterLayout(REGISTERS.map((r) => ({ name: r.name, regnum: r.regnum, size: r.size, offset: r.offset })));

const off = (name: string) => EMU_LAYOUT.get(name)!.offset;

/** [user_regs offset, g offset] of the 8-byte registers. */
const COPY8 = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'orig_rax', 'fs_base', 'gs_base'].map((n) => [USER_REG_OFFSET[n], off(n)]);
/** [user_regs offset, g offset] of the 4-byte ones (eflags, selectors). */
const COPY4 = ['eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => [USER_REG_OFFSET[n], off(n)]);

/** gdb's i387_tag: the full tag of a non-empty register from its contents. */
function tagOf(raw: Uint8Array, o: number): number {
  const integer = raw[o + 7] & 0x80;
  const exponent = ((raw[o + 9] & 0x7f) << 8) | raw[o + 8];
  if (exponent === 0x7fff) return 2;
  if (exponent === 0) {
    let zero = !integer && (raw[o + 7] & 0x7f) === 0;
    for (let k = 0; k < 7 && zero; k++) if (raw[o + k]) zero = false;
    return zero ? 1 : 2;
  }
  return integer ? 0 : 2;
}

/** The FPU registers of the g block from an fxsave image (into g). */
function fpuBlock(fp: Uint8Array, g: Uint8Array): void {
  const v = new DataView(g.buffer, g.byteOffset, g.byteLength);
  const f = new DataView(fp.buffer, fp.byteOffset, fp.byteLength);
  const fsw = f.getUint16(2, true), top = (fsw >> 11) & 7, abridged = fp[4];
  for (let k = 0; k < 8; k++) g.set(fp.subarray(32 + 16 * k, 32 + 16 * k + 10), off(`st${k}`));
  let ftag = 0;
  for (let phys = 0; phys < 8; phys++) {
    const tag = abridged & (1 << phys) ? tagOf(fp, 32 + 16 * ((phys - top) & 7)) : 3;
    ftag |= tag << (2 * phys);
  }
  v.setUint32(off('fctrl'), f.getUint16(0, true), true);
  v.setUint32(off('fstat'), fsw, true);
  v.setUint32(off('ftag'), ftag, true);
  // gdb's amd64 fxsave mapping: the 64-bit pointers split into *off (low) and *seg (high).
  v.setUint32(off('fioff'), f.getUint32(8, true), true);
  v.setUint32(off('fiseg'), f.getUint32(12, true), true);
  v.setUint32(off('fooff'), f.getUint32(16, true), true);
  v.setUint32(off('foseg'), f.getUint32(20, true), true);
  v.setUint32(off('fop'), f.getUint16(6, true) & 0x7ff, true);
  for (let k = 0; k < 16; k++) g.set(fp.subarray(160 + 16 * k, 176 + 16 * k), off(`xmm${k}`));
  v.setUint32(off('mxcsr'), f.getUint32(24, true), true);
}

let lastFp: Uint8Array | null = null;
const lastFpBlock = new Uint8Array(REGISTER_BLOCK_SIZE);
const lastFpWords = new Int32Array(lastFpBlock.buffer);
/** user_regs_struct is copied here to be read as words when it does not start on a 4-byte boundary. */
const userScratch = new Uint8Array(USER_REGS_SIZE);
const userScratchWords = new Int32Array(userScratch.buffer);
/** Word view of the buffer the tracer's records are read into (records stay 4-byte aligned in it, mostly). */
let userBuffer: ArrayBufferLike | null = null;
let userWords: Int32Array<ArrayBufferLike> = userScratchWords;
/** Filled in place in a ring's next block (block-ring.ts). */
const ring = new BlockRing(REGISTER_BLOCK_SIZE);
const all = new Int32Array(ring.buffer);

/** The same copies in 32-bit words (every offset involved is a multiple of 4). */
const WORD_COPIES = new Int32Array([...COPY8.flatMap(([f, t]) => [f / 4, t / 4, f / 4 + 1, t / 4 + 1]), ...COPY4.flatMap(([f, t]) => [f / 4, t / 4])]);

/** The `g` block (elfshim's layout) of a native stop. The FPU part is reused while the fxsave image is the same object. */
export function nativeRegisterBlock(user: Uint8Array, fp: Uint8Array): Uint8Array {
  if (fp !== lastFp) {
    lastFpBlock.fill(0);
    fpuBlock(fp, lastFpBlock);
    lastFp = fp;
  }
  // The FPU part in place (everything else is overwritten below).
  const block = ring.claim(REGISTER_BLOCK_SIZE);
  const w = block.byteOffset >> 2;
  all.set(lastFpWords, w);
  let u: Int32Array<ArrayBufferLike>, uo: number;
  if ((user.byteOffset & 3) === 0) {
    if (user.buffer !== userBuffer) {
      userBuffer = user.buffer;
      userWords = new Int32Array(user.buffer, 0, user.buffer.byteLength >> 2);
    }
    u = userWords;
    uo = user.byteOffset >> 2;
  } else {
    userScratch.set(user);
    u = userScratchWords;
    uo = 0;
  }
  const c = WORD_COPIES;
  for (let k = 0; k < c.length; k += 2) all[w + c[k + 1]] = u[uo + c[k]];
  return block;
}
