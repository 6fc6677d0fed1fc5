import { AddressSpace, STACK_TOP } from '../mem/address-space.js';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../mem/fault.js';
import {
  AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2,
  AT_MINSIGSTKSZ, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_RSEQ_ALIGN,
  AT_RSEQ_FEATURE_SIZE, AT_SECURE, AT_SYSINFO_EHDR, AT_UID, encodeAuxv, type AuxEntry, writeU64,
} from './auxv.js';
import { PHDR_SIZE } from './constants.js';
import { E2BIG, ElfError, ENOMEM, errnoText } from './elf-error.js';

/** Default stack reservation (RLIMIT_STACK); pages are only backed when touched. */
export const DEFAULT_STACK_SIZE = 8 * 2 ** 20;
/** MAX_ARG_STRLEN: one argument or environment string, NUL included. */
export const MAX_ARG_STRLEN = 32 * 4096;
/** Strings plus pointers may use a quarter of the stack rlimit (fs/exec.c). */
export const ARG_SPACE = DEFAULT_STACK_SIZE / 4;

/** The auxv values that are not pointers into the stack itself. */
export interface AuxValues {
  phdr: number;
  phnum: number;
  /** Interpreter load address, 0 without one. */
  base: number;
  /** The program's entry (not the interpreter's). */
  entry: number;
  hwcap: number;
  hwcap2: number;
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  secure: number;
  minSigStkSz: number;
  /** AT_SYSINFO_EHDR, only when a vDSO is mapped. */
  vdsoBase: number | null;
  /** AT_RSEQ_FEATURE_SIZE / AT_RSEQ_ALIGN, only when rseq(2) is offered. */
  rseq: { featureSize: number; align: number } | null;
}

export interface InitialStackOptions {
  argv: Uint8Array[];
  envp: Uint8Array[];
  /** The path given to execve, for AT_EXECFN. */
  execfn: Uint8Array;
  random16: Uint8Array;
  platform: string;
  aux: AuxValues;
  execStack: boolean;
  stackSize: number;
}

/** What the initial stack holds and where. */
export interface InitialStack {
  /** rsp at the first instruction: points at argc, 16-byte aligned. */
  rsp: number;
  /** The auxv as placed on the stack, AT_NULL included. */
  auxv: Uint8Array;
  /** The [stack] mapping. */
  stackStart: number;
  stackEnd: number;
  /** mm->arg_start/arg_end and env_start/env_end: the string areas (for /proc/PID/cmdline and environ). */
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  execfnAddr: number;
  randomAddr: number;
  platformAddr: number;
}

/** E2BIG checks of fs/exec.c, done before anything is mapped. */
export function checkArgSizes(argv: Uint8Array[], envp: Uint8Array[]): void {
  let total = (Math.max(argv.length, 1) + envp.length) * 8;
  for (const s of [...argv, ...envp]) {
    if (s.length + 1 > MAX_ARG_STRLEN) throw new ElfError(`argument or environment string too long: ${errnoText(E2BIG)}`, E2BIG);
    total += s.length + 1;
  }
  if (total > ARG_SPACE) throw new ElfError(`arguments and environment too large: ${errnoText(E2BIG)}`, E2BIG);
}

/**
 * Maps the stack VMA ending at STACK_TOP and fills it the way Linux's
 * copy_strings + create_elf_tables do (no randomisation). From the top down:
 *
 *   8 zero bytes | execfn | env strings | arg strings      (each string in argv order, NUL-terminated)
 *   align 16 | "x86_64\0" | 16 random bytes
 *   auxv (… AT_NULL) ← envp NULL ← envp[] ← argv NULL ← argv[] ← argc = rsp, rsp % 16 == 0
 *
 * rsp is rounded down to 16 after reserving argc + pointers + auxv, so any
 * padding sits between the auxv and the random bytes, exactly as in Linux.
 */
