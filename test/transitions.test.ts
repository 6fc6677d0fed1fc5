// ELFSHIM_TRANSITIONS=FILE (src/cpu/transitions.ts): with chaining off every region returns to the engine's
// loop, so the histogram counts each region call once, and no nested call continues in place.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fixturesDir, requireElfshim, runElfshim, tempDir } from './helpers/run.js';

test('ELFSHIM_TRANSITIONS counts every region call by where control left for (chaining off, same output)', async (t) => {
  requireElfshim();
  const warm = path.join(fixturesDir, 'prebuilt', 'cache-warm');
  const file = path.join(tempDir(t, 'elfshim-transitions-'), 'transitions.txt');
  const r = await runElfshim(['--stats', warm], { env: { ELFSHIM_TRANSITIONS: file } });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), 'cache-warm: done\n');
  const stat = (k: string) => Number(new RegExp(`${k}=(\\d+)`).exec(r.stderr.toString())?.[1]);
  assert.ok(stat('wasm-regions') >= 1, r.stderr.toString());
  assert.equal(stat('nested-returns'), 0, 'a nested call continued in place: the chain cache was filled');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const header = /^# elfshim region transitions: (\d+) /.exec(lines[0]);
  assert.ok(header, lines[0]);
  const kinds = lines.filter((l) => l.startsWith('# ') && l !== lines[0]).map((l) => l.split(' '));
  const entries = lines.filter((l) => !l.startsWith('#')).map((l) => l.split(' '));
  for (const e of entries) assert.match(e.join(' '), /^\d+ [0-9a-f]+ [0-9a-f]+ \w+ [0-9a-f]+( slow)?$/);
  const sum = (rows: string[][], k: number) => rows.reduce((n, row) => n + Number(row[k]), 0);
  assert.equal(sum(entries, 0), stat('region-calls'), 'one transition per region call');
  assert.equal(Number(header[1]), stat('region-calls'));
  assert.equal(sum(kinds, 2), stat('region-calls'), 'the totals by kind add up');
});
