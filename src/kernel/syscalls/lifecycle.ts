import * as fs from 'node:fs';
import { Cpu, RAX, RSP } from '../../cpu/cpu.js';
import { AddressSpace } from '../../mem/address-space.js';
import { ElfError, parseShebang, scriptArgv, MAX_SCRIPT_DEPTH } from '../../elf/index.js';
import { argI, argU, readPath, readStringArray, readStruct, viewU64, writeU32 } from '../args.js';
import { EACCES, EAGAIN, ECHILD, EINVAL, ELOOP, ENOENT, ENOEXEC, EISDIR, ENOMEM, ENOSYS, EFAULT } from '../errno.js';
import { Blocked, type SyscallImpl } from '../syscall-types.js';
import { Process, Task } from '../task.js';
import { SIGCHLD } from '../signals.js';
import { inheritRlimits } from './rlimits.js';
import { flushSharedMappings } from './mm-shared.js';
import { committedBytes, mayCommit } from './mm-limit.js';
import { readPinnedFile } from '../files/pin.js';
import { resetAltStack } from '../alt-stack.js';

const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_VFORK = 0x4000;
const CLONE_THREAD = 0x10000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000, CLONE_PARENT = 0x8000;
const WNOHANG = 1, WUNTRACED = 2, WCONTINUED = 8, __WALL = 0x40000000, __WCLONE = 0x80000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2, WEXITED = 4, WNOWAIT = 0x01000000;
const TWO32 = 4294967296;

/**
 * Creates a thread (CLONE_THREAD) or a process as a child of t. A process gets
 * a copy of the address space (fork), or shares it with CLONE_VM (vfork,
 * posix_spawn): the child's stores are the parent's, as on Linux. Returns the
 * child's tid or -errno.
 */
function cloneTask(t: Task, flags: number, stack: number, parentTid: number, childTid: number, tls: number): number {
  const k = t.kernel;
  if (k.tasks.filter((x) => x.state !== 'exited').length >= k.options.maxTasks) return -EAGAIN;
  if (flags & CLONE_THREAD && !(flags & CLONE_VM && flags & CLONE_SIGHAND)) return -EINVAL;
  const tid = k.allocPid();
  let proc: Process;
  if (flags & CLONE_THREAD) proc = t.proc;
  else {
    let mem: AddressSpace;
    if (flags & CLONE_VM) mem = t.mem;
    else {
      // The copy is charged to the run's one --memory budget, as strict overcommit charges a fork.
      if (!mayCommit(t, committedBytes(t))) return -ENOMEM;
      try {
        mem = t.mem.clone();
      } catch (e) {
        // The frame pool (--memory) cannot hold a copy: fork fails as Linux's does when memory runs out.
        if (e instanceof RangeError) return -ENOMEM;
        throw e;
      }
    }
    proc = new Process(tid, flags & CLONE_PARENT ? t.proc.ppid : t.pid, mem, flags & CLONE_FILES ? t.files : t.files.clone(), flags & CLONE_FS ? t.fs : t.fs.clone());
    proc.exePath = t.proc.exePath;
    proc.hostExePath = t.proc.hostExePath;
    proc.argv = t.proc.argv;
    proc.envp = t.proc.envp;
    proc.auxv = t.proc.auxv;
    proc.loaded = t.proc.loaded;
    proc.umask = t.proc.umask;
    proc.pgid = t.proc.pgid;
    proc.sid = t.proc.sid;
    proc.parent = t.proc;
    inheritRlimits(t.proc, proc);
    t.proc.sigactions.forEach((a, n) => Object.assign(proc.sigactions[n], a));
    t.proc.children.push(proc);
  }
  const cpu = new Cpu(proc.mem);
  cpu.copyFrom(t.cpu);
  cpu.set64(RAX, 0, 0);
  if (stack) cpu.setS(RSP, stack);
  if (flags & CLONE_SETTLS) cpu.fsBase = tls;
  const child = new Task(tid, proc, cpu, k);
  child.sigmaskLo = t.sigmaskLo;
  child.sigmaskHi = t.sigmaskHi;
  // copy_process: a thread (CLONE_VM without CLONE_VFORK) starts without an alternate stack; fork and vfork inherit it.
  if ((flags & (CLONE_VM | CLONE_VFORK)) === CLONE_VM) resetAltStack(child);
  else {
    child.altStackSp = t.altStackSp;
    child.altStackSize = t.altStackSize;
    child.altStackFlags = t.altStackFlags;
  }
  if (flags & CLONE_CHILD_CLEARTID) child.clearChildTid = childTid;
  if (!(flags & CLONE_VM) && t.rseq) child.rseq = { ...t.rseq }; // fork keeps it; a new thread registers its own
  if (flags & CLONE_PARENT_SETTID) writeU32(t, parentTid, tid);
  if (flags & CLONE_CHILD_SETTID) proc.mem.write32(childTid, tid);
  k.tasks.push(child);
  return tid;
}

