/** Builds a bare task (no program loaded) for driving syscall handlers directly in tests. */
import * as fs from 'node:fs';
import { Cpu } from '../src/cpu/cpu.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { Kernel } from '../src/kernel/kernel.js';
import { Process, Task } from '../src/kernel/task.js';
import { FileTable } from '../src/kernel/files/file-table.js';
import { FsContext } from '../src/kernel/files/fs-context.js';
import { dispatchSyscall, syscallByName } from '../src/kernel/syscall-table.js';
import { Blocked } from '../src/kernel/syscall-types.js';
import { ARG_REGS } from '../src/kernel/args.js';
import { scratchDir } from './helpers/scratch-dir.js';

/** Scratch memory for the tests' arguments and buffers. */
export const SCRATCH = 0x10000000;
export const SCRATCH_SIZE = 1 << 20;

export interface Harness {
  t: Task;
  root: string;
  /** Places a NUL-terminated string in scratch memory and returns its address. */
  str(s: string): number;
  /** Reserves n bytes of zeroed scratch memory. */
  buf(n: number): number;
  /** Calls a syscall by name with numeric arguments. */
  call(name: string, ...args: number[]): number | Blocked;
  /** Calls a syscall that must complete now. */
  sys(name: string, ...args: number[]): number;
  /** Calls, awaiting Blocked re-runs like the scheduler does. */
  callAsync(name: string, ...args: number[]): Promise<number>;
  read(addr: number, n: number): Uint8Array;
  text(addr: number, n: number): string;
}

export function makeRootfs(): string {
  return fs.realpathSync(scratchDir('elfshim-kernel-'));
}

export function harness(opts: { root?: string; stdio?: boolean; strace?: string[] } = {}): Harness {
  const root = opts.root ?? makeRootfs();
  const kernel = new Kernel({
    rootfs: root,
    memoryLimit: 64 << 20,
    seed: 1,
    strace: !!opts.strace,
    straceOut: (l) => opts.strace?.push(l),
  });
  const phys = new PhysicalMemory(64 << 20);
  const mem = new AddressSpace(phys);
  mem.mmap(SCRATCH, SCRATCH_SIZE, 3, { fixed: true });
  const files = opts.stdio ? FileTable.withStdio() : new FileTable();
  const proc = new Process(4242, 4241, mem, files, new FsContext(root, '/'));
  proc.exePath = '/bin/prog';
  proc.argv = ['prog', 'arg1'];
  proc.envp = ['A=1'];
  const t = new Task(4242, proc, new Cpu(mem), kernel);
  let next = SCRATCH;
  const h: Harness = {
    t,
    root,
    str(s) {
      const b = Buffer.from(s + '\0');
      const a = next;
      mem.writeBytes(a, b);
      next += (b.length + 15) & ~15;
      return a;
    },
    buf(n) {
      const a = next;
      mem.fill(a, n, 0);
      next += (n + 15) & ~15;
      return a;
    },
    call(name, ...args) {
      const info = syscallByName(name);
      if (!info) throw new Error(`no syscall ${name}`);
      args.forEach((v, i) => t.cpu.setS(ARG_REGS[i], v));
      return dispatchSyscall(t, info.nr);
    },
    sys(name, ...args) {
      const r = h.call(name, ...args);
      if (r instanceof Blocked) throw new Error(`${name} blocked`);
      return r;
    },
    async callAsync(name, ...args) {
      for (;;) {
        const r = h.call(name, ...args);
        if (!(r instanceof Blocked)) return r;
        await r.wake;
      }
    },
    read(addr, n) {
      return mem.readBytes(addr, n);
    },
    text(addr, n) {
      return Buffer.from(mem.readBytes(addr, n)).toString();
    },
  };
  return h;
}
