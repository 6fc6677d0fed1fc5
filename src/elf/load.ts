import { AddressSpace, USER_END } from '../mem/address-space.js';
import { GuestFault, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../mem/fault.js';
import { ELF_ET_DYN_BASE, ET_DYN, MMAP_MIN_ADDR, PF_R, PF_W, PF_X } from './constants.js';
import { EEXIST, ElfError, ENOMEM, EPERM, errnoText } from './elf-error.js';
import type { ElfFile, ProgramHeader } from './parse.js';

/** How the file shows in /proc/PID/maps. */
export interface MappedFile {
  name: string;
  inode?: number;
  dev?: string;
}

/** Where one image ended up. */
export interface LoadedImage {
  /** Added to every p_vaddr (0 for ET_EXEC; may be "negative" for a PIE linked high, as Linux's unsigned wrap). */
  bias: number;
  /** e_entry + bias. */
  entry: number;
  /** Address of the program headers in memory (AT_PHDR), 0 when no PT_LOAD covers them (as Linux). */
  phdr: number;
  /** First mapped address (page-aligned). */
  start: number;
  /** End of the highest segment (p_vaddr + p_memsz + bias, not page-aligned). */
  end: number;
}

/** A range this load mapped, so that a failed load can be undone. */
export interface MappedRange {
  start: number;
  len: number;
}

const pageDown = (a: number) => Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
const pageUp = (a: number) => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;
const hex = (n: number) => (n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16));

/** p_flags → PROT_* bits. */
export function segmentProt(flags: number): number {
  return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);
}

/** Largest power-of-two p_align of the PT_LOADs, at least a page (Linux's maximum_alignment). */
export function maximumAlignment(elf: ElfFile): number {
  let align = 0;
  for (const p of elf.loads) {
    const a = p.align;
    const isPow2 = a > 0 && a <= 2 ** 52 && 2 ** Math.round(Math.log2(a)) === a;
    if (isPow2 && a > align) align = a;
  }
  return Math.max(pageUp(align), PAGE_SIZE);
}

/** Bytes from the first segment's page to the end of the last segment (Linux's total_mapping_size, page-rounded). */
export function totalMappingSize(elf: ElfFile): number {
  const first = elf.loads[0];
  const last = elf.loads[elf.loads.length - 1];
  return pageUp(last.vaddr + last.memsz - pageDown(first.vaddr));
}

const alignDown = (a: number, align: number) => (align > a ? 0 : a - (a % align));

/**
 * The load bias Linux (without ASLR) picks:
 *  - ET_EXEC: 0, segments at their link addresses;
 *  - a PIE program (ET_DYN with PT_INTERP): ELF_ET_DYN_BASE aligned to the largest p_align → 0x555555554000;
 *  - an interpreter, or an ET_DYN run without one (static-pie, ld.so run directly): top-down in the mmap
 *    area, like an mmap(NULL, total size); a static-pie with p_align > page is then aligned down.
 */
export function chooseLoadBias(mem: AddressSpace, elf: ElfFile, role: 'program' | 'interpreter'): number {
  if (elf.type !== ET_DYN) return 0;
  const firstPage = pageDown(elf.loads[0].vaddr);
  if (role === 'program' && elf.interp !== null) {
    return pageDown(alignDown(ELF_ET_DYN_BASE, maximumAlignment(elf)) - elf.loads[0].vaddr);
  }
  const total = totalMappingSize(elf);
  let base = mem.findFree(total);
  if (base < 0) throw new ElfError(`no room for a ${hex(total)}-byte image: ${errnoText(ENOMEM)}`, ENOMEM);
  if (role === 'program') base = alignDown(base, maximumAlignment(elf));
  return base - firstPage;
}

/**
 * Maps the PT_LOAD segments at bias the way binfmt_elf's elf_load does: the file's pages
 * [page(vaddr), page-up(vaddr+filesz)) as a private file mapping with the segment's
 * protection; when memsz > filesz the rest of the last file page is zeroed (only if the
 * segment is writable — Linux's padzero silently fails otherwise) and the pages up to
 * vaddr+memsz become an anonymous read-write mapping (bss).
 *
 * Every mapping made is appended to `log`.
 */
