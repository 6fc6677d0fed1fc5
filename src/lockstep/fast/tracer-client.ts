import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FPREGS_SIZE, USER_REGS_SIZE } from './native-registers.js';

/** One record of lockstep-tracer (see src/lockstep/tracer/lockstep-tracer.c). */
export type TracerRecord =
  | { type: 'step' | 'stop'; signal: number; user: Uint8Array; fp: Uint8Array }
  | { type: 'exit'; code: number }
  | { type: 'killed'; signal: number }
  /** The current thread ended with exit(2); the process lives on (select another thread). */
  | { type: 'thread-exit'; tid: number }
  /** The current thread's process, a forked child (not the first process), ended with this wait status. */
  | { type: 'process-exit'; status: number }
  /** The current thread's vfork made this child (native pid) and waits inside the call (see the tracer). */
  | { type: 'vforked'; pid: number }
  | { type: 'end'; special: boolean };

const STEP = 1, STOP = 2, EXIT = 3, KILLED = 4, END = 5, DATA = 6, ACK = 7, ERROR = 8, THREAD_EXIT = 9, PROCESS_EXIT = 10, VFORKED = 11;

/**
 * The native side of the fast differ: lockstep-tracer over two FIFOs, read
 * and written synchronously (one blocking read per chunk of records; no
 * event-loop hop per instruction).
 */
export class NativeTracer {
  private readonly dir: string;
  private readonly child: ChildProcess;
  private cmd = -1;
  private out = -1;
  private buf = Buffer.alloc(1 << 22);
  /** A plain Uint8Array over buf: slicing a Buffer goes through its species constructor (slow). */
  private view = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  private start = 0;
  private end = 0;
  /** The FPU image of the last record that carried one (the tracer sends it only when it changed). */
  private fp: Uint8Array = new Uint8Array(FPREGS_SIZE);
  stderr = '';

  constructor(tracer: string, program: string, args: string[], env: Record<string, string>, stdio: [number, number, number], cwd?: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-fast-'));
    const cmdPath = path.join(this.dir, 'cmd'), outPath = path.join(this.dir, 'out');
    execFileSync('mkfifo', [cmdPath, outPath]);
    // The program inherits the tracer's stdio (its own complaints, prefixed lockstep-tracer:, go to that stderr too).
    this.child = spawn(tracer, [cmdPath, outPath, program, ...args], { env, stdio, ...(cwd ? { cwd } : {}) });
    this.child.once('error', (e) => (this.stderr += e.message));
    // Opening a FIFO blocks until the other end opens it: the tracer opens cmd, then out, in that order too.
    this.cmd = fs.openSync(cmdPath, 'w');
    this.out = fs.openSync(outPath, 'r');
  }

  /** Reads exactly n bytes (blocking). */
  private need(n: number): void {
    if (this.end - this.start >= n) return;
    if (this.buf.length - this.start < n) {
      const bigger = Buffer.alloc(Math.max(this.buf.length, n * 2));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      this.buf = bigger;
      this.view = new Uint8Array(bigger.buffer, bigger.byteOffset, bigger.length);
    }
    while (this.end - this.start < n) {
      const got = fs.readSync(this.out, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) throw new Error(`lockstep-tracer ended unexpectedly${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
      this.end += got;
    }
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.start);
    this.start += 4;
    return v;
  }

  private bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.view.slice(this.start, this.start + n);
    this.start += n;
    return b;
  }

  /**
   * n bytes of the read buffer, not copied: bytes once read there are never overwritten (need() moves on to a new
   * buffer when this one is full), so a record's view stays valid for as long as the differ keeps it.
   */
  private inPlace(n: number): Uint8Array {
    this.need(n);
    const b = this.view.subarray(this.start, this.start + n);
    this.start += n;
    return b;
  }

  /** The next record of a run (or the initial state). */
  next(): TracerRecord {
    const type = this.u32(), value = this.u32();
    switch (type) {
      case STEP:
      case STOP: {
        const user = this.inPlace(USER_REGS_SIZE);
        if (this.u32()) this.fp = this.inPlace(FPREGS_SIZE);
        return { type: type === STEP ? 'step' : 'stop', signal: value, user, fp: this.fp };
      }
      case EXIT:
        return { type: 'exit', code: value };
      case KILLED:
        return { type: 'killed', signal: value };
      case END:
        return { type: 'end', special: value === 1 };
      case THREAD_EXIT:
        return { type: 'thread-exit', tid: value };
      case PROCESS_EXIT:
        return { type: 'process-exit', status: value };
      case VFORKED:
        return { type: 'vforked', pid: value };
      case ERROR:
        throw new Error(`lockstep-tracer: error (errno ${value})`);
      default:
        throw new Error(`lockstep-tracer: unexpected record type ${type}`);
    }
  }

  private send(b: Buffer): void {
    let o = 0;
    while (o < b.length) o += fs.writeSync(this.cmd, b, o);
  }

  /** Starts a run of up to count instructions; read its records with next() until 'end' (or the program's end). */
  run(count: number, signal: number, allowSpecial: boolean): void {
    const b = Buffer.alloc(13);
    b.write('R', 0);
    b.writeUInt32LE(count, 1);
    b.writeUInt32LE(signal, 5);
    b.writeUInt32LE(allowSpecial ? 1 : 0, 9);
    this.send(b);
  }

  /** Makes native thread tid (of any followed process) the one that runs; returns its state (a 'step' record). */
  select(tid: number): TracerRecord {
    const b = Buffer.alloc(5);
    b.write('T', 0);
    b.writeUInt32LE(tid, 1);
    this.send(b);
    return this.next();
  }

  readMemory(addr: number, len: number): Uint8Array | null {
    const b = Buffer.alloc(13);
    b.write('M', 0);
    b.writeBigUInt64LE(BigInt(addr), 1);
    b.writeUInt32LE(len, 9);
    this.send(b);
    const type = this.u32(), n = this.u32();
    if (type !== DATA) throw new Error(`lockstep-tracer: expected data, got record ${type}`);
    return n === 0xffffffff ? null : this.bytes(n);
  }

  writeMemory(addr: number, data: Uint8Array): boolean {
    const b = Buffer.alloc(13 + data.length);
    b.write('W', 0);
    b.writeBigUInt64LE(BigInt(addr), 1);
    b.writeUInt32LE(data.length, 9);
    b.set(data, 13);
    this.send(b);
    const type = this.u32();
    this.u32();
    return type === ACK;
  }

  setRegisters(user: Uint8Array): boolean {
    const b = Buffer.alloc(1 + USER_REGS_SIZE);
    b.write('G', 0);
    b.set(user, 1);
    this.send(b);
    const type = this.u32();
    this.u32();
    return type === ACK;
  }

  /** Kills the program and waits for the tracer to go. */
  async close(): Promise<void> {
    try {
      this.send(Buffer.from('K'));
    } catch {
      // already gone
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          this.child.kill('SIGKILL');
          r();
        }, 2000);
        this.child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    for (const fd of [this.cmd, this.out]) if (fd >= 0) fs.closeSync(fd);
    this.cmd = this.out = -1;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
