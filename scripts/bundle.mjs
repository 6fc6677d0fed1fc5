#!/usr/bin/env node
// Turns dist/cli.js (tsc's output, ~130 ES modules behind it) into one
// self-contained script, dist/elfshim.cjs, and replaces dist/cli.js by
// scripts/cli-launcher.cjs, which runs that script through V8's code cache.
// Why: Node 20 spends most of elfshim's startup resolving, reading and linking
// ES modules one by one (about 0.2 CPU-seconds of the 0.3 a static hello world
// took); one script of the same code loads in a fraction of that, and a
// classic script (unlike an ES module in Node 20) can use a code cache. The
// other files in dist/ stay as tsc wrote them (the tests import them from
// dist-test/ anyway).
//
// Without esbuild (a devDependency) dist/cli.js is left unbundled: elfshim
// works the same, only its startup is slower. `ELFSHIM_NO_BUNDLE=1` skips it.
//
// The launcher is CommonJS, in a package whose "type" is "module": dist/package.json
// gives dist/ the type "commonjs", and a package.json in each of tsc's directories
// under dist/ gives them "module" back (scripts/lockstep imports dist/lockstep/).
// Only bundled builds have dist/package.json: without it tsc's dist/cli.js runs as
// the ES module it is. (Running tsc alone after a bundled build leaves an ES module
// dist/cli.js in a CommonJS dist/: `npm run build` or this script puts it right.)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'cli.js');
const bundle = path.join(root, 'dist', 'elfshim.cjs');
const MARK = '// elfshim: bundled by scripts/bundle.mjs';

if (process.env.ELFSHIM_NO_BUNDLE) unbundled();
// Already a bundle (tsc did not rewrite it since): bundling it again would be a no-op at best.
if (readFileSync(entry, 'utf8').slice(0, 200).includes(MARK)) {
  markModuleTypes();
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('bundle: esbuild is not installed; dist/cli.js stays unbundled (slower startup)\n');
  unbundled();
}

// Node built-ins that modules import at the top but a plain run seldom uses: commander's
// child_process (for git-style subcommands elfshim has none of), sockets (net, dgram), tty
// (terminal calls; it loads net), crypto (only host-random.ts's fallback).
// Loading one evaluates a dozen of Node's internal modules (a few ms each time). In the
// bundle each is a stand-in whose properties load the real module on first access; the
// property names are the build host's (the same Node as the runs, as a rule).
const LAZY_BUILTINS = ['child_process', 'crypto', 'dgram', 'net', 'tty'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    build.onResolve({ filter }, (a) =>
      // The stand-in's own require of the module is the real one.
      a.namespace === 'lazy-builtin' ? undefined : { path: a.path.replace(/^node:/, ''), namespace: 'lazy-builtin' });
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (a) => {
      const names = Object.keys(createRequire(import.meta.url)(`node:${a.path}`));
      return {
        loader: 'js',
        contents: `let real;
const load = () => (real ??= require(${JSON.stringify(`node:${a.path}`)}));
for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
`,
      };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [entry],
  outfile: bundle,
  write: false,
  bundle: true,
  plugins: [lazyBuiltins],
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // A CommonJS script has no import.meta: the bundle's own URL stands in for it.
  define: { 'import.meta.url': '__elfshimUrl' },
  banner: { js: `const __elfshimUrl = require('node:url').pathToFileURL(__filename).href;` },
  // package.json is read at run time (its version), not inlined.
  external: ['../package.json'],
  sourcemap: false,
  logLevel: 'warning',
});
writeFileSync(bundle, asFunction(asciiComments(memoizeToESM(result.outputFiles[0].text))), { mode: 0o755 });

/**
 * The bundle as the launcher compiles it: one function expression taking what Node
 * passes a CommonJS module. Wrapping it here rather than in the launcher spares each
 * run two more copies of the 1 MB source (the hashbang edit, the wrapper), which stayed
 * on the heap until a full GC. The wrapper shares the first line, so line numbers in
 * stack traces are the file's.
 */
function asFunction(code) {
  return `(function (exports, require, module, __filename, __dirname) {${code.replace(/^#!/, '//')}\n})`;
}

