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
  /** A PT_INTERP naming this interpreter (the bytes as given: no NUL is added). */
  interp?: Uint8Array;
}

/** An ET_EXEC image: one R+X PT_LOAD (headers and code), with data one RW PT_LOAD, with interp a PT_INTERP. */
export function tinyElf(o: TinyElfOptions): Uint8Array {
  const data = o.data ?? null;
  const interp = o.interp ?? null;
  const phnum = 1 + (data ? 1 : 0) + (interp ? 1 : 0);
  const codeOff = EHDR + PHDR * phnum;
  const interpOff = codeOff + o.code.length;
  const textEnd = interpOff + (interp?.length ?? 0);
  const dataOff = Math.ceil(textEnd / PAGE) * PAGE;
  const size = data ? dataOff + data.length : textEnd;
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
  const ph = (i: number, flags: number, off: number, vaddr: number, filesz: number, memsz: number, type = 1) => {
    const b = EHDR + PHDR * i;
    v.setUint32(b, type, true); // PT_LOAD unless told
    v.setUint32(b + 4, flags, true);
    v.setBigUint64(b + 8, BigInt(off), true);
    v.setBigUint64(b + 16, BigInt(vaddr), true);
    v.setBigUint64(b + 24, BigInt(vaddr), true);
    v.setBigUint64(b + 32, BigInt(filesz), true);
    v.setBigUint64(b + 40, BigInt(memsz), true);
    v.setBigUint64(b + 48, BigInt(PAGE), true);
  };
  let i = 0;
  if (interp) ph(i++, 4, interpOff, CODE_ADDR + interpOff, interp.length, interp.length, 3); // PT_INTERP comes first
  ph(i++, 5, 0, CODE_ADDR, textEnd, textEnd);
  if (data) ph(i++, 6, dataOff, DATA_ADDR, data.length, Math.max(o.dataMemsz ?? data.length, data.length));
  img.set(o.code, codeOff);
  if (interp) img.set(interp, interpOff);
  if (data) img.set(data, dataOff);
  return img;
}

/** `for (;;) pause();` — a guest that waits in a syscall forever and never touches memory. */
export const PAUSE_LOOP = Uint8Array.from([
  0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
  0x0f, 0x05, // syscall
  0xeb, 0xf7, // jmp back to the mov
]);

/** `write(1, "<text>", n); exit(0)` — with the text placed right after the code. */
export function writeAndExit(text: string): Uint8Array {
  const msg = Buffer.from(text);
  const code = [
    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (write)
    0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, 1
    0x48, 0x8d, 0x35, 0x10, 0x00, 0x00, 0x00, // lea rsi, [rip + 0x10] (the text, after the code below)
    0xba, msg.length & 0xff, (msg.length >> 8) & 0xff, 0x00, 0x00, // mov edx, len
    0x0f, 0x05, // syscall
    0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60
    0x31, 0xff, // xor edi, edi
    0x0f, 0x05, // syscall
  ];
  return Uint8Array.from([...code, ...msg]);
}

/** `exit(0)` */
export const EXIT_0 = Uint8Array.from([
  0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60
  0x31, 0xff, // xor edi, edi
  0x0f, 0x05, // syscall
]);

/** `nanosleep({seconds, 0}); exit(0)` — a guest that is busy (asleep) for a while, then ends by itself. */
export function sleepThenExit(seconds: number): Uint8Array {
  return Uint8Array.from([
    0x6a, 0x00, // push 0 (tv_nsec)
    0x6a, seconds & 0x7f, // push seconds (tv_sec)
    0x48, 0x89, 0xe7, // mov rdi, rsp
    0x31, 0xf6, // xor esi, esi
    0xb8, 0x23, 0x00, 0x00, 0x00, // mov eax, 35 (nanosleep)
    0x0f, 0x05, // syscall
    ...EXIT_0,
  ]);
}
