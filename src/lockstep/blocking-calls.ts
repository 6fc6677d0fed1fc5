/**
 * The syscalls, other than futex waits, that may block until another thread
 * or process acts: the fast differ's schedule (thread-schedule.ts) tries
 * them on elfshim's side first and parks the thread if they block there.
 * Each entry says, from the arguments, whether this call can block at all
 * (null: it cannot — WNOHANG, LOCK_NB, a non-waiting fcntl) and if so
 * whether it ends by itself (a sleep or a finite timeout: 'timed') or only
 * when something else happens ('untimed').
 *
 * A call in this table must have no effect in elfshim while it blocks (its
 * handler returns Blocked before changing anything; rt_sigsuspend's mask is
 * put back by Kernel.abandonSyscall), so that trying it is free.
 */

export type BlockingKind = 'timed' | 'untimed' | null;

/** The six argument registers rdi, rsi, rdx, r10, r8, r9, as 64-bit values. */
type Args = readonly bigint[];

const WNOHANG = 1n, LOCK_NB = 4n, F_SETLKW = 7n, F_OFD_SETLKW = 38n;

const always = (): BlockingKind => 'untimed';
/** A timeout given by pointer (null: wait forever). */
const timeoutPtr = (k: number) => (a: Args): BlockingKind => (a[k] === 0n ? 'untimed' : 'timed');
/** A timeout in milliseconds (negative: wait forever). */
const timeoutMs = (k: number) => (a: Args): BlockingKind => (BigInt.asIntN(32, a[k]) < 0n ? 'untimed' : 'timed');

const CALLS: ReadonlyMap<number, (a: Args) => BlockingKind> = new Map([
  [0, always], // read (a pipe, a socket, a terminal, a signalfd, an eventfd)
  [19, always], // readv
  [43, always], // accept
  [288, always], // accept4
  [45, always], // recvfrom
  [47, always], // recvmsg
  [34, always], // pause
  [130, always], // rt_sigsuspend
  [61, (a: Args): BlockingKind => (a[2] & WNOHANG ? null : 'untimed')], // wait4
  [247, (a: Args): BlockingKind => (a[3] & WNOHANG ? null : 'untimed')], // waitid
  [72, (a: Args): BlockingKind => (a[1] === F_SETLKW || a[1] === F_OFD_SETLKW ? 'untimed' : null)], // fcntl
  [73, (a: Args): BlockingKind => (a[1] & LOCK_NB ? null : 'untimed')], // flock
  [128, timeoutPtr(2)], // rt_sigtimedwait
  [35, (): BlockingKind => 'timed'], // nanosleep
  [230, (): BlockingKind => 'timed'], // clock_nanosleep
  [7, timeoutMs(2)], // poll
  [271, timeoutPtr(2)], // ppoll
  [23, timeoutPtr(4)], // select
  [270, timeoutPtr(4)], // pselect6
  [232, timeoutMs(3)], // epoll_wait
  [281, timeoutMs(3)], // epoll_pwait
  [441, timeoutPtr(3)], // epoll_pwait2
]);

/** Whether syscall nr with these arguments may block, and how (see above). */
export function blockingKind(nr: number, args: Args): BlockingKind {
  return CALLS.get(nr)?.(args) ?? null;
}
