import type { AddressSpace } from '../mem/address-space.js';
import { GuestFault } from '../mem/fault.js';
import { ElfError, EIO, ENOENT, ENOMEM, errnoText, NODE_CODE_ERRNO, printable } from './elf-error.js';
import { chooseLoadBias, initialBrk, mapImage, type MappedFile, type MappedRange } from './load.js';
import { interpError, parseElf, type ElfFile } from './parse.js';
import { buildInitialStack, checkArgSizes, DEFAULT_STACK_SIZE } from './stack.js';
import { mapVdso, type VdsoOptions } from './vdso.js';

export { ElfError } from './elf-error.js';
export { parseElf, type ElfFile, type ProgramHeader } from './parse.js';
export { decodeAuxv, encodeAuxv, AUXV_NAMES } from './auxv.js';
export type { MappedFile } from './load.js';
export { vdsoLayoutFromMaps, type VdsoOptions, type VdsoPart } from './vdso.js';
export { readSymbols, type ElfSymbol } from './symbols.js';
export { parseShebang, scriptArgv, MAX_SCRIPT_DEPTH, type Shebang } from './shebang.js';

/** A string from the command line / execve, or raw bytes (file names need not be UTF-8). */
export type ArgString = string | Uint8Array;

/** What readInterp may return: the bytes, or the bytes with how /proc/PID/maps should name them. */
export type InterpFile = Uint8Array | ({ image: Uint8Array } & Partial<MappedFile>);

export interface LoadOptions {
  /** A fresh AddressSpace (execve: the new one). On failure, whatever was mapped is unmapped again. */
  mem: AddressSpace;
  image: Uint8Array;
  /** The guest path as given to execve: AT_EXECFN, and the maps name unless `file.name` says otherwise. */
  path: string;
  argv: ArgString[];
  envp: ArgString[];
  random16: Uint8Array;
  /** CPUID.1:EDX, as the emulated CPU reports it. */
  hwcap: number;
  /** Bit 1 (HWCAP2_FSGSBASE) when rdfsbase & co. work. */
  hwcap2: number;
  uid: number;
  gid: number;
  euid?: number;
  egid?: number;
  /**
   * Reads the PT_INTERP file (guest path). May return null or throw a Node fs error
   * (code ENOENT, EACCES, …) or an ElfError when it cannot.
   */
  readInterp: (guestPath: string) => InterpFile | null;
  /** The program's maps name/inode/dev (name defaults to path). */
  file?: Partial<MappedFile>;
  /** AT_MINSIGSTKSZ: the signal frame size the kernel will use. Default 2048 (the classic MINSIGSTKSZ). */
  minSigStkSz?: number;
  /**
   * The host's [vvar]…[vdso] block, mapped right after the interpreter as Linux does, so that
   * later mmaps land where they do natively. AT_SYSINFO_EHDR is given only with a vDSO image
   * (default: no block, no vDSO — glibc then makes real syscalls).
   */
  vdso?: VdsoOptions | null;
  /** AT_RSEQ_FEATURE_SIZE / AT_RSEQ_ALIGN (default: not offered, like kernels before 6.3). */
  rseq?: { featureSize: number; align: number } | null;
  /** Stack reservation below 0x7ffffffff000 (default 8 MiB). */
  stackSize?: number;
}

export interface LoadedProgram {
  /** Where execution starts: the interpreter's entry if there is one, else the program's. */
  entry: number;
  /** The program's own entry (AT_ENTRY). */
  programEntry: number;
  /** Initial rsp (points at argc). All other registers start at 0, rflags 0x200. */
  rsp: number;
  /** auxv bytes as on the stack, AT_NULL included (/proc/PID/auxv, qXfer:auxv:read). */
  auxv: Uint8Array;
  /** AT_BASE: interpreter load address, 0 without one. */
  interpBase: number;
  loadBias: number;
  /** Initial program break (mem.brkStart = mem.brkEnd = brk). */
  brk: number;
  interpPath: string | null;
  /** AT_PHDR. */
  phdr: number;
  /** The [stack] VMA and the string areas (for /proc/PID/cmdline and environ). */
  stackStart: number;
  stackEnd: number;
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  /** Program image range (first mapped page, end of last segment). */
  imageStart: number;
  imageEnd: number;
  execStack: boolean;
}

const encoder = new TextEncoder();

