/**
 * What the decoder accepts, as a set of named instruction forms — the yardstick
 * of test/isa-coverage.test.ts ("the oracle suites cover every instruction the
 * decoder accepts").
 *
 * A form is found by decoding, not by reading a hand-made list: every opcode of
 * the one-byte, 0F, 0F38 and 0F3A maps and of the VEX maps is decoded with each
 * mandatory-prefix class (none, 66, F3, F2), each ModRM.reg, a memory and a
 * register r/m (and, for register forms of the one-byte and 0F maps, each
 * ModRM.rm), with and without REX.W; VEX as C4 (W0/W1, L0/L1, every pp) and C5.
 * Encodings that decode to `illegal` (#UD) are not accepted; everything else is,
 * including the privileged instructions (they decode, then raise #GP as on the
 * hardware). Not separate forms: operand registers (REX.R/X/B, high-byte
 * registers), immediates, the address-size prefix 67 and segment overrides,
 * and LOCK (test/isa-integer.test.ts covers which forms take it).
 *
 * Two encodings are the same form when the decoder turns them into the same
 * operation: within one (map, opcode, memory-or-register) context, the prefix
 * class, reg and rm values that yield the same exec function and sub-operation
 * are merged (so `add r/m, r` is one form whatever reg says, group 1 is eight).
 * SSE factories build a fresh closure per decode, so there the table structure
 * stands in for identity: the prefix class always selects the operation, reg
 * only in the shift groups 0F 71-73. x87 register forms keep ST(i) in `sub`,
 * so there the exec function alone identifies the operation.
 *
 * The operand size is part of a form when the operation reads it: every exec
 * function (and SSE factory) runs once on a sandbox CPU through a Proxy that
 * records which Instr fields it reads — `opsize`/`rexW` (b/w/d/q, or W1 for
 * SSE), `p66` as a size (crc32), `rep` (string instructions), `adsize`.
 */
import { Cpu } from '../src/cpu/cpu.js';
import { Decoder } from '../src/cpu/decoder.js';
import type { ExecFn, Instr } from '../src/cpu/instr.js';
import { illegal } from '../src/cpu/ops/control.js';
import { decodeSse } from '../src/cpu/sse/index.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/mem/fault.js';
import { PhysicalMemory } from '../src/mem/physical.js';

const CODE = 0x10000000;
const DATA = 0x20000000;
const mem = new AddressSpace(new PhysicalMemory(1 << 22));
mem.mmap(CODE, 0x1000, PROT_READ | PROT_EXEC, { fixed: true });
mem.mmap(DATA, 0x2000, PROT_READ | PROT_WRITE, { fixed: true });
const decoder = new Decoder(mem);

/** Mandatory-prefix classes, in the order that names a merged class. */
const CLASSES = [0, 0x66, 0xf3, 0xf2] as const;
const hx = (n: number): string => n.toString(16).padStart(2, '0');

interface Parsed {
  /** 'vex.0f38.f2', '0f', '0f38', '' (one-byte) … */
  map: string;
  op: number;
  /** Mandatory-prefix class (for VEX: pp), as the decoder sees it. */
  cls: number;
  reg: number;
  rm: number;
  isMem: boolean;
  vex: boolean;
}

/** The prefix class the decoder's `mandatory` rule picks (last F2/F3 wins; 66 otherwise). */
function classOf(bytes: number[]): { cls: number; at: number } {
  let cls = 0, at = 0;
  for (; at < bytes.length; at++) {
    const b = bytes[at];
    if (b === 0x66) { if (!cls) cls = 0x66; }
    else if (b === 0xf2 || b === 0xf3) cls = b;
    else if (b === 0x67 || b === 0xf0 || b === 0x64 || b === 0x65 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26) { /* other legacy prefix */ }
    else break;
  }
  return { cls, at };
}

function parse(bytes: number[], i: Instr): Parsed {
  let { cls, at } = classOf(bytes);
  if ((bytes[at] & 0xf0) === 0x40) at++;
  let map = '';
  if (i.vex) {
    cls = [0, 0x66, 0xf3, 0xf2][(bytes[at] === 0xc5 ? bytes[at + 1] : bytes[at + 2]) & 3];
    map = `vex.${i.map.toString(16).padStart(i.map > 0xff ? 4 : 2, "0")}`;
  } else if (i.map) map = i.map.toString(16).padStart(i.map > 0xff ? 4 : 2, '0');
  return { map, op: i.op, cls, reg: i.reg & 7, rm: i.isMem ? -1 : i.rm & 7, isMem: i.isMem, vex: i.vex };
}

