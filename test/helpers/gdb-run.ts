import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Project root (dist-test/test/helpers → three levels up). */
export const ROOT = path.resolve(here, '../../..');
export const CLI = process.env.ELFSHIM_CLI ?? path.join(ROOT, 'dist/cli.js');

/** A small fixed environment, so that stack addresses agree between elfshim and native runs. */
export const GUEST_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' };

export function haveGdb(): boolean {
  return spawnSync('gdb', ['--version']).status === 0;
}

export interface GdbRun {
  /** What gdb printed (stdout and stderr interleaved as gdb wrote them). */
  gdb: string;
  /** The guest's stdout (through elfshim). */
  guestOut: string;
  /** elfshim's stderr. */
  elfshimErr: string;
  elfshimStatus: number | null;
}

/** Starts `elfshim --gdb 0 [extra] program args` and resolves with it and the port it listens on. */
export async function startStub(program: string, args: string[], extra: string[] = [], env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number; out: () => string; err: () => string }> {
  const child = spawn(process.execPath, [CLI, '--gdb', '0', ...extra, program, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...GUEST_ENV, ...env } });
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`elfshim did not start listening: ${err}`)), 15000);
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', () => reject(new Error(`elfshim exited early: ${err}`)));
  });
  return { child, port, out: () => out, err: () => err };
}

/**
 * Runs gdb in batch mode against a fresh `elfshim --gdb` of program: connects,
 * runs the commands, and returns what everyone printed. interruptAfterMs
 * sends SIGINT to gdb (Ctrl-C) once, that long after gdb's first continue reached the stub.
 */
export async function runGdb(
  program: string,
  args: string[],
  commands: string[],
  /** env: added to elfshim's (and so the guest's) environment, GUEST_ENV. */
  opts: { extra?: string[]; interruptAfterMs?: number; timeoutMs?: number; connectDelayMs?: number; env?: Record<string, string> } = {},
): Promise<GdbRun> {
  const env = opts.interruptAfterMs === undefined ? opts.env : { ...opts.env, DEBUG: 'elfshim:gdb' };
  const stub = await startStub(program, args, opts.extra, env);
  if (opts.connectDelayMs) await new Promise((r) => setTimeout(r, opts.connectDelayMs));
  const gdbArgs = ['-batch', '-nx', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', `target remote 127.0.0.1:${stub.port}`];
  for (const c of commands) gdbArgs.push('-ex', c);
  gdbArgs.push(program);
  const { gdb, text } = spawnGdb(gdbArgs);
  if (opts.interruptAfterMs !== undefined) {
    // Counted from the stub's receipt of gdb's first continue (its packet log): a timer from the start
    // could fire before gdb has even connected on a loaded machine.
    const ms = opts.interruptAfterMs;
    const watch = setInterval(() => {
      if (!/<- "vCont;c/.test(stub.err())) return;
      clearInterval(watch);
      setTimeout(() => gdb.kill('SIGINT'), ms);
    }, 20);
    gdb.on('close', () => clearInterval(watch));
  }
  const killer = setTimeout(() => {
    gdb.kill('SIGKILL');
    stub.child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60000);
  await new Promise((r) => gdb.on('close', r));
  const status = await new Promise<number | null>((resolve) => {
    if (stub.child.exitCode !== null) return resolve(stub.child.exitCode);
    const t = setTimeout(() => {
      stub.child.kill('SIGKILL');
    }, 10000);
    stub.child.on('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
  clearTimeout(killer);
  return { gdb: text(), guestOut: stub.out(), elfshimErr: stub.err(), elfshimStatus: status };
}

/**
 * Starts gdb with its stderr on its stdout pipe: one stream, in the order gdb
 * wrote it. (Two pipes read separately interleave by chance: an error line
 * could land before or after the stdout text around it.)
 */
export function spawnGdb(gdbArgs: string[]): { gdb: ChildProcess; text: () => string } {
  const gdb = spawn('sh', ['-c', 'exec gdb "$@" 2>&1', 'sh', ...gdbArgs], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  gdb.stdout!.on('data', (d) => (text += d));
  return { gdb, text: () => text };
}

/** Runs the same gdb commands against the program under Debian's gdbserver (the reference behaviour). */
export async function runGdbserver(program: string, args: string[], commands: string[], env: Record<string, string> = {}): Promise<{ gdb: string; guestOut: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn('gdbserver', ['--once', '--no-startup-with-shell', `127.0.0.1:${port}`, program, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...GUEST_ENV, ...env } });
  let serr = '', sout = '';
  server.stderr!.on('data', (d) => (serr += d));
  server.stdout!.on('data', (d) => (sout += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gdbserver did not start: ${serr}`)), 10000);
    server.stderr!.on('data', () => {
      if (serr.includes('Listening on port')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const gdbArgs = ['-batch', '-nx', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) gdbArgs.push('-ex', c);
  gdbArgs.push(program);
  const { gdb, text } = spawnGdb(gdbArgs);
  await new Promise((r) => gdb.on('close', r));
  await new Promise((r) => (server.exitCode !== null ? r(null) : setTimeout(r, 2000)));
  server.kill('SIGKILL');
  return { gdb: text(), guestOut: sout };
}

export function haveGdbserver(): boolean {
  return spawnSync('gdbserver', ['--version']).status === 0;
}

/** Lines that differ between any two runs (pids, connection banners) are normalised or dropped. */
export function normaliseGdb(text: string): string[] {
  return text
    .split('\n')
    // Only lines that are about the transport or the host differ legitimately; any other
    // warning (e.g. a malformed library list) must show up in a comparison.
    .filter((l) => !/^(Remote debugging using|Reading |warning: (File transfers from remote targets|Unable to find libthread_db|Can't open file .*during file-backed mapping)|Download failed|This GDB supports|Debuginfod|Process .* created|Listening on|Remote debugging from)/.test(l))
    .map((l) => l.replace(/process \d+/g, 'process N').replace(/Thread \d+\.\d+/g, 'Thread N').replace(/\s+$/, ''))
    .filter((l) => l !== '');
}
