// Running a guest natively and under elfshim, and comparing the two runs.
// Shared by test/run-*.test.ts and test/busybox.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export interface RunOptions {
  /** Bytes fed to stdin (stdin is an empty pipe when absent). */
  input?: string | Buffer;
  /** Variables added to (or overriding) this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Kill (SIGKILL) after this long; the result then has timedOut = true. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: Buffer;
  /** Exit status, or null when killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/** The repository root: the nearest ancestor holding elfshim's package.json. */
export const repoRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'elfshim') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the elfshim repository root');
    dir = parent;
  }
})();

/** dist/cli.js; ELFSHIM_CLI overrides it (e.g. to test an installed copy). */
export const cliPath = process.env.ELFSHIM_CLI ?? path.join(repoRoot, 'dist', 'cli.js');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');

export const NATIVE_TIMEOUT_MS = 30_000;
/** Generous: the emulator is ~50x slower than native and the machine is shared. */
export const ELFSHIM_TIMEOUT_MS = 180_000;

/** Runs any program; never rejects for a non-zero exit, a signal or a timeout. */
export function runProcess(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? NATIVE_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    // A guest that exits without reading its input makes our write fail with EPIPE: not an error.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), status, signal, timedOut });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** `node dist/cli.js ...args`. */
export function runElfshim(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProcess(process.execPath, [cliPath, ...args], { timeoutMs: ELFSHIM_TIMEOUT_MS, ...opts });
}

export function runNative(program: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProcess(program, args, { timeoutMs: NATIVE_TIMEOUT_MS, ...opts });
}

/** The status a shell reports: the exit status, or 128 + signal number. */
export function shellStatus(r: RunResult): number {
  if (r.status !== null) return r.status;
  const signo = r.signal ? osConstants.signals[r.signal] : undefined;
  return signo === undefined ? -1 : 128 + signo;
}

/** What a shell prints for a guest killed by a signal (strsignal wording). */
export const signalDescriptions: Readonly<Record<string, string>> = {
  SIGSEGV: 'Segmentation fault',
  SIGABRT: 'Aborted',
  SIGFPE: 'Floating point exception',
  SIGILL: 'Illegal instruction',
  SIGBUS: 'Bus error',
  SIGTRAP: 'Trace/breakpoint trap',
  SIGKILL: 'Killed',
  SIGTERM: 'Terminated',
  SIGSYS: 'Bad system call',
  SIGPIPE: 'Broken pipe',
};

/** "fixtures/build/<variant>/<name>" as an absolute path. */
export function fixturePath(variant: string, name: string): string {
  return path.join(fixturesDir, 'build', variant, name);
}

/** Fails with a useful message when a fixture binary was not built. */
export function requireFile(file: string): void {
  assert.ok(existsSync(file), `${file} does not exist — build the fixtures: npm run fixtures`);
}

export function requireElfshim(): void {
  assert.ok(existsSync(cliPath), `${cliPath} does not exist — build elfshim: npm run build`);
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'elfshim-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const show = (b: Buffer) => JSON.stringify(b.toString('latin1'));

/** Where two outputs first differ, with the surrounding lines of both; '' if equal. */
export function describeDifference(what: string, expected: Buffer, actual: Buffer): string {
  if (expected.equals(actual)) return '';
  let at = 0;
  while (at < expected.length && at < actual.length && expected[at] === actual[at]) at++;
  const line = expected.subarray(0, at).toString('latin1').split('\n').length;
  const lineStart = at === 0 ? 0 : expected.lastIndexOf(10, at - 1) + 1; // (a negative offset would count from the end)
  const from = Math.max(lineStart, at - 200);
  const window = (b: Buffer) => b.subarray(from, Math.min(b.length, at + 200));
  return (
    `${what} differs at byte ${at} (line ${line}); native ${expected.length} bytes, ` +
    `elfshim ${actual.length} bytes\n  native : ${show(window(expected))}\n  elfshim: ${show(window(actual))}`
  );
}

/** The tail of a stream, for failure messages. */
export function tail(b: Buffer, max = 2000): string {
  const s = b.toString('utf8');
  return s.length > max ? '…' + s.slice(-max) : s;
}

export interface CompareOptions extends Omit<RunOptions, 'timeoutMs'> {
  /** Replace the string '{tmp}' in args by a fresh empty directory — a different one per side. */
  tempDir?: boolean;
  /** Compare stderr byte for byte (default true); turn off where it is not deterministic. */
  compareStderr?: boolean;
  /** elfshim options placed before the program (e.g. ['-E', 'K=V']). */
  elfshimOptions?: string[];
  /** Extra environment for the native side only (what -E gives the guest under elfshim). */
  nativeEnv?: Record<string, string>;
  nativeTimeoutMs?: number;
  elfshimTimeoutMs?: number;
  /** Run the native side with ASLR off (`setarch -R`), for output that prints addresses. */
  nativeNoAslr?: boolean;
  /**
   * Lines (matching this) whose hexadecimal floats (%a/%La) may differ in the last
   * hex digit by one: the x87 transcendental instructions (fyl2x, fsin …) are
   * correctly rounded in elfshim, while the hardware's own results can be one ulp
   * off (see docs/ARCHITECTURE.md). Everything else on those lines must match.
   */
  ulpTolerantLines?: RegExp;
}

/** Whether two lines differ only by one ulp in the last digit of their hex-float significands. */
function withinOneUlp(a: string, b: string): boolean {
  const hexA = a.match(/0x[0-9a-f.]+p[+-]\d+/g) ?? [];
  const hexB = b.match(/0x[0-9a-f.]+p[+-]\d+/g) ?? [];
  if (hexA.length !== hexB.length || hexA.length === 0) return false;
  for (let k = 0; k < hexA.length; k++) {
    const [ma, ea] = hexA[k].slice(2).split('p');
    const [mb, eb] = hexB[k].slice(2).split('p');
    if (ea !== eb || ma.length !== mb.length) return false;
    const da = BigInt('0x' + ma.replace('.', '')), db = BigInt('0x' + mb.replace('.', ''));
    // One ulp is 1 in the last digit for glibc's 0x8.…p form, 2 for musl's 0x1.…p form (63 fraction bits in 16 digits).
    if (da - db > 2n || db - da > 2n) return false;
  }
  return true;
}

/** Replaces elfshim's tolerated lines by the native ones when they agree within one ulp. */
function applyUlpTolerance(native: Buffer, elfshim: Buffer, pattern: RegExp): Buffer {
  const n = native.toString('utf8').split('\n');
  const e = elfshim.toString('utf8').split('\n');
  if (n.length !== e.length) return elfshim;
  for (let k = 0; k < e.length; k++) {
    if (n[k] !== e[k] && pattern.test(n[k]) && withinOneUlp(n[k], e[k])) e[k] = n[k];
  }
  return Buffer.from(e.join('\n'), 'utf8');
}

export interface Comparison {
  native: RunResult;
  elfshim: RunResult;
}

/**
 * Runs `binary args` natively and under elfshim and asserts the same stdout bytes and the
 * same exit status (a guest killed by a signal: status 128+N and the shell's message on
 * stderr after the guest's own output), and, unless turned off, the same stderr.
 */
export async function compareWithNative(
  t: TestContext,
  binary: string,
  args: readonly string[] = [],
  opts: CompareOptions = {},
): Promise<Comparison> {
  requireFile(binary);
  requireElfshim();
  const argsFor = (side: string) =>
    opts.tempDir ? args.map((a) => a.replaceAll('{tmp}', tempDir(t, `elfshim-${side}-`))) : [...args];
  const common = { input: opts.input, env: opts.env, cwd: opts.cwd };

  const nativeArgs = argsFor('native');
  const native = await runNative(opts.nativeNoAslr ? 'setarch' : binary, opts.nativeNoAslr ? ['-R', binary, ...nativeArgs] : nativeArgs, {
    ...common,
    env: { ...opts.env, ...opts.nativeEnv },
    ...(opts.nativeTimeoutMs !== undefined ? { timeoutMs: opts.nativeTimeoutMs } : {}),
  });
  assert.ok(!native.timedOut, `native run of ${binary} timed out`);
  const elfshim = await runElfshim([...(opts.elfshimOptions ?? []), binary, ...argsFor('elfshim')], {
    ...common,
    ...(opts.elfshimTimeoutMs !== undefined ? { timeoutMs: opts.elfshimTimeoutMs } : {}),
  });
  const context = `elfshim ${[...(opts.elfshimOptions ?? []), binary, ...args].join(' ')}`;
  // elfshim's own one-line notices about syscalls it lacks are not the guest's output.
  elfshim.stderr = Buffer.from(elfshim.stderr.toString('latin1').replace(/^elfshim: unimplemented syscall [^\n]*\n/gm, ''), 'latin1');
  assert.ok(!elfshim.timedOut, `${context}: timed out\nstderr: ${tail(elfshim.stderr)}`);

  if (opts.ulpTolerantLines) elfshim.stdout = applyUlpTolerance(native.stdout, elfshim.stdout, opts.ulpTolerantLines);
  const stdoutDiff = describeDifference('stdout', native.stdout, elfshim.stdout);
  if (stdoutDiff) assert.fail(`${context}: ${stdoutDiff}\nelfshim stderr: ${tail(elfshim.stderr)}`);
  assert.equal(elfshim.signal, null, `${context}: elfshim itself was killed by ${elfshim.signal}`);
  assert.equal(
    elfshim.status,
    shellStatus(native),
    `${context}: exit status ${elfshim.status}, native ${shellStatus(native)}` +
      (native.signal ? ` (${native.signal})` : '') +
      `\nelfshim stderr: ${tail(elfshim.stderr)}`,
  );

  if (native.signal) {
    // The guest's own stderr, then the shell-style report of the signal.
    const description = signalDescriptions[native.signal] ?? native.signal;
    const ownDiff = describeDifference('stderr', native.stderr, elfshim.stderr.subarray(0, native.stderr.length));
    if (ownDiff) assert.fail(`${context}: ${ownDiff}`);
    const report = elfshim.stderr.subarray(native.stderr.length).toString('utf8');
    assert.ok(report.includes(description), `${context}: stderr should report '${description}', got ${JSON.stringify(report)}`);
  } else if (opts.compareStderr ?? true) {
    const stderrDiff = describeDifference('stderr', native.stderr, elfshim.stderr);
    if (stderrDiff) assert.fail(`${context}: ${stderrDiff}`);
  }
  return { native, elfshim };
}
