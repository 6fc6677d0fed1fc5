import {
  EHDR_SIZE, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, EM_X86_64, ET_DYN, ET_EXEC, MACHINE_NAMES,
  MAX_IMAGE_BYTES, MAX_PHDR_BYTES, PATH_MAX, PF_X, PHDR_SIZE, PT_GNU_RELRO, PT_GNU_STACK, PT_INTERP, PT_LOAD,
  PT_TLS, TYPE_NAMES,
} from './constants.js';
import { ElfError, printable } from './elf-error.js';
import { PAGE_SIZE } from '../mem/fault.js';
import { USER_END } from '../mem/address-space.js';

/** One program header. 64-bit fields are JS numbers: exact below 2^53, and validated to be far below that. */
export interface ProgramHeader {
  /** Position in the program header table (for messages). */
  index: number;
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

/** A validated x86-64 ELF64 executable or shared object (ld.so, static-pie). */
export interface ElfFile {
  type: typeof ET_EXEC | typeof ET_DYN;
  entry: number;
  phoff: number;
  phnum: number;
  phdrs: ProgramHeader[];
  /** PT_LOAD segments with a non-zero memory size, in ascending address order. */
  loads: ProgramHeader[];
  /** PT_INTERP path (the first one, as Linux uses), or null for a static program. */
  interp: string | null;
  /** PT_GNU_STACK asks for an executable stack (no PT_GNU_STACK: not executable on x86-64). */
  execStack: boolean;
  tls: ProgramHeader | null;
  relro: ProgramHeader | null;
}

const hex = (n: number | bigint) => '0x' + n.toString(16);
const pageOf = (n: number) => n % PAGE_SIZE;

/**
 * Parses and validates an ELF64 x86-64 program image the way Linux's
 * binfmt_elf would accept it, plus the sanity checks that keep the loader
 * safe (segments inside the file, ordered, within the 47-bit user space).
 *
 * Pure: reads only `image`. Throws ElfError (one-line reason) for every bad
 * input and nothing else.
 */
export function parseElf(image: Uint8Array): ElfFile {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const size = image.length;
  /** A u64 field as a number (exact below 2^53; larger values only fail range checks). */
  const u64 = (off: number) => view.getUint32(off, true) + view.getUint32(off + 4, true) * 2 ** 32;
  /** Exact u64 for messages. */
  const big = (off: number) => view.getBigUint64(off, true);

  if (size < 4 || image[0] !== 0x7f || image[1] !== 0x45 || image[2] !== 0x4c || image[3] !== 0x46) {
    throw new ElfError('not an ELF executable (bad magic)');
  }
  if (size < 16) throw new ElfError(`truncated ELF header (${size} bytes)`);
  const cls = image[4];
  if (cls === ELFCLASS32) throw new ElfError('wrong class: 32-bit ELF, only x86-64 ELF64 is supported');
  if (cls !== ELFCLASS64) throw new ElfError(`invalid ELF class ${cls}`);
  const data = image[5];
  if (data === ELFDATA2MSB) throw new ElfError('big-endian ELF, only little-endian x86-64 is supported');
  if (data !== ELFDATA2LSB) throw new ElfError(`invalid ELF data encoding ${data}`);
  if (size < EHDR_SIZE) throw new ElfError(`truncated ELF header (${size} of ${EHDR_SIZE} bytes)`);

  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_X86_64) {
    throw new ElfError(`wrong machine: ${MACHINE_NAMES[machine] ?? `machine ${machine}`}, only x86-64 is supported`);
  }
  if (type !== ET_EXEC && type !== ET_DYN) {
    throw new ElfError(`not an executable: ${TYPE_NAMES[type] ?? `ELF type ${type}`}`);
  }
  const entry = u64(24);
  const phoff = u64(32);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phentsize !== PHDR_SIZE) throw new ElfError(`bad program header entry size ${phentsize} (expected ${PHDR_SIZE})`);
  if (phnum === 0) throw new ElfError('no program headers');
  if (phnum * PHDR_SIZE > MAX_PHDR_BYTES) throw new ElfError(`too many program headers (${phnum})`);
  if (phoff > size || phoff + phnum * PHDR_SIZE > size) {
    throw new ElfError(`truncated program headers (${phnum} at offset ${hex(big(32))}, file is ${size} bytes)`);
  }

  const phdrs: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    phdrs.push({
      index: i,
      type: view.getUint32(o, true),
      flags: view.getUint32(o + 4, true),
      offset: u64(o + 8),
      vaddr: u64(o + 16),
      filesz: u64(o + 32),
      memsz: u64(o + 40),
      align: u64(o + 48),
    });
  }
  /** Exact field of program header i, for messages. */
  const field = (i: number, at: number) => big(phoff + i * PHDR_SIZE + at);

  const loads = checkLoads(phdrs, size, field);
  let interp: string | null = null;
  const interpHdr = phdrs.find((p) => p.type === PT_INTERP);
  if (interpHdr) interp = readInterp(image, interpHdr, field);
  let execStack = false;
  for (const p of phdrs) if (p.type === PT_GNU_STACK) execStack = (p.flags & PF_X) !== 0; // last one wins, as in Linux
  if (type === ET_EXEC && entry >= USER_END) throw new ElfError(`entry point ${hex(big(24))} outside the user address space`);

  return {
    type,
    entry,
    phoff,
    phnum,
    phdrs,
    loads,
    interp,
    execStack,
    tls: phdrs.find((p) => p.type === PT_TLS) ?? null,
    relro: phdrs.find((p) => p.type === PT_GNU_RELRO) ?? null,
  };
}