/**
 * clone/vfork: CLONE_VFORK suspends the caller until the child has exec'd or
 * exited (its stack is the parent's until then). The call parks on that and is
 * re-run when the child lets go: the re-run returns the child's pid.
 * The wait is not interrupted by signals (Linux waits killably only): they stay
 * pending until the call returns.
 */
function cloneCall(t: Task, flags: number, stack: number, parentTid: number, childTid: number, tls: number): number | Blocked {
  const w = t.vforkWait;
  if (w) {
    if (!w.done) return new Blocked(w.released);
    t.vforkWait = null;
    return w.tid;
  }
  const tid = cloneTask(t, flags, stack, parentTid, childTid, tls);
  if (tid < 0 || !(flags & CLONE_VFORK) || flags & CLONE_THREAD) return tid;
  const child = t.proc.children.find((p) => p.pid === tid)!;
  let release!: () => void;
  const wait = { tid, done: false, released: new Promise<void>((r) => (release = r)) };
  child.vforkRelease = () => {
    child.vforkRelease = null;
    wait.done = true;
    release();
  };
  t.vforkWait = wait;
  return new Blocked(wait.released);
}

const CLONE_PIDFD = 0x1000, CLONE_NEWS = 0x7e020000; // CLONE_NEWNS, _NEWCGROUP, _NEWUTS, _NEWIPC, _NEWUSER, _NEWPID, _NEWNET

/** clone3(struct clone_args *, size): the same creation as clone, arguments from a struct. */
function clone3(t: Task, argsAddr: number, size: number): number | Blocked {
  if (size < 64 || size > 4096) return -EINVAL; // CLONE_ARGS_SIZE_VER0
  const v = readStruct(t, argsAddr, Math.min(size, 88));
  const u64 = (off: number) => (off + 8 <= v.byteLength ? viewU64(v, off) : 0);
  const flagsLo = v.getUint32(0, true), flagsHi = v.getUint32(4, true);
  const exitSignal = u64(32), stack = u64(40), stackSize = u64(48), tls = u64(56);
  const setTidSize = u64(72), cgroup = u64(80);
  // No pidfds, namespaces, CLONE_INTO_CGROUP (a high flag), set_tid.
  if (flagsHi !== 0 || flagsLo & (CLONE_PIDFD | CLONE_NEWS) || setTidSize || cgroup || exitSignal > 64) return -EINVAL;
  if ((stack === 0) !== (stackSize === 0)) return -EINVAL;
  // clone's low byte is the exit signal; clone3 has a field for it instead.
  return cloneCall(t, (flagsLo & ~0xff) | exitSignal, stack ? stack + stackSize : 0, u64(24), u64(16), tls);
}