export function buildInitialStack(mem: AddressSpace, o: InitialStackOptions): InitialStack {
  const stackStart = STACK_TOP - o.stackSize;
  const prot = PROT_READ | PROT_WRITE | (o.execStack ? PROT_EXEC : 0);
  // Not MAP_FIXED: an image reaching into the stack area is an error, not something to overwrite.
  const r = mem.mmap(stackStart, o.stackSize, prot, { noReplace: true, name: '[stack]', growsDown: true });
  if (r !== stackStart) throw new ElfError(`cannot map the stack: ${errnoText(r < 0 ? -r : ENOMEM)}`, r < 0 ? -r : ENOMEM);
  let stack: InitialStack;
  try {
    stack = fillStack(mem, o, stackStart);
  } catch (e) {
    mem.munmap(stackStart, o.stackSize);
    throw e;
  }
  // Like setup_arg_pages: the VMA starts as the pages holding the strings plus
  // 128 KiB (and whatever the pointer table needed); the rest of the
  // reservation stays free for the stack to grow into on faults.
  const page = (x: number) => Math.floor(x / PAGE_SIZE) * PAGE_SIZE;
  const initialStart = Math.max(stackStart, Math.min(page(stack.argStart) - STACK_EXPAND, page(stack.rsp)));
  if (initialStart > stackStart) mem.munmap(stackStart, initialStart - stackStart);
  mem.stackLimit = o.stackSize;
  return { ...stack, stackStart: initialStart };
}

/** Linux's stack_expand in setup_arg_pages. */
const STACK_EXPAND = 128 * 1024;

function fillStack(mem: AddressSpace, o: InitialStackOptions, stackStart: number): InitialStack {

  // Strings, top-down (bprm->p starts one pointer below the top).
  let p = STACK_TOP - 8;
  const strings: { addr: number; bytes: Uint8Array }[] = [];
  const push = (bytes: Uint8Array) => {
    p -= bytes.length + 1;
    strings.push({ addr: p, bytes });
    return p;
  };
  const execfnAddr = push(o.execfn);
  const envEnd = execfnAddr;
  const envAddrs = o.envp.map((_, k) => o.envp[o.envp.length - 1 - k]).map(push).reverse();
  const envStart = p;
  const argAddrs = o.argv.map((_, k) => o.argv[o.argv.length - 1 - k]).map(push).reverse();
  const argStart = p;

  // create_elf_tables: align, platform string, random bytes.
  p -= p % 16;
  const platform = new TextEncoder().encode(o.platform);
  const platformAddr = push(platform);
  p -= 16;
  const randomAddr = p;

  const a = o.aux;
  const entries: AuxEntry[] = [];
  if (a.vdsoBase !== null) entries.push([AT_SYSINFO_EHDR, a.vdsoBase]);
  entries.push(
    [AT_MINSIGSTKSZ, a.minSigStkSz],
    [AT_HWCAP, a.hwcap],
    [AT_PAGESZ, 4096],
    [AT_CLKTCK, 100],
    [AT_PHDR, a.phdr],
    [AT_PHENT, PHDR_SIZE],
    [AT_PHNUM, a.phnum],
    [AT_BASE, a.base],
    [AT_FLAGS, 0],
    [AT_ENTRY, a.entry],
    [AT_UID, a.uid],
    [AT_EUID, a.euid],
    [AT_GID, a.gid],
    [AT_EGID, a.egid],
    [AT_SECURE, a.secure],
    [AT_RANDOM, randomAddr],
    [AT_HWCAP2, a.hwcap2],
    [AT_EXECFN, execfnAddr],
    [AT_PLATFORM, platformAddr],
  );
  if (a.rseq) entries.push([AT_RSEQ_FEATURE_SIZE, a.rseq.featureSize], [AT_RSEQ_ALIGN, a.rseq.align]);
  entries.push([AT_NULL, 0]);
  const auxv = encodeAuxv(entries);

  const argc = o.argv.length;
  const items = argc + 1 + (o.envp.length + 1) + 1;
  let sp = p - auxv.length - items * 8;
  sp -= sp % 16;
  if (sp < stackStart) throw new ElfError(`arguments do not fit the stack: ${errnoText(E2BIG)}`, E2BIG);

  // Lay the whole block [sp, STACK_TOP) out in one buffer and copy it in once.
  const block = new Uint8Array(STACK_TOP - sp);
  const view = new DataView(block.buffer);
  const at = (addr: number) => addr - sp;
  for (const s of strings) block.set(s.bytes, at(s.addr)); // the NUL is already there
  block.set(o.random16.subarray(0, 16), at(randomAddr));
  let w = 0;
  const word = (v: number) => {
    writeU64(view, w, v);
    w += 8;
  };
  word(argc);
  argAddrs.forEach(word);
  word(0);
  envAddrs.forEach(word);
  word(0);
  block.set(auxv, w);
  mem.writeBytes(sp, block);

  return {
    rsp: sp, auxv, stackStart, stackEnd: STACK_TOP,
    argStart, argEnd: envStart, envStart, envEnd, execfnAddr, randomAddr, platformAddr,
  };
}
