import { allSyscalls, syscallByNumber, syscallCounters } from './syscall-table.js';

/**
 * `elfshim syscalls [--json]`: the shim's own coverage, one line per x86-64
 * syscall (number, name, implemented / partial / missing, note).
 */
export function runSyscallsCommand(args: string[]): number {
  const rows = allSyscalls().map((s) => ({ nr: s.nr, name: s.name, coverage: s.coverage, note: s.note ?? '' }));
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify(rows, null, 1) + '\n');
    return 0;
  }
  // One write: many small writes followed by exit could lose the tail on a slow pipe.
  const lines = rows.map((r) => `${String(r.nr).padStart(3)}  ${r.name.padEnd(24)} ${r.coverage.padEnd(11)} ${r.note}`.trimEnd());
  const count = (c: string) => rows.filter((r) => r.coverage === c).length;
  lines.push(`# ${rows.length} syscalls: ${count('implemented')} implemented, ${count('partial')} partial, ${count('missing')} missing`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

/** The --syscall-report / `monitor syscalls` table of the calls made so far, unimplemented first. */
export function formatSyscallReport(): string {
  const rows = [...syscallCounters()].map(([nr, c]) => {
    const info = syscallByNumber(nr);
    return { nr, name: info?.name ?? `syscall_${nr}`, calls: c.calls, errors: c.errors, status: info?.impl ? (info.coverage === 'partial' ? 'partial' : 'implemented') : 'MISSING' };
  });
  rows.sort((a, b) => (a.status === 'MISSING' ? 0 : 1) - (b.status === 'MISSING' ? 0 : 1) || b.calls - a.calls || a.nr - b.nr);
  const lines = [`${'syscall'.padEnd(24)} ${'nr'.padStart(4)} ${'calls'.padStart(8)} ${'errors'.padStart(7)}  status`];
  for (const r of rows) lines.push(`${r.name.padEnd(24)} ${String(r.nr).padStart(4)} ${String(r.calls).padStart(8)} ${String(r.errors).padStart(7)}  ${r.status}`);
  return lines.join('\n') + '\n';
}