/**
 * esbuild escapes non-ASCII characters in strings, regular expressions and names
 * (charset 'ascii', its default) but keeps the doc comments it copies as they are: a
 * single '…' in one made the whole 1 MB source a two-byte string for the launcher,
 * slower to read and twice the memory. In a comment an escape is just text.
 */
function asciiComments(code) {
  return code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * esbuild's __toESM wraps a CommonJS module for each module that imports it, copying
 * every property: node:fs alone, imported by twenty modules, was copied twenty times
 * at each startup. The wrapper is a read-only namespace, so importers can share one.
 */
function memoizeToESM(code) {
  const helper = 'var __toESM = (mod, isNodeMode, target) => (';
  if (!code.includes(helper)) {
    process.stderr.write("bundle: esbuild's __toESM helper not found; it stays unmemoized (slower startup)\n");
    return code;
  }
  return code.replace(
    helper,
    `var __toESMCache = [new WeakMap(), new WeakMap()];
var __toESM = (mod, isNodeMode) => {
  if (mod === null || typeof mod !== "object" && typeof mod !== "function") return __toESMCopy(mod, isNodeMode);
  const cache = __toESMCache[isNodeMode ? 1 : 0];
  let ns = cache.get(mod);
  if (ns === undefined) cache.set(mod, ns = __toESMCopy(mod, isNodeMode));
  return ns;
};
var __toESMCopy = (mod, isNodeMode, target) => (`,
  );
}
// Code caches of an older bundle (the launcher also keys them by the bundle's mtime).
for (const f of readdirSync(path.dirname(bundle))) if (/^elfshim\.cjs\..*cache/.test(f)) rmSync(path.join(path.dirname(bundle), f), { force: true });
copyFileSync(path.join(root, 'scripts', 'cli-launcher.cjs'), entry);
markModuleTypes();
// tsc's map describes the unbundled file.
rmSync(`${entry}.map`, { force: true });
warmCodeCache();

/**
 * Writes the code cache now, by running a small static guest: the cache holds the
 * functions the run that wrote it compiled, and left to the first run after a build
 * it could be `elfshim --help` (scripts/bench.mjs starts so), whose cache lacks the
 * kernel and the engine: every later hello world compiled those itself (~10 ms).
 * The guest is cache-warm, which runs long enough to have regions translated to
 * WebAssembly: written by hello-demo, the cache lacked the translator, and every
 * program that ran long enough to need it compiled it from source (busybox
 * sha1sum 185 -> 171 ms, sqlite3 `select 1` 351 -> 338 ms).
 */
function warmCodeCache() {
  const prebuilt = path.join(root, 'test', 'fixtures', 'prebuilt');
  const guest = ['cache-warm', 'hello-demo'].map((g) => path.join(prebuilt, g)).find((g) => existsSync(g));
  if (guest === undefined) return;
  const r = spawnSync(process.execPath, [entry, guest], { stdio: 'ignore', timeout: 60_000 });
  if (r.status !== 0) process.stderr.write(`bundle: warming the code cache failed (${r.error?.message ?? `status ${r.status}`}); the first run writes it\n`);
}

/** dist/cli.js (the launcher) CommonJS, tsc's directories under dist/ ES modules (see the top). */
function markModuleTypes() {
  const dist = path.dirname(entry);
  const note = 'written by scripts/bundle.mjs';
  writeFileSync(path.join(dist, 'package.json'), `${JSON.stringify({ '//': `${note}: dist/cli.js is the CommonJS launcher`, type: 'commonjs' })}\n`);
  for (const d of readdirSync(dist, { withFileTypes: true })) {
    if (d.isDirectory()) writeFileSync(path.join(dist, d.name, 'package.json'), `${JSON.stringify({ '//': `${note}: tsc's ES modules`, type: 'module' })}\n`);
  }
}

/** dist/cli.js stays tsc's ES module, so dist/ must not be marked CommonJS. */
function unbundled() {
  rmSync(path.join(path.dirname(entry), 'package.json'), { force: true });
  process.exit(0);
}