/** SSE-table route of the main decoder (its TWO_BYTE ranges that call decodeSse, and the 0F38/0F3A maps but movbe/adx). */
function isSse(p: Parsed): boolean {
  if (p.vex) return false;
  if (p.map === '0f38') return !((p.op === 0xf0 || p.op === 0xf1) && p.cls !== 0xf2) && !(p.op === 0xf6 && (p.cls === 0x66 || p.cls === 0xf3));
  if (p.map === '0f3a') return true;
  if (p.map !== '0f') return false;
  const o = p.op;
  return (o >= 0x10 && o <= 0x17) || (o >= 0x28 && o <= 0x2f) || (o >= 0x50 && o <= 0x7f) || o === 0xc2 || (o >= 0xc4 && o <= 0xc6) || o >= 0xd0;
}
const isX87 = (p: Parsed): boolean => p.map === '' && p.op >= 0xd8 && p.op <= 0xdf;

const ids = new Map<unknown, number>();
const idOf = (f: unknown): number => {
  let n = ids.get(f);
  if (n === undefined) ids.set(f, (n = ids.size));
  return n;
};

/** The operation an encoding decodes to, as far as merging is concerned (see the header). */
function signature(p: Parsed, i: Instr): string {
  if (isSse(p)) return `sse ${p.cls}${p.map === '0f' && p.op >= 0x71 && p.op <= 0x73 ? `/${p.reg}` : ''}`;
  if (isX87(p)) return `x87 ${idOf(i.exec)}`;
  return `${idOf(i.exec)} ${i.sub} ${i.sub2}`;
}

const sandbox = new Cpu(mem);
/** Which Instr fields an operation reads (SSE: its factory too), run once on a sandbox CPU. */
function fieldsRead(p: Parsed, i: Instr, prefixClass: number): Set<string> {
  const read = new Set<string>();
  const spy = new Proxy(i, {
    get(t, k, r) {
      if (typeof k === 'string') read.add(k);
      return Reflect.get(t, k, r);
    },
  });
  if (isSse(p)) {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(i)), i) as Instr;
    const spyCopy = new Proxy(copy, { get(t, k, r) { if (typeof k === 'string') read.add(k); return Reflect.get(t, k, r); } });
    decodeSse(spyCopy, prefixClass);
  }
  for (let n = 0; n < 16; n++) { sandbox.r[2 * n] = DATA + 0x800; sandbox.r[2 * n + 1] = 0; }
  sandbox.rip = i.addr;
  try {
    (i.exec as ExecFn)(sandbox, spy);
  } catch {
    /* faults and divide errors: the fields read so far are what counts */
  }
  return read;
}

function sizeTag(p: Parsed, i: Instr, read: Set<string>): string {
  let t = '';
  if (isSse(p)) {
    if ((read.has('rexW') || read.has('opsize')) && i.rexW) t += '.W1';
    if (read.has('p66') && p.cls !== 0x66 && i.p66) t += '.66';
  } else if (!isX87(p) && (read.has('opsize') || read.has('rexW'))) t += '.' + { 1: 'b', 2: 'w', 4: 'd', 8: 'q' }[i.opsize];
  if (read.has('rep') && i.rep) t += i.rep === 1 ? '.rep' : '.repne';
  if (read.has('adsize') && i.adsize === 4) t += '.a32';
  return t;
}

export interface Form {
  key: string;
  /** A representative encoding (memory forms address [rax]; immediates and displacements are zero). */
  bytes: number[];
  /** Index of the ModRM byte in bytes, or -1 when the form has none. */
  modrm: number;
  isMem: boolean;
  /** A relative branch (its zero displacement falls through to the next instruction). */
  branch: boolean;
  /** Decoded by the SSE tables / the x87 tables. */
  sse: boolean;
  x87: boolean;
  /** Other encodings of the same form: prefixes it ignores or that only restate it (F3 on add, 66 on jcc, REX.W on setcc …). */
  variants: { bytes: number[]; modrm: number }[];
}

