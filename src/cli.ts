#!/usr/bin/env node
import { wasmStats } from './cpu/wasm/compile.js';
import { nestedReturns, regionEntries } from './cpu/wasm/chain.js';
import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { writeDiagnostic, writeStderrNow } from './kernel/files/elfshim-stderr.js';
import { ElfError } from './elf/index.js';
import { DEFAULT_CODE_CACHE_INSTRS, Engine, runStats, type EngineMode } from './cpu/engine.js';
import { Kernel } from './kernel/kernel.js';
import { shellDeathMessage } from './kernel/signals.js';
// The debugger side (gdb/, debug-target) is imported only by --gdb runs: a plain
// run starts faster without loading and evaluating those modules (startup is
// mostly module loading).
import type { GdbServer } from './gdb/server.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

interface CliOptions {
  strace?: boolean;
  straceFile?: string;
  env: string[];
  rootfs?: string;
  seed?: string;
  stats?: boolean;
  onUnimplemented: 'enosys' | 'sigsys' | 'stop';
  syscallReport?: boolean;
  memory?: string;
  maxTasks?: string;
  gdb?: string | boolean;
  gdbHost?: string;
  wait: boolean;
  engine: EngineMode;
  codeCache?: string;
  vdso: boolean;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** Parses sizes like 512M, 2G, 1048576. */
function parseSize(s: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s);
  if (!m || Number(m[1]) === 0) fail(`--memory: invalid size '${s}' (use e.g. 512M or 2G)`, 2);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

/** A positive whole number option (e.g. --max-tasks 64). */
function parseCount(s: string, option: string): number {
  if (!/^[1-9]\d{0,6}$/.test(s)) fail(`${option} expects a positive number, got '${s}'`, 2);
  return Number(s);
}

/** --seed: a whole number (decimal or 0x hex); anything else is refused, not silently random. */
function parseSeed(s: string): number {
  const n = /^(\d{1,15}|0x[0-9a-fA-F]{1,12})$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) fail(`--seed expects a whole number, got '${s}'`, 2);
  return n;
}

function fail(msg: string, status: number): never {
  process.stderr.write(`elfshim: ${msg}\n`);
  process.exit(status);
}

