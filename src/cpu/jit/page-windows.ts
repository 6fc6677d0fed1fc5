/**
 * What the page windows of the JavaScript and WebAssembly emitters share: a
 * window is on the page of an anchor address, reached through base register
 * `reg` at value version `version`; off is that register's current value
 * minus the anchor address (an access at reg + disp is anchor + disp + off).
 * Bytes [lo, hi) relative to the anchor are known to be in the page.
 */
export interface BaseWindow {
  reg: number;
  version: number;
  off: number;
  write: boolean;
  lo: number;
  hi: number;
}

/**
 * Offsets from a window's known bytes that an access may have and still be
 * checked against the window (leaving the region when the check fails).
 * Farther accesses probe the TLB themselves: a structure's fields far apart
 * are on different pages whenever the structure is placed across a boundary,
 * which is then true on every run of the block (busybox gzip left one block
 * at each run for an access 11 KiB from the previous one through the same base).
 */
const NEAR = 256;
/** Windows kept per base register and direction (fields of one structure on a few pages). */
const PER_REGISTER = 3;

/**
 * How an access of size bytes at base register reg + disp may use a window:
 * `covered` (no check), `check` (within NEAR of its known bytes: one
 * comparison, leaving the region if it is not in the page), or null (probe
 * the TLB). `usable` says whether the emitter's scope still holds a window.
 */
export function pickWindow<W extends BaseWindow>(windows: readonly W[], reg: number, version: number, write: boolean,
  disp: number, size: number, usable: (w: W) => boolean): { w: W; rel: number; covered: boolean } | null {
  let near: { w: W; rel: number; covered: boolean } | null = null;
  for (const w of windows) {
    if (w.reg !== reg || w.write !== write || w.version !== version || !usable(w)) continue;
    const rel = disp + w.off;
    if (rel >= w.lo && rel + size <= w.hi) return { w, rel, covered: true };
    if (near === null && rel > w.lo - NEAR && rel + size < w.hi + NEAR) near = { w, rel, covered: false };
  }
  return near;
}

/** A window was opened on a newly probed page: keeps it and the newest others for the same value of its register and direction. */
export function addWindow<W extends BaseWindow>(windows: readonly W[], w: W): W[] {
  const others = windows.filter((o) => o.reg !== w.reg || o.write !== w.write);
  const same = windows.filter((o) => o.reg === w.reg && o.write === w.write && o.version === w.version);
  return [...others, ...same.slice(-(PER_REGISTER - 1)), w];
}

/** Register n, at version `was`, has moved by delta (push, pop, add/sub of a constant) and is now at version `now`: its windows follow it. */
export function rebaseWindows(windows: readonly BaseWindow[], n: number, was: number, now: number, delta: number): void {
  for (const w of windows) {
    if (w.reg === n && w.version === was) {
      w.version = now;
      w.off += delta;
    }
  }
}
