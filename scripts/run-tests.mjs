#!/usr/bin/env node
// Runs every compiled test file under dist-test/test with node's test runner,
// except those listed in test/QUARANTINE (each line: file name, then the reason).
// `--all` runs the quarantined ones too.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const all = process.argv.includes('--all');
const quarantined = new Set(
  fs.readFileSync(path.join(root, 'test/QUARANTINE'), 'utf8').split('\n')
    .filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.trim().split(/\s+/)[0]),
);
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && (all || !quarantined.has(e.name))) files.push(p);
  }
})(path.join(root, 'dist-test/test'));
files.sort();
if (!all && quarantined.size) console.log(`# not run (test/QUARANTINE): ${[...quarantined].join(', ')}`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
