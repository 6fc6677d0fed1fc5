/**
 * Legacy static programs call the vsyscall page at fixed addresses: gettimeofday
 * at 0xffffffffff600000, time at …400, getcpu at …800. Like a syscall's, the time
 * results legitimately differ between the two runs (the clock can tick between the
 * two sides' calls), so the differs copy the native ones into elfshim. getcpu
 * answers the same on both sides (the native program is pinned, pinned-cpu.ts).
 */
const VSYSCALL_PAGE = 0xffffffffff600000n;

/** Whether rip, a JavaScript number (rounded above 2^53), is in the vsyscall page's area: nothing else is mapped that high. */
export function inVsyscallArea(rip: number): boolean {
  return rip >= 2 ** 64 - 2 ** 24;
}

/** A call of a vsyscall entry whose results depend on the clock, and the memory it writes them to ([address, length]). */
export interface VsyscallTimeCall {
  entry: 'time' | 'gettimeofday';
  writes: [number, number][];
}

/** The call of the vsyscall entry at rip (exact) with arguments rdi and rsi, or null for an entry whose results do not depend on the clock. */
export function vsyscallTimeCall(rip: bigint, rdi: bigint, rsi: bigint): VsyscallTimeCall | null {
  if (rip >> 12n !== VSYSCALL_PAGE >> 12n) return null;
  const entry = rip & 0xfffn;
  if (entry === 0n) {
    // gettimeofday(struct timeval *tv, struct timezone *tz)
    const writes: [number, number][] = [];
    if (rdi !== 0n) writes.push([Number(rdi), 16]);
    if (rsi !== 0n) writes.push([Number(rsi), 8]);
    return { entry: 'gettimeofday', writes };
  }
  // time(time_t *tloc)
  if (entry === 0x400n) return { entry: 'time', writes: rdi !== 0n ? [[Number(rdi), 8]] : [] };
  return null;
}
