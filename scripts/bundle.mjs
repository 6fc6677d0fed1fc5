#!/usr/bin/env node
// Turns dist/cli.js (tsc's output, ~130 ES modules behind it) into one
// self-contained file, in place. Why: Node 20 spends most of elfshim's startup
// resolving, reading and linking ES modules one by one (about 0.2 CPU-seconds
// of the 0.3 a static hello world took); one module of the same code loads in
// a fraction of that. The other files in dist/ stay as tsc wrote them (the
// tests import them from dist-test/ anyway).
//
// Without esbuild (a devDependency) dist/cli.js is left unbundled: elfshim
// works the same, only its startup is slower. `ELFSHIM_NO_BUNDLE=1` skips it.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'cli.js');
const MARK = '// elfshim: bundled by scripts/bundle.mjs';

if (process.env.ELFSHIM_NO_BUNDLE) process.exit(0);
// Already a bundle (tsc did not rewrite it since): bundling it again would be a no-op at best.
if (readFileSync(entry, 'utf8').slice(0, 200).includes(MARK)) process.exit(0);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('bundle: esbuild is not installed; dist/cli.js stays unbundled (slower startup)\n');
  process.exit(0);
}

await esbuild.build({
  entryPoints: [entry],
  outfile: entry,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies (commander, debug) call require() for Node's own modules.
  banner: { js: `${MARK}\nimport { createRequire as __elfshimRequire } from 'node:module';\nconst require = __elfshimRequire(import.meta.url);` },
  // package.json is read at run time (its version), not inlined.
  external: ['../package.json'],
  sourcemap: false,
  logLevel: 'warning',
});
// tsc's map describes the unbundled file.
rmSync(`${entry}.map`, { force: true });
