import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RspClient } from './rsp-client.js';
import { readRegisterLayout, type RegisterLayout, type RegisterSlot } from './register-layout.js';
import { pinnedCpu } from './pinned-cpu.js';

/** How a step or a resume ended, from the stop reply. */
export type StopInfo =
  | { kind: 'signal'; signal: number; raw: string }
  | { kind: 'exited'; code: number; raw: string }
  | { kind: 'killed'; signal: number; raw: string };

export function parseStop(reply: string): StopInfo {
  if (reply[0] === 'T' || reply[0] === 'S') return { kind: 'signal', signal: parseInt(reply.slice(1, 3), 16), raw: reply };
  if (reply[0] === 'W') return { kind: 'exited', code: parseInt(reply.slice(1, 3), 16), raw: reply };
  if (reply[0] === 'X') return { kind: 'killed', signal: parseInt(reply.slice(1, 3), 16), raw: reply };
  throw new Error(`unexpected stop reply ${JSON.stringify(reply)}`);
}

/** A register file snapshot: the `g` bytes read through the side's own layout. */
export class Registers {
  constructor(
    readonly layout: RegisterLayout,
    readonly bytes: Uint8Array,
  ) {}

  has(name: string): boolean {
    const s = this.layout.get(name);
    return !!s && s.offset >= 0 && s.offset + s.size <= this.bytes.length;
  }
  raw(name: string): Uint8Array {
    const s = this.slot(name);
    return this.bytes.subarray(s.offset, s.offset + s.size);
  }
  /** A register of up to 8 bytes as a bigint (unsigned). */
  big(name: string): bigint {
    const b = this.raw(name);
    let v = 0n;
    for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
    return v;
  }
  /** A register of up to 8 bytes as a number (exact below 2^53: addresses, flags). Hot in the differ: no BigInt. */
  num(name: string): number {
    const s = this.slot(name), b = this.bytes, o = s.offset;
    let v = 0;
    for (let k = Math.min(s.size, 8) - 1; k >= 0; k--) v = v * 256 + b[o + k];
    return v;
  }
  private slot(name: string): RegisterSlot {
    const s = this.layout.get(name);
    if (!s) throw new Error(`no register ${name}`);
    return s;
  }
}

/** Syscalls to intercept while running freely: entry() adjusts the arguments and returns how to undo that. */
export interface SyscallHook {
  numbers: number[];
  entry(regs: Registers): Promise<(() => Promise<void>) | null>;
}

/** Where a debugged program runs: natively under gdbserver, or under elfshim's stub. */
export type SideKind = 'native' | 'elfshim';

export interface SideOptions {
  kind: SideKind;
  program: string;
  args: string[];
  env: Record<string, string>;
  /** File given to the program as stdin (default /dev/null). */
  stdin?: string;
  /** elfshim's CLI (dist/cli.js) and extra options for it. */
  elfshimCli?: string;
  elfshimArgs?: string[];
  nodeArgs?: string[];
}

/** Asks the OS for a free TCP port (gdbserver wants a number). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * One debugged process: spawns it, connects over RSP, and offers the
 * operations the differ needs (step, registers, memory).
 */
export class Side {
  output = '';
  /** How the debug server process ended (once it has). */
  exitStatus = '';
  private cleanup = () => {};
  private exitPromise: Promise<void>;

  private constructor(
    readonly kind: SideKind,
    readonly child: ChildProcess,
    readonly rsp: RspClient,
    readonly layout: RegisterLayout,
    /** The stop reply to `?` (the state before the first instruction). */
    readonly initialStop: string,
  ) {
    this.exitPromise = new Promise((r) =>
      child.once('exit', (code, sig) => {
        this.exitStatus = sig ? `killed by ${sig}` : `exit status ${code}`;
        r();
      }),
    );
  }