/** wait4/waitid's search: a child of proc matching pid (-1 any, >0 that pid, 0 own group, <-1 group). */
function findChild(proc: Process, pid: number, zombieOnly: boolean): { child: Process | null; any: boolean } {
  let any = false;
  for (const c of proc.children) {
    const match = pid === -1 || (pid > 0 && c.pid === pid) || (pid === 0 && c.pgid === proc.pgid) || (pid < -1 && c.pgid === -pid);
    if (!match) continue;
    any = true;
    if (!zombieOnly || c.exitCode !== null) if (c.exitCode !== null) return { child: c, any };
  }
  return { child: null, any };
}

/** The wait status word for a dead child. */
function waitStatus(c: Process): number {
  if (c.killedBy) return c.killedBy | (c.coreDumped ? 0x80 : 0);
  return ((c.exitCode ?? 0) & 0xff) << 8;
}

function reap(parent: Process, c: Process): void {
  parent.children = parent.children.filter((x) => x !== c);
}

/** Blocks until some child of t changes state. */
function childWait(t: Task): Blocked {
  return new Blocked(new Promise<void>((resolve) => t.proc.childWaiters.push(resolve)));
}

function execve(t: Task, pathAddr: number, argvAddr: number, envpAddr: number, dirfd = -100, atFlags = 0): number {
  const path = readPath(t, pathAddr);
  if (typeof path === 'number') return path;
  const argv = readStringArray(t, argvAddr);
  if (typeof argv === 'number') return argv;
  const envp = readStringArray(t, envpAddr);
  if (typeof envp === 'number') return envp;
  return execProgram(t, dirfd, path, argv, envp, 0, atFlags);
}

function execProgram(t: Task, dirfd: number, path: string, argv: string[], envp: string[], depth: number, atFlags: number): number {
  if (depth > MAX_SCRIPT_DEPTH) return -ELOOP;
  let r = t.fs.resolve(t, dirfd, path, { follow: !(atFlags & 0x100), emptyPath: (atFlags & 0x1000) !== 0 });
  // A magic link followed (/proc/self/exe: busybox re-executes itself through it): exec what it names.
  if (typeof r !== 'number' && r.kind === 'synth' && r.followed && r.node.target) r = t.fs.resolve(t, -100, r.node.target(), { follow: true });
  if (typeof r === 'number') return r;
  if (r.kind !== 'host') return -EACCES;
  if (!r.st) return -ENOENT;
  // Only regular files run; reading a FIFO or a device would block the whole emulator.
  if (!r.st.isFile()) return -EACCES;
  if (!(r.st.mode & 0o111)) return -EACCES;
  // Read through a pinned fd: the file the walk found, not whatever the path names by now.
  const image = readPinnedFile(t.fs.root, r.hostPath);
  if (typeof image === 'number') return -EACCES;
  const shebang = parseShebang(image);
  if (shebang) {
    const newArgv = scriptArgv(shebang, path, argv);
    return execProgram(t, -100, shebang.interpreter, newArgv.map(String), envp, depth + 1, 0);
  }
  const k = t.kernel;
  flushSharedMappings(t);
  const mem = new AddressSpace(k.phys);
  const old = t.proc.mem;
  t.proc.mem = mem;
  const oldCpu = new Cpu(old);
  oldCpu.copyFrom(t.cpu);
  t.cpu.mem = mem;
  try {
    const loaded = k.load(t, image, { hostPath: r.hostPath, guestPath: r.guestPath, execfn: path, argv, envp });
    t.proc.loaded = loaded;
    t.proc.auxv = loaded.auxv;
  } catch (e) {
    t.proc.mem = old;
    t.cpu.mem = old;
    t.cpu.copyFrom(oldCpu);
    mem.destroy();
    if (e instanceof ElfError) return -(e.errno || ENOEXEC);
    throw e;
  }
  // Point of no return: the old image is gone.
  for (const x of k.tasks) if (x.proc === t.proc && x !== t) x.state = 'exited';
  if (!k.tasks.some((x) => x !== t && x.proc.mem === old && x.state !== 'exited')) old.destroy();
  t.proc.exePath = r.guestPath;
  t.proc.hostExePath = r.hostPath;
  t.proc.argv = argv;
  t.proc.envp = envp;
  t.files.closeOnExec();
  for (const a of t.proc.sigactions) if (a.handler > 1) { a.handler = 0; a.flags = 0; }
  // Linux's exec drops the alternate stack (sas_ss_sp = sas_ss_size = 0) and keeps its flags.
  t.altStackSize = 0;
  t.altStackSp = 0;
  t.clearChildTid = 0;
  t.rseq = null;
  t.cpu.fsBase = 0;
  t.cpu.gsBase = 0;
  t.cpu.xmm.fill(0);
  t.cpu.mxcsr = 0x1f80;
  t.cpu.x87.reset();
  t.execed = true;
  t.proc.vforkRelease?.(); // a vfork parent runs again once its child has its own image
  return 0;
}

