// Timing one process run for scripts/bench.mjs: wall time, output, status and,
// on request, peak RSS (via /usr/bin/time, or for a node child a preload that
// reports process.resourceUsage().maxRSS).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const RSS_PRELOAD = pathToFileURL(path.join(path.dirname(new URL(import.meta.url).pathname), 'bench-rss-preload.mjs')).href;

/**
 * run(command, args, { input, timeoutMs, rssFile, nodeChild }) →
 * { seconds, status, signal, timedOut, stdoutHash, stdoutBytes, stderr, rssKB }
 * rssFile: where to collect peak RSS (KB); nodeChild: command is node, so the
 * preload fallback can be used when /usr/bin/time is missing.
 */
export function run(command, args, opts = {}) {
  let cmd = command;
  let argv = [...args];
  const env = { ...process.env };
  // Node reads and parses these certificates at startup, before any script runs
  // (0.2-0.6 s on the development machines); elfshim makes no TLS connections.
  if (opts.nodeChild) delete env.NODE_EXTRA_CA_CERTS;
  if (opts.rssFile) {
    rmSync(opts.rssFile, { force: true });
    if (GNU_TIME) {
      argv = ['-q', '-o', opts.rssFile, '-f', '%M', cmd, ...argv];
      cmd = GNU_TIME;
    } else if (opts.nodeChild) {
      argv = ['--import', RSS_PRELOAD, ...argv];
      env.ELFSHIM_BENCH_RSS_FILE = opts.rssFile;
    }
  }
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const hash = createHash('sha1');
    let stdoutBytes = 0;
    const stderr = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 600_000);
    child.stdout.on('data', (chunk) => {
      hash.update(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ seconds: 0, status: null, signal: null, timedOut: false, stdoutHash: '', stdoutBytes: 0,
        stderr: String(e.message), rssKB: null, spawnError: true });
    });
    child.on('close', (status, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(timer);
      resolve({
        seconds, status, signal, timedOut, stdoutHash: hash.digest('hex'), stdoutBytes,
        stderr: Buffer.concat(stderr).toString('utf8'), rssKB: opts.rssFile ? readRss(opts.rssFile) : null,
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function readRss(file) {
  if (!existsSync(file)) return null;
  // /usr/bin/time may put "Command exited with non-zero status N" first; the number is last.
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const kb = Number(lines[lines.length - 1]);
  return Number.isFinite(kb) && kb > 0 ? kb : null;
}

/** `elfshim: stats: instructions=N seconds=S mips=M` → { instructions, seconds, mips } or null. */
export function parseStats(stderr) {
  const m = /elfshim: stats: instructions=(\d+)\s+seconds=([\d.eE+-]+)\s+mips=([\d.eE+-]+)/.exec(stderr);
  return m ? { instructions: Number(m[1]), seconds: Number(m[2]), mips: Number(m[3]) } : null;
}

/** The last non-empty stderr line other than the stats line: a failure's likely reason. */
export function lastErrorLine(stderr) {
  const lines = stderr.split('\n').filter((l) => l.trim() && !l.startsWith('elfshim: stats:'));
  return lines.length ? lines[lines.length - 1].slice(0, 160) : '';
}
