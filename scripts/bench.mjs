#!/usr/bin/env node
// elfshim benchmark: each workload under elfshim, natively and under qemu-x86_64
// (if installed), best of N runs taken in rounds (native, qemu, elfshim, native, …,
// so the machine's drifting speed hits all three alike); guest instructions and MIPS from elfshim's
// `--stats` line; startup time of the static demo guest; peak RSS of the gzip run.
//
//   node scripts/bench.mjs [--json] [--runs N] [--cap SECONDS] [--timeout SECONDS]
//                          [--only fib,gzip,...] [--no-qemu]
//
// Assumption: `elfshim --stats PROGRAM` prints one line on stderr at exit:
//   elfshim: stats: instructions=N seconds=S mips=M
// If --help does not mention --stats, the bench runs without it and shows no counts.
// MIPS here = guest instructions / elfshim wall time of the best run (node startup included).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastErrorLine, parseStats, run } from './bench-run.mjs';
import { workloads } from './bench-workloads.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = process.env.ELFSHIM_CLI ?? path.join(root, 'dist', 'cli.js');
const demo = path.join(root, 'test', 'fixtures', 'prebuilt', 'hello-demo');

function parseArgs(argv) {
  const o = { json: false, runs: 3, cap: 60, timeout: 900, only: null, qemu: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--runs') o.runs = Math.max(1, Number(argv[++i]));
    else if (a === '--cap') o.cap = Number(argv[++i]);
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--only') o.only = argv[++i].split(',');
    else if (a === '--no-qemu') o.qemu = false;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/bench.mjs [--json] [--runs N] [--cap SECONDS] [--timeout SECONDS] [--only a,b] [--no-qemu]');
      process.exit(0);
    } else {
      console.error(`bench: unknown option ${a}`);
      process.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const progress = (msg) => process.stderr.write(`bench: ${msg}\n`);
const qemu = opts.qemu ? findOnPath('qemu-x86_64') : null;

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir || '.', name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** How each runner starts a guest. */
const runners = {
  native: (program, args) => [program, args, false],
  qemu: (program, args) => [qemu, [program, ...args], false],
  elfshim: (program, args) => [process.execPath, [cli, ...(statsSupported() ? ['--stats'] : []), program, ...args], true],
};

let statsCache;
function statsSupported() {
  if (statsCache === undefined) {
    const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', timeout: 30_000 });
    statsCache = `${help.stdout}${help.stderr}`.includes('--stats');
    if (!statsCache) progress('elfshim --help does not mention --stats: no instruction counts');
  }
  return statsCache;
}

/**
 * Best of `runs` runs of one workload on each of `runnerNames`, run in rounds: each runner once per
 * round (native first: its output is what the others must print). This 2-vCPU VM's speed drifts by
 * tens of percent from one minute to the next; with all of one runner's runs before the next
 * runner's, that drift went straight into the ratios. A runner stops repeating once a run takes
 * longer than the cap, or fails. Returns { [runner]: { best, runs, stats, rssKB, error, output } }.
 */
/** The runners of this invocation, native first (its output is the reference); elfshim only once built. */
const runnerNames = () => ['native', ...(qemu ? ['qemu'] : []), ...(existsSync(cli) ? ['elfshim'] : [])];

async function measureRounds(runnerNames, w, dataDir, runs = opts.runs) {
  const acc = Object.fromEntries(runnerNames.map((n) => [n, { best: null, runs: [], stats: null, rssKB: null, error: null, output: null, done: false }]));
  for (let i = 0; i < runs; i++) {
    for (const runner of runnerNames) {
      const m = acc[runner];
      if (m.done) continue;
      const expected = runner === 'native' ? null : acc.native?.output ?? null;
      if (runner !== 'native' && acc.native && !expected) { m.done = true; continue; } // native failed: nothing to compare with
      progress(`${w.name ?? 'startup'}: ${runner} (round ${i + 1})`);
      const [cmd, argv, nodeChild] = runners[runner](w.program, w.args);
      const r = await run(cmd, argv, {
        input: w.input,
        timeoutMs: opts.timeout * 1000,
        rssFile: w.measureRss ? path.join(dataDir, `rss-${runner}`) : undefined,
        nodeChild,
      });
      const error = failure(r, expected);
      if (error) {
        m.error = error;
        m.done = true;
        continue;
      }
      m.output = { hash: r.stdoutHash, status: r.status };
      m.runs.push(r.seconds);
      m.best = Math.min(...m.runs);
      m.stats = parseStats(r.stderr) ?? m.stats;
      if (r.rssKB !== null) m.rssKB = Math.max(m.rssKB ?? 0, r.rssKB);
      if (r.seconds > opts.cap) m.done = true;
    }
  }
  for (const m of Object.values(acc)) if (m.error) m.best = null;
  return acc;
}

/** Why a run does not count, or null. `expected` is the native run's output (null for native). */
function failure(r, expected) {
  if (r.spawnError) return `cannot start: ${r.stderr}`;
  if (r.timedOut) return `timeout after ${opts.timeout} s`;
  if (r.signal) return `killed by ${r.signal}`;
  if (expected && r.status !== expected.status) {
    const why = lastErrorLine(r.stderr);
    return `exit status ${r.status} (native ${expected.status})${why ? `: ${why}` : ''}`;
  }
  if (!expected && r.status !== 0) return `exit status ${r.status}: ${lastErrorLine(r.stderr)}`;
  if (expected && r.stdoutHash !== expected.hash) return `output differs from native (${r.stdoutBytes} bytes)`;
  return null;
}

const geomean = (xs) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : null);

async function benchWorkload(w, dataDir) {
  const row = { name: w.name, what: w.what, note: w.note ?? null, status: 'ok', reason: null };
  if (w.needs) return { ...row, status: 'SKIP', reason: w.needs };
  if (!existsSync(w.program)) return { ...row, status: 'SKIP', reason: `${w.program} not built (npm run fixtures)` };

  const m = await measureRounds(runnerNames(), w, dataDir);
  const native = m.native;
  if (native.error) return { ...row, status: 'FAIL', reason: `native: ${native.error}` };
  row.native = native;
  if (qemu) row.qemu = m.qemu;
  const elfshim = m.elfshim ?? { error: `${cli} missing (npm run build)` };
  row.elfshim = elfshim;
  if (elfshim.error) {
    row.status = w.failIsSkip ? 'SKIP' : 'FAIL';
    row.reason = w.failIsSkip ? `${w.failIsSkip}: ${elfshim.error}` : elfshim.error;
    return row;
  }
  row.instructions = elfshim.stats?.instructions ?? null;
  row.mips = row.instructions !== null ? row.instructions / elfshim.best / 1e6 : null;
  row.vsNative = elfshim.best / native.best;
  row.vsQemu = row.qemu?.best ? elfshim.best / row.qemu.best : null;
  return row;
}

async function startup(dataDir) {
  const w = { name: 'startup', program: demo, args: ['startup'] };
  const result = await measureRounds(runnerNames(), w, dataDir, Math.max(5, opts.runs));
  if (!existsSync(cli)) result.elfshim = { error: 'dist/cli.js missing' };
  return result;
}

// ---- formatting ------------------------------------------------------------------------

const fmtS = (x) => (x === null || x === undefined ? '-' : x < 10 ? x.toFixed(3) : x.toFixed(1));
const fmtX = (x) => (x === null || x === undefined ? '-' : x < 10 ? `${x.toFixed(2)}x` : `${x.toFixed(0)}x`);
const fmtCount = (n) => (n === null || n === undefined ? '-' : n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : `${(n / 1e6).toFixed(1)}M`);
const fmtMips = (x) => (x === null || x === undefined ? '-' : x.toFixed(x < 10 ? 2 : 0));

function table(rows, header) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function printReport(results, start, rss, machine) {
  const rows = [];
  const notes = [];
  for (const r of results) {
    if (r.status !== 'ok') {
      rows.push([r.name, '-', r.status, '-', fmtS(r.native?.best), fmtS(r.qemu?.best), '-', '-']);
      notes.push(`${r.name}: ${r.status} — ${r.reason}`);
      continue;
    }
    rows.push([r.name, fmtCount(r.instructions), fmtS(r.elfshim.best), fmtMips(r.mips), fmtS(r.native.best),
      r.qemu?.error ? 'FAIL' : fmtS(r.qemu?.best), fmtX(r.vsNative), fmtX(r.vsQemu)]);
    if (r.qemu?.error) notes.push(`${r.name}: qemu ${r.qemu.error}`);
    if (r.note) notes.push(`${r.name}: ${r.note}`);
  }
  const g = geomeans(results);
  rows.push(['geomean', '-', '-', fmtMips(g.mips), '-', '-', fmtX(g.vsNative), fmtX(g.vsQemu)]);

  console.log(`elfshim benchmark — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, best of ${opts.runs}`);
  console.log('');
  console.log(table(rows, ['workload', 'guest instr', 'elfshim s', 'MIPS', 'native s', 'qemu s', 'elfshim/native', 'elfshim/qemu']));
  console.log('');
  const st = (k) => (start[k]?.error ? `FAIL (${start[k].error})` : `${fmtS(start[k]?.best)} s`);
  console.log(`startup (static hello-demo): elfshim ${st('elfshim')}, native ${st('native')}${qemu ? `, qemu ${st('qemu')}` : ''}`);
  const kb = (k) => (rss[k] ? `${(rss[k] / 1024).toFixed(1)} MB` : '-');
  console.log(`peak RSS of the gzip run: elfshim ${kb('elfshim')}, native ${kb('native')}${qemu ? `, qemu ${kb('qemu')}` : ''}`);
  if (!qemu) console.log('qemu-x86_64 not found (or --no-qemu): qemu columns empty');
  for (const n of notes) console.log(`note: ${n}`);
  console.log('MIPS = guest instructions (elfshim --stats) / elfshim wall seconds of the best run.');
  if (process.env.NODE_EXTRA_CA_CERTS) console.log('NODE_EXTRA_CA_CERTS is set here: it is left out of the elfshim runs (node loads those certificates at startup; elfshim makes no TLS connections).');
}

function geomeans(results) {
  const ok = results.filter((r) => r.status === 'ok');
  return {
    vsNative: geomean(ok.map((r) => r.vsNative)),
    vsQemu: geomean(ok.filter((r) => r.vsQemu).map((r) => r.vsQemu)),
    mips: geomean(ok.filter((r) => r.mips).map((r) => r.mips)),
  };
}

// ---- main ------------------------------------------------------------------------------

async function main() {
  try {
    execFileSync('bash', [path.join(root, 'scripts', 'build-fixtures.sh')], { stdio: 'inherit' });
  } catch {
    progress('building the fixtures failed; workloads without a binary are skipped');
  }
  if (!existsSync(cli)) progress(`${cli} is missing: elfshim columns will FAIL (run npm run build)`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'elfshim-bench-'));
  try {
    const all = workloads(root, dataDir).filter((w) => !opts.only || opts.only.includes(w.name));
    const results = [];
    for (const w of all) results.push(await benchWorkload(w, dataDir));
    progress('startup');
    const start = await startup(dataDir);
    const gzip = results.find((r) => r.name === 'gzip');
    const rss = { elfshim: gzip?.elfshim?.rssKB ?? null, native: gzip?.native?.rssKB ?? null, qemu: gzip?.qemu?.rssKB ?? null };
    const machine = { cpu: cpus()[0]?.model ?? 'unknown CPU', cores: cpus().length, node: process.version };
    if (opts.json) {
      const strip = (m) => (m ? { best: m.best, runs: m.runs, error: m.error, stats: m.stats, rssKB: m.rssKB } : null);
      console.log(JSON.stringify({
        machine,
        options: { runs: opts.runs, capSeconds: opts.cap, qemu: Boolean(qemu), statsSupported: existsSync(cli) && statsSupported() },
        workloads: results.map((r) => ({
          name: r.name, what: r.what, status: r.status, reason: r.reason, note: r.note,
          instructions: r.instructions ?? null, mips: r.mips ?? null,
          elfshimSeconds: r.elfshim?.best ?? null, nativeSeconds: r.native?.best ?? null, qemuSeconds: r.qemu?.best ?? null,
          elfshimOverNative: r.vsNative ?? null, elfshimOverQemu: r.vsQemu ?? null,
          elfshim: strip(r.elfshim), native: strip(r.native), qemu: strip(r.qemu),
        })),
        geomean: geomeans(results),
        startupSeconds: Object.fromEntries(Object.entries(start).map(([k, m]) => [k, m.error ? { error: m.error } : m.best])),
        gzipPeakRssKB: rss,
      }, null, 2));
    } else {
      printReport(results, start, rss, machine);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
