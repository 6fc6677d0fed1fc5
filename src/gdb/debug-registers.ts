/**
 * Accounting of the x86 debug registers: hardware breakpoints (Z1) and
 * watchpoints (Z2-Z4) share four slots, like DR0-DR3. A watched range takes
 * one slot per naturally aligned 1/2/4/8-byte piece, as gdbserver's x86 code
 * splits it. Inserting the same point twice is a no-op (Z packets must be
 * idempotent).
 */
export const DEBUG_REGISTER_COUNT = 4;

/**
 * Slots needed to watch [addr, addr+len). Counting stops once the range
 * needs more slots than exist: a hostile length (Z2,addr,ffffffffffff) must
 * not keep the stub counting for hours.
 */
export function slotsForRange(addr: number, len: number): number {
  let n = 0;
  while (len > 0 && n <= DEBUG_REGISTER_COUNT) {
    let size = 8;
    while (size > 1 && (addr % size !== 0 || size > len)) size >>= 1;
    addr += size;
    len -= size;
    n++;
  }
  return Math.max(n, 1);
}

export class DebugRegisterSlots {
  private readonly used = new Map<string, number>();

  constructor(readonly capacity = DEBUG_REGISTER_COUNT) {}

  get inUse(): number {
    let n = 0;
    for (const v of this.used.values()) n += v;
    return n;
  }
  has(key: string): boolean {
    return this.used.has(key);
  }
  /** Reserves slots for a point; false when they are not available. */
  reserve(key: string, slots: number): boolean {
    if (this.used.has(key)) return true;
    if (this.inUse + slots > this.capacity) return false;
    this.used.set(key, slots);
    return true;
  }
  release(key: string): void {
    this.used.delete(key);
  }
  clear(): void {
    this.used.clear();
  }
}