/** Decodes bytes at the sandbox code page; null when they are #UD. */
function decodeAt(bytes: number[]): Instr | null {
  const buf = new Uint8Array(24);
  buf.set(bytes);
  mem.poke(CODE, buf);
  const i = decoder.decode(CODE);
  return i.exec === illegal ? null : i;
}

interface Seen {
  /** The first encoding with this operation: its name parts. */
  p: Parsed;
  classes: Set<number>;
  regs: Set<number>;
  rms: Set<number>;
}
/** Per context and signature: where the operation was met (filled by the enumeration). */
const seen = new Map<string, Seen>();
const ctxOf = (p: Parsed): string => `${p.map}:${hx(p.op)}:${p.isMem ? 'm' : 'r'}`;

/** Per context: every reg and rm value met (no-ModRM opcodes meet only one). */
const ctxSeen = new Map<string, { regs: Set<number>; rms: Set<number> }>();

/** The form name: prefix class, map and opcode, then /reg and .rm only where they select the operation. */
function nameOf(s: Seen): string {
  const p = s.p;
  const all = ctxSeen.get(ctxOf(p))!;
  const cls = s.classes.size === 4 ? 0 : p.cls;
  const pre = cls ? `${hx(cls)} ` : '';
  const map = p.map === '' ? '' : p.map.startsWith('vex') ? `${p.map} ` : p.map === '0f' ? '0f ' : `0f ${p.map.slice(2)} `;
  const reg = s.regs.size === all.regs.size ? '' : `/${p.reg}`;
  const rm = p.isMem || s.rms.size === all.rms.size ? '' : `.${p.rm}`;
  return `${pre}${map}${hx(p.op)}${reg}${rm}:${p.isMem ? 'm' : 'r'}`;
}

const readCache = new Map<string, Set<string>>();
function formKey(bytes: number[], i: Instr): string {
  const p = parse(bytes, i);
  const ctx = ctxOf(p);
  const sig = signature(p, i);
  const s = seen.get(`${ctx} ${sig}`);
  if (s === undefined) throw new Error(`no form for ${ctx} ${sig} [${bytes.map(hx).join(' ')}]: not in the enumeration`);
  const rk = `${ctx} ${sig} ${i.rexW} ${i.p66} ${i.rep} ${i.adsize}`;
  let read = readCache.get(rk);
  if (!read) readCache.set(rk, (read = fieldsRead(p, i, p.cls)));
  return nameOf(s) + sizeTag(p, i, read);
}

function* encodings(): Generator<number[]> {
  // Every rm of register forms only where rm can select an operation (one-byte and 0F maps: x87, 0F 01).
  const modrms = (reg: number): number[] => [(reg << 3) | 0 /* [rax] */, ...Array.from({ length: 8 }, (_, rm) => 0xc0 | (reg << 3) | rm)];
  const modrms2 = (reg: number): number[] => [(reg << 3) | 0, 0xc1 | (reg << 3)];
  for (const w of [false, true]) {
    for (const cls of CLASSES) {
      const pre: number[] = [...(cls ? [cls] : []), ...(w ? [0x48] : [])];
      for (const map of [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]]) {
        for (let op = 0; op < 256; op++) {
          if (map.length === 0 && (op === 0x0f || op === 0xc4 || op === 0xc5 || (op & 0xf0) === 0x40)) continue;
          if (map.length === 0 && [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].includes(op)) continue;
          if (map.length === 1 && (op === 0x38 || op === 0x3a)) continue;
          for (let reg = 0; reg < 8; reg++) for (const m of (map.length < 2 ? modrms : modrms2)(reg)) yield [...pre, ...map, op, m];
        }
      }
    }
    // VEX (C4, inverted R/X/B set, vvvv = 1111 i.e. no register, L = 0 and 1).
    for (const mm of [1, 2, 3]) {
      for (let pp = 0; pp < 4; pp++) {
        for (const l of [0, 1]) {
          for (let op = 0; op < 256; op++) {
            for (let reg = 0; reg < 8; reg++) {
              for (const m of modrms2(reg)) yield [0xc4, 0xe0 | mm, (w ? 0x80 : 0) | (0xf << 3) | (l << 2) | pp, op, m];
            }
          }
        }
      }
    }
    // Two-byte VEX (C5: map 0F, R̄ set, vvvv = 1111), once.
    if (!w) {
      for (let pp = 0; pp < 4; pp++) {
        for (const l of [0, 1]) {
          for (let op = 0; op < 256; op++) for (let reg = 0; reg < 8; reg++) for (const m of modrms2(reg)) yield [0xc5, 0x80 | (0xf << 3) | (l << 2) | pp, op, m];
        }
      }
    }
    // 66 together with F2/F3 (crc32 r16, popcnt/tzcnt/lzcnt r16).
    for (const rep of [0xf2, 0xf3]) {
      for (const map of [[0x0f], [0x0f, 0x38]]) {
        for (let op = 0; op < 256; op++) {
          if (map.length === 1 && (op === 0x38 || op === 0x3a)) continue;
          for (let reg = 0; reg < 8; reg++) for (const m of (map.length < 2 ? modrms : modrms2)(reg)) yield [0x66, rep, ...map, op, m];
        }
      }
    }
  }
}

