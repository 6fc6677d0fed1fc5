/** Linux x86-64 signal numbers, names, default actions and shell descriptions. */

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8;
export const SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15;
export const SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGSYS = 31;

export type DefaultAction = 'term' | 'core' | 'ign' | 'stop' | 'cont';

interface SignalInfo {
  name: string;
  action: DefaultAction;
  /** What bash prints when a child dies of it (strsignal). */
  text: string;
}

/** Indexed by signal number. */
export const SIGNALS: Record<number, SignalInfo> = {
  1: { name: 'SIGHUP', action: 'term', text: 'Hangup' },
  2: { name: 'SIGINT', action: 'term', text: 'Interrupt' },
  3: { name: 'SIGQUIT', action: 'core', text: 'Quit' },
  4: { name: 'SIGILL', action: 'core', text: 'Illegal instruction' },
  5: { name: 'SIGTRAP', action: 'core', text: 'Trace/breakpoint trap' },
  6: { name: 'SIGABRT', action: 'core', text: 'Aborted' },
  7: { name: 'SIGBUS', action: 'core', text: 'Bus error' },
  8: { name: 'SIGFPE', action: 'core', text: 'Floating point exception' },
  9: { name: 'SIGKILL', action: 'term', text: 'Killed' },
  10: { name: 'SIGUSR1', action: 'term', text: 'User defined signal 1' },
  11: { name: 'SIGSEGV', action: 'core', text: 'Segmentation fault' },
  12: { name: 'SIGUSR2', action: 'term', text: 'User defined signal 2' },
  13: { name: 'SIGPIPE', action: 'term', text: 'Broken pipe' },
  14: { name: 'SIGALRM', action: 'term', text: 'Alarm clock' },
  15: { name: 'SIGTERM', action: 'term', text: 'Terminated' },
  16: { name: 'SIGSTKFLT', action: 'term', text: 'Stack fault' },
  17: { name: 'SIGCHLD', action: 'ign', text: 'Child exited' },
  18: { name: 'SIGCONT', action: 'cont', text: 'Continued' },
  19: { name: 'SIGSTOP', action: 'stop', text: 'Stopped (signal)' },
  20: { name: 'SIGTSTP', action: 'stop', text: 'Stopped' },
  21: { name: 'SIGTTIN', action: 'stop', text: 'Stopped (tty input)' },
  22: { name: 'SIGTTOU', action: 'stop', text: 'Stopped (tty output)' },
  23: { name: 'SIGURG', action: 'ign', text: 'Urgent I/O condition' },
  24: { name: 'SIGXCPU', action: 'core', text: 'CPU time limit exceeded' },
  25: { name: 'SIGXFSZ', action: 'core', text: 'File size limit exceeded' },
  26: { name: 'SIGVTALRM', action: 'term', text: 'Virtual timer expired' },
  27: { name: 'SIGPROF', action: 'term', text: 'Profiling timer expired' },
  28: { name: 'SIGWINCH', action: 'ign', text: 'Window changed' },
  29: { name: 'SIGIO', action: 'term', text: 'I/O possible' },
  30: { name: 'SIGPWR', action: 'term', text: 'Power failure' },
  31: { name: 'SIGSYS', action: 'core', text: 'Bad system call' },
};

export function signalInfo(sig: number): SignalInfo {
  return SIGNALS[sig] ?? { name: `SIGRT${sig - 32}`, action: 'term', text: `Real-time signal ${sig - 34}` };
}

/** The line a shell prints when a job dies of sig (bash adds "(core dumped)" only when a core was written). */
export function shellDeathMessage(sig: number): string {
  return signalInfo(sig).text;
}
