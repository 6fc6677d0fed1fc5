import { Cpu } from '../src/cpu/cpu.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/mem/fault.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import type { BreakKind, GuestFiles, StopEvent, WatchKind } from '../src/gdb/target.js';
import type { AttachableTarget } from '../src/gdb/server.js';

/** Where the fake guest's code and stack live. */
export const CODE_BASE = 0x401000;
export const CODE_SIZE = 0x4000;
export const STACK_TOP = 0x7ffffffff000;
export const STACK_SIZE = 0x21000;
/** First bytes of the code: push rbp; mov rbp,rsp; then nops. */
export const CODE_PROLOGUE = [0x55, 0x48, 0x89, 0xe5];
export const ENOENT = 2;
export const EBADF = 9;

type ResumeOpts = { step: boolean; tid?: number; signal: number };

/**
 * A Target for the stub's tests: a real Cpu and AddressSpace holding a small
 * code buffer and a stack, but no execution engine. Stepping moves rip one
 * byte; continuing runs to the next inserted breakpoint after rip, or waits
 * for interrupt(). Every call is recorded in `calls` for assertions.
 */
export class FakeTarget implements AttachableTarget {
  readonly pid = 0x1234;
  readonly mem: AddressSpace;
  readonly cpus = new Map<number, Cpu>();
  readonly calls: string[] = [];
  readonly breakpoints = new Set<string>();
  readonly watchpoints = new Set<string>();
  catchSyscalls: Set<number> | null = null;
  /** Replace to script resume(). */
  onResume: ((opts: ResumeOpts) => Promise<StopEvent>) | null = null;
  /** Set to make attach() available (a running guest). */
  attachStop: StopEvent | null = null;
  readonly files = new Map<string, Uint8Array>();
  lastSiginfo: Uint8Array | null = null;
  private pendingInterrupt: ((ev: StopEvent) => void) | null = null;
  private readonly openFiles = new Map<number, string>();
  private nextFd = 3;

  constructor(tids: number[] = [0x1234]) {
    this.mem = new AddressSpace(new PhysicalMemory(16 * 1024 * 1024));
    const code = new Uint8Array(CODE_SIZE).fill(0x90);
    code.set(CODE_PROLOGUE);
    this.mem.mmap(CODE_BASE, CODE_SIZE, PROT_READ | PROT_EXEC, { fixed: true, data: code, name: '/fake/prog' });
    this.mem.mmap(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, { fixed: true, name: '[stack]' });
    for (const tid of tids) {
      const c = new Cpu(this.mem);
      c.rip = CODE_BASE;
      c.rsp = STACK_TOP - 0x100;
      this.cpus.set(tid, c);
    }
  }

  get mainCpu(): Cpu {
    return this.cpus.values().next().value!;
  }

  threads(): number[] {
    return [...this.cpus.keys()];
  }
  cpuOf(tid: number): Cpu | undefined {
    return this.cpus.get(tid);
  }

