/** Auxiliary vector entry types (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h). */
export const AT_NULL = 0;
export const AT_PHDR = 3;
export const AT_PHENT = 4;
export const AT_PHNUM = 5;
export const AT_PAGESZ = 6;
export const AT_BASE = 7;
export const AT_FLAGS = 8;
export const AT_ENTRY = 9;
export const AT_UID = 11;
export const AT_EUID = 12;
export const AT_GID = 13;
export const AT_EGID = 14;
export const AT_PLATFORM = 15;
export const AT_HWCAP = 16;
export const AT_CLKTCK = 17;
export const AT_SECURE = 23;
export const AT_RANDOM = 25;
export const AT_HWCAP2 = 26;
export const AT_RSEQ_FEATURE_SIZE = 27;
export const AT_RSEQ_ALIGN = 28;
export const AT_EXECFN = 31;
export const AT_SYSINFO_EHDR = 33;
export const AT_MINSIGSTKSZ = 51;

/** Names as LD_SHOW_AUXV prints them (for messages and debugging output). */
export const AUXV_NAMES: Record<number, string> = {
  [AT_NULL]: 'AT_NULL', [AT_PHDR]: 'AT_PHDR', [AT_PHENT]: 'AT_PHENT', [AT_PHNUM]: 'AT_PHNUM',
  [AT_PAGESZ]: 'AT_PAGESZ', [AT_BASE]: 'AT_BASE', [AT_FLAGS]: 'AT_FLAGS', [AT_ENTRY]: 'AT_ENTRY',
  [AT_UID]: 'AT_UID', [AT_EUID]: 'AT_EUID', [AT_GID]: 'AT_GID', [AT_EGID]: 'AT_EGID',
  [AT_PLATFORM]: 'AT_PLATFORM', [AT_HWCAP]: 'AT_HWCAP', [AT_CLKTCK]: 'AT_CLKTCK', [AT_SECURE]: 'AT_SECURE',
  [AT_RANDOM]: 'AT_RANDOM', [AT_HWCAP2]: 'AT_HWCAP2', [AT_RSEQ_FEATURE_SIZE]: 'AT_RSEQ_FEATURE_SIZE',
  [AT_RSEQ_ALIGN]: 'AT_RSEQ_ALIGN', [AT_EXECFN]: 'AT_EXECFN', [AT_SYSINFO_EHDR]: 'AT_SYSINFO_EHDR',
  [AT_MINSIGSTKSZ]: 'AT_MINSIGSTKSZ',
};

/** One auxv entry; values are non-negative and below 2^53. */
export type AuxEntry = readonly [type: number, value: number];

/** Little-endian (type, value) u64 pairs, as /proc/PID/auxv and gdb's qXfer:auxv:read return them. */
export function encodeAuxv(entries: readonly AuxEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * 16);
  const view = new DataView(out.buffer);
  entries.forEach(([type, value], k) => {
    writeU64(view, k * 16, type);
    writeU64(view, k * 16 + 8, value);
  });
  return out;
}

/** Reads auxv bytes back (up to and including AT_NULL). */
export function decodeAuxv(bytes: Uint8Array): AuxEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: AuxEntry[] = [];
  for (let o = 0; o + 16 <= bytes.length; o += 16) {
    const type = readU64(view, o);
    out.push([type, readU64(view, o + 8)]);
    if (type === AT_NULL) break;
  }
  return out;
}

export function writeU64(view: DataView, off: number, v: number): void {
  view.setUint32(off, v % 2 ** 32, true);
  view.setUint32(off + 4, Math.floor(v / 2 ** 32), true);
}

export function readU64(view: DataView, off: number): number {
  return view.getUint32(off, true) + view.getUint32(off + 4, true) * 2 ** 32;
}