let cache: Map<string, Form> | null = null;

/** Every form the decoder accepts, keyed by name (e.g. "0f af:r.q", "d9/4.0:r", "f2 0f 38 f1:m.W1"). */
export function acceptedForms(): Map<string, Form> {
  if (cache) return cache;
  // One pass records where each operation occurs; names need all of it, so
  // keys are made afterwards from one representative per operation and size.
  const reps = new Map<string, { bytes: number[]; i: Instr; at: number }>();
  for (const bytes of encodings()) {
    const i = decodeAt(bytes);
    if (!i) continue;
    const p = parse(bytes, i);
    const ctx = ctxOf(p);
    const k = `${ctx} ${signature(p, i)}`;
    let s = seen.get(k);
    if (!s) seen.set(k, (s = { p, classes: new Set(), regs: new Set(), rms: new Set() }));
    let c = ctxSeen.get(ctx);
    if (!c) ctxSeen.set(ctx, (c = { regs: new Set(), rms: new Set() }));
    s.classes.add(p.cls);
    s.regs.add(p.reg);
    c.regs.add(p.reg);
    if (!p.isMem) { s.rms.add(p.rm); c.rms.add(p.rm); }
    const rk = `${k} ${i.rexW} ${i.p66} ${i.rep} ${i.adsize}`;
    // The enumeration puts the (possible) ModRM byte last.
    if (!reps.has(rk)) reps.set(rk, { bytes: Array.from({ length: i.len }, (_, k) => bytes[k] ?? 0), i, at: bytes.length - 1 });
  }
  const forms = new Map<string, Form>();
  for (const { bytes, i, at } of reps.values()) {
    const key = formKey(bytes, i);
    // A ModRM byte is one whose rip-relative variant (mod 00, rm 101) adds a disp32.
    const probe = (m: number): number => decodeAt([...bytes.slice(0, at), m, ...bytes.slice(at + 1)])?.len ?? -1;
    const reg = (bytes[at] ?? 0) & 0x38;
    const modrm = at < bytes.length && probe(0xc0 | reg) !== probe(0x05 | reg) ? at : -1;
    const known = forms.get(key);
    if (known) { known.variants.push({ bytes, modrm }); continue; }
    const p = parse(bytes, i);
    forms.set(key, { key, bytes, modrm, isMem: i.isMem, branch: i.target !== 0, sse: isSse(p), x87: isX87(p), variants: [] });
  }
  cache = forms;
  return forms;
}

/**
 * The forms an instruction sequence executes (decoded one after another, as
 * the oracle harnesses run it). Unknown encodings are an error.
 */
export function formsOf(code: Uint8Array | number[]): string[] {
  acceptedForms();
  const out: string[] = [];
  const b = Array.from(code);
  for (let at = 0; at < b.length; ) {
    const i = decodeAt(b.slice(at, at + 15));
    if (!i) { at++; continue; }
    out.push(formKey(b.slice(at, at + i.len), i));
    at += i.len;
  }
  return out;
}
