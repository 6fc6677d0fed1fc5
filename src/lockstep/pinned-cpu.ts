import * as fs from 'node:fs';

/**
 * The CPU the native run is pinned to: the lowest one this process may run on (lockstep-tracer's pinned_cpu picks
 * the same, and the RSP mode starts gdbserver under `taskset -c` with it). Pinned, the host kernel's CPU number —
 * in a registered rseq area, in getcpu — stays one value, as elfshim's does (it reports CPU 0 throughout); a run
 * that migrated between host CPUs would see its cpu id change at any instruction.
 */
export function pinnedCpu(): number {
  try {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
    const first = line?.slice('Cpus_allowed_list:'.length).trim().split(/[,-]/)[0];
    if (first && /^\d+$/.test(first)) return Number(first);
  } catch {
    // not Linux: the native side does not run anyway
  }
  return 0;
}
