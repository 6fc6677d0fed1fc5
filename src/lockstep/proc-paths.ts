import { le64 } from './bytes.js';
import type { Registers } from './side.js';
import type { StatePort } from './port.js';

/** Path-taking syscalls → the argument register holding the path. */
const PATH_ARG: Record<number, string> = {
  2: 'rdi', // open
  4: 'rdi', // stat
  6: 'rdi', // lstat
  21: 'rdi', // access
  80: 'rdi', // chdir
  89: 'rdi', // readlink
  257: 'rsi', // openat
  262: 'rsi', // newfstatat
  267: 'rsi', // readlinkat
  269: 'rsi', // faccessat
  332: 'rsi', // statx
  439: 'rsi', // faccessat2
};

/** A path near the end of a mapping: read up to the page end. */
async function readShorter(native: StatePort, addr: number): Promise<Uint8Array | null> {
  const toPageEnd = 4096 - (addr % 4096);
  return toPageEnd < MAX_PATH ? native.readMemory(addr, toPageEnd) : null;
}

/** The syscalls translateProcPath may rewrite. */
export const PROC_PATH_SYSCALLS = Object.keys(PATH_ARG).map(Number);

/** /proc/PID/…, /proc/self/task/TID/…, /proc/PID/task/TID/…: the ids in a path, with where they are. */
const PROC_IDS = /^\/proc\/(self|\d+)(?:\/task\/(\d+))?(?=\/|$)/;
const MAX_PATH = 256;
/** Below the stack's red zone (128 bytes), where nothing the program keeps lives at a syscall. */
const SCRATCH_BELOW_RSP = 1024;

/**
 * A path naming a process or thread by id, with elfshim's ids (the ones the program knows: native is given
 * elfshim's pids and tids), rewritten with the native ids. ids: elfshim id → native id. Null when there is
 * nothing to rewrite.
 */
export function nativeProcPath(path: string, ids: Map<number, number>): string | null {
  const m = PROC_IDS.exec(path);
  if (!m) return null;
  const map = (s: string | undefined) => (s === undefined || s === 'self' ? s : String(ids.get(Number(s)) ?? s));
  const pid = map(m[1]), tid = map(m[2]);
  const head = `/proc/${pid}${tid !== undefined ? `/task/${tid}` : ''}`;
  return head === m[0] ? null : head + path.slice(m[0].length);
}

/**
 * Before native syscall nr runs: a /proc path naming elfshim's pid or tid (/proc/self/task/TID/comm, as glibc's
 * pthread_getname_np opens it) names the native process or thread instead, so that the call finds natively what it
 * finds under elfshim. The rewritten path goes to native memory below the stack's red zone (its bytes saved), and
 * the path register points at it for the call. Returns how to undo both, or null.
 */
export async function translateProcPath(native: StatePort, regs: Registers, nr: number, ids: Map<number, number>): Promise<(() => Promise<void>) | null> {
  const reg = PATH_ARG[nr];
  if (!reg || !ids.size) return null;
  // Read natively (the same string as elfshim's): the RSP mode's free runs call this while elfshim runs on.
  const raw = (await native.readMemory(regs.num(reg), MAX_PATH)) ?? (await readShorter(native, regs.num(reg)));
  if (!raw || raw[0] !== 0x2f) return null;
  const end = raw.indexOf(0);
  if (end < 0) return null;
  const path = nativeProcPath(new TextDecoder('latin1').decode(raw.subarray(0, end)), ids);
  if (path === null || path.length >= MAX_PATH) return null;
  const bytes = new Uint8Array(path.length + 1);
  for (let k = 0; k < path.length; k++) bytes[k] = path.charCodeAt(k);
  const scratch = Math.floor((regs.num('rsp') - SCRATCH_BELOW_RSP) / 16) * 16;
  const saved = await native.readMemory(scratch, bytes.length);
  if (!saved || !(await native.writeMemory(scratch, bytes))) return null;
  await native.writeRegister(reg, le64(BigInt(scratch)));
  return async () => {
    await native.writeRegister(reg, le64(regs.big(reg)));
    await native.writeMemory(scratch, saved);
  };
}