type Field = (i: number, at: number) => bigint;

/** Validates the PT_LOAD segments and returns the non-empty ones in order. */
function checkLoads(phdrs: ProgramHeader[], size: number, field: Field): ProgramHeader[] {
  const loads: ProgramHeader[] = [];
  let total = 0;
  for (const p of phdrs) {
    if (p.type !== PT_LOAD) continue;
    const what = `segment ${p.index}`;
    if (p.filesz > p.memsz) {
      throw new ElfError(`${what}: file size ${hex(field(p.index, 32))} exceeds memory size ${hex(field(p.index, 40))}`);
    }
    if (p.filesz > 0 && (p.offset > size || p.offset + p.filesz > size)) {
      const end = field(p.index, 8) + field(p.index, 32);
      throw new ElfError(`${what}: file range ${hex(field(p.index, 8))}-${hex(end)} extends past end of file (${size} bytes)`);
    }
    if (p.vaddr >= USER_END || p.memsz >= USER_END || p.vaddr + p.memsz > USER_END) {
      const end = field(p.index, 16) + field(p.index, 40);
      throw new ElfError(`${what}: address range ${hex(field(p.index, 16))}-${hex(end)} exceeds the 47-bit user address space`);
    }
    if (p.filesz > 0 && pageOf(p.offset) !== pageOf(p.vaddr)) {
      throw new ElfError(`${what}: misaligned (offset ${hex(p.offset)} and address ${hex(p.vaddr)} differ within a page)`);
    }
    if (p.memsz === 0) continue;
    const prev = loads[loads.length - 1];
    if (prev && p.vaddr < prev.vaddr) {
      throw new ElfError(`PT_LOAD segments not in ascending order (segment ${p.index} at ${hex(p.vaddr)} follows ${hex(prev.vaddr)})`);
    }
    if (prev && p.vaddr < prev.vaddr + prev.memsz) {
      throw new ElfError(`PT_LOAD segments ${prev.index} and ${p.index} overlap at ${hex(p.vaddr)}`);
    }
    total += Math.ceil(p.memsz / PAGE_SIZE) * PAGE_SIZE;
    if (total > MAX_IMAGE_BYTES) throw new ElfError(`segments too large (more than ${MAX_IMAGE_BYTES / 2 ** 30} GiB of memory)`);
    loads.push(p);
  }
  if (loads.length === 0) throw new ElfError('no loadable segments (PT_LOAD)');
  return loads;
}

/** The PT_INTERP path: inside the file, NUL-terminated, not empty. */
function readInterp(image: Uint8Array, p: ProgramHeader, field: Field): string {
  if (p.offset > image.length || p.offset + p.filesz > image.length) {
    throw new ElfError(`PT_INTERP ${hex(field(p.index, 8))}+${hex(field(p.index, 32))} extends past end of file`);
  }
  if (p.filesz < 2 || p.filesz > PATH_MAX) throw new ElfError(`bad PT_INTERP size ${hex(field(p.index, 32))}`);
  const bytes = image.subarray(p.offset, p.offset + p.filesz);
  if (bytes[bytes.length - 1] !== 0) throw new ElfError('PT_INTERP path is not NUL-terminated');
  const nul = bytes.indexOf(0);
  if (nul === 0) throw new ElfError('PT_INTERP path is empty');
  return new TextDecoder().decode(bytes.subarray(0, nul));
}

/** "interpreter PATH: reason" wrapper for errors in the interpreter's own image. */
export function interpError(path: string, e: ElfError): ElfError {
  return new ElfError(`interpreter ${printable(path)}: ${e.message}`, e.errno);
}