export function mapImage(mem: AddressSpace, elf: ElfFile, image: Uint8Array, bias: number, file: MappedFile, log: MappedRange[]): LoadedImage {
  const entry = elf.entry + bias;
  if (!(entry >= 0 && entry < USER_END)) throw new ElfError(`entry point ${hex(entry)} outside the user address space`);
  for (const p of elf.loads) mapSegment(mem, p, image, bias, file, log);
  const last = elf.loads[elf.loads.length - 1];
  return {
    bias,
    entry,
    phdr: phdrAddress(elf, bias),
    start: pageDown(elf.loads[0].vaddr + bias),
    end: last.vaddr + last.memsz + bias,
  };
}

function mapSegment(mem: AddressSpace, p: ProgramHeader, image: Uint8Array, bias: number, file: MappedFile, log: MappedRange[]): void {
  const start = p.vaddr + bias;
  const pageStart = pageDown(start);
  const memEnd = pageUp(start + p.memsz);
  if (pageStart < MMAP_MIN_ADDR) throw mapError(p, pageStart, EPERM);
  if (memEnd > USER_END) throw mapError(p, pageStart, ENOMEM);
  const prot = segmentProt(p.flags);

  let anonStart = pageStart;
  if (p.filesz > 0) {
    const fileEnd = pageUp(start + p.filesz);
    const fileOffset = p.offset - (start - pageStart);
    // The page after filesz keeps the file's bytes unless this is a writable segment with a bss.
    const zeroTail = p.memsz > p.filesz && (prot & PROT_WRITE) !== 0;
    const dataEnd = zeroTail ? p.offset + p.filesz : Math.min(image.length, fileOffset + (fileEnd - pageStart));
    mapChecked(mem, p, pageStart, fileEnd - pageStart, prot, log, {
      name: file.name,
      inode: file.inode ?? 0,
      dev: file.dev ?? '00:00',
      offset: fileOffset,
      data: image.subarray(fileOffset, dataEnd),
    });
    anonStart = fileEnd;
  }
  if (memEnd > anonStart) {
    // vm_brk_flags: anonymous, read-write, executable only if the segment is.
    mapChecked(mem, p, anonStart, memEnd - anonStart, PROT_READ | PROT_WRITE | (prot & PROT_EXEC), log, {});
  }
}

function mapChecked(
  mem: AddressSpace, p: ProgramHeader, addr: number, len: number, prot: number, log: MappedRange[],
  opts: { name?: string; inode?: number; dev?: string; offset?: number; data?: Uint8Array },
): void {
  let r: number;
  try {
    r = mem.mmap(addr, len, prot, { fixed: true, ...opts });
  } catch (e) {
    if (e instanceof GuestFault) r = -ENOMEM; // guest memory pool exhausted while copying the file in
    else throw e;
  }
  if (r !== addr) {
    if (r >= 0) mem.munmap(r, len);
    throw mapError(p, addr, r < 0 ? -r : EEXIST);
  }
  log.push({ start: addr, len });
}

function mapError(p: ProgramHeader, addr: number, errno: number): ElfError {
  return new ElfError(`cannot map segment ${p.index} at ${hex(addr)}: ${errnoText(errno)}`, errno);
}

/** AT_PHDR: where the PT_LOAD that contains e_phoff puts the table (fs/binfmt_elf.c). */
export function phdrAddress(elf: ElfFile, bias: number): number {
  for (const p of elf.loads) {
    if (p.offset <= elf.phoff && elf.phoff < p.offset + p.filesz) return elf.phoff - p.offset + p.vaddr + bias;
  }
  return 0;
}

/** Where the heap starts: right after the program image, page-aligned; a static-pie's brk moves to ELF_ET_DYN_BASE. */
export function initialBrk(elf: ElfFile, image: LoadedImage): number {
  if (elf.type === ET_DYN && elf.interp === null) return pageUp(ELF_ET_DYN_BASE);
  return pageUp(image.end);
}
