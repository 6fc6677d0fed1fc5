// A running `elfshim` process for the hardening tests: its output as it comes,
// waiting for a line, its exit, and what /proc says about its memory and CPU.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI, GUEST_ENV } from './gdb-run.js';

export class CliProc {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: Array<() => void> = [];

  /**
   * wrap: a command that execs elfshim in its place (its last element is the
   * node binary; CLI and args are appended), e.g. to change its stdout first.
   */
  constructor(args: string[], opts: { env?: Record<string, string>; stdin?: 'ignore' | 'pipe'; pipeStdout?: boolean; wrap?: string[] } = {}) {
    const [cmd, ...pre] = opts.wrap ?? [process.execPath];
    this.child = spawn(cmd, [...pre, CLI, ...args], {
      stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
      env: { ...GUEST_ENV, ...opts.env },
    });
    if (opts.pipeStdout !== false) this.child.stdout!.on('data', (d: Buffer) => ((this.out += d.toString('latin1')), this.poke()));
    this.child.stderr!.on('data', (d: Buffer) => ((this.err += d.toString()), this.poke()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => (this.poke(), resolve({ code, signal }))));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private poke(): void {
    for (const l of this.listeners.splice(0)) l();
  }

  /** Resolves with the first match of re in stderr (or stdout with where='out'); rejects when elfshim exits first or after timeoutMs. */
  async waitFor(re: RegExp, where: 'err' | 'out' = 'err', timeoutMs = 60_000): Promise<RegExpExecArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(where === 'err' ? this.err : this.out);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`elfshim exited before ${re}: ${this.err}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${re}: ${this.err}`);
      await new Promise<void>((r) => {
        this.listeners.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** The TCP port from the "waiting for a debugger on HOST:PORT" line. */
  async port(): Promise<number> {
    return Number((await this.waitFor(/(?:listening on|debugger on) \S*:(\d+)/))[1]);
  }

  /** Resident and peak resident memory (bytes), from /proc. */
  memory(): { rss: number; peak: number } {
    const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }

  /** CPU time used so far (clock ticks). */
  cpuTicks(): number {
    const f = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  }

  /** Waits until elfshim stops using CPU (no tick for a while): whatever it was doing is done. */
  async idle(quietMs = 400, timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = this.cpuTicks();
    for (;;) {
      await new Promise((r) => setTimeout(r, quietMs));
      const now = this.cpuTicks();
      if (now === last || Date.now() > until) return;
      last = now;
    }
  }

  kill(sig: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
  }
}
