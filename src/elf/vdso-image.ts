/**
 * elfshim's own vDSO: a small ELF shared object, built here byte by byte, that
 * exports what Linux's x86-64 vDSO exports (clock_gettime, gettimeofday, time,
 * getcpu, clock_getres under version LINUX_2.6, each also as __vdso_NAME).
 *
 * Why have one at all: with AT_SYSINFO_EHDR, ld.so adds "linux-vdso.so.1" to
 * its link map and allocates for it, so the initial stack, the link_map
 * addresses and gdb's `info sharedlibrary` come out as they do natively. Each
 * function is the kernel vDSO's own fallback path — `mov eax, NR; syscall;
 * ret` — so time still comes from the shim's syscalls (and `--strace` shows
 * them, where the native vDSO would answer from its data page).
 *
 * Everything (section headers included) lies inside the one PT_LOAD, so gdb can
 * read the symbols from target memory as it does for the real vDSO.
 */

const SONAME = 'linux-vdso.so.1';
const VERSION = 'LINUX_2.6';

/** [exported name, syscall number] — the x86-64 vDSO's functions. */
const FUNCTIONS: readonly [string, number][] = [
  ['clock_gettime', 228],
  ['gettimeofday', 96],
  ['time', 201],
  ['getcpu', 309],
  ['clock_getres', 229],
];

const PT_LOAD = 1, PT_DYNAMIC = 2;
const SHT_PROGBITS = 1, SHT_STRTAB = 3, SHT_HASH = 5, SHT_DYNAMIC = 6, SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd, SHT_GNU_VERSYM = 0x6fffffff;
const SHF_ALLOC = 2, SHF_EXECINSTR = 4;
const DT_HASH = 4, DT_STRTAB = 5, DT_SYMTAB = 6, DT_STRSZ = 10, DT_SYMENT = 11, DT_SONAME = 14;
const DT_VERSYM = 0x6ffffff0, DT_VERDEF = 0x6ffffffc, DT_VERDEFNUM = 0x6ffffffd;
const STB_GLOBAL = 1, STB_WEAK = 2, STT_FUNC = 2;
const VER_FLG_BASE = 1;
const FUNC_SIZE = 16;

/**
 * A zeroed block of bytes with Buffer's little-endian writers, over a DataView: built
 * at every startup, the image with Buffer's own writers and BigInts took ~2 ms, most of
 * it in their first calls. 64-bit fields take a number (every value here is small).
 */
class Bytes {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number, fill = 0) {
    this.bytes = new Uint8Array(size).fill(fill);
    this.view = new DataView(this.bytes.buffer);
  }
  static of(values: readonly number[]): Bytes {
    const b = new Bytes(values.length);
    b.bytes.set(values);
    return b;
  }
  static concat(parts: readonly Bytes[]): Bytes {
    const b = new Bytes(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      b.bytes.set(p.bytes, at);
      at += p.length;
    }
    return b;
  }
  get length(): number {
    return this.bytes.length;
  }
  writeUInt8(v: number, o: number): void {
    this.view.setUint8(o, v);
  }
  writeUInt16LE(v: number, o = 0): void {
    this.view.setUint16(o, v, true);
  }
  writeUInt32LE(v: number, o: number): void {
    this.view.setUint32(o, v, true);
  }
  writeUInt64LE(v: number, o: number): void {
    this.view.setUint32(o, v % 2 ** 32, true);
    this.view.setUint32(o + 4, Math.floor(v / 2 ** 32), true);
  }
}

/** An ASCII string's bytes, NUL-terminated when asked. */
function ascii(s: string, nul = false): Bytes {
  return Bytes.of([...s].map((c) => c.charCodeAt(0)).concat(nul ? [0] : []));
}

/** The SysV ELF hash (Verdef's vd_hash). */
function elfHash(name: string): number {
  let h = 0;
  for (const c of ascii(name).bytes) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g) h ^= g >>> 24;
    h &= ~g >>> 0;
  }
  return h >>> 0;
}

/** A string table that hands out offsets. */
class StringTable {
  private readonly parts: Bytes[] = [Bytes.of([0])];
  private size = 1;
  add(s: string): number {
    const at = this.size;
    const b = ascii(s, true);
    this.parts.push(b);
    this.size += b.length;
    return at;
  }
  bytes(): Bytes {
    return Bytes.concat(this.parts);
  }
}

interface Section {
  name: string;
  type: number;
  flags: number;
  data: Bytes;
  align: number;
  entsize: number;
  link?: string;
  info?: number;
  offset?: number;
}

