import type { Cpu } from '../../cpu/cpu.js';
import { REGISTER_BLOCK_SIZE } from '../../gdb/registers.js';
import { writeU64LE } from '../../gdb/hex.js';
import { EMU_LAYOUT } from './native-registers.js';
import { BlockRing } from './block-ring.js';

/**
 * elfshim's `g` block, filled directly from the Cpu. It is what
 * readAllRegisters (src/gdb/registers.ts) returns, byte for byte (the fast
 * differ checks that on its first step and test/lockstep-fast.test.ts on
 * varied states), without a closure and a DataView per register: the fast
 * differ reads it after every instruction.
 */
const off = (name: string) => EMU_LAYOUT.get(name)!.offset;
/** gdb's GPR order as x86 encodings (rax rbx rcx rdx rsi rdi rbp rsp r8..r15). */
const GPR_ENCODING = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15];
const RIP = off('rip'), EFLAGS = off('eflags'), CS = off('cs'), SS = off('ss'), ST0 = off('st0'), FCTRL = off('fctrl'), XMM0 = off('xmm0'), MXCSR = off('mxcsr');
const ORIG_RAX = off('orig_rax'), FS_BASE = off('fs_base'), GS_BASE = off('gs_base');
const TWO32 = 4294967296;

const hi32 = (p: number) => Math.floor(p / TWO32) >>> 0;
const lo32 = (p: number) => (p - Math.floor(p / TWO32) * TWO32) >>> 0;

/** Filled in place in a ring's next block (block-ring.ts: no allocation, no copy per call). */
const ring = new BlockRing(REGISTER_BLOCK_SIZE);
const all = new Int32Array(ring.buffer);
const bytes = new Uint8Array(ring.buffer);
const view = new DataView(ring.buffer);

export function emulatorRegisterBlock(c: Cpu): Uint8Array {
  const block = ring.claim(REGISTER_BLOCK_SIZE);
  // Every offset below is a multiple of 4 (st0-st7 excepted, written as bytes); ds, es, fs and gs are never
  // written: they stay 0, as no other kind of block is ever written in this ring.
  const base = block.byteOffset, w = base >> 2, g = bytes, v = view;
  const r = c.r;
  for (let k = 0; k < 16; k++) {
    const enc = GPR_ENCODING[k];
    all[w + 2 * k] = r[2 * enc];
    all[w + 2 * k + 1] = r[2 * enc + 1];
  }
  writeU64LE(v, base + RIP, c.rip);
  v.setUint32(base + EFLAGS, c.getEflags() >>> 0, true);
  v.setUint32(base + CS, 0x33, true);
  v.setUint32(base + SS, 0x2b, true);
  const x = c.x87;
  const regs = x.regs;
  for (let i = 0; i < 8; i++) {
    const from = ((x.top + i) & 7) * 10, to = base + ST0 + 10 * i;
    for (let k = 0; k < 10; k++) g[to + k] = regs[from + k];
  }
  const f = w + FCTRL / 4;
  all[f] = x.fcw;
  all[f + 1] = x.statusWord;
  all[f + 2] = x.ftw;
  all[f + 3] = hi32(x.fip);
  all[f + 4] = lo32(x.fip);
  all[f + 5] = hi32(x.fdp);
  all[f + 6] = lo32(x.fdp);
  all[f + 7] = x.fop;
  all.set(c.xmm, w + XMM0 / 4);
  v.setUint32(base + MXCSR, c.mxcsr >>> 0, true);
  // orig_rax is signed (-1 when no syscall is being restarted).
  const o = c.origRax;
  if (o < 0) {
    const h = Math.floor(o / TWO32);
    v.setInt32(base + ORIG_RAX, o - h * TWO32, true);
    v.setInt32(base + ORIG_RAX + 4, h, true);
  } else writeU64LE(v, base + ORIG_RAX, o);
  writeU64LE(v, base + FS_BASE, c.fsBase);
  writeU64LE(v, base + GS_BASE, c.gsBase);
  return block;
}
