/**
 * The dynamic linker's list of loaded objects, read from guest memory the way
 * gdbserver's linux-low does for qXfer:libraries-svr4:read: the main
 * program's PT_DYNAMIC (found through AT_PHDR) holds DT_DEBUG, which ld.so
 * points at its struct r_debug; r_map is the head of the link_map chain.
 */
import { AT_PHDR, AT_PHNUM, decodeAuxv } from '../elf/auxv.js';

const PT_DYNAMIC = 2, PT_PHDR = 6, PT_LOAD = 1;
const DT_NULL = 0, DT_DEBUG = 21;
const PHDR_SIZE = 56, EHDR_SIZE = 64;
const MAX_OBJECTS = 4096, PATH_MAX = 4096;

/** Guest memory as the debugger reads it (ignores permissions; null when unmapped). */
export interface PeekMemory {
  peek(addr: number, len: number): Uint8Array | null;
}

function u64(mem: PeekMemory, addr: number): number | null {
  const b = mem.peek(addr, 8);
  if (!b || b.length < 8) return null;
  const v = new DataView(b.buffer, b.byteOffset, 8);
  return v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
}

function cString(mem: PeekMemory, addr: number): string {
  // Read page by page: the name may end just before an unmapped page.
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total < PATH_MAX) {
    const chunk = mem.peek(addr + total, Math.min(PATH_MAX - total, 4096 - ((addr + total) % 4096)));
    if (!chunk || chunk.length === 0) break;
    const nul = chunk.indexOf(0);
    parts.push(nul >= 0 ? chunk.subarray(0, nul) : chunk);
    total += chunk.length;
    if (nul >= 0) break;
  }
  return Buffer.concat(parts).toString('utf8');
}

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

const hex = (v: number) => '0x' + v.toString(16);

/** Address of the main program's struct r_debug (DT_DEBUG's value), 0 before ld.so has set it, null without PT_DYNAMIC. */
export function findRDebug(mem: PeekMemory, auxv: Uint8Array): number | null {
  const aux = new Map(decodeAuxv(auxv));
  const phdr = aux.get(AT_PHDR), phnum = aux.get(AT_PHNUM);
  if (!phdr || !phnum) return null;
  let bias: number | null = null;
  let dynamic: number | null = null;
  let firstLoad: number | null = null;
  for (let k = 0; k < phnum; k++) {
    const b = mem.peek(phdr + k * PHDR_SIZE, PHDR_SIZE);
    if (!b || b.length < PHDR_SIZE) return null;
    const v = new DataView(b.buffer, b.byteOffset, PHDR_SIZE);
    const type = v.getUint32(0, true);
    const vaddr = v.getUint32(16, true) + v.getUint32(20, true) * 2 ** 32;
    const offset = v.getUint32(8, true) + v.getUint32(12, true) * 2 ** 32;
    if (type === PT_PHDR) bias = phdr - vaddr;
    else if (type === PT_DYNAMIC) dynamic = vaddr;
    else if (type === PT_LOAD && offset === 0 && firstLoad === null) firstLoad = vaddr;
  }
  if (dynamic === null) return null;
  // Without PT_PHDR the headers sit right after the ELF header in the first segment.
  if (bias === null) bias = firstLoad === null ? 0 : phdr - (firstLoad + EHDR_SIZE);
  for (let a = bias + dynamic, n = 0; n < 4096; a += 16, n++) {
    const tag = u64(mem, a);
    if (tag === null || tag === DT_NULL) return null;
    if (tag === DT_DEBUG) return u64(mem, a + 8);
  }
  return null;
}

/** Namespaces to follow through r_debug_extended.r_next (dlmopen), bounding a corrupt chain. */
const MAX_NAMESPACES = 64;

/**
 * The <library-list-svr4> document gdbserver would send: main-lm names the
 * program's own link_map entry, every later entry with a name is a library,
 * and lmid is the address of the struct r_debug of the library's namespace.
 * glibc's r_debug_extended (r_version >= 2) chains further namespaces through
 * r_next (offset 40).
 */
export function librariesSvr4Xml(mem: PeekMemory, auxv: Uint8Array): string {
  let doc = '<library-list-svr4 version="1.0"';
  let libraries = '';
  let rDebug = findRDebug(mem, auxv) ?? 0;
  for (let ns = 0; rDebug !== 0 && ns < MAX_NAMESPACES; ns++) {
    const version = u64(mem, rDebug);
    if (version === null || (version & 0xffffffff) < 1) break;
    let lm = u64(mem, rDebug + 8) ?? 0; // r_map
    let prev = 0;
    for (let n = 0; lm !== 0 && n < MAX_OBJECTS; n++) {
      const lAddr = u64(mem, lm), lName = u64(mem, lm + 8), lLd = u64(mem, lm + 16);
      const lNext = u64(mem, lm + 24), lPrev = u64(mem, lm + 32);
      if (lAddr === null || lName === null || lLd === null || lNext === null || lPrev === null) break;
      if (lPrev !== prev) break; // a corrupt or half-built chain: stop, as gdbserver does
      if (ns === 0 && prev === 0) doc += ` main-lm="${hex(lm)}"`;
      else {
        const name = lName ? cString(mem, lName) : '';
        if (name) libraries += `<library name="${escapeXml(name)}" lm="${hex(lm)}" l_addr="${hex(lAddr)}" l_ld="${hex(lLd)}" lmid="${hex(rDebug)}"/>`;
      }
      prev = lm;
      lm = lNext;
    }
    if ((version & 0xffffffff) < 2) break;
    rDebug = u64(mem, rDebug + 40) ?? 0; // r_next
  }
  return libraries ? `${doc}>${libraries}</library-list-svr4>` : `${doc}/>`;
}