export const lifecycleHandlers: Record<string, SyscallImpl> = {
  clone: {
    handler: (t: Task) => cloneCall(t, argI(t, 0), argU(t, 1), argU(t, 2), argU(t, 3), argU(t, 4)),
    coverage: 'partial',
    note: 'threads, fork-style processes, CLONE_VM (shared memory) and CLONE_VFORK (caller suspended); no namespaces',
  },
  clone3: {
    handler: (t: Task) => clone3(t, argU(t, 0), argU(t, 1)),
    coverage: 'partial',
    note: 'as clone; no CLONE_PIDFD, set_tid or cgroup',
  },
  fork: { handler: (t: Task) => cloneTask(t, SIGCHLD, 0, 0, 0, 0) },
  vfork: {
    handler: (t: Task) => cloneCall(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0),
  },
  execve: {
    handler: (t: Task) => execve(t, argU(t, 0), argU(t, 1), argU(t, 2)),
  },
  execveat: {
    handler: (t: Task) => execve(t, argU(t, 1), argU(t, 2), argU(t, 3), argI(t, 0), argI(t, 4)),
  },
  wait4: {
    handler: (t: Task) => {
      const pid = argI(t, 0), statusAddr = argU(t, 1), options = argI(t, 2), rusage = argU(t, 3);
      if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE)) return -EINVAL;
      const { child, any } = findChild(t.proc, pid, true);
      if (!any) return -ECHILD;
      if (!child) return options & WNOHANG ? 0 : childWait(t);
      if (statusAddr) t.mem.write32(statusAddr, waitStatus(child));
      if (rusage) t.mem.fill(rusage, 144, 0);
      reap(t.proc, child);
      return child.pid;
    },
  },
  waitid: {
    handler: (t: Task) => {
      const idtype = argI(t, 0), id = argI(t, 1), info = argU(t, 2), options = argI(t, 3);
      if (!(options & WEXITED)) return -EINVAL;
      const pid = idtype === P_ALL ? -1 : idtype === P_PID ? id : idtype === P_PGID ? -id : NaN;
      if (Number.isNaN(pid)) return -EINVAL;
      const { child, any } = findChild(t.proc, pid, true);
      if (!any) return -ECHILD;
      if (!child) {
        if (options & WNOHANG) {
          if (info) t.mem.fill(info, 128, 0);
          return 0;
        }
        return childWait(t);
      }
      if (info) {
        t.mem.fill(info, 128, 0);
        t.mem.write32(info, SIGCHLD);
        t.mem.write32(info + 8, child.killedBy ? (child.coreDumped ? 3 : 2) : 1); // CLD_EXITED / KILLED / DUMPED
        t.mem.write32(info + 16, child.pid);
        t.mem.write32(info + 24, child.killedBy || (child.exitCode ?? 0));
      }
      if (!(options & WNOWAIT)) reap(t.proc, child);
      return 0;
    },
  },
};

export { EISDIR, EFAULT, TWO32 };
