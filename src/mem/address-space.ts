import { GuestFault, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from './fault.js';
import { PhysicalMemory } from './physical.js';

const ENOMEM = 12;
const EINVAL = 22;
const EEXIST = 17;

/** PTE bits above the permission bits (the frame offset is page aligned, so these fit below it). */
const PTE_CODE = 8; // the page holds translated code: writes must invalidate it
const PTE_WATCH = 16; // a watchpoint covers the page: every access takes the slow path
const PTE_FLAGS = 31;

/**
 * Software TLB: two-way set-associative, TLB_SETS sets on the low TLB_BITS
 * bits of the page number. A set is four int32s in one array, [tag, frame
 * offset] for way 0 then way 1, where the tag is the page number >> TLB_BITS
 * (< 2^24 for user pages, so -1 never matches). Keeping the probe in int32
 * arithmetic lets the translator inline it from the two halves of an address:
 * set = tlbIndex(lo) (tlbIndexSource), tag = tlbTagSource(lo, hi), valid only
 * when (hi >>> 15) === 0 (below 2^47).
 * - 4096 entries (16 MiB of pages): with 1024, sqlite3's heap left translated
 *   code for the interpreter 62k times a bench run on conflict misses.
 * - Two ways: without ASLR the stack's top pages (0x7ffffffxx000) and the
 *   first mappings below MMAP_BASE (0x7ffff7fxx000: ld.so's data, the first
 *   mmaps) have the same low page bits, and direct-mapped a function using both
 *   missed on every access (12k slow exits in the dynamic loader alone for
 *   sqlite3's `select 1`). Hashing the index only moved the conflicts elsewhere.
 * A fill goes to way 0 and moves what was there to way 1. The JavaScript fast
 * paths check way 0 only (a miss there refills it); translated WebAssembly
 * checks both.
 */
export const TLB_BITS = 11;
export const TLB_SETS = 1 << TLB_BITS;
/** Entries of one TLB (both ways). */
export const TLB_SIZE = 2 * TLB_SETS;
/** The tag is the address >> TLB_TAG_SHIFT. */
export const TLB_TAG_SHIFT = 12 + TLB_BITS;
/** The tag of the address (lo, hi) as JavaScript source, from the names of its int32 halves (for the translator). */
export function tlbTagSource(lo: string, hi: string): string {
  return `((${hi} << ${32 - TLB_TAG_SHIFT}) | (${lo} >>> ${TLB_TAG_SHIFT}))`;
}
/** Bytes of one TLB: TLB_SIZE [tag, frame offset] int32 pairs. */
export const TLB_BYTES = TLB_SIZE * 8;
/** Bytes of the engine's region chain cache, which follows the TLBs in the pool (see cpu/wasm/chain.ts). */
export const CHAIN_CACHE_BYTES = 131072;
const TLB_SET_MASK = TLB_SETS - 1;
/** Addresses per tag value. */
const TLB_TAG_UNIT = 2 ** TLB_TAG_SHIFT;
/** Mask of a set's first int32 (set * 4) computed from an address's low half. */
export const TLB_INDEX_MASK = (TLB_SETS - 1) * 4;
/** The int32 index of the set (its way 0) of the address whose low half is the int32 lo. */
export function tlbIndex(lo: number): number {
  return (lo >>> 10) & TLB_INDEX_MASK;
}
/** tlbIndex as JavaScript source, from the name of the address's low int32 half (for the translator). */
export function tlbIndexSource(lo: string): string {
  return `((${lo} >>> 10) & ${TLB_INDEX_MASK})`;
}

/** Puts page tag's frame offset in way 0 of set k (int32 index), the entry there moving to way 1. */
function tlbFill(T: Int32Array, k: number, tag: number, off: number): void {
  // (A copy of the page in way 1 is overwritten: one entry per page.)
  if (T[k] !== tag) {
    T[k + 2] = T[k];
    T[k + 3] = T[k + 1];
  }
  T[k] = tag;
  T[k + 1] = off;
}

/** Linux x86-64 without ASLR. */
export const STACK_TOP = 0x7ffffffff000;
export const MMAP_BASE = 0x7ffff7fff000;
export const PIE_BASE = 0x555555554000;
/** Highest user address + 1 (47-bit canonical user half). */
export const USER_END = 0x800000000000;

/** A mapping, as /proc/PID/maps shows it. */
export interface Vma {
  start: number;
  end: number;
  prot: number;
  shared: boolean;
  /** Path of a file mapping, or "[heap]", "[stack]", "" for anonymous. */
  name: string;
  offset: number;
  inode: number;
  dev: string;
  /** The stack (VM_GROWSDOWN): a fault just below it extends it, up to stackLimit. */
  growsDown?: boolean;
  /**
   * A private mapping's initial contents, copied into each page when it is first
   * touched (populate): programs touch a fraction of what they map (busybox
   * 2 MB, sqlite3's libraries several), and a first touch of pool memory is a host
   * page fault. base is the address of data[0]; bytes past data are zero.
   */
  init?: { data: Uint8Array; base: number };
}

/** A PMD-sized (transparent huge) page. */
const HUGE_PAGE = 2 * 1024 * 1024;

export interface MmapOptions {
  /** MAP_FIXED: replace whatever is there. */
  fixed?: boolean;
  /** MAP_FIXED_NOREPLACE: fail with EEXIST when the range is in use. */
  noReplace?: boolean;
  shared?: boolean;
  name?: string;
  offset?: number;
  inode?: number;
  dev?: string;
  /** Initial contents (file mappings); copied in at map time. */
  data?: Uint8Array;
  /** A stack that grows down on faults below it (the initial [stack]). */
  growsDown?: boolean;
  /**
   * A private anonymous mmap(2): without a usable hint, a length that is a multiple of 2 MiB gets a
   * 2 MiB-aligned address, as Linux (6.7+, THP) places it.
   */
  anonymous?: boolean;
}

/** Linux's stack_guard_gap: a growing stack keeps 256 pages from the mapping below it. */
const STACK_GUARD_GAP = 256 * PAGE_SIZE;

/**
 * One guest address space: mappings (VMAs) with permissions, a page table
 * from guest page to frame in PhysicalMemory, and a software TLB for the fast
 * path. Addresses are JavaScript numbers: user addresses are below 2^47, so
 * they are exact.
 *
 * Faults are thrown as GuestFault. The debugger uses peek/poke, which ignore
 * page permissions the way ptrace does.
 */
export class AddressSpace {
  readonly view: DataView;
  readonly bytes: Uint8Array;
  /** High 32 bits of the last read64(). */
  hi = 0;

  private readonly ptes = new Map<number, number>();
  private vmas: Vma[] = [];
  /** Read TLB: [tag, frame offset] pairs (see TLB_SIZE). Read by translated code; never replaced. */
  readonly tlbR: Int32Array;
  /** Write TLB: pages that are writable, hold no translated code and are not watched. */
  readonly tlbW: Int32Array;
  /** Byte offset of tlbR in the pool, tlbW following it (TLB_BYTES later); -1 when they are not in the pool. */
  readonly tlbOffset: number;
  /** Byte offset of the region chain cache in the pool (after the TLBs), or -1. */
  readonly chainOffset: number;
  private tlbReleased = false;

  brkStart = 0;
  brkEnd = 0;
  mmapBase = MMAP_BASE;
  /** Called when a write hits a page that holds translated code (page number). */
  onCodeWrite: ((vpn: number) => void) | null = null;
  /** Called for every access to a watched page: (addr, len, isWrite). */
  onWatchedAccess: ((addr: number, len: number, write: boolean) => void) | null = null;
  private watched = new Set<number>();

  constructor(readonly phys: PhysicalMemory) {
    this.view = phys.view;
    this.bytes = phys.bytes;
    // In a WebAssembly pool the TLBs live in it too, where translated WebAssembly code probes them.
    const off = phys.memory !== null ? phys.allocTlbBlock((2 * TLB_BYTES + CHAIN_CACHE_BYTES) / PAGE_SIZE) : -1;
    this.tlbOffset = off;
    this.chainOffset = off >= 0 ? off + 2 * TLB_BYTES : -1;
    if (off >= 0) new Int32Array(phys.buffer, this.chainOffset, CHAIN_CACHE_BYTES / 4).fill(-1); // a reused block may hold an old engine's entries
    this.tlbR = (off >= 0 ? new Int32Array(phys.buffer, off, 2 * TLB_SIZE) : new Int32Array(2 * TLB_SIZE)).fill(-1);
    this.tlbW = (off >= 0 ? new Int32Array(phys.buffer, off + TLB_BYTES, 2 * TLB_SIZE) : new Int32Array(2 * TLB_SIZE)).fill(-1);
  }

  // ---------------------------------------------------------------- fast path
  //
  // Addresses outside [0, USER_END) always miss and fault on the slow path,
  // so inside the probe lo = a | 0 and the tag a / TLB_TAG_UNIT are exact.

  read8(a: number): number {
    const lo = a | 0, t = tlbIndex(lo), T = this.tlbR;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0)) return this.bytes[T[t + 1] + (lo & 4095)];
    return this.bytes[this.slowOff(a, 1, false)];
  }
  read16(a: number): number {
    const lo = a | 0, t = tlbIndex(lo), T = this.tlbR;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0) && (lo & 4095) <= PAGE_SIZE - 2) return this.view.getUint16(T[t + 1] + (lo & 4095), true);
    return this.readSlow(a, 2);
  }
  read32(a: number): number {
    const lo = a | 0, t = tlbIndex(lo), T = this.tlbR;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0) && (lo & 4095) <= PAGE_SIZE - 4) return this.view.getInt32(T[t + 1] + (lo & 4095), true);
    return this.readSlow(a, 4) | 0;
  }
  /** Returns the low 32 bits (signed); the high 32 bits are left in this.hi. */
  read64(a: number): number {
    const lo = a | 0, t = tlbIndex(lo), T = this.tlbR;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0) && (lo & 4095) <= PAGE_SIZE - 8) {
      const o = T[t + 1] + (lo & 4095);
      this.hi = this.view.getInt32(o + 4, true);
      return this.view.getInt32(o, true);
    }
    const l = this.readSlow(a, 4) | 0;
    this.hi = this.readSlow(a + 4, 4) | 0;
    return l;
  }
  write8(a: number, v: number): void {
    const lo = a | 0, t = tlbIndex(lo), T = this.tlbW;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0)) {
      this.bytes[T[t + 1] + (lo & 4095)] = v;
      return;
    }
    this.bytes[this.slowOff(a, 1, true)] = v;
  }
  write16(a: number, v: number): void {
    const lo = a | 0, t = tlbIndex(lo), T = this.tlbW;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0) && (lo & 4095) <= PAGE_SIZE - 2) {
      this.view.setUint16(T[t + 1] + (lo & 4095), v, true);
      return;
    }
    this.writeSlow(a, 2, v);
  }
  write32(a: number, v: number): void {
    const lo = a | 0, t = tlbIndex(lo), T = this.tlbW;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0) && (lo & 4095) <= PAGE_SIZE - 4) {
      this.view.setInt32(T[t + 1] + (lo & 4095), v, true);
      return;
    }
    this.writeSlow(a, 4, v);
  }
  write64(a: number, lo: number, hi: number): void {
    const al = a | 0, t = tlbIndex(al), T = this.tlbW;
    if (a >= 0 && a < USER_END && T[t] === ((a / TLB_TAG_UNIT) | 0) && (al & 4095) <= PAGE_SIZE - 8) {
      const o = T[t + 1] + (al & 4095);
      this.view.setInt32(o, lo, true);
      this.view.setInt32(o + 4, hi, true);
      return;
    }
    // Check both halves before writing either, so a fault leaves memory untouched.
    this.slowOff(a, 1, true);
    this.slowOff(a + 7, 1, true);
    this.writeSlow(a, 4, lo);
    this.writeSlow(a + 4, 4, hi);
  }

  // ---------------------------------------------------------------- slow path

  private readSlow(a: number, n: number): number {
    // Translate from the lowest byte up: a fault reports the first inaccessible byte, as the CPU's cr2 does.
    const offs = this.readOffs;
    for (let j = 0; j < n; j++) offs[j] = this.slowOff(a + j, 1, false);
    let v = 0;
    for (let j = n - 1; j >= 0; j--) v = v * 256 + this.bytes[offs[j]];
    return v;
  }
  private readonly readOffs = [0, 0, 0, 0, 0, 0, 0, 0];
  private writeSlow(a: number, n: number, v: number): void {
    // Translate every byte first: a fault must not leave a partial write.
    const offs = [];
    for (let j = 0; j < n; j++) offs.push(this.slowOff(a + j, 1, true));
    for (let j = 0; j < n; j++) this.bytes[offs[j]] = (v >>> (8 * j)) & 0xff;
  }

  /** Translates one access that missed the TLB; fills the TLB when the page allows it. */
  private slowOff(a: number, len: number, write: boolean): number {
    const vpn = Math.floor(a / PAGE_SIZE);
    let pte = this.ptes.get(vpn);
    if (pte === undefined) pte = this.populate(vpn, a, write ? 'write' : 'read');
    const need = write ? PROT_WRITE : PROT_READ;
    if ((pte & need) === 0) throw new GuestFault(a, 'protection', write ? 'write' : 'read');
    if (pte & PTE_WATCH && this.onWatchedAccess) this.onWatchedAccess(a, len, write);
    if (write && pte & PTE_CODE) {
      pte &= ~PTE_CODE;
      this.ptes.set(vpn, pte);
      this.onCodeWrite?.(vpn);
    }
    const off = pte - (pte & PTE_FLAGS);
    if (!(pte & PTE_WATCH)) {
      const k = 4 * (vpn & TLB_SET_MASK), tag = Math.floor(vpn / TLB_SETS);
      tlbFill(this.tlbR, k, tag, off);
      if (pte & PROT_WRITE && !(pte & PTE_CODE)) tlbFill(this.tlbW, k, tag, off);
    }
    return off + (a - vpn * PAGE_SIZE);
  }

  /** First touch of a page inside a VMA: give it a zeroed frame. */
  private populate(vpn: number, a: number, access: 'read' | 'write' | 'exec'): number {
    const vma = this.findVma(a) ?? this.growStack(a);
    if (!vma) throw new GuestFault(a, 'unmapped', access);
    const off = this.phys.alloc();
    if (off < 0) throw new GuestFault(a, 'unmapped', access); // out of guest memory: SIGSEGV, as an OOM'd page fault would be SIGBUS/kill
    const pte = off | vma.prot | (this.watched.has(vpn) ? PTE_WATCH : 0);
    this.ptes.set(vpn, pte);
    if (vma.init !== undefined) {
      const { data, base } = vma.init;
      const from = vpn * PAGE_SIZE - base;
      if (from < data.length) this.bytes.set(data.subarray(from, Math.min(from + PAGE_SIZE, data.length)), off);
    }
    return pte;
  }

  /** RLIMIT_STACK: how far the stack may grow (its VMA's total size). */
  stackLimit = 8 * 2 ** 20;

  /**
   * A user fault below a grows-down VMA extends it (expand_stack), as long as
   * the stack stays within stackLimit and a guard gap above the mapping below.
   */
  private growStack(a: number): Vma | undefined {
    const k = this.vmas.findIndex((v) => v.start > a);
    const v = this.vmas[k];
    if (!v || !v.growsDown) return undefined;
    const start = Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
    if (v.end - start > this.stackLimit) return undefined;
    const below = this.vmas[k - 1];
    if (below && !below.growsDown && below.end + STACK_GUARD_GAP > start) return undefined;
    v.start = start;
    return v;
  }

  /** Instruction fetch: requires PROT_EXEC and marks the page as holding code. */
  fetch8(a: number): number {
    const vpn = Math.floor(a / PAGE_SIZE);
    let pte = this.ptes.get(vpn);
    if (pte === undefined) pte = this.populate(vpn, a, 'exec');
    if (!(pte & PROT_EXEC)) throw new GuestFault(a, 'protection', 'exec');
    if (!(pte & PTE_CODE)) {
      this.ptes.set(vpn, pte | PTE_CODE);
      const k = 4 * (vpn & TLB_SET_MASK), tag = Math.floor(vpn / TLB_SETS);
      if (this.tlbW[k] === tag) this.tlbW[k] = -1;
      if (this.tlbW[k + 2] === tag) this.tlbW[k + 2] = -1;
    }
    return this.bytes[pte - (pte & PTE_FLAGS) + (a - vpn * PAGE_SIZE)];
  }

  /** Whether an instruction can be fetched at a (mapped and executable). */
  isExecutable(a: number): boolean {
    const v = this.findVma(a);
    return !!v && (v.prot & PROT_EXEC) !== 0;
  }

  flushTlb(): void {
    this.tlbR.fill(-1);
    this.tlbW.fill(-1);
  }

  // ---------------------------------------------------------------- bulk access

  /** Copies guest memory out (permission-checked). Throws GuestFault. */
  readBytes(a: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const off = this.slowOff(a + done, 1, false);
      const n = Math.min(len - done, PAGE_SIZE - ((a + done) % PAGE_SIZE));
      out.set(this.bytes.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /** Copies data into guest memory (permission-checked). Throws GuestFault before writing anything. */
  writeBytes(a: number, data: Uint8Array): void {
    const offs: number[] = [];
    for (let done = 0; done < data.length; ) {
      offs.push(this.slowOff(a + done, 1, true));
      done += Math.min(data.length - done, PAGE_SIZE - ((a + done) % PAGE_SIZE));
    }
    let done = 0;
    for (const off of offs) {
      const n = Math.min(data.length - done, PAGE_SIZE - ((a + done) % PAGE_SIZE));
      this.bytes.set(data.subarray(done, done + n), off);
      done += n;
    }
  }

  /** Fills guest memory with a byte value (rep stosb fast path). */
  fill(a: number, len: number, v: number): void {
    let done = 0;
    while (done < len) {
      const off = this.slowOff(a + done, 1, true);
      const n = Math.min(len - done, PAGE_SIZE - ((a + done) % PAGE_SIZE));
      this.phys.fill(off, n, v);
      done += n;
    }
  }

  /**
   * Copies len bytes from src to dst within guest memory (rep movs fast path).
   * Copies forward page chunk by page chunk; callers avoid overlapping ranges
   * where forward byte order matters. Returns bytes copied before a fault, or
   * throws if the first byte faults. onChunk reports progress for register updates.
   */
  copy(dst: number, src: number, len: number): void {
    let done = 0;
    while (done < len) {
      const s = src + done, d = dst + done;
      const n = Math.min(len - done, PAGE_SIZE - (s % PAGE_SIZE), PAGE_SIZE - (d % PAGE_SIZE));
      const so = this.slowOff(s, n, false);
      const doff = this.slowOff(d, n, true);
      this.phys.copy(doff, so, n);
      done += n;
    }
  }

  /**
   * rep movs over many pages at once: copies the longest prefix of the two
   * ranges (a multiple of unit, at most len bytes) whose pages are present,
   * accessible without side effects (readable / writable without translated
   * code, not watched) and consecutive in the frame pool on both sides, with
   * one copy. Returns the bytes copied; 0 leaves the range to copy(),
   * page chunk by page chunk, which populates pages and raises faults. Frames
   * are handed out in order, so a buffer first touched front to back is
   * usually one run (memcpy of 1 MB: one copy instead of 512).
   */
  copyRun(dst: number, src: number, len: number, unit: number): number {
    const so = this.peekOff(src, false), doff = this.peekOff(dst, true);
    if (so < 0 || doff < 0) return 0;
    const n = Math.min(this.contiguous(src, so, len, false), this.contiguous(dst, doff, len, true));
    const bytes = n - (n % unit);
    if (bytes > 0) this.phys.copy(doff, so, bytes);
    return bytes;
  }

  /** Bytes from a, whose host offset is first (at most len), in consecutive frames that peekOff allows. */
  private contiguous(a: number, first: number, len: number, write: boolean): number {
    let n = Math.min(len, PAGE_SIZE - (a % PAGE_SIZE));
    while (n < len && this.peekOff(a + n, write) === first + n) n = Math.min(len, n + PAGE_SIZE);
    return n;
  }

  /** The host offset of a, or -1 unless its page is present and the access needs no slow path (no fault, watchpoint or code). */
  private peekOff(a: number, write: boolean): number {
    const vpn = Math.floor(a / PAGE_SIZE);
    const pte = this.ptes.get(vpn);
    if (pte === undefined || pte & PTE_WATCH || (pte & (write ? PROT_WRITE : PROT_READ)) === 0 || (write && pte & PTE_CODE)) return -1;
    return pte - (pte & PTE_FLAGS) + (a - vpn * PAGE_SIZE);
  }

  /** Reads a NUL-terminated string (at most max bytes). Returns null when not terminated within max. */
  readCString(a: number, max = 4096): Uint8Array | null {
    const chunks: number[] = [];
    for (let j = 0; j < max; j++) {
      const b = this.read8(a + j);
      if (b === 0) return Uint8Array.from(chunks);
      chunks.push(b);
    }
    return null;
  }

  /** Debugger read: ignores PROT_READ (like ptrace) but not unmapped memory. Returns null when unmapped. */
  peek(a: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let j = 0; j < len; j++) {
      const off = this.debugOff(a + j);
      if (off < 0) return j === 0 ? null : out.subarray(0, j);
      out[j] = this.bytes[off];
    }
    return out;
  }

  /** Debugger write: ignores PROT_WRITE (like ptrace). Returns false (and writes nothing) if any byte is unmapped. */
  poke(a: number, data: Uint8Array): boolean {
    const offs: number[] = [];
    for (let j = 0; j < data.length; j++) {
      const off = this.debugOff(a + j);
      if (off < 0) return false;
      offs.push(off);
    }
    for (let j = 0; j < data.length; j++) this.bytes[offs[j]] = data[j];
    const first = Math.floor(a / PAGE_SIZE);
    const last = Math.floor((a + data.length - 1) / PAGE_SIZE);
    for (let vpn = first; vpn <= last; vpn++) {
      const pte = this.ptes.get(vpn)!;
      if (pte & PTE_CODE) {
        this.ptes.set(vpn, pte & ~PTE_CODE);
        this.onCodeWrite?.(vpn);
      }
    }
    this.flushTlb();
    return true;
  }

  /** Copies initial contents into freshly mapped pages, a page at a time. */
  private fillPages(addr: number, data: Uint8Array): void {
    for (let done = 0; done < data.length; done += PAGE_SIZE) {
      const off = this.debugOff(addr + done);
      if (off < 0) return;
      this.bytes.set(data.subarray(done, Math.min(done + PAGE_SIZE, data.length)), off);
    }
  }

  private debugOff(a: number): number {
    if (!(a >= 0 && a < USER_END)) return -1;
    const vpn = Math.floor(a / PAGE_SIZE);
    let pte = this.ptes.get(vpn);
    if (pte === undefined) {
      if (!this.findVma(a)) return -1;
      pte = this.populate(vpn, a, 'read');
    }
    return pte - (pte & PTE_FLAGS) + (a - vpn * PAGE_SIZE);
  }

  // ---------------------------------------------------------------- mappings

  findVma(a: number): Vma | undefined {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a < v[mid].start) hi = mid - 1;
      else if (a >= v[mid].end) lo = mid + 1;
      else return v[mid];
    }
    return undefined;
  }

  get mappings(): readonly Vma[] {
    return this.vmas;
  }

  /** Whether [start, end) overlaps any mapping. */
  private overlaps(start: number, end: number): boolean {
    return this.vmas.some((m) => m.start < end && m.end > start);
  }

  /** Top-down search for a free range of len bytes below mmapBase (like Linux's default layout). */
  findFree(len: number): number {
    let top = this.mmapBase;
    for (let j = this.vmas.length - 1; j >= 0; j--) {
      const m = this.vmas[j];
      if (m.start >= top) continue;
      if (m.end <= top - len) return top - len;
      top = Math.min(top, m.start);
    }
    return top - len >= PAGE_SIZE * 16 ? top - len : -ENOMEM;
  }

  /**
   * Linux's __thp_get_unmapped_area for an anonymous mapping (top-down): search for len + 2 MiB, then move up
   * to the next 2 MiB boundary (a full 2 MiB when already aligned). 0 when the padded length does not fit
   * (Linux then retries unpadded).
   */
  private findFreeAligned(len: number): number {
    const ret = this.findFree(len + HUGE_PAGE);
    if (ret < 0) return 0;
    const sub = (HUGE_PAGE - (ret % HUGE_PAGE)) % HUGE_PAGE;
    return sub === 0 ? ret + HUGE_PAGE : ret + sub;
  }

  /**
   * Maps [addr, addr+len) with prot. Returns the address or a negative errno.
   * addr is a hint unless opts.fixed / opts.noReplace.
   */
  mmap(addr: number, len: number, prot: number, opts: MmapOptions = {}): number {
    if (len <= 0 || addr % PAGE_SIZE !== 0) return -EINVAL;
    len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    if (opts.fixed || opts.noReplace) {
      if (addr + len > USER_END || addr < 0) return -ENOMEM;
      if (opts.noReplace && this.overlaps(addr, addr + len)) return -EEXIST;
    } else if (addr === 0 || addr + len > USER_END || this.overlaps(addr, addr + len) || addr < 0x10000) {
      addr = (opts.anonymous && len % HUGE_PAGE === 0 && this.findFreeAligned(len)) || this.findFree(len);
      if (addr < 0) return addr;
    }
    if (this.phys.framesInUse + len / PAGE_SIZE > this.phys.capacity / PAGE_SIZE && opts.data) return -ENOMEM;
    this.unmapRange(addr, addr + len);
    const vma: Vma = {
      start: addr,
      end: addr + len,
      prot: prot & 7,
      shared: !!opts.shared,
      name: opts.name ?? '',
      offset: opts.offset ?? 0,
      inode: opts.inode ?? 0,
      dev: opts.dev ?? '00:00',
    };
    if (opts.growsDown) vma.growsDown = true;
    // Shared mappings are written back to their file from their frames (kernel writeBack): filled now.
    const data = opts.data?.length ? opts.data.subarray(0, len) : undefined;
    if (data && !vma.shared) vma.init = { data, base: addr };
    this.insertVma(vma);
    if (data && vma.shared) this.fillPages(addr, data);
    this.flushTlb();
    return addr;
  }

  munmap(addr: number, len: number): number {
    if (addr % PAGE_SIZE !== 0 || len <= 0) return -EINVAL;
    len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    this.unmapRange(addr, addr + len);
    this.flushTlb();
    return 0;
  }

  mprotect(addr: number, len: number, prot: number): number {
    if (addr % PAGE_SIZE !== 0) return -EINVAL;
    len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    const end = addr + len;
    // Linux: ENOMEM when part of the range is unmapped.
    for (let a = addr; a < end; ) {
      const v = this.findVma(a);
      if (!v) return -ENOMEM;
      a = v.end;
    }
    this.splitAt(addr);
    this.splitAt(end);
    for (const v of this.vmas) if (v.start >= addr && v.end <= end) v.prot = prot & 7;
    for (const [vpn, pte] of this.ptes) {
      const a = vpn * PAGE_SIZE;
      if (a >= addr && a < end) this.ptes.set(vpn, (pte & ~7) | (prot & 7));
    }
    this.mergeVmas();
    this.flushTlb();
    return 0;
  }

  /** Sets the program break. Returns the new break (unchanged on failure), like the kernel. */
  brk(newEnd: number): number {
    if (newEnd < this.brkStart) return this.brkEnd;
    const oldTop = Math.ceil(this.brkEnd / PAGE_SIZE) * PAGE_SIZE;
    const newTop = Math.ceil(newEnd / PAGE_SIZE) * PAGE_SIZE;
    if (newTop > oldTop) {
      if (this.overlaps(oldTop, newTop)) return this.brkEnd;
      const heap = this.vmas.find((v) => v.name === '[heap]');
      if (heap && heap.end === oldTop) heap.end = newTop;
      else this.insertVma({ start: oldTop, end: newTop, prot: PROT_READ | PROT_WRITE, shared: false, name: '[heap]', offset: 0, inode: 0, dev: '00:00' });
    } else if (newTop < oldTop) {
      this.unmapRange(newTop, oldTop);
    }
    this.brkEnd = newEnd;
    this.flushTlb();
    return newEnd;
  }

  /** mremap: grow or shrink a mapping, moving it if allowed. */
  mremap(old: number, oldLen: number, newLen: number, mayMove: boolean): number {
    oldLen = Math.ceil(oldLen / PAGE_SIZE) * PAGE_SIZE;
    newLen = Math.ceil(newLen / PAGE_SIZE) * PAGE_SIZE;
    const vma = this.findVma(old);
    if (!vma || old % PAGE_SIZE !== 0 || newLen === 0) return -EINVAL;
    if (newLen <= oldLen) {
      if (newLen < oldLen) this.munmap(old + newLen, oldLen - newLen);
      return old;
    }
    if (vma.end === old + oldLen && !this.overlaps(old + oldLen, old + newLen)) {
      this.splitAt(old);
      const v = this.findVma(old)!;
      v.end = old + newLen;
      this.mergeVmas();
      this.flushTlb();
      return old;
    }
    if (!mayMove) return -ENOMEM;
    const dest = this.findFree(newLen);
    if (dest < 0) return dest;
    this.splitAt(old);
    this.splitAt(old + oldLen);
    const src = this.findVma(old)!;
    const init = src.init && { data: src.init.data, base: src.init.base + (dest - old) };
    this.insertVma({ ...src, start: dest, end: dest + newLen, init });
    // Move the frames rather than copying the bytes.
    for (let a = 0; a < oldLen; a += PAGE_SIZE) {
      const vpn = (old + a) / PAGE_SIZE;
      const pte = this.ptes.get(vpn);
      if (pte !== undefined) {
        this.ptes.delete(vpn);
        this.ptes.set((dest + a) / PAGE_SIZE, pte & ~PTE_CODE);
      }
    }
    this.vmas = this.vmas.filter((v) => v !== src);
    this.flushTlb();
    return dest;
  }

  private insertVma(v: Vma): void {
    this.vmas.push(v);
    this.vmas.sort((x, y) => x.start - y.start);
    this.mergeVmas();
  }

  /** Merges adjacent anonymous mappings with equal attributes (as Linux does for /proc/maps). */
  private mergeVmas(): void {
    const out: Vma[] = [];
    for (const v of this.vmas) {
      const p = out[out.length - 1];
      // Only anonymous mappings merge; file mappings keep their own lines (offsets differ).
      const anon = v.inode === 0 && (v.name === '' || v.name === '[heap]' || v.name === '[stack]');
      if (p && anon && !v.init && !p.init && p.end === v.start && p.prot === v.prot && p.shared === v.shared && p.name === v.name && p.inode === 0) {
        p.end = v.end;
      } else out.push(v);
    }
    this.vmas = out;
  }

  /** Splits the VMA containing a so that a is a boundary. */
  private splitAt(a: number): void {
    const v = this.findVma(a);
    if (!v || v.start === a) return;
    // Anonymous mappings ([stack], [heap], plain anon) show offset 0 however they are split.
    const anonymous = v.inode === 0 && (v.name === '' || v.name.startsWith('['));
    const tail: Vma = { ...v, start: a, offset: anonymous ? v.offset : v.offset + (a - v.start) };
    v.end = a;
    this.vmas.splice(this.vmas.indexOf(v) + 1, 0, tail);
  }

  private unmapRange(start: number, end: number): void {
    if (!this.overlaps(start, end)) return;
    this.splitAt(start);
    this.splitAt(end);
    this.vmas = this.vmas.filter((v) => v.end <= start || v.start >= end);
    const first = Math.floor(start / PAGE_SIZE), last = Math.ceil(end / PAGE_SIZE);
    // Whichever is shorter: the range's pages, or every present page (a large reservation, mostly untouched).
    if (last - first <= this.ptes.size) {
      for (let vpn = first; vpn < last; vpn++) this.dropPage(vpn);
    } else {
      for (const vpn of this.ptes.keys()) if (vpn >= first && vpn < last) this.dropPage(vpn);
    }
  }

  /** Unmaps page vpn if present, giving back its frame. */
  private dropPage(vpn: number): void {
    const pte = this.ptes.get(vpn);
    if (pte === undefined) return;
    if (pte & PTE_CODE) this.onCodeWrite?.(vpn);
    this.ptes.delete(vpn);
    this.phys.release(pte - (pte & PTE_FLAGS));
  }

  // ---------------------------------------------------------------- watchpoints

  /** Routes every access to the pages of [addr, addr+len) through onWatchedAccess. */
  setWatchedPages(pages: Iterable<number>): void {
    for (const vpn of this.watched) {
      const pte = this.ptes.get(vpn);
      if (pte !== undefined) this.ptes.set(vpn, pte & ~PTE_WATCH);
    }
    this.watched = new Set(pages);
    for (const vpn of this.watched) {
      const pte = this.ptes.get(vpn);
      if (pte !== undefined) this.ptes.set(vpn, pte | PTE_WATCH);
    }
    this.flushTlb();
  }

  // ---------------------------------------------------------------- process

  /** A copy of this address space for fork (pages copied eagerly). */
  clone(): AddressSpace {
    const c = new AddressSpace(this.phys);
    c.vmas = this.vmas.map((v) => ({ ...v }));
    c.brkStart = this.brkStart;
    c.brkEnd = this.brkEnd;
    c.mmapBase = this.mmapBase;
    c.stackLimit = this.stackLimit;
    for (const [vpn, pte] of this.ptes) {
      const off = this.phys.alloc();
      if (off < 0) {
        c.destroy(); // give back the frames copied so far
        throw new RangeError('guest memory exhausted during fork');
      }
      const src = pte - (pte & PTE_FLAGS);
      this.phys.copy(off, src, PAGE_SIZE);
      c.ptes.set(vpn, off | (pte & 7));
    }
    return c;
  }

  /** Releases every frame (process exit or execve). */
  destroy(): void {
    for (const pte of this.ptes.values()) this.phys.release(pte - (pte & PTE_FLAGS));
    this.ptes.clear();
    this.vmas = [];
    this.flushTlb();
    if (this.tlbOffset >= 0 && !this.tlbReleased) this.phys.releaseTlbBlock(this.tlbOffset);
    this.tlbReleased = true;
  }

  /** /proc/PID/maps text. */
  formatMaps(): string {
    const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
    return this.vmas
      .map((v) => {
        const perms = (v.prot & PROT_READ ? 'r' : '-') + (v.prot & PROT_WRITE ? 'w' : '-') + (v.prot & PROT_EXEC ? 'x' : '-') + (v.shared ? 's' : 'p');
        const head = `${hex(v.start, 8)}-${hex(v.end, 8)} ${perms} ${hex(v.offset, 8)} ${v.dev} ${v.inode}`;
        return v.name ? `${head.padEnd(73)}${v.name}\n` : `${head} \n`;
      })
      .join('');
  }

  /** Bytes of guest memory actually backed by frames. */
  get residentBytes(): number {
    return this.ptes.size * PAGE_SIZE;
  }
}
