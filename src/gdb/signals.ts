/**
 * Linux signal numbers ↔ gdb's signal numbers (include/gdb/signals.def), which
 * are what the wire carries in stop replies and in C/S/vCont actions.
 */

/** [linux, gdb] pairs for the classic signals. */
const CLASSIC: ReadonlyArray<readonly [number, number]> = [
  [1, 1], // SIGHUP
  [2, 2], // SIGINT
  [3, 3], // SIGQUIT
  [4, 4], // SIGILL
  [5, 5], // SIGTRAP
  [6, 6], // SIGABRT
  [7, 10], // SIGBUS
  [8, 8], // SIGFPE
  [9, 9], // SIGKILL
  [10, 30], // SIGUSR1
  [11, 11], // SIGSEGV
  [12, 31], // SIGUSR2
  [13, 13], // SIGPIPE
  [14, 14], // SIGALRM
  [15, 15], // SIGTERM
  // 16 SIGSTKFLT has no gdb number (GDB_SIGNAL_UNKNOWN)
  [17, 20], // SIGCHLD
  [18, 19], // SIGCONT
  [19, 17], // SIGSTOP
  [20, 18], // SIGTSTP
  [21, 21], // SIGTTIN
  [22, 22], // SIGTTOU
  [23, 16], // SIGURG
  [24, 24], // SIGXCPU
  [25, 25], // SIGXFSZ
  [26, 26], // SIGVTALRM
  [27, 27], // SIGPROF
  [28, 28], // SIGWINCH
  [29, 23], // SIGIO
  [30, 32], // SIGPWR
  [31, 12], // SIGSYS
];

/** GDB_SIGNAL_UNKNOWN. */
export const GDB_SIGNAL_UNKNOWN = 143;
const GDB_REALTIME_32 = 77;
const GDB_REALTIME_33 = 45; // 33..63 → 45..75
const GDB_REALTIME_64 = 78;

const LINUX_TO_GDB = new Map<number, number>(CLASSIC);
LINUX_TO_GDB.set(0, 0);
LINUX_TO_GDB.set(32, GDB_REALTIME_32);
for (let s = 33; s <= 63; s++) LINUX_TO_GDB.set(s, GDB_REALTIME_33 + (s - 33));
LINUX_TO_GDB.set(64, GDB_REALTIME_64);

const GDB_TO_LINUX = new Map<number, number>([...LINUX_TO_GDB].map(([l, g]) => [g, l]));

/** gdb's number for a Linux signal (GDB_SIGNAL_UNKNOWN for SIGSTKFLT and out-of-range numbers). */
export function linuxToGdbSignal(linux: number): number {
  return LINUX_TO_GDB.get(linux) ?? GDB_SIGNAL_UNKNOWN;
}

/** The Linux number for a gdb signal, or null when Linux has no such signal. */
export function gdbToLinuxSignal(gdb: number): number | null {
  return GDB_TO_LINUX.get(gdb) ?? null;
}
