import { le64 } from '../bytes.js';
import type { Registers } from '../side.js';
import type { ScheduledThread, ThreadSchedule } from '../thread-schedule.js';
import type { EmulatorSide, Stepped } from './emulator-side.js';
import type { NativeSide } from './native-side.js';

const SYS_CLONE = 56, SYS_FORK = 57, SYS_VFORK = 58, SYS_CLONE3 = 435;
const CLONE_VM = 0x100, CLONE_VFORK = 0x4000, CLONE_THREAD = 0x10000, CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000;

/** What the fast differ needs from its own state to follow new threads and processes. */
export interface FollowingHost {
  readonly native: NativeSide;
  readonly emu: EmulatorSide;
  /** elfshim pid/tid → native one. */
  readonly pids: Map<number, number>;
  readonly schedule: ThreadSchedule;
  count(what: string): void;
}

/** What to do with a syscall about to run (see ProcessFollowing.before). */
export type CreateAction =
  /** Step it on both sides as any syscall (after() then fixes up its result). */
  | { kind: 'step' }
  /** elfshim has already stepped it (a vfork that returned): its outcome, matched with the next native step. */
  | { kind: 'ahead'; stepped: Stepped }
  /** The calling thread waits inside its vfork: it parks, another thread (its child) runs. */
  | { kind: 'park' }
  /** Not followed: the run ends here, without a divergence (why). */
  | { kind: 'stop'; why: string };

/** A thread- or process-creating call being stepped: what to fix up and record once it returned. */
interface PendingCreate {
  flags: number;
  /** CLONE_PARENT_SETTID and CLONE_CHILD_SETTID/CLEARTID addresses. */
  ptid: number;
  ctid: number;
  /** A child process (fork, or clone without CLONE_VM), not a thread. */
  fork: boolean;
  name: string;
}

/** clone/clone3/fork/vfork's arguments, equal on both sides (clone3's struct is read from elfshim's memory). */
function createArgs(emu: EmulatorSide, n: Registers, nr: number): { flags: number; ptid: number; ctid: number } | null {
  if (nr === SYS_FORK) return { flags: 0, ptid: 0, ctid: 0 };
  if (nr === SYS_VFORK) return { flags: CLONE_VM | CLONE_VFORK, ptid: 0, ctid: 0 };
  if (nr === SYS_CLONE) return { flags: n.num('rdi'), ptid: n.num('rdx'), ctid: n.num('r10') };
  // struct clone_args: flags, pidfd, child_tid, parent_tid, … (u64 each). Unreadable: the call fails alike.
  const b = emu.peek(n.num('rdi'), 32);
  if (!b) return null;
  const v = new DataView(b.buffer, b.byteOffset, 32);
  return { flags: Number(v.getBigUint64(0, true) & 0xffffffffn), ctid: Number(v.getBigUint64(16, true)), ptid: Number(v.getBigUint64(24, true)) };
}

/**
 * The fast differ's following of new threads and processes: clone, clone3, fork and vfork. A created thread or
 * child joins the schedule (thread-schedule.ts) and native continues with elfshim's ids: clone's result, the
 * CLONE_PARENT_SETTID and CLONE_CHILD_SETTID words (a forked child's in its own memory, when it first runs). A
 * vfork's child runs first while its parent waits inside the call (see vfork()).
 */
export class ProcessFollowing {
  private pending: PendingCreate | null = null;
  /** CLONE_CHILD_SETTID of a forked child, by elfshim tid: written into its memory natively when it first runs. */
  private readonly childTidWords = new Map<number, number>();

  constructor(private readonly host: FollowingHost) {}

