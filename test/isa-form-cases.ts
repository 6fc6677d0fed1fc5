/**
 * Oracle cases made from the decoder's own form list (test/decoder-forms.ts):
 * one machine-code snippet per accepted form, with operands the isa oracle's
 * "-" mode provides (memory at [rdi+16] = MEM+144, 16-byte aligned; registers
 * rdx/xmm2 and rcx/xmm1 where ModRM.reg/rm are operands; immediates from two
 * fixed patterns; relative branches with a zero displacement). Forms that
 * need a context to run (ret, indirect branches, popf, std, enter, moffs) get
 * a short hand-written snippet around them. Every snippet is re-decoded to
 * check that it still contains the form it stands for.
 */
import { acceptedForms, formsOf, type Form } from './decoder-forms.js';

export interface FormSnippet {
  form: string;
  code: number[];
}

const MEM_DISP = 0x10;
/** Two immediate patterns: sign bits, small counts, all-ones … */
const IMM = [
  [0x81, 0x7f, 0x35, 0xc3, 0x12, 0x80, 0x01, 0xfe],
  [0x07, 0x00, 0x80, 0xff, 0xff, 0x7f, 0x00, 0x80],
];
/** MEM + 8 (isa-oracle.c: STATE 0x20000000, MEM = STATE + 0x100), little endian, for moffs forms. */
const MOFFS = [0x08, 0x01, 0x00, 0x20, 0, 0, 0, 0];

/** `lea rel(%rip), %rax` + body, with rel pointing just after the body. */
function leaPast(body: number[]): number[] {
  return [0x48, 0x8d, 0x05, body.length, 0, 0, 0, ...body];
}
const movRaxToMem = [0x48, 0x89, 0x47, MEM_DISP];

/** Snippets for forms that cannot run alone; the key's prefix (before any size tag) selects them. */
const SPECIAL: Record<string, number[][]> = {
  'c3:r': [[0xe8, 2, 0, 0, 0, 0xeb, 1, 0xc3]], // call 1f; jmp 2f; 1: ret; 2:
  'c2:r': [[0x51, 0xe8, 2, 0, 0, 0, 0xeb, 3, 0xc2, 8, 0]], // push %rcx; call 1f; jmp 2f; 1: ret $8; 2:
  'ff/2:r': [leaPast([0xff, 0xd0]).concat([0x59])], // lea 1f(%rip),%rax; call *%rax; 1: pop %rcx
  'ff/2:m': [leaPast([...movRaxToMem, 0xff, 0x57, MEM_DISP]).concat([0x59])],
  'ff/4:r': [leaPast([0xff, 0xe0])],
  'ff/4:m': [leaPast([...movRaxToMem, 0xff, 0x67, MEM_DISP])],
  '9d:r.q': [[0x68, 0xd5, 0x08, 0, 0, 0x9d], [0x68, 0x02, 0, 0, 0, 0x9d]], // push $0x8d5 / $2; popfq (TF, DF stay clear)
  '9d:r.w': [[0x66, 0x68, 0xd5, 0x08, 0x66, 0x9d]],
  'fd:r': [[0xfd, 0xfc]], // std; cld: the oracle's C code needs DF clear
  'c8:r': [[0xc8, 0x10, 0x00, 0x00], [0xc8, 0x08, 0x00, 0x01]], // enter $16,$0; enter $8,$1
};

/** Forms whose snippets other suites own: x87 state (test/x87.test.ts) is not part of the isa oracle's state. */
function ownedElsewhere(f: Form): boolean {
  return f.x87 || /^0f ae\/[0145]:m/.test(f.key) || /^0f c7\/[45]:m/.test(f.key);
}

/**
 * 66 on a near branch: Intel ignores it in 64-bit mode, AMD truncates the
 * target to 16 bits (and a call pushes 2 bytes). elfshim does what Intel
 * does; compilers never emit it (docs/ARCHITECTURE.md).
 */
function vendorDependent(f: Form, bytes: number[]): boolean {
  return f.branch && bytes.slice(0, opcodeEnd(bytes)).includes(0x66);
}

function generic(f: Form, pattern: number[], keepRegisters = false): number[] {
  const b = f.bytes.slice();
  let head: number[], tail: number[];
  if (f.modrm >= 0) {
    const m = b[f.modrm];
    let mod: number[];
    if (f.isMem) mod = [(/\/\d/.test(f.key) || keepRegisters ? m & 0x38 : 2 << 3) | 0x47, MEM_DISP]; // rdx/xmm2, [rdi + disp8]
    else if (keepRegisters) mod = [m];
    else {
      const reg = /\/\d/.test(f.key) ? m & 0x38 : 2 << 3; // rdx / xmm2 unless reg selects the operation
      const rm = /\.\d:/.test(f.key) ? m & 7 : 1; // rcx / xmm1 unless rm selects it
      mod = [0xc0 | reg | rm];
    }
    head = [...b.slice(0, f.modrm), ...mod];
    tail = b.slice(f.modrm + 1);
  } else {
    // Without ModRM the enumeration's last byte, if the decoder took it, is an immediate.
    const op = opcodeEnd(b);
    head = b.slice(0, op);
    tail = b.slice(op);
  }
  if (/^(66 |f2 |f3 )?a[0-3]\b/.test(f.key) || /^a[0-3]:/.test(f.key)) return [...head, ...MOFFS];
  if (!f.branch) tail = tail.map((_, k) => pattern[k % pattern.length]);
  return [...head, ...tail];
}

/** Length of prefixes, REX/VEX, escape and opcode bytes. */
function opcodeEnd(b: number[]): number {
  let k = 0;
  while ([0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65].includes(b[k])) k++;
  if ((b[k] & 0xf0) === 0x40) k++;
  if (b[k] === 0xc4) return k + 4;
  if (b[k] === 0xc5) return k + 3;
  if (b[k] === 0x0f) return b[k + 1] === 0x38 || b[k + 1] === 0x3a ? k + 3 : k + 2;
  return k + 1;
}

/** Snippets for every accepted form except those in `exclude` and those another suite owns. Throws if a snippet lost its form. */
export function formSnippets(exclude: Set<string>): FormSnippet[] {
  const out: FormSnippet[] = [];
  for (const f of acceptedForms().values()) {
    if (exclude.has(f.key) || ownedElsewhere(f)) continue;
    const special = Object.entries(SPECIAL).find(([k]) => f.key === k || f.key.startsWith(k + '.'));
    // Register operands are rewritten unless that changes the form (xor r32, same r32 is its own form).
    const build = (g: Form, p: number[]): number[] => (formsOf(generic(g, p)).includes(g.key) ? generic(g, p) : generic(g, p, true));
    const codes = special ? special[1] : IMM.map((p) => build(f, p));
    // Each other encoding of the form once: a prefix the decoder ignores must be one the host ignores.
    if (!special) for (const v of f.variants) if (!vendorDependent(f, v.bytes)) codes.push(build({ ...f, ...v }, IMM[0]));
    for (const code of codes) {
      if (!formsOf(code).includes(f.key)) throw new Error(`snippet ${Buffer.from(code).toString('hex')} for ${f.key} decodes as ${formsOf(code).join(', ')}`);
      if (!out.some((s) => s.form === f.key && s.code.join() === code.join())) out.push({ form: f.key, code });
    }
  }
  return out;
}