/** C-string semantics: a string ends at its first NUL. */
function cString(s: ArgString): Uint8Array {
  const b = typeof s === 'string' ? encoder.encode(s) : s;
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

/**
 * execve's ELF half: validates the program (and its interpreter) completely
 * before mapping anything, then maps program, interpreter and stack into
 * `mem` and sets its brk — the layout Linux x86-64 gives without ASLR.
 *
 * Throws ElfError (errno = what execve would return); nothing stays mapped then.
 */
export function loadProgram(opts: LoadOptions): LoadedProgram {
  const { mem } = opts;
  const program = parseElf(opts.image);
  const interp = program.interp === null ? null : readInterpreter(opts.readInterp, program.interp);
  // Linux turns an empty argv into one empty string (fs/exec.c, since 5.18).
  const argv = (opts.argv.length ? opts.argv : ['']).map(cString);
  const envp = opts.envp.map(cString);
  checkArgSizes(argv, envp);

  const log: MappedRange[] = [];
  try {
    const file: MappedFile = { ...opts.file, name: opts.file?.name ?? opts.path };
    const img = mapImage(mem, program, opts.image, chooseLoadBias(mem, program, 'program'), file, log);
    let interpBase = 0;
    let entry = img.entry;
    if (interp) {
      const bias = chooseLoadBias(mem, interp.elf, 'interpreter');
      const loaded = mapImage(mem, interp.elf, interp.image, bias, interp.file, log);
      interpBase = loaded.bias;
      entry = loaded.entry;
    }
    const vdsoBase = opts.vdso ? mapVdso(mem, opts.vdso, log) : null;
    const brk = initialBrk(program, img);
    const stack = buildInitialStack(mem, {
      argv,
      envp,
      execfn: cString(opts.path),
      random16: opts.random16,
      platform: 'x86_64',
      execStack: program.execStack,
      stackSize: opts.stackSize ?? DEFAULT_STACK_SIZE,
      aux: {
        phdr: img.phdr,
        phnum: program.phnum,
        base: interpBase,
        entry: img.entry,
        hwcap: opts.hwcap,
        hwcap2: opts.hwcap2,
        uid: opts.uid,
        euid: opts.euid ?? opts.uid,
        gid: opts.gid,
        egid: opts.egid ?? opts.gid,
        secure: 0,
        minSigStkSz: opts.minSigStkSz ?? 2048,
        vdsoBase,
        rseq: opts.rseq ?? null,
      },
    });
    log.push({ start: stack.stackStart, len: stack.stackEnd - stack.stackStart });
    mem.brkStart = mem.brkEnd = brk;
    return {
      entry,
      programEntry: img.entry,
      rsp: stack.rsp,
      auxv: stack.auxv,
      interpBase,
      loadBias: img.bias,
      brk,
      interpPath: program.interp,
      phdr: img.phdr,
      stackStart: stack.stackStart,
      stackEnd: stack.stackEnd,
      argStart: stack.argStart,
      argEnd: stack.argEnd,
      envStart: stack.envStart,
      envEnd: stack.envEnd,
      imageStart: img.start,
      imageEnd: img.end,
      execStack: program.execStack,
    };
  } catch (e) {
    for (const r of log) mem.munmap(r.start, r.len);
    if (e instanceof GuestFault) throw new ElfError(`out of guest memory while loading: ${errnoText(ENOMEM)}`, ENOMEM);
    throw e;
  }
}

/** Reads and validates the interpreter; every failure becomes an ElfError naming it. */
function readInterpreter(read: LoadOptions['readInterp'], path: string): { elf: ElfFile; image: Uint8Array; file: MappedFile } {
  const shown = printable(path);
  let got: InterpFile | null;
  try {
    got = read(path);
  } catch (e) {
    if (e instanceof ElfError) throw e;
    const code = (e as { code?: unknown } | null)?.code;
    const errno = typeof code === 'string' ? NODE_CODE_ERRNO[code] : undefined;
    const why = errno !== undefined ? errnoText(errno) : printable(String((e as Error | null)?.message ?? e));
    throw new ElfError(`cannot load interpreter ${shown}: ${why}`, errno ?? EIO);
  }
  if (got === null) throw new ElfError(`cannot load interpreter ${shown}: ${errnoText(ENOENT)}`, ENOENT);
  const image = got instanceof Uint8Array ? got : got.image;
  const file: MappedFile = got instanceof Uint8Array ? { name: path } : { name: got.name ?? path, inode: got.inode, dev: got.dev };
  try {
    return { elf: parseElf(image), image, file };
  } catch (e) {
    throw e instanceof ElfError ? interpError(path, e) : e;
  }
}