  insertBreakpoint(kind: BreakKind, addr: number): boolean {
    this.calls.push(`insert ${kind} ${addr.toString(16)}`);
    if (!this.mem.findVma(addr)) return false;
    this.breakpoints.add(`${kind}:${addr}`);
    return true;
  }
  removeBreakpoint(kind: BreakKind, addr: number): boolean {
    this.calls.push(`remove ${kind} ${addr.toString(16)}`);
    return this.breakpoints.delete(`${kind}:${addr}`);
  }
  insertWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    this.calls.push(`insert ${kind} ${addr.toString(16)},${len}`);
    this.watchpoints.add(`${kind}:${addr}:${len}`);
    return true;
  }
  removeWatchpoint(kind: WatchKind, addr: number, len: number): boolean {
    this.calls.push(`remove ${kind} ${addr.toString(16)},${len}`);
    return this.watchpoints.delete(`${kind}:${addr}:${len}`);
  }

  resume(opts: ResumeOpts): Promise<StopEvent> {
    this.calls.push(`resume step=${opts.step} tid=${opts.tid ?? 'all'} signal=${opts.signal}`);
    if (this.onResume) return this.onResume(opts);
    const tid = opts.tid ?? this.threads()[0];
    const cpu = this.cpus.get(tid)!;
    if (opts.step) {
      cpu.rip += 1;
      return Promise.resolve({ kind: 'signal', signal: 5, tid });
    }
    // Run to the nearest breakpoint strictly after rip, as if the code between were straight-line.
    let best: { addr: number; kind: BreakKind } | null = null;
    for (const b of this.breakpoints) {
      const [kind, a] = b.split(':');
      const addr = Number(a);
      if (addr > cpu.rip && (!best || addr < best.addr)) best = { addr, kind: kind as BreakKind };
    }
    if (best) {
      cpu.rip = best.addr;
      return Promise.resolve({ kind: 'signal', signal: 5, tid, reason: best.kind === 'sw' ? 'swbreak' : 'hwbreak' });
    }
    return new Promise((resolve) => (this.pendingInterrupt = resolve));
  }
  interrupt(): void {
    this.calls.push('interrupt');
    const r = this.pendingInterrupt;
    this.pendingInterrupt = null;
    r?.({ kind: 'signal', signal: 2, tid: this.threads()[0] });
  }
  kill(): void {
    this.calls.push('kill');
  }
  detach(): void {
    this.calls.push('detach');
  }
  attach(): Promise<StopEvent> {
    this.calls.push('attach');
    return Promise.resolve(this.attachStop ?? { kind: 'signal', signal: 19, tid: this.threads()[0] });
  }
  setCatchSyscalls(set: Set<number> | null): void {
    this.calls.push(`catch ${set === null ? 'off' : [...set].join(',') || 'all'}`);
    this.catchSyscalls = set;
  }
  siginfo(): Uint8Array | null {
    return this.lastSiginfo;
  }
  auxv(): Uint8Array {
    // AT_PAGESZ 4096, AT_ENTRY CODE_BASE, AT_NULL.
    const a = new BigUint64Array([6n, 4096n, 9n, BigInt(CODE_BASE), 0n, 0n]);
    return new Uint8Array(a.buffer);
  }
  execFile(): string {
    return '/fake/prog';
  }
  monitor(cmd: string): string | null {
    if (cmd === 'hello') return 'hello from the fake\n';
    if (cmd === 'big') return 'x'.repeat(20000) + '\n';
    return null;
  }

  readonly vfs: GuestFiles = {
    open: (path, flags, mode) => {
      this.calls.push(`open ${path} ${flags.toString(16)} ${mode.toString(8)}`);
      if (!this.files.has(path)) return -ENOENT;
      const fd = this.nextFd++;
      this.openFiles.set(fd, path);
      return fd;
    },
    pread: (fd, count, offset) => {
      const f = this.fileOf(fd);
      return f ? f.subarray(offset, offset + count) : -EBADF;
    },
    pwrite: (fd, data, offset) => {
      const f = this.fileOf(fd);
      if (!f) return -EBADF;
      const grown = new Uint8Array(Math.max(f.length, offset + data.length));
      grown.set(f);
      grown.set(data, offset);
      this.files.set(this.openFiles.get(fd)!, grown);
      return data.length;
    },
    close: (fd) => (this.openFiles.delete(fd) ? 0 : -EBADF),
    fstat: (fd) => {
      const f = this.fileOf(fd);
      if (!f) return -EBADF;
      const st = new Uint8Array(64);
      const v = new DataView(st.buffer);
      v.setUint32(8, 0o100644); // st_mode (big-endian, gdb fileio layout)
      v.setBigUint64(28, BigInt(f.length)); // st_size
      return st;
    },
    readlink: (path) => (path === '/proc/self/exe' ? '/fake/prog' : -ENOENT),
    unlink: (path) => (this.files.delete(path) ? 0 : -ENOENT),
  };

  private fileOf(fd: number): Uint8Array | undefined {
    const p = this.openFiles.get(fd);
    return p === undefined ? undefined : this.files.get(p);
  }
}
