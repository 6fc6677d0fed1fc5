// Minimal static x86-64 ELF executables assembled in the test, for guests whose
// every byte the test must know (protocol fuzzing) and as clean bases for ELF mutation.

export const CODE_ADDR = 0x400000;
export const DATA_ADDR = 0x600000;
const EHDR = 64;
const PHDR = 56;
const PAGE = 0x1000;

export interface TinyElfOptions {
  /** Machine code; it starts right after the program headers and is the entry point. */
  code: Uint8Array;
  /** Initial contents of the read-write segment at DATA_ADDR. */
  data?: Uint8Array;
  /** Size of the read-write segment in memory (≥ data.length; the rest is zero). */
  dataMemsz?: number;
}

/** The entry point of a tinyElf image (where its code starts). */
export function tinyEntry(withData = true): number {
  return CODE_ADDR + EHDR + PHDR * (withData ? 2 : 1);
}

/** An ET_EXEC image: one R+X PT_LOAD (headers and code) and, with data, one RW PT_LOAD. */
export function tinyElf(o: TinyElfOptions): Uint8Array {
  const data = o.data ?? null;
  const phnum = data ? 2 : 1;
  const codeOff = EHDR + PHDR * phnum;
  const dataOff = Math.ceil((codeOff + o.code.length) / PAGE) * PAGE;
  const size = data ? dataOff + data.length : codeOff + o.code.length;
  const img = new Uint8Array(size);
  const v = new DataView(img.buffer);
  img.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // \x7fELF, 64-bit, little-endian, version 1, SysV
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(CODE_ADDR + codeOff), true); // e_entry
  v.setBigUint64(32, BigInt(EHDR), true); // e_phoff
  v.setUint16(52, EHDR, true);
  v.setUint16(54, PHDR, true);
  v.setUint16(56, phnum, true);
  v.setUint16(58, 64, true); // e_shentsize (no sections)
  const ph = (i: number, flags: number, off: number, vaddr: number, filesz: number, memsz: number) => {
    const b = EHDR + PHDR * i;
    v.setUint32(b, 1, true); // PT_LOAD
    v.setUint32(b + 4, flags, true);
    v.setBigUint64(b + 8, BigInt(off), true);
    v.setBigUint64(b + 16, BigInt(vaddr), true);
    v.setBigUint64(b + 24, BigInt(vaddr), true);
    v.setBigUint64(b + 32, BigInt(filesz), true);
    v.setBigUint64(b + 40, BigInt(memsz), true);
    v.setBigUint64(b + 48, BigInt(PAGE), true);
  };
  ph(0, 5, 0, CODE_ADDR, codeOff + o.code.length, codeOff + o.code.length);
  if (data) ph(1, 6, dataOff, DATA_ADDR + (dataOff % PAGE), data.length, Math.max(o.dataMemsz ?? data.length, data.length));
  img.set(o.code, codeOff);
  if (data) img.set(data, dataOff);
  return img;
}

/** `for (;;) pause();` — a guest that waits in a syscall forever and never touches memory. */
export const PAUSE_LOOP = Uint8Array.from([
  0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
  0x0f, 0x05, // syscall
  0xeb, 0xf7, // jmp back to the mov
]);

/** `exit(0)` */
export const EXIT_0 = Uint8Array.from([
  0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60
  0x31, 0xff, // xor edi, edi
  0x0f, 0x05, // syscall
]);
