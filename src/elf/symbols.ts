import { SHDR_SIZE } from './constants.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SYM_SIZE = 24;
const MAX_SYMBOLS = 1 << 20;

export interface ElfSymbol {
  name: string;
  /** st_value (link-time address; add the load bias for a PIE). */
  value: number;
  size: number;
  /** STT_* (0 notype, 1 object, 2 func, 6 tls …). */
  type: number;
  /** STB_* (0 local, 1 global, 2 weak). */
  bind: number;
  /** Section index (0 = undefined). */
  shndx: number;
}

/**
 * The symbols of .symtab (or .dynsym when stripped), for names in traces and
 * messages. Sections do not matter for loading, so this is lenient: anything
 * malformed yields fewer symbols (or none), never an exception.
 */
export function readSymbols(image: Uint8Array): ElfSymbol[] {
  try {
    return readSymbolsUnchecked(image);
  } catch {
    return [];
  }
}

function readSymbolsUnchecked(image: Uint8Array): ElfSymbol[] {
  if (image.length < 64 || image[4] !== 2 || image[5] !== 1) return [];
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const u64 = (o: number) => view.getUint32(o, true) + view.getUint32(o + 4, true) * 2 ** 32;
  const shoff = u64(40);
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  if (shentsize !== SHDR_SIZE || shoff + shnum * SHDR_SIZE > image.length) return [];
  const sections = Array.from({ length: shnum }, (_, k) => {
    const o = shoff + k * SHDR_SIZE;
    return { type: view.getUint32(o + 4, true), offset: u64(o + 24), size: u64(o + 32), link: view.getUint32(o + 40, true) };
  });
  const table = sections.find((s) => s.type === SHT_SYMTAB) ?? sections.find((s) => s.type === SHT_DYNSYM);
  if (!table || table.link >= shnum) return [];
  const strtab = sections[table.link];
  if (table.offset + table.size > image.length || strtab.offset + strtab.size > image.length) return [];
  const names = image.subarray(strtab.offset, strtab.offset + strtab.size);
  const decoder = new TextDecoder();
  const count = Math.min(Math.floor(table.size / SYM_SIZE), MAX_SYMBOLS);
  const out: ElfSymbol[] = [];
  for (let k = 1; k < count; k++) {
    const o = table.offset + k * SYM_SIZE;
    const nameOff = view.getUint32(o, true);
    const info = image[o + 4];
    let end = names.indexOf(0, nameOff);
    if (end < 0) end = names.length;
    out.push({
      name: nameOff < names.length ? decoder.decode(names.subarray(nameOff, end)) : '',
      value: u64(o + 8),
      size: u64(o + 16),
      type: info & 15,
      bind: info >> 4,
      shndx: view.getUint16(o + 6, true),
    });
  }
  return out;
}
