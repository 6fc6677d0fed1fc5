/**
 * What the page windows of the JavaScript and WebAssembly emitters share: a
 * window is on the page of an anchor address, reached through base register
 * `reg` at value version `version`; off is that register's current value
 * minus the anchor address (an access at reg + disp is anchor + disp + off).
 */
export interface BaseWindow {
  reg: number;
  version: number;
  off: number;
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
