// What a static hello world's startup relies on, checked without timing anything:
// the launcher's code cache is accepted by the next run, the guest memory pool
// costs no garbage collection, and Node modules a plain run does not need stay
// unloaded, and Node's background threads yield to the guest's. Each runs a copy of the built launcher and bundle in a temporary
// directory, so that runs with other V8 flags (--trace-gc) do not replace the
// code cache in dist/.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { cliPath, fixturesDir, repoRoot, requireElfshim, runProcess, tempDir } from './helpers/run.js';

const demo = path.join(fixturesDir, 'prebuilt', 'hello-demo');
const dist = path.dirname(cliPath);
const bundled = existsSync(path.join(dist, 'elfshim.cjs'));

/** dist/cli.js, dist/elfshim.cjs and the package.json files they need, without a code cache. */
function copyOfCli(t: TestContext): { cli: string; dir: string } {
  const root = tempDir(t, 'elfshim-startup-');
  const dir = path.join(root, 'dist');
  mkdirSync(dir);
  for (const f of ['cli.js', 'elfshim.cjs', 'package.json']) copyFileSync(path.join(dist, f), path.join(dir, f));
  copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json')); // --version reads it
  return { cli: path.join(dir, 'cli.js'), dir };
}

const cacheFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('elfshim.cjs.'));

async function runDemo(cli: string, nodeFlags: string[] = []): Promise<string> {
  const r = await runProcess(process.execPath, [...nodeFlags, cli, demo, 'hi'], { timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

describe('startup', { skip: !bundled && 'dist/cli.js is not bundled (npm run build with esbuild)' }, () => {
  test('the code cache written by one run is accepted by the next', async (t) => {
    requireElfshim();
    const { cli, dir } = copyOfCli(t);
    await runDemo(cli);
    const written = cacheFiles(dir);
    assert.equal(written.length, 1, `one code cache after the first run, found: ${written.join(', ')}`);
    const before = statSync(path.join(dir, written[0]));
    await runDemo(cli);
    // A rejected cache (V8 flags changed between the compile and the exit, another
    // source) is written again at exit, through a new file renamed over the old one.
    assert.deepEqual(cacheFiles(dir), written, 'no other cache file (nor a leftover temporary) after the second run');
    const after = statSync(path.join(dir, written[0]));
    assert.equal(after.ino, before.ino, 'the second run rewrote the code cache: V8 rejected it');
    assert.equal(after.mtimeMs, before.mtimeMs);
  });

  test('the guest memory pool causes no garbage collection', async (t) => {
    requireElfshim();
    const { cli } = copyOfCli(t);
    // V8 counts an ArrayBuffer's whole length as external memory: a 2 GiB pool forced a
    // full memory-reducing GC at every startup ("external memory pressure").
    const out = await runDemo(cli, ['--trace-gc']);
    assert.match(out, /hi/);
    assert.doesNotMatch(out, /external memory pressure/);
  });

  test('a plain run loads none of the Node modules it does not use', async (t) => {
    requireElfshim();
    const { cli, dir } = copyOfCli(t);
    const list = path.join(dir, 'modules.txt');
    const preload = path.join(dir, 'list-modules.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    await runDemo(cli, ['--require', preload]);
    const loaded = new Set(readFileSync(list, 'utf8').split('\n'));
    // Each of these evaluates a dozen or more of Node's internal modules (milliseconds of
    // startup): crypto (AT_RANDOM reads /dev/urandom), child_process (commander's, for
    // subcommands), net and dgram (sockets; also behind process.stdout/stderr on a pipe).
    for (const m of ['crypto', 'child_process', 'net', 'dgram']) assert.ok(!loaded.has(`NativeModule ${m}`), `node:${m} was loaded`);
  });

  test('the guest the build writes the code cache with gets regions translated (so the cache holds the translator)', async (t) => {
    requireElfshim();
    const warm = path.join(fixturesDir, 'prebuilt', 'cache-warm');
    const dir = tempDir(t, 'elfshim-startup-');
    const list = path.join(dir, 'modules.txt');
    const preload = path.join(dir, 'list-modules.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    const r = await runProcess(process.execPath, ['--require', preload, cliPath, '--stats', warm], { timeoutMs: 60_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'cache-warm: done\n');
    const regions = Number(/wasm-regions=(\d+)/.exec(r.stderr.toString())?.[1]);
    assert.ok(regions >= 1, `no WebAssembly region: ${r.stderr}`);
    // Translating a region times itself for --stats: with process.hrtime, not the global performance (Node's perf_hooks, ~5 ms to load).
    const loaded = readFileSync(list, 'utf8').split('\n');
    assert.ok(!loaded.some((m) => m.startsWith('NativeModule internal/perf/performance')), `perf_hooks was loaded: ${loaded.filter((m) => m.includes('perf')).join(', ')}`);
  });

  test('Node\'s other threads run at the lowest priority, the guest\'s at the normal one', { skip: process.platform !== 'linux' && 'per-thread nice values are Linux\'s' }, async (t) => {
    requireElfshim();
    const { cli, dir } = copyOfCli(t);
    const list = path.join(dir, 'nice.json');
    const preload = path.join(dir, 'list-nice.cjs');
    // Field 19 of /proc/<pid>/task/<tid>/stat is the nice value (after the parenthesized command name).
    writeFileSync(preload, `process.on('exit', () => { const fs = require('node:fs'); const nice = {}; for (const t of fs.readdirSync('/proc/self/task')) nice[t] = Number(fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]); fs.writeFileSync(${JSON.stringify(list)}, JSON.stringify({ pid: process.pid, nice })); });\n`);
    await runDemo(cli, ['--require', preload]);
    const { pid, nice } = JSON.parse(readFileSync(list, 'utf8')) as { pid: number; nice: Record<string, number> };
    assert.equal(nice[pid], 0, 'the main thread keeps its priority');
    const others = Object.entries(nice).filter(([tid]) => Number(tid) !== pid);
    assert.ok(others.length >= 2, `V8's worker threads: ${JSON.stringify(nice)}`);
    // Threads Node starts later (libuv's pool, at its first use) keep theirs; V8's and the ones there at startup do not.
    assert.ok(others.filter(([, n]) => n === 19).length >= 2, `background threads at nice 19: ${JSON.stringify(nice)}`);
  });
});
