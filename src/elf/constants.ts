/** ELF64 constants the loader needs (see elf(5), fs/binfmt_elf.c). */

export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;
export const SHDR_SIZE = 64;

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/** Linux limits: program header table ≤ 64 KiB, PT_INTERP ≤ PATH_MAX. */
export const MAX_PHDR_BYTES = 65536;
export const PATH_MAX = 4096;
/** Refuse images whose segments add up to more than this (a sanity bound, not a Linux rule). */
export const MAX_IMAGE_BYTES = 64 * 2 ** 30;

/** x86-64 ELF_ET_DYN_BASE: DEFAULT_MAP_WINDOW / 3 * 2, where a PIE goes without ASLR (page-aligned to 0x555555554000). */
export const ELF_ET_DYN_BASE = 0x555555554aaa;
/** Linux's default vm.mmap_min_addr: nothing is mapped below it. */
export const MMAP_MIN_ADDR = 0x10000;

/** e_type values that are not programs, for the error message. */
export const TYPE_NAMES: Record<number, string> = {
  0: 'no file type (ET_NONE)',
  1: 'relocatable object (ET_REL)',
  4: 'core dump (ET_CORE)',
};

/** e_machine names (binutils spelling) for "wrong machine" messages. */
export const MACHINE_NAMES: Record<number, string> = {
  0: 'none',
  2: 'SPARC',
  3: 'Intel 80386',
  4: 'Motorola 68000',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  22: 'IBM S/390',
  40: 'ARM',
  42: 'Renesas SH',
  43: 'SPARC v9',
  50: 'Intel IA-64',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
  247: 'Linux BPF',
  258: 'LoongArch',
};