  /** Before syscall nr of the current thread (registers n): null when it creates nothing, else what to do. */
  async before(n: Registers, nr: number): Promise<CreateAction | null> {
    if (nr !== SYS_CLONE && nr !== SYS_CLONE3 && nr !== SYS_FORK && nr !== SYS_VFORK) return null;
    const a = createArgs(this.host.emu, n, nr);
    if (!a) return { kind: 'step' };
    const name = nr === SYS_CLONE3 ? 'clone3' : nr === SYS_CLONE ? 'clone' : nr === SYS_FORK ? 'fork' : 'vfork';
    if (a.flags & CLONE_VFORK) return this.vfork(n, nr, name);
    const thread = (a.flags & CLONE_THREAD) !== 0;
    if (!thread && a.flags & CLONE_VM) return { kind: 'stop', why: `stopped at ${name} with CLONE_VM but not CLONE_THREAD (0x${n.num('rip').toString(16)}): not followed` };
    this.pending = { ...a, fork: !thread, name };
    return { kind: 'step' };
  }

  /**
   * After the syscall stepped on both sides: a thread- or process-creating call's native result becomes elfshim's
   * tid (as with pids), and the thread or child joins the schedule.
   */
  async after(): Promise<void> {
    const c = this.pending;
    this.pending = null;
    if (!c) return;
    const { native, emu, schedule: sched } = this.host;
    const n = native.current(), e = await emu.registers();
    const nTid = Number(n.big('rax')), eTid = Number(e.big('rax'));
    if (nTid <= 0 || nTid >= 1 << 30 || eTid <= 0 || eTid >= 1 << 30) return; // failed: compared as any result
    this.host.pids.set(eTid, nTid);
    await native.writeRegister('rax', le64(BigInt(eTid)));
    if (c.flags & CLONE_PARENT_SETTID) await native.writeMemory(c.ptid, u32(eTid));
    // A child process's CLONE_CHILD_SETTID word is in its own memory: written when it first runs.
    if (c.flags & CLONE_CHILD_SETTID) {
      if (c.fork) this.childTidWords.set(eTid, c.ctid);
      else await native.writeMemory(c.ctid, u32(eTid));
    }
    sched.add(eTid, nTid, c.flags & CLONE_CHILD_CLEARTID ? c.ctid : 0, c.fork ? eTid : sched.cur.pid);
    this.host.count(c.fork ? `${c.name} child process (elfshim's pid given to native)` : `${c.name} thread (elfshim's tid given to native)`);
  }

  /** The differ switched to thread t (the native side is now its process): a forked child's first run. */
  async switched(t: ScheduledThread): Promise<void> {
    const tidWord = this.childTidWords.get(t.tid);
    if (tidWord === undefined) return;
    this.childTidWords.delete(t.tid);
    await this.host.native.writeMemory(tidWord, u32(t.tid));
  }

  /**
   * vfork (or clone/clone3 with CLONE_VFORK): the parent waits inside the call until its child exits or execs, so
   * the child runs first. The first time, elfshim makes the child and blocks (taken back, the child kept: the call
   * re-run returns the child's pid once it let go), the tracer makes the native child and leaves the parent at its
   * event stop, showing its registers from before the call; the child joins the schedule and the parent parks in
   * the call. Switched to again, the parent's call is tried on elfshim as any blocking call: once it returns, the
   * tracer's next step of the parent completes the native call.
   */
  private async vfork(n: Registers, nr: number, name: string): Promise<CreateAction> {
    const { native, emu, schedule: sched } = this.host;
    const first = emu.vforkChild() === null;
    const r = await emu.stepSyscall(false);
    // It returned (a retry after the child let go, or a failure): the native step goes as any syscall's.
    if (r !== 'blocked') return { kind: 'ahead', stepped: r };
    sched.parkInCall(nr, false);
    if (!first) return { kind: 'park' };
    const eChild = emu.vforkChild();
    native.tracer.run(1, 0, true);
    const rec = native.tracer.next();
    if (rec.type !== 'vforked' || eChild === null) return { kind: 'stop', why: `${name} (0x${n.num('rip').toString(16)}) did not make a vfork child on both sides (native: ${rec.type}, elfshim: ${eChild ?? 'none'})` };
    this.host.pids.set(eChild, rec.pid);
    sched.add(eChild, rec.pid, 0, eChild);
    this.host.count(`${nr === SYS_VFORK ? name : `${name} with CLONE_VFORK`} (the child runs first; elfshim's pid given to native)`);
    return { kind: 'park' };
  }
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}
