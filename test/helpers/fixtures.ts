// The test guests built by scripts/build-fixtures.sh and how the tests run them.
// Workloads are kept small here (the emulator is ~50x slower than native); the
// big versions of the same programs are in scripts/bench.mjs.
import type { CompareOptions } from './run.js';

/** Build variants: directory names under test/fixtures/build/. */
export const MAIN_VARIANTS = ['glibc-pie', 'glibc-static', 'musl'] as const;
export const DEBUG_VARIANTS = ['debug-glibc-pie', 'debug-musl'] as const;

export interface FixtureCase {
  /** Binary name under test/fixtures/build/<variant>/. */
  fixture: string;
  /** Test title suffix; defaults to the args. */
  label?: string;
  args?: string[];
  opts?: CompareOptions;
  /** Variants this case applies to (default: all MAIN_VARIANTS). */
  variants?: readonly string[];
}

const glibcOnly = ['glibc-pie', 'glibc-static'] as const;

const linesOfText = (count: number) =>
  Array.from({ length: count }, (_, i) => `line ${i}: ${'abcdefghij'.repeat(i % 13)}\n`).join('');

export const FIXTURE_CASES: FixtureCase[] = [
  { fixture: 'hello' },
  {
    fixture: 'hello',
    label: 'awkward argv and FIXTURE_ env',
    args: ['one', 'two words', '', '-v', '--flag=1', 'ünïcödé', 'tab\there'],
    opts: { env: { FIXTURE_GREETING: 'hi there', FIXTURE_EMPTY: '', FIXTURE_Z: 'a=b=c' } },
  },
  { fixture: 'exitcode', args: ['exit', '3'] },
  { fixture: 'exitcode', args: ['exit', '256'] },
  { fixture: 'exitcode', args: ['return', '42'] },
  { fixture: 'exitcode', args: ['_exit', '7'] },
  { fixture: 'exitcode', args: ['atexit', '5'] },
  { fixture: 'exitcode', args: ['abort'] },
  { fixture: 'exitcode', args: ['segv'] },
  { fixture: 'exitcode', label: 'no arguments (usage, status 2)' },
  { fixture: 'fileio', label: 'in a fresh temp dir', args: ['{tmp}'], opts: { tempDir: true } },
  { fixture: 'malloc', args: ['800'] },
  { fixture: 'qsort', args: ['5000'] },
  { fixture: 'printf-float' },
  // logl & co. use fyl2x/f2xm1/fsin…: elfshim rounds those correctly, the hardware may be one ulp off.
  { fixture: 'libm', opts: { ulpTolerantLines: /^(log|exp|sin|cos|tan|atan|pow|log2|log10|cbrt|hypot|lgamma)l?\(/ } },
  { fixture: 'strings' },
  { fixture: 'intedge' },
  { fixture: 'catcount', label: 'echo hi | catcount', opts: { input: 'hi\n' } },
  { fixture: 'catcount', label: 'empty stdin', opts: { input: '' } },
  { fixture: 'catcount', label: '200 KB of lines on stdin', opts: { input: linesOfText(2500) } },
  { fixture: 'cxx', args: ['some-arg'], variants: glibcOnly },
  { fixture: 'signals' },
  { fixture: 'signals', args: ['--abort'], label: 'ends in abort()' },
  // Signal frames as Linux builds them: uc_stack flags, siginfo only for SA_SIGINFO, FPU reset, oldmask, err/trapno/cr2.
  { fixture: 'sigframe' },
  { fixture: 'sigchld-wait', label: 'a shell\'s waits: waitpid interrupted by SIGCHLD, then block-all, WNOHANG, sigsuspend' },
  { fixture: 'threads' },
  { fixture: 'parkedsig', label: 'a signal interrupts a thread waiting on a futex, and one reading an empty pipe' },
  { fixture: 'vdso', label: 'the vDSO found through AT_SYSINFO_EHDR and called' },
  { fixture: 'memlayout', label: '[stack] grown on demand and the emulated vsyscall page, as /proc/self/maps shows them', opts: { nativeNoAslr: true } },
  { fixture: 'rseq', label: 'registration rules and a critical section aborted by a signal' },
  { fixture: 'debug', variants: DEBUG_VARIANTS },
  { fixture: 'debug', args: ['2', '--crash'], variants: DEBUG_VARIANTS },
];
