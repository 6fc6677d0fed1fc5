import type { ThreadSchedule } from '../thread-schedule.js';
import type { EmulatorSide } from './emulator-side.js';
import type { NativeSide } from './native-side.js';

const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
const ROBUST_LIST_LIMIT = 2048;

/** The futex words of a robust list (struct robust_list_head at head: next, futex_offset, list_op_pending), from elfshim's memory. */
function robustWords(emu: EmulatorSide, head: number): { words: number[]; pending: number } {
  const i64 = (a: number) => {
    const b = emu.peek(a, 8);
    return b ? Number(new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true)) : null;
  };
  const words: number[] = [];
  const first = i64(head), offset = i64(head + 8), pendingRaw = i64(head + 16);
  if (first === null || offset === null || pendingRaw === null) return { words, pending: 0 };
  // The low bit of an entry marks a PI futex; entries are 8-byte aligned.
  const pending = pendingRaw - (pendingRaw % 2);
  let entry = first;
  for (let n = 0; entry !== head && n < ROBUST_LIST_LIMIT; n++) {
    const base = entry - (entry % 2);
    if (base !== pending) words.push(base + offset);
    const next = i64(base);
    if (next === null) break;
    entry = next;
  }
  return { words, pending: pending ? pending + offset : 0 };
}

/**
 * After a thread's exit stepped on both sides: the locks it still held on its robust list (glibc's robust
 * mutexes; set_robust_list). Each kernel marks a word FUTEX_OWNER_DIED if it holds the dying thread's tid, but the
 * program wrote elfshim's tid (the one it was given), which the host kernel does not recognise as the native
 * thread's: elfshim's marking is given to native (counted). A word with waiters (or a pending lock operation left
 * at 0) wakes one waiter; the waiters are parked in the differ's schedule, not in either kernel, so the schedule
 * wakes it.
 */
export async function reconcileRobustList(emu: EmulatorSide, native: NativeSide, sched: ThreadSchedule, tid: number, count: (what: string) => void): Promise<void> {
  const head = emu.robustListHead();
  if (!head) return;
  const { words, pending } = robustWords(emu, head);
  const u32 = (b: Uint8Array | null) => (b ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : null);
  for (const addr of [...words, ...(pending ? [pending] : [])]) {
    if (addr % 4 !== 0) continue;
    const n = u32(await native.readMemory(addr, 4)), e = u32(emu.peek(addr, 4));
    if (n === null || e === null) continue;
    if (addr === pending && n === 0 && e === 0) {
      sched.wake(addr, 1);
      continue;
    }
    if ((n & FUTEX_TID_MASK) !== tid || e !== ((n & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0) continue;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, e, true);
    await native.writeMemory(addr, out);
    count("robust futex of an exiting thread (elfshim's FUTEX_OWNER_DIED given to native: the word held elfshim's tid)");
    if (n & FUTEX_WAITERS) sched.wake(addr, 1);
  }
}