  static async start(o: SideOptions): Promise<Side> {
    const stdinFd = fs.openSync(o.stdin ?? '/dev/null', 'r');
    let child: ChildProcess;
    let where: number | string;
    let cleanup = () => {};
    let output = '';
    if (o.kind === 'native') {
      const port = await freePort();
      where = port;
      // Pinned to one CPU, as the fast transport's tracer runs it (see pinned-cpu.ts).
      child = spawn('taskset', ['-c', String(pinnedCpu()), 'gdbserver', '--once', '--no-startup-with-shell', `127.0.0.1:${port}`, o.program, ...o.args], {
        env: o.env,
        stdio: [stdinFd, 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => (output += d.toString('latin1')));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString('latin1')));
    } else {
      // A unix socket: cheaper than TCP loopback per packet, and the step rate is bound by packets.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-'));
      where = path.join(dir, 'gdb.sock');
      cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
      child = spawn(process.execPath, [...(o.nodeArgs ?? []), o.elfshimCli!, ...(o.elfshimArgs ?? []), '--gdb', `unix:${where}`, o.program, ...o.args], {
        env: o.env,
        stdio: [stdinFd, 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => (output += d.toString('latin1')));
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const onData = (d: Buffer) => {
          err += d.toString('latin1');
          if (/gdb: waiting for a debugger/.test(err)) resolve();
        };
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`elfshim exited (${code}) before listening: ${err.trim()}`)));
      });
      child.stderr!.on('data', (d: Buffer) => (output += d.toString('latin1')));
    }
    fs.closeSync(stdinFd);
    // A server that cannot start (gdbserver missing, a bad program) ends the wait for its socket.
    const died = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`${o.kind === 'native' ? 'gdbserver' : 'elfshim'}: ${e.message}`)));
      child.once('exit', (code) => reject(new Error(`${o.kind === 'native' ? 'gdbserver' : 'elfshim'} exited (status ${code}) before a debugger connected: ${output.trim().split('\n').slice(-3).join(' | ')}`)));
    });
    died.catch(() => {});
    const rsp = await Promise.race([RspClient.connect(where, o.kind), died]);
    const stop = await rsp.handshake();
    const layout = await readRegisterLayout(rsp);
    const side = new Side(o.kind, child, rsp, layout, stop);
    side.cleanup = cleanup;
    side.output = output;
    child.stdout!.on('data', (d: Buffer) => (side.output += d.toString('latin1')));
    child.stderr!.on('data', (d: Buffer) => (side.output += d.toString('latin1')));
    return side;
  }

  /** What the program printed, without the debug server's own messages. */
  programOutput(): string {
    const chatter =
      this.kind === 'native'
        ? /^(Process .* created; pid = \d+|Listening on port \d+|Remote debugging from host .*|Killing all inferiors|Detaching from process \d+)\n/gm
        : /^elfshim: .*\n/gm;
    // gdbserver announces the exit as "\nChild exited with status N\n".
    const exit = this.kind === 'native' ? /\n(Child exited with status \d+|Child terminated with signal = .*)\n/g : /$^/;
    return this.output.replace(chatter, '').replace(exit, '');
  }

  /** Single-steps one instruction, delivering signal (gdb numbering) if non-zero. */
  async step(signal = 0): Promise<StopInfo> {
    return parseStop(await this.rsp.request(signal ? `vCont;S${signal.toString(16).padStart(2, '0')}` : 'vCont;s'));
  }

  /**
   * Resumes until execution reaches addr with the stack pointer at rsp (the
   * return from a signal handler to the interrupted instruction). Signals on
   * the way are passed to the program. Returns the final stop.
   */
  async runTo(addr: number, rsp: number, syscalls?: SyscallHook): Promise<StopInfo> {
    const z = `${addr.toString(16)},1`;
    let signal = 0;
    if (syscalls) {
      const r = await this.rsp.request(`QCatchSyscalls:1;${syscalls.numbers.map((n) => n.toString(16)).join(';')}`);
      if (r !== 'OK') throw new Error(`${this.kind}: QCatchSyscalls failed: ${r}`);
    }
    let undo: (() => Promise<void>) | null = null;
    try {
      for (;;) {
        if ((await this.rsp.request(`Z0,${z}`)) !== 'OK') throw new Error(`${this.kind}: cannot set a breakpoint at 0x${addr.toString(16)}`);
        const reply = await this.rsp.request(signal ? `vCont;C${signal.toString(16).padStart(2, '0')}` : 'vCont;c');
        const stop = parseStop(reply);
        if (stop.kind !== 'signal') return stop;
        await this.rsp.request(`z0,${z}`);
        signal = 0;
        if (syscalls && /syscall_entry:/.test(reply)) {
          undo = await syscalls.entry(await this.registers());
          continue;
        }
        if (/syscall_return:/.test(reply)) {
          await undo?.();
          undo = null;
          continue;
        }
        if (stop.signal !== 5) {
          signal = stop.signal;
          continue;
        }
        const r = await this.registers();
        if (r.num('rip') === addr && r.num('rsp') === rsp) return stop;
        // The handler runs this code itself (deeper in the stack): step off the breakpoint and go on.
        const st = await this.step();
        if (st.kind !== 'signal') return st;
        if (st.signal !== 5) signal = st.signal;
      }
    } finally {
      if (syscalls && !this.rsp.isClosed) await this.rsp.request('QCatchSyscalls:0').catch(() => '');
    }
  }

  /**
   * A step and the registers after it. elfshim's stub queues packets, so
   * both go out together (one round trip instead of two); gdbserver gets
   * them one by one. Registers are null when the process is gone.
   */
  async stepAndRegisters(signal = 0): Promise<[StopInfo, Registers | null]> {
    const step = signal ? `vCont;S${signal.toString(16).padStart(2, '0')}` : 'vCont;s';
    if (this.kind === 'elfshim') {
      const [st, g] = await this.rsp.requestMany([step, 'g']);
      const stop = parseStop(st);
      return [stop, stop.kind === 'signal' ? this.parseRegisters(g) : null];
    }
    const stop = parseStop(await this.rsp.request(step));
    return [stop, stop.kind === 'signal' ? await this.registers() : null];
  }

  async registers(): Promise<Registers> {
    return this.parseRegisters(await this.rsp.request('g'));
  }

  private parseRegisters(r: string): Registers {
    if (r[0] === 'E' && r.length === 3) throw new Error(`${this.kind}: g failed: ${r}`);
    // Unavailable registers are "xx": read them as zero.
    return new Registers(this.layout, Buffer.from(r.replace(/x/g, '0'), 'hex'));
  }

  /** gdbserver has no `P` for amd64: then registers are written as read-modify-write of the `g` block. */
  private noP = false;

  async writeRegister(name: string, value: Uint8Array): Promise<void> {
    const s = this.layout.get(name);
    if (!s) throw new Error(`${this.kind}: no register ${name}`);
    if (!this.noP) {
      const r = await this.rsp.request(`P${s.regnum.toString(16)}=${Buffer.from(value).toString('hex')}`);
      if (r === 'OK') return;
      if (r !== '') throw new Error(`${this.kind}: writing ${name} failed: ${r}`);
      this.noP = true;
    }
    const g = await this.rsp.request('g');
    const bytes = Buffer.from(g, 'hex');
    if (s.offset + s.size > bytes.length) throw new Error(`${this.kind}: ${name} is not in the g packet`);
    bytes.set(value.subarray(0, s.size), s.offset);
    const r = await this.rsp.request(`G${bytes.toString('hex')}`);
    if (r !== 'OK') throw new Error(`${this.kind}: writing ${name} (G) failed: ${r}`);
  }

  readMemory(addr: number, len: number): Promise<Uint8Array | null> {
    return this.rsp.readMemory(addr, len);
  }
  writeMemory(addr: number, data: Uint8Array): Promise<boolean> {
    return this.rsp.writeMemory(addr, data);
  }

  /** Kills the process and waits (briefly) for it to go. */
  async close(): Promise<void> {
    if (!this.rsp.isClosed) {
      this.rsp.request('k').catch(() => {});
      await new Promise((r) => setTimeout(r, 20));
      this.rsp.close();
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 1000);
      await this.exitPromise;
      clearTimeout(t);
    }
    this.cleanup();
  }
}
