import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLockstep, type LockstepOptions, type LockstepResult } from './differ.js';
import { runFastLockstep } from './fast/fast-differ.js';
import { formatSummary } from './report.js';

const USAGE = `usage: scripts/lockstep [options] PROGRAM [ARGS...]

Runs PROGRAM natively under gdbserver and under elfshim's gdb stub, single-steps
both and compares registers (GPRs, rip, defined eflags bits, fs_base, xmm0-15,
mxcsr, x87 stack/control/status/tag) and the memory each instruction wrote.
Reports the first divergence, or how many instructions were compared.

options:
  --max N             stop after N instructions (default: run to the end)
  --env K=V           environment variable for both runs (repeatable; the
                      environment is otherwise empty)
  --stdin FILE        stdin of both runs (default /dev/null)
  --x87-pointers      also compare fiseg/fioff/foseg/fooff/fop
  --keep-native-stack do not give the native process elfshim's initial stack
  --elfshim-arg ARG   extra option for elfshim (repeatable), e.g. --seed=1; with
                      --fast only --on-unimplemented=enosys|sigsys
  --fast              the fast transport: the native run under a ptrace tracer
                      (test/fixtures/build/tools/lockstep-tracer, built by
                      scripts/build-fixtures.sh) and elfshim in this process;
                      memory writes are checked at the end of each batch
  --batch N           instructions per batch with --fast (default 4096)
  --vdso              with --fast: both runs with elfshim's vDSO (the native
                      process gets its image; default: neither has one)
  --work-dirs         with --fast: each run starts in its own empty temporary
                      directory (for programs that write files where they run)
  --progress N        print a line every N instructions
  --show-output       print both programs' output at the end
  --trace             print every step's address and stop replies (stderr)
  -h, --help          this text

exit status: 0 no divergence, 1 divergence, 2 usage or setup error`;

function fail(msg: string): never {
  process.stderr.write(`lockstep: ${msg}\n`);
  process.exit(2);
}

export async function main(argv: string[]): Promise<number> {
  const env: Record<string, string> = {};
  const elfshimArgs: string[] = [];
  let max: number | undefined, stdin: string | undefined, progress = 0;
  let x87Pointers = false, keepStack = false, showOutput = false, trace = false, fast = false, batch = 4096, workDirs = false, vdso = false;
  let k = 0;
  const value = (opt: string): string => {
    const v = argv[++k];
    if (v === undefined) fail(`${opt} needs a value`);
    return v;
  };
  for (; k < argv.length && argv[k].startsWith('-'); k++) {
    const a = argv[k];
    if (a === '--') { k++; break; }
    if (a === '-h' || a === '--help') { process.stdout.write(USAGE + '\n'); return 0; }
    else if (a === '--max') { max = Number(value(a)); if (!Number.isInteger(max) || max < 0) fail('--max expects a count'); }
    else if (a === '--env') {
      const kv = value(a), eq = kv.indexOf('=');
      if (eq <= 0) fail(`--env expects KEY=VALUE, got '${kv}'`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--stdin') stdin = value(a);
    else if (a === '--x87-pointers') x87Pointers = true;
    else if (a === '--keep-native-stack') keepStack = true;
    else if (a === '--elfshim-arg') elfshimArgs.push(value(a));
    else if (a === '--progress') progress = Number(value(a));
    else if (a === '--show-output') showOutput = true;
    else if (a === '--trace') trace = true;
    else if (a === '--fast') fast = true;
    else if (a === '--work-dirs') workDirs = true;
    else if (a === '--vdso') vdso = true;
    else if (a === '--batch') { batch = Number(value(a)); if (!Number.isInteger(batch) || batch < 1) fail('--batch expects a count'); }
    else fail(`unknown option ${a} (try --help)`);
  }
  const program = argv[k];
  if (!program) fail('no program given (try --help)');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const o: LockstepOptions = {
    program: path.resolve(program),
    args: argv.slice(k + 1),
    env,
    elfshimCli: path.join(here, '..', 'cli.js'),
    elfshimArgs,
    x87Pointers,
    syncInitialStack: !keepStack,
    ...(max !== undefined ? { max } : {}),
    ...(stdin ? { stdin: path.resolve(stdin) } : {}),
    ...(trace ? { trace: (line: string) => process.stderr.write(line + '\n') } : {}),
    ...(progress ? { progressEvery: progress, onProgress: (n: number) => process.stderr.write(`lockstep: ${n} instructions compared\n`) } : {}),
  };
  let r: LockstepResult;
  const started = Date.now();
  try {
    if ((workDirs || vdso) && !fast) fail('--work-dirs and --vdso need --fast');
    if (fast) {
      const unimplemented = elfshimArgs.map((a) => /^--on-unimplemented=(enosys|sigsys)$/.exec(a)?.[1]);
      if (trace || !o.syncInitialStack || unimplemented.some((u) => !u)) fail('--fast does not support --trace, --keep-native-stack or --elfshim-arg other than --on-unimplemented=enosys|sigsys');
      const onUnimplemented = unimplemented.at(-1) as 'enosys' | 'sigsys' | undefined;
      const tracer = path.join(here, '..', '..', 'test', 'fixtures', 'build', 'tools', 'lockstep-tracer');
      const { progressEvery, onProgress, max: m, stdin: s } = o;
      r = await runFastLockstep({ program: o.program, args: o.args, env, tracer, batch, x87Pointers, workDirs, vdso, ...(onUnimplemented ? { onUnimplemented } : {}), ...(m !== undefined ? { max: m } : {}), ...(s ? { stdin: s } : {}), ...(progressEvery && onProgress ? { progressEvery, onProgress } : {}) });
    } else r = await runLockstep(o);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  if (showOutput) {
    process.stdout.write(`--- native output ---\n${r.nativeOutput}--- elfshim output ---\n${r.elfshimOutput}---\n`);
  }
  process.stdout.write(formatSummary(r) + '\n');
  process.stderr.write(`lockstep: ${((Date.now() - started) / 1000).toFixed(1)} s${fast ? ' (fast transport)' : ''}\n`);
  return r.divergence ? 1 : 0;
}
