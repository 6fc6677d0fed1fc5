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

/**
 * For a call of the vsyscall entry at rip (exact), with its arguments rdi and rsi:
 * the memory it writes a time into, as [address, length] pairs (rax is the other
 * result); null for an entry whose results do not depend on the clock.
 */
export function vsyscallTimeWrites(rip: bigint, rdi: bigint, rsi: bigint): [number, number][] | null {
  if (rip >> 12n !== VSYSCALL_PAGE >> 12n) return null;
  const entry = rip & 0xfffn;
  const out: [number, number][] = [];
  if (entry === 0n) {
    // gettimeofday(struct timeval *tv, struct timezone *tz)
    if (rdi !== 0n) out.push([Number(rdi), 16]);
    if (rsi !== 0n) out.push([Number(rsi), 8]);
  } else if (entry === 0x400n) {
    // time(time_t *tloc)
    if (rdi !== 0n) out.push([Number(rdi), 8]);
  } else return null;
  return out;
}
