/**
 * ELFSHIM_TRANSITIONS=FILE: a histogram of where control leaves translated
 * regions, for work on region formation. The region runner (wasm/compile.ts)
 * then gives the dispatcher and nest no chain cache, so every region returns
 * to the engine's loop — the dispatcher passes nothing on and nested calls
 * leave — and each return is counted by
 * (the region's first block, the block control left from and the kind of its
 * last instruction, where it went). At exit FILE gets the totals by kind and
 * the transitions, most frequent first. The run is slower; the guest's
 * behaviour is the same.
 */
import { writeFileSync } from 'node:fs';

export const TRANSITIONS_FILE = process.env.ELFSHIM_TRANSITIONS ?? '';

const counts = new Map<string, number>();
// Written even when no region ran (then with no transitions).
if (TRANSITIONS_FILE) process.once('exit', writeTransitions);

const hex = (a: number) => a.toString(16);

/** Control left the region headed at `region` from block `from` (its last instruction of kind `kind`) for `to`. */
export function countTransition(region: number, from: number, kind: string, to: number, slow: boolean): void {
  const key = `${hex(region)} ${hex(from)} ${kind} ${hex(to)}${slow ? ' slow' : ''}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function writeTransitions(): void {
  const byKind = new Map<string, number>();
  let total = 0;
  for (const [key, n] of counts) {
    const kind = key.split(' ')[2];
    byKind.set(kind, (byKind.get(kind) ?? 0) + n);
    total += n;
  }
  const lines = [
    `# elfshim region transitions: ${total} (count region-head from-block kind-of-its-last-instruction target [slow: left for the interpreter])`,
    ...[...byKind].sort((x, y) => y[1] - x[1]).map(([kind, n]) => `# ${kind} ${n}`),
    ...[...counts].sort((x, y) => y[1] - x[1]).map(([key, n]) => `${n} ${key}`),
  ];
  writeFileSync(TRANSITIONS_FILE, `${lines.join('\n')}\n`);
}
