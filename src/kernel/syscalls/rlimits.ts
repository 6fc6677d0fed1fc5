import type { Process } from '../task.js';
import { hostRlimits } from './system-identity.js';

/** One resource limit; Infinity is RLIM_INFINITY. */
export interface Rlimit {
  cur: number;
  max: number;
}

export const RLIMIT_NOFILE = 7;
export const RLIMIT_NLIMITS = 16;

/** Resource limits per process (a process starts with the host's, or its parent's after fork). */
const rlimits = new WeakMap<Process, Rlimit[]>();

export function limitsOf(p: Process): Rlimit[] {
  let l = rlimits.get(p);
  if (!l) {
    l = hostRlimits();
    l[RLIMIT_NOFILE].cur = p.files.limit;
    rlimits.set(p, l);
  }
  return l;
}

/** For fork: the child starts with the parent's limits. */
export function inheritRlimits(parent: Process, child: Process): void {
  const l = rlimits.get(parent);
  if (l) rlimits.set(child, l.map((r) => ({ ...r })));
}

const LIMIT_ROWS: [string, string][] = [
  ['Max cpu time', 'seconds'], ['Max file size', 'bytes'], ['Max data size', 'bytes'], ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'], ['Max resident set', 'bytes'], ['Max processes', 'processes'], ['Max open files', 'files'],
  ['Max locked memory', 'bytes'], ['Max address space', 'bytes'], ['Max file locks', 'locks'], ['Max pending signals', 'signals'],
  ['Max msgqueue size', 'bytes'], ['Max nice priority', ''], ['Max realtime priority', ''], ['Max realtime timeout', 'us'],
];

/** /proc/PID/limits text. */
export function formatLimits(p: Process): string {
  const l = limitsOf(p);
  const v = (n: number) => (n === Infinity ? 'unlimited' : String(n));
  // Linux: "%-25s %-20s %-20s %-10s\n", the units column only when there is a unit.
  let out = `${'Limit'.padEnd(26)}${'Soft Limit'.padEnd(21)}${'Hard Limit'.padEnd(21)}${'Units'.padEnd(10)}\n`;
  LIMIT_ROWS.forEach(([name, unit], k) => {
    out += `${name.padEnd(26)}${v(l[k].cur).padEnd(21)}${v(l[k].max).padEnd(21)}${unit ? unit.padEnd(10) : ''}\n`;
  });
  return out;
}

