import type { AddressSpace } from '../mem/address-space.js';
import { PAGE_SIZE } from '../mem/fault.js';
import { ElfError, ENOMEM, errnoText } from './elf-error.js';
import type { MappedRange } from './load.js';

/** One mapping of the vDSO block, e.g. { name: '[vvar]', size: 0x4000, prot: PROT_READ }. */
export interface VdsoPart {
  name: string;
  size: number;
  prot: number;
}

export interface VdsoOptions {
  /** The block in ascending address order, as the host shows it ([vvar] … [vdso]). */
  layout: VdsoPart[];
  /** A real vDSO ELF image for the '[vdso]' part; only then is AT_SYSINFO_EHDR given. */
  image?: Uint8Array | null;
}

/**
 * Linux maps the vvar pages and the vDSO as one block, top-down, right after the
 * program and interpreter (arch_setup_additional_pages). Reproducing the block's
 * sizes — even with empty pages — keeps every later mmap (libc, …) at the address
 * it has natively. Returns the address of '[vdso]' when an image was given, else null.
 */
export function mapVdso(mem: AddressSpace, v: VdsoOptions, log: MappedRange[]): number | null {
  const sizes = v.layout.map((p) => Math.ceil(p.size / PAGE_SIZE) * PAGE_SIZE);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const base = mem.findFree(total);
  if (base < 0) throw new ElfError(`no room for the vDSO: ${errnoText(ENOMEM)}`, ENOMEM);
  let at = base;
  let vdsoAddr: number | null = null;
  v.layout.forEach((p, k) => {
    const isVdso = p.name === '[vdso]' && !!v.image;
    const r = mem.mmap(at, sizes[k], p.prot, { fixed: true, name: p.name, data: isVdso ? v.image!.subarray(0, sizes[k]) : undefined });
    if (r !== at) throw new ElfError(`cannot map ${p.name}: ${errnoText(r < 0 ? -r : ENOMEM)}`, ENOMEM);
    log.push({ start: at, len: sizes[k] });
    if (isVdso) vdsoAddr = at;
    at += sizes[k];
  });
  return vdsoAddr;
}

const PROTS: Record<string, number> = { r: 1, w: 2, x: 4 };

/** The [vvar…]/[vdso] block of a /proc/PID/maps text (e.g. the host's own), in address order. */
export function vdsoLayoutFromMaps(maps: string): VdsoPart[] {
  const parts: VdsoPart[] = [];
  for (const line of maps.split('\n')) {
    // Node's own maps run to hundreds of lines: only these few need the pattern.
    if (!line.includes('[vvar') && !line.includes('[vdso]')) continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-])\S*\s+\S+\s+\S+\s+\S+\s+(\[(?:vvar\w*|vdso)\])\s*$/.exec(line);
    if (!m) continue;
    const prot = [...m[3]].reduce((a, c) => a | (PROTS[c] ?? 0), 0);
    parts.push({ name: m[4], size: parseInt(m[2], 16) - parseInt(m[1], 16), prot });
  }
  return parts;
}