function u16(v: number): Bytes {
  const b = new Bytes(2);
  b.writeUInt16LE(v);
  return b;
}

function buildImage(): Uint8Array {
  const dynstr = new StringTable();
  const sonameOff = dynstr.add(SONAME);
  const versionOff = dynstr.add(VERSION);
  // Symbols: __vdso_NAME (global) and NAME (weak), both at the same code.
  const symbols: { name: number; func: number; bind: number }[] = [];
  FUNCTIONS.forEach(([name], k) => {
    symbols.push({ name: dynstr.add(`__vdso_${name}`), func: k, bind: STB_GLOBAL });
    symbols.push({ name: dynstr.add(name), func: k, bind: STB_WEAK });
  });
  const nsyms = symbols.length + 1;

  const text = new Bytes(FUNCTIONS.length * FUNC_SIZE, 0xcc); // int3 padding
  FUNCTIONS.forEach(([, nr], k) => {
    // mov eax, imm32; syscall; ret
    text.bytes.set([0xb8, nr & 0xff, (nr >> 8) & 0xff, 0, 0, 0x0f, 0x05, 0xc3], k * FUNC_SIZE);
  });

  // DT_HASH with one bucket: every symbol sits on the single chain.
  const hash = new Bytes(4 * (2 + 1 + nsyms));
  hash.writeUInt32LE(1, 0);
  hash.writeUInt32LE(nsyms, 4);
  hash.writeUInt32LE(nsyms > 1 ? 1 : 0, 8);
  for (let i = 1; i < nsyms; i++) hash.writeUInt32LE(i + 1 < nsyms ? i + 1 : 0, 12 + 4 * i);

  const versym = Bytes.concat([u16(0), ...symbols.map(() => u16(2))]);
  // Two Verdefs: the base (the soname, index 1) and LINUX_2.6 (index 2), each with one Verdaux.
  const verdef = new Bytes(2 * 28);
  [[VER_FLG_BASE, 1, SONAME, sonameOff], [0, 2, VERSION, versionOff]].forEach(([flags, ndx, name, off], k) => {
    const o = k * 28;
    verdef.writeUInt16LE(1, o); // vd_version
    verdef.writeUInt16LE(flags as number, o + 2);
    verdef.writeUInt16LE(ndx as number, o + 4);
    verdef.writeUInt16LE(1, o + 6); // vd_cnt
    verdef.writeUInt32LE(elfHash(name as string), o + 8);
    verdef.writeUInt32LE(20, o + 12); // vd_aux
    verdef.writeUInt32LE(k === 0 ? 28 : 0, o + 16); // vd_next
    verdef.writeUInt32LE(off as number, o + 20); // vda_name
    verdef.writeUInt32LE(0, o + 24); // vda_next
  });

  const sections: Section[] = [
    { name: '.hash', type: SHT_HASH, flags: SHF_ALLOC, data: hash, align: 8, entsize: 4, link: '.dynsym' },
    { name: '.dynsym', type: SHT_DYNSYM, flags: SHF_ALLOC, data: new Bytes(24 * nsyms), align: 8, entsize: 24, link: '.dynstr', info: 1 },
    { name: '.dynstr', type: SHT_STRTAB, flags: SHF_ALLOC, data: dynstr.bytes(), align: 1, entsize: 0 },
    { name: '.gnu.version', type: SHT_GNU_VERSYM, flags: SHF_ALLOC, data: versym, align: 2, entsize: 2, link: '.dynsym' },
    { name: '.gnu.version_d', type: SHT_GNU_VERDEF, flags: SHF_ALLOC, data: verdef, align: 8, entsize: 0, link: '.dynstr', info: 2 },
    { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: text, align: 16, entsize: 0 },
    { name: '.dynamic', type: SHT_DYNAMIC, flags: SHF_ALLOC, data: new Bytes(16 * 10), align: 8, entsize: 16, link: '.dynstr' },
  ];
  const shstr = new StringTable();
  const shNames = new Map<string, number>();
  for (const s of sections) shNames.set(s.name, shstr.add(s.name));
  const shstrtab: Section = { name: '.shstrtab', type: SHT_STRTAB, flags: 0, data: new Bytes(0), align: 1, entsize: 0 };
  shNames.set('.shstrtab', shstr.add('.shstrtab'));
  shstrtab.data = shstr.bytes();
  sections.push(shstrtab);

  const EHDR = 64, PHDR = 56, PHNUM = 2, SHDR = 64;
  let at = EHDR + PHNUM * PHDR;
  for (const s of sections) {
    at = Math.ceil(at / s.align) * s.align;
    s.offset = at;
    at += s.data.length;
  }
  const shoff = Math.ceil(at / 8) * 8;
  const total = shoff + SHDR * (sections.length + 1);
  const index = (name: string) => sections.findIndex((s) => s.name === name) + 1;
  const sec = (name: string) => sections[index(name) - 1];

  // Now that addresses are known: symbol values and the dynamic section.
  const textAddr = sec('.text').offset!;
  const dynsym = sec('.dynsym').data;
  symbols.forEach((s, k) => {
    const o = 24 * (k + 1);
    dynsym.writeUInt32LE(s.name, o);
    dynsym.writeUInt8((s.bind << 4) | STT_FUNC, o + 4);
    dynsym.writeUInt16LE(index('.text'), o + 6);
    dynsym.writeUInt64LE(textAddr + s.func * FUNC_SIZE, o + 8);
    dynsym.writeUInt64LE(8, o + 16);
  });
  const dynamic: [number, number][] = [
    [DT_HASH, sec('.hash').offset!], [DT_STRTAB, sec('.dynstr').offset!], [DT_SYMTAB, sec('.dynsym').offset!],
    [DT_STRSZ, sec('.dynstr').data.length], [DT_SYMENT, 24], [DT_SONAME, sonameOff],
    [DT_VERSYM, sec('.gnu.version').offset!], [DT_VERDEF, sec('.gnu.version_d').offset!], [DT_VERDEFNUM, 2], [0, 0],
  ];
  const dynData = sec('.dynamic').data;
  dynamic.forEach(([tag, val], k) => {
    dynData.writeUInt64LE(tag, 16 * k);
    dynData.writeUInt64LE(val, 16 * k + 8);
  });

  const out = new Bytes(total);
  // ELF header: ELF64, little-endian, ET_DYN, x86-64.
  out.bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  out.writeUInt16LE(3, 16); // ET_DYN
  out.writeUInt16LE(62, 18); // EM_X86_64
  out.writeUInt32LE(1, 20);
  out.writeUInt64LE(0, 24); // e_entry
  out.writeUInt64LE(EHDR, 32); // e_phoff
  out.writeUInt64LE(shoff, 40);
  out.writeUInt32LE(0, 48);
  out.writeUInt16LE(EHDR, 52);
  out.writeUInt16LE(PHDR, 54);
  out.writeUInt16LE(PHNUM, 56);
  out.writeUInt16LE(SHDR, 58);
  out.writeUInt16LE(sections.length + 1, 60);
  out.writeUInt16LE(index('.shstrtab'), 62);

  const phdr = (k: number, type: number, flags: number, off: number, size: number, align: number) => {
    const o = EHDR + k * PHDR;
    out.writeUInt32LE(type, o);
    out.writeUInt32LE(flags, o + 4);
    out.writeUInt64LE(off, o + 8); // p_offset
    out.writeUInt64LE(off, o + 16); // p_vaddr
    out.writeUInt64LE(off, o + 24); // p_paddr
    out.writeUInt64LE(size, o + 32);
    out.writeUInt64LE(size, o + 40);
    out.writeUInt64LE(align, o + 48);
  };
  phdr(0, PT_LOAD, 5, 0, total, 0x1000); // R+X
  phdr(1, PT_DYNAMIC, 4, sec('.dynamic').offset!, dynData.length, 8);

  sections.forEach((s, k) => {
    out.bytes.set(s.data.bytes, s.offset!);
    const o = shoff + SHDR * (k + 1);
    out.writeUInt32LE(shNames.get(s.name)!, o);
    out.writeUInt32LE(s.type, o + 4);
    out.writeUInt64LE(s.flags, o + 8);
    out.writeUInt64LE(s.flags & SHF_ALLOC ? s.offset! : 0, o + 16); // sh_addr
    out.writeUInt64LE(s.offset!, o + 24);
    out.writeUInt64LE(s.data.length, o + 32);
    out.writeUInt32LE(s.link ? index(s.link) : 0, o + 40);
    out.writeUInt32LE(s.info ?? 0, o + 44);
    out.writeUInt64LE(s.align, o + 48);
    out.writeUInt64LE(s.entsize, o + 56);
  });
  return out.bytes;
}

let image: Uint8Array | null = null;
/** The vDSO image (built once; a few hundred bytes). */
export function vdsoImage(): Uint8Array {
  return (image ??= buildImage());
}
