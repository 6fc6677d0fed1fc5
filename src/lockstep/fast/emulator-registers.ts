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

/** Built in one scratch block, returned as a copy from a ring (block-ring.ts: no allocation per call). */
const words = new Int32Array(REGISTER_BLOCK_SIZE / 4);
const g = new Uint8Array(words.buffer);
const v = new DataView(words.buffer);
const ring = new BlockRing(REGISTER_BLOCK_SIZE);

export function emulatorRegisterBlock(c: Cpu): Uint8Array {
  const r = c.r;
  for (let k = 0; k < 16; k++) {
    const enc = GPR_ENCODING[k];
    words[2 * k] = r[2 * enc];
    words[2 * k + 1] = r[2 * enc + 1];
  }
  writeU64LE(v, RIP, c.rip);
  v.setUint32(EFLAGS, c.getEflags() >>> 0, true);
  v.setUint32(CS, 0x33, true);
  v.setUint32(SS, 0x2b, true); // ds, es, fs, gs stay 0 (never written in the scratch block)
  const x = c.x87;
  const regs = x.regs;
  for (let i = 0; i < 8; i++) {
    const from = ((x.top + i) & 7) * 10, to = ST0 + 10 * i;
    for (let k = 0; k < 10; k++) g[to + k] = regs[from + k];
  }
  const f = FCTRL / 4;
  words[f] = x.fcw;
  words[f + 1] = x.statusWord;
  words[f + 2] = x.ftw;
  words[f + 3] = hi32(x.fip);
  words[f + 4] = lo32(x.fip);
  words[f + 5] = hi32(x.fdp);
  words[f + 6] = lo32(x.fdp);
  words[f + 7] = x.fop;
  words.set(c.xmm, XMM0 / 4);
  v.setUint32(MXCSR, c.mxcsr >>> 0, true);
  // orig_rax is signed (-1 when no syscall is being restarted).
  const o = c.origRax;
  if (o < 0) {
    const h = Math.floor(o / TWO32);
    v.setInt32(ORIG_RAX, o - h * TWO32, true);
    v.setInt32(ORIG_RAX + 4, h, true);
  } else writeU64LE(v, ORIG_RAX, o);
  writeU64LE(v, FS_BASE, c.fsBase);
  writeU64LE(v, GS_BASE, c.gsBase);
  return ring.take(g);
}
