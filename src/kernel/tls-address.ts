/**
 * qGetTLSAddr: the address of a thread-local variable, computed the way
 * glibc's libthread_db does it for gdbserver (td_thr_tls_get_addr): the
 * module's TLS block is dtv[modid] of the thread, the dtv hangs off the
 * thread pointer (fs_base) at tcbhead_t.dtv. gdb names the module by its
 * link_map address; glibc numbers TLS modules in link-map order (the program
 * first), counting only objects with a PT_TLS segment, so the module id is
 * recomputed from the chain rather than read from glibc's private l_tls_modid.
 *
 * Only glibc's layout is understood (16-byte dtv entries, tcb and self
 * pointers equal to fs_base). Anything else, an lm of 0 (static musl, no link
 * map) or a block not allocated yet gives null: an error, as gdbserver's
 * reply is for a target libthread_db cannot handle.
 */
import { AT_PHDR, AT_PHNUM, decodeAuxv } from '../elf/auxv.js';
import type { PeekMemory } from './svr4-libraries.js';

const PT_TLS = 7, PHDR_SIZE = 56, MAX_OBJECTS = 4096;
/** TLS_DTV_UNALLOCATED: a dynamic TLS block this thread has not touched yet. */
const UNALLOCATED = 2 ** 64 - 1;

function u64(mem: PeekMemory, addr: number): number | null {
  const b = mem.peek(addr, 8);
  if (!b || b.length < 8) return null;
  const v = new DataView(b.buffer, b.byteOffset, 8);
  return v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
}

function u32(mem: PeekMemory, addr: number): number | null {
  const b = mem.peek(addr, 4);
  return b && b.length === 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : null;
}

/** Whether the program headers at phdr (phnum of them) include PT_TLS. */
function hasTls(mem: PeekMemory, phdr: number, phnum: number): boolean {
  for (let k = 0; k < phnum; k++) if (u32(mem, phdr + k * PHDR_SIZE) === PT_TLS) return true;
  return false;
}

/** Whether the object of link_map entry lm has a TLS segment (the head is the program: its headers are AT_PHDR). */
function objectHasTls(mem: PeekMemory, lm: number, isHead: boolean, aux: Map<number, number>): boolean {
  if (isHead) return hasTls(mem, aux.get(AT_PHDR) ?? 0, aux.get(AT_PHNUM) ?? 0);
  // A shared object is linked at 0: its ELF header is at l_addr.
  const base = u64(mem, lm);
  if (base === null) return false;
  const phoff = u64(mem, base + 32);
  const b = mem.peek(base + 56, 2);
  if (phoff === null || !b || b.length < 2) return false;
  return hasTls(mem, base + phoff, b[0] | (b[1] << 8));
}

/** glibc's module id of lm: its 1-based position among the link-map objects that have PT_TLS. */
function moduleId(mem: PeekMemory, lm: number, aux: Map<number, number>): number | null {
  let head = lm;
  for (let n = 0; n < MAX_OBJECTS; n++) {
    const prev = u64(mem, head + 32); // l_prev
    if (prev === null) return null;
    if (prev === 0) break;
    head = prev;
  }
  let id = 0;
  for (let e = head, n = 0; e !== 0 && n < MAX_OBJECTS; n++) {
    const tls = objectHasTls(mem, e, e === head, aux);
    if (tls) id++;
    if (e === lm) return tls ? id : null;
    const next = u64(mem, e + 24); // l_next
    if (next === null) return null;
    e = next;
  }
  return null;
}

/** The address of offset in lm's TLS block for the thread whose fs_base is tp, or null. */
export function tlsAddress(mem: PeekMemory, auxv: Uint8Array, tp: number, offset: number, lm: number): number | null {
  if (lm === 0 || tp === 0) return null;
  // glibc's tcbhead_t: tcb (itself), dtv, self (itself).
  if (u64(mem, tp) !== tp || u64(mem, tp + 16) !== tp) return null;
  const dtv = u64(mem, tp + 8);
  const id = moduleId(mem, lm, new Map(decodeAuxv(auxv)));
  if (!dtv || id === null) return null;
  const length = u64(mem, dtv - 16); // dtv[-1].counter: the number of slots
  if (length === null || id > length) return null;
  const block = u64(mem, dtv + 16 * id);
  if (block === null || block === 0 || block === UNALLOCATED) return null;
  return block + offset;
}