/** Builds the guest environment: the caller's, with -E overrides applied in order. */
function guestEnv(overrides: string[]): string[] {
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env.set(k, v);
  for (const kv of overrides) {
    const eq = kv.indexOf('=');
    if (eq <= 0) fail(`-E expects KEY=VALUE, got '${kv}'`, 2);
    env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** The path the guest sees for the program: inside --rootfs when the file is there. */
function guestPathOf(hostPath: string, rootfs: string | undefined): string {
  const abs = path.resolve(hostPath);
  if (!rootfs) return abs;
  const root = fs.realpathSync(rootfs);
  return abs.startsWith(root + '/') ? abs.slice(root.length) : abs;
}

async function runProgram(program: string, args: string[], o: CliOptions): Promise<never> {
  let hostPath = program;
  if (o.rootfs && path.isAbsolute(program) && !fs.existsSync(program)) hostPath = path.join(o.rootfs, program);
  let st: fs.Stats;
  try {
    st = fs.statSync(hostPath);
  } catch {
    fail(`${program}: No such file or directory`, 127);
  }
  if (st.isDirectory()) fail(`${program}: Is a directory`, 126);
  // execve(2) runs regular files only; reading a FIFO or a device would hang (or never end).
  if (!st.isFile()) fail(`${program}: Permission denied`, 126);
  try {
    fs.accessSync(hostPath, fs.constants.R_OK);
  } catch {
    fail(`${program}: Permission denied`, 126);
  }
  let straceOut: ((line: string) => void) | undefined;
  // DEBUG=elfshim:syscall is --strace through the debug logger (its prefix and timing), for
  // runs where elfshim is started by something else and only the environment can be set.
  // The logger is loaded only when DEBUG is set (the only place it reads its namespaces
  // from): creating one opens process.stderr, a stream a plain run does without.
  const syscallLog = !o.straceFile && !o.strace && process.env.DEBUG ? (await import('debug')).default('elfshim:syscall') : null;
  if (o.straceFile) {
    const fd = fs.openSync(o.straceFile, 'w');
    straceOut = (line) => fs.writeSync(fd, line + '\n');
  } else if (syscallLog?.enabled) {
    syscallLog.log = (...args: unknown[]) => writeDiagnostic(format(...args) + '\n');
    straceOut = (line) => syscallLog('%s', line);
  }
  const kernel = new Kernel({
    rootfs: o.rootfs ?? null,
    seed: o.seed !== undefined ? parseSeed(o.seed) : null,
    strace: !!(o.strace || o.straceFile || straceOut),
    ...(straceOut ? { straceOut } : {}),
    onUnimplemented: o.onUnimplemented,
    syscallReport: !!o.syscallReport,
    ...(o.memory !== undefined ? { memoryLimit: parseSize(o.memory) } : {}),
    ...(o.maxTasks !== undefined ? { maxTasks: parseCount(o.maxTasks, '--max-tasks') } : {}),
    engine: o.engine,
    ...(o.codeCache !== undefined ? { codeCacheInstrs: parseCount(o.codeCache, '--code-cache') } : {}),
    vdso: o.vdso,
    sharedPool: true, // this process runs one kernel, until it exits
  });
  const guestPath = guestPathOf(hostPath, o.rootfs);
  let first;
  try {
    first = kernel.spawn({ hostPath, guestPath, execfn: program, argv: [program, ...args], envp: guestEnv(o.env) });
  } catch (e) {
    if (e instanceof ElfError) fail(`${program}: ${e.message}`, 126);
    throw e;
  }
  // Before the server announces itself: a signal must never find Node's default disposition.
  let server: GdbServer | null = null;
  forwardHostSignals(kernel, () => server);
  if (o.gdb !== undefined) server = await startDebugServer(kernel, first, o);
  const started = process.hrtime.bigint();
  const status = await kernel.run();
  if (server) {
    // Let the stub send the exit reply (W/X) before the socket goes away, as gdbserver does.
    await new Promise((r) => setTimeout(r, 100));
    await server.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Our last lines, written at once (no process.stderr stream to set up) once the guest's
  // output went out; behind output stuck in a pipe nobody reads, a blocking write could
  // wait forever, so they are queued on process.stderr as before and may be lost.
  const say = status.outputStuck ? (text: string) => void process.stderr.write(text) : writeStderrNow;
  if (o.stats) {
    const n = kernel.instructions;
    const cpu = process.cpuUsage();
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    say(`elfshim: stats: instructions=${n} seconds=${seconds.toFixed(3)} mips=${(n / seconds / 1e6).toFixed(1)} cpu-seconds=${cpuSeconds.toFixed(3)} wasm-regions=${wasmStats.regions} js-regions=${wasmStats.declined} wasm-fallbacks=${wasmStats.fallbacks} translate-ms=${wasmStats.ms.toFixed(0)} region-calls=${runStats.regionCalls} region-entries=${regionEntries(kernel.phys)} nested-returns=${nestedReturns(kernel.phys)} slow-exits=${runStats.slowExits} interpreted=${runStats.interpreted}\n`);
  }
  if (o.syscallReport) say(kernel.syscallReport());
  // Like bash: a death by SIGPIPE (the reader went away) or SIGINT is not reported.
  if (status.signal && status.signal !== 13 && status.signal !== 2) say(`${shellDeathMessage(status.signal)}\n`); // no core file is written, so no "(core dumped)"
  if (status.outputStuck) {
    // A write blocked on a pipe nobody reads would hold up Node's exit (it joins its I/O threads):
    // end the way a process killed by that signal ends (the shell still sees 128+N).
    const sig = Object.entries(os.constants.signals).find(([, n]) => n === status.signal)?.[0] as NodeJS.Signals | undefined;
    if (sig && sig in HOST_SIGNALS) {
      process.removeAllListeners(sig);
      process.kill(process.pid, sig);
    }
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 500);
    return new Promise<never>(() => {}); // the signal ends the process
  }
  process.exit(status.code);
}

/** Signals sent to elfshim itself, by Linux number. */
const HOST_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * SIGINT, SIGTERM and SIGHUP to elfshim go to the guest, as they would to the
 * process it stands for: a handler runs, the default action ends it and
 * elfshim exits 128+N. A guest held for a debugger that is not connected
 * cannot take them, so it is ended at once.
 */
function forwardHostSignals(kernel: Kernel, server: () => GdbServer | null): void {
  for (const [name, sig] of Object.entries(HOST_SIGNALS)) {
    process.on(name, () => {
      const main = kernel.main;
      if (!main || main.exitCode !== null) return;
      if (kernel.debug && !server()?.connected) kernel.killProcess(main, sig);
      else kernel.sendSignal(main, sig);
      kernel.wakeScheduler();
    });
  }
}

/** --gdb: the debug run. The guest waits before its first instruction unless --no-wait. */
async function startDebugServer(kernel: Kernel, first: import('./kernel/task.js').Task, o: CliOptions): Promise<GdbServer> {
  const [{ DebugController }, { startGdbServer }, { parseListenAddress, DEFAULT_HOST }] = await Promise.all([
    import('./kernel/debug-target.js'),
    import('./gdb/server.js'),
    import('./gdb/server-address.js'),
  ]);
  const spec = typeof o.gdb === 'string' ? o.gdb : '1234';
  const addr = parseListenAddress(spec);
  if (!addr) fail(`--gdb: cannot parse '${spec}' (use PORT, HOST:PORT or unix:/PATH)`, 2);
  const ctl = new DebugController(kernel, first);
  if (o.wait) kernel.attachDebugger(ctl);
  else ctl.paused = false;
  const log = (m: string) => process.stderr.write(`elfshim: ${m}\n`);
  const host = 'unixPath' in addr ? undefined : o.gdbHost ?? addr.host;
  try {
    return await startGdbServer({
      ...('unixPath' in addr ? { unixPath: addr.unixPath } : { host: host ?? DEFAULT_HOST, port: addr.port }),
      target: ctl,
      waitForAttach: o.wait,
      log,
    });
  } catch (e) {
    // Name the host too: with --gdb-host the port alone hides which address failed.
    const where = 'unixPath' in addr ? spec : `${host?.includes(':') ? `[${host}]` : host}:${addr.port}`;
    fail(`--gdb: cannot listen on ${where}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
}

function main(): void {
  const program = new Command();
  program
    .name('elfshim')
    .description('Run an unmodified Linux x86-64 ELF program on a TypeScript emulator.')
    .version(version, '--version')
    .usage('[options] <program> [args...]')
    .enablePositionalOptions()
    .passThroughOptions()
    .argument('<program>', 'the ELF program to run (or "syscalls" to list the shim\'s coverage)')
    .argument('[args...]', 'arguments for the guest, passed untouched')
    .option('--strace', 'print one line per system call on stderr')
    .option('--strace-file <file>', 'write the strace lines to a file instead')
    .option('-E, --env <KEY=VALUE>', 'set a guest environment variable (repeatable)', collect, [])
    .option('--rootfs <dir>', "the guest's root directory (default: the host's /)")
    .option('--seed <n>', 'fix AT_RANDOM and getrandom for reproducible runs')
    .option('--stats', 'print instructions executed and guest MIPS at exit')
    .addOption(new Option('--on-unimplemented <mode>', 'what an unimplemented syscall does').choices(['enosys', 'sigsys', 'stop']).default('enosys'))
    .option('--syscall-report', 'print a table of the syscalls the guest made at exit')
    .option('--memory <size>', 'cap guest memory (e.g. 512M): mmap/brk fail with ENOMEM beyond it')
    .option('--max-tasks <n>', 'cap guest threads + processes (default 256): fork/clone fail with EAGAIN beyond it')
    .addOption(
      new Option('--engine <mode>', 'jit: translate hot code to JavaScript; interp: the reference interpreter (also ELFSHIM_ENGINE=interp)')
        .choices(['jit', 'interp'])
        .default(Engine.defaultMode),
    )
    .option('--no-vdso', 'no vDSO for the guest (no AT_SYSINFO_EHDR), like Linux booted with vdso=0')
    .option('--code-cache <n>', `decoded instructions kept per address space before the code cache is flushed (default ${DEFAULT_CODE_CACHE_INSTRS})`)
    .option('--gdb [port]', 'debug run: wait for gdb on 127.0.0.1:PORT (default 1234; also HOST:PORT or unix:/PATH); DEBUG=elfshim:gdb logs the packets')
    .option('--gdb-host <addr>', 'address to listen on for gdb (default 127.0.0.1; others get a warning)')
    .option('--no-wait', 'with --gdb: start the guest at once; a debugger may attach later')
    .action(async (prog: string, args: string[], opts: CliOptions) => {
      if (prog === 'syscalls' && !fs.existsSync(prog)) {
        const { runSyscallsCommand } = await import('./kernel/coverage-command.js');
        process.exitCode = runSyscallsCommand(args); // no process.exit: let stdout drain
        return;
      }
      await runProgram(prog, args, opts);
    });
  program.parseAsync(process.argv).catch((e: unknown) => {
    fail(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, 70);
  });
}

main();
