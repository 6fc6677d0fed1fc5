#!/usr/bin/env node
// elfshim: bundled by scripts/bundle.mjs
// dist/cli.js after `npm run build` (scripts/bundle.mjs copies this file there):
// runs dist/elfshim.cjs, the whole CLI bundled into one script, through V8's
// code cache. Parsing and compiling that 1 MB script was about a third of the
// startup of a static hello world; with the cache V8 deserializes the compiled
// functions instead. The cache is written next to the bundle by the first run
// that finds it missing or rejected (another Node/V8 version, other V8 flags),
// at exit, so it also holds the functions that run compiled; a read-only dist/
// only costs the speed-up.
//
// A CommonJS script (dist/package.json, written by bundle.mjs, says so): started
// as an ES module, Node first sets up its ES module loader, which took about 8 ms.
'use strict';
const { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { setPriority } = require('node:os');
const { join } = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');

// Set by src/cpu/engine.ts too, which runs after the compile: V8 rejects a cache
// made under different flags, so they must already be what they will be at exit.
setFlagsFromString('--no-lazy-feedback-allocation');
setFlagsFromString('--always-sparkplug');
setFlagsFromString('--interrupt-budget=270336');
setFlagsFromString('--wasm-tiering-budget=7200000');
setFlagsFromString('--wasm-lazy-validation');
setFlagsFromString('--experimental-wasm-branch-hinting');

// Node's other threads — V8's background compilers (TurboFan tiering up WebAssembly regions and the
// emulator's JavaScript) and GC helpers — at the lowest priority: the guest runs on this thread, and on
// two cores those threads took it turns. The sqlite3 bench's main thread waited ~370 ms (of 3.0 s) for
// a CPU, 30 ms after this (/proc/thread-self/schedstat). On Linux a nice value is per thread.
let tasks = [];
try {
  tasks = readdirSync('/proc/self/task');
} catch {
  // not Linux: only the speed-up is lost
}
for (const task of tasks) {
  const tid = Number(task);
  if (tid === process.pid) continue;
  try {
    setPriority(tid, 19);
  } catch {
    // the thread is gone: only the speed-up is lost
  }
}

const bundle = join(__dirname, 'elfshim.cjs');
// V8 checks a cache against the source's length only: the name carries the bundle's mtime too.
const cacheFile = join(__dirname, `elfshim.cjs.${Math.floor(statSync(bundle).mtimeMs)}.cache`);
// Already `(function (exports, require, module, __filename, __dirname) {...})` (bundle.mjs).
const source = readFileSync(bundle, 'utf8');
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new Script(source, {
  filename: bundle,
  cachedData,
});
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    const tmp = `${cacheFile}.${process.pid}`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile); // atomic: concurrent runs never read half a cache
    } catch {
      rmSync(tmp, { force: true });
    }
  });
}
const bundleModule = { exports: {} };
script.runInThisContext()(bundleModule.exports, createRequire(bundle), bundleModule, bundle, __dirname);
