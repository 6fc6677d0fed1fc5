import { GuestFault } from '../mem/fault.js';
import { ENOSYS, EFAULT, EINVAL } from './errno.js';
import { Blocked, type Coverage, type SyscallImpl } from './syscall-types.js';
import type { Task } from './task.js';
import { processHandlers } from './syscalls/process.js';
import { signalHandlers } from './syscalls/signal.js';
import { fsHandlers } from './syscalls/fs.js';
import { netHandlers } from './syscalls/net.js';
import { fsMetaHandlers } from './syscalls/fs-meta.js';
import { mmHandlers } from './syscalls/mm.js';
import { timeHandlers } from './syscalls/time.js';
import { infoHandlers } from './syscalls/info.js';
import { pollHandlers } from './syscalls/poll.js';
import { eventHandlers } from './syscalls/events.js';
import { sigwaitHandlers } from './syscalls/sigwait.js';
import { straceAfter, straceBefore } from './strace.js';
import { writeDiagnostic } from './files/elfshim-stderr.js';

/**
 * How strace shows an argument (and whether it is read after the call):
 * d signed int · u unsigned decimal · x hex · p pointer (NULL / 0x…) · fd ·
 * dirfd (AT_FDCWD) · path / str (C string) · ibuf (input bytes, length in the
 * next argument) · obuf (output bytes, length = result) · obufz (output C
 * string) · obufn (output bytes, length = result, e.g. getrandom) · iov / oiov
 * (iovec array, count in the next argument) · oflags · mode (octal) · prot ·
 * mapflags · atflags · whence · fcntl · ioctl · clock · sig · sighow · stat
 * (struct stat out) · ts (timespec in) · ofds (int[2] out) · argv / envp ·
 * rlimit · futexop · cloneflags · accmode · madv · mremapflags · grnd ·
 * pollfds · archprctl · dirents (getdents buffer out) · rlim / orlim
 * (struct rlimit in / out) · fdflags (O_CLOEXEC/O_NONBLOCK of pipe2, dup3) ·
 * statxflags · statxmask · statx (struct statx out) · ots (timespec out) ·
 * sigset / osigset (signal set in / out, its size in the last argument) ·
 * sigact / osigact (struct sigaction in / out) · fdflag (FD_CLOEXEC) · prctlop.
 */
export type ArgKind =
  | 'd' | 'u' | 'x' | 'p' | 'fd' | 'dirfd' | 'path' | 'str' | 'ibuf' | 'obuf' | 'obufz' | 'obufn'
  | 'iov' | 'oiov' | 'oflags' | 'mode' | 'prot' | 'mapflags' | 'atflags' | 'whence' | 'fcntl' | 'ioctl'
  | 'clock' | 'sig' | 'sighow' | 'stat' | 'ts' | 'ofds' | 'argv' | 'envp' | 'rlimit' | 'futexop'
  | 'cloneflags' | 'accmode' | 'madv' | 'mremapflags' | 'grnd' | 'pollfds' | 'archprctl'
  | 'dirents' | 'rlim' | 'orlim' | 'fdflags' | 'statxflags' | 'statxmask' | 'statx'
  | 'ots' | 'sigset' | 'osigset' | 'sigact' | 'osigact' | 'fdflag' | 'prctlop';

/** Kinds whose contents exist only after the call (strace formats them from the result). */
export const OUTPUT_KINDS: ReadonlySet<ArgKind> = new Set<ArgKind>(['obuf', 'obufz', 'obufn', 'oiov', 'stat', 'ofds', 'dirents', 'orlim', 'statx', 'ots', 'osigset', 'osigact']);

/** One x86-64 system call: number, name, argument kinds and, if implemented, the handler. */
export interface SyscallInfo {
  nr: number;
  name: string;
  args: readonly ArgKind[];
  impl: SyscallImpl | null;
  coverage: Coverage;
  note?: string;
}

/**
 * Every x86-64 Linux system call, by number: names and numbers as in
 * /usr/share/gdb/syscalls/amd64-linux.xml (what gdb's `catch syscall` uses),
 * plus the calls added after it (451–462); argument counts as the kernel's
 * prototypes.
 */
const SYSCALLS: readonly (readonly [number, string, string])[] = [
  [0, 'read', 'fd obuf u'],
  [1, 'write', 'fd ibuf u'],
  [2, 'open', 'path oflags mode'],
  [3, 'close', 'fd'],
  [4, 'stat', 'path stat'],
  [5, 'fstat', 'fd stat'],
  [6, 'lstat', 'path stat'],
  [7, 'poll', 'pollfds u d'],
  [8, 'lseek', 'fd d whence'],
  [9, 'mmap', 'p u prot mapflags fd x'],
  [10, 'mprotect', 'p u prot'],
  [11, 'munmap', 'p u'],
  [12, 'brk', 'p'],
  [13, 'rt_sigaction', 'sig sigact osigact u'],
  [14, 'rt_sigprocmask', 'sighow sigset osigset u'],
  [15, 'rt_sigreturn', ''],
  [16, 'ioctl', 'fd ioctl x'],
  [17, 'pread64', 'fd obuf u d'],
  [18, 'pwrite64', 'fd ibuf u d'],
  [19, 'readv', 'fd oiov u'],
  [20, 'writev', 'fd iov u'],
  [21, 'access', 'path accmode'],
  [22, 'pipe', 'ofds'],
  [23, 'select', 'd p p p p'],
  [24, 'sched_yield', ''],
  [25, 'mremap', 'p u u mremapflags p'],
  [26, 'msync', 'p u x'],
  [27, 'mincore', 'p u p'],
  [28, 'madvise', 'p u madv'],
  [29, 'shmget', 'x u x'],
  [30, 'shmat', 'd p x'],
  [31, 'shmctl', 'd d p'],
  [32, 'dup', 'fd'],
  [33, 'dup2', 'fd fd'],
  [34, 'pause', ''],
  [35, 'nanosleep', 'ts p'],
  [36, 'getitimer', 'd p'],
  [37, 'alarm', 'u'],
  [38, 'setitimer', 'd p p'],
  [39, 'getpid', ''],
  [40, 'sendfile', 'fd fd p u'],
  [41, 'socket', 'd d d'],
  [42, 'connect', 'fd p u'],
  [43, 'accept', 'fd p p'],
  [44, 'sendto', 'fd ibuf u x p u'],
  [45, 'recvfrom', 'fd obuf u x p p'],
  [46, 'sendmsg', 'fd p x'],
  [47, 'recvmsg', 'fd p x'],
  [48, 'shutdown', 'fd d'],
  [49, 'bind', 'fd p u'],
  [50, 'listen', 'fd d'],
  [51, 'getsockname', 'fd p p'],
  [52, 'getpeername', 'fd p p'],
  [53, 'socketpair', 'd d d p'],
  [54, 'setsockopt', 'fd d d p u'],
  [55, 'getsockopt', 'fd d d p p'],
  [56, 'clone', 'cloneflags p p p x'],
  [57, 'fork', ''],
  [58, 'vfork', ''],
  [59, 'execve', 'path argv envp'],
  [60, 'exit', 'd'],
  [61, 'wait4', 'd p x p'],
  [62, 'kill', 'd sig'],
  [63, 'uname', 'p'],
  [64, 'semget', 'x d x'],
  [65, 'semop', 'd p u'],
  [66, 'semctl', 'd d d x'],
  [67, 'shmdt', 'p'],
  [68, 'msgget', 'x x'],
  [69, 'msgsnd', 'd p u x'],
  [70, 'msgrcv', 'd p u d x'],
  [71, 'msgctl', 'd d p'],
  [72, 'fcntl', 'fd fcntl x'],
  [73, 'flock', 'fd x'],
  [74, 'fsync', 'fd'],
  [75, 'fdatasync', 'fd'],
  [76, 'truncate', 'path d'],
  [77, 'ftruncate', 'fd d'],
  [78, 'getdents', 'fd dirents u'],
  [79, 'getcwd', 'obufz u'],
  [80, 'chdir', 'path'],
  [81, 'fchdir', 'fd'],
  [82, 'rename', 'path path'],
  [83, 'mkdir', 'path mode'],
  [84, 'rmdir', 'path'],
  [85, 'creat', 'path mode'],
  [86, 'link', 'path path'],
  [87, 'unlink', 'path'],
  [88, 'symlink', 'path path'],
  [89, 'readlink', 'path obuf u'],
  [90, 'chmod', 'path mode'],
  [91, 'fchmod', 'fd mode'],
  [92, 'chown', 'path d d'],
  [93, 'fchown', 'fd d d'],
  [94, 'lchown', 'path d d'],
  [95, 'umask', 'mode'],
  [96, 'gettimeofday', 'p p'],
  [97, 'getrlimit', 'rlimit orlim'],
  [98, 'getrusage', 'd p'],
  [99, 'sysinfo', 'p'],
  [100, 'times', 'p'],
  [101, 'ptrace', 'd d p p'],
  [102, 'getuid', ''],
  [103, 'syslog', 'd p d'],
  [104, 'getgid', ''],
  [105, 'setuid', 'd'],
  [106, 'setgid', 'd'],
  [107, 'geteuid', ''],
  [108, 'getegid', ''],
  [109, 'setpgid', 'd d'],
  [110, 'getppid', ''],
  [111, 'getpgrp', ''],
  [112, 'setsid', ''],
  [113, 'setreuid', 'd d'],
  [114, 'setregid', 'd d'],
  [115, 'getgroups', 'd p'],
  [116, 'setgroups', 'd p'],
  [117, 'setresuid', 'd d d'],
  [118, 'getresuid', 'p p p'],
  [119, 'setresgid', 'd d d'],
  [120, 'getresgid', 'p p p'],
  [121, 'getpgid', 'd'],
  [122, 'setfsuid', 'd'],
  [123, 'setfsgid', 'd'],
  [124, 'getsid', 'd'],
  [125, 'capget', 'p p'],
  [126, 'capset', 'p p'],
  [127, 'rt_sigpending', 'osigset u'],
  [128, 'rt_sigtimedwait', 'p p ts u'],
  [129, 'rt_sigqueueinfo', 'd sig p'],
  [130, 'rt_sigsuspend', 'sigset u'],
  [131, 'sigaltstack', 'p p'],
  [132, 'utime', 'path p'],
  [133, 'mknod', 'path mode x'],
  [134, 'uselib', 'path'],
  [135, 'personality', 'x'],
  [136, 'ustat', 'x p'],
  [137, 'statfs', 'path p'],
  [138, 'fstatfs', 'fd p'],
  [139, 'sysfs', 'd x x'],
  [140, 'getpriority', 'd d'],
  [141, 'setpriority', 'd d d'],
  [142, 'sched_setparam', 'd p'],
  [143, 'sched_getparam', 'd p'],
  [144, 'sched_setscheduler', 'd d p'],
  [145, 'sched_getscheduler', 'd'],
  [146, 'sched_get_priority_max', 'd'],
  [147, 'sched_get_priority_min', 'd'],
  [148, 'sched_rr_get_interval', 'd p'],
  [149, 'mlock', 'p u'],
  [150, 'munlock', 'p u'],
  [151, 'mlockall', 'x'],
  [152, 'munlockall', ''],
  [153, 'vhangup', ''],
  [154, 'modify_ldt', 'd p u'],
  [155, 'pivot_root', 'path path'],
  [156, '_sysctl', 'p'],
  [157, 'prctl', 'prctlop x x x x'],
  [158, 'arch_prctl', 'archprctl x'],
  [159, 'adjtimex', 'p'],
  [160, 'setrlimit', 'rlimit rlim'],
  [161, 'chroot', 'path'],
  [162, 'sync', ''],
  [163, 'acct', 'path'],
  [164, 'settimeofday', 'p p'],
  [165, 'mount', 'str path str x p'],
  [166, 'umount2', 'path x'],
  [167, 'swapon', 'path x'],
  [168, 'swapoff', 'path'],
  [169, 'reboot', 'x x x p'],
  [170, 'sethostname', 'ibuf u'],
  [171, 'setdomainname', 'ibuf u'],
  [172, 'iopl', 'd'],
  [173, 'ioperm', 'x x d'],
  [174, 'create_module', 'str u'],
  [175, 'init_module', 'p u str'],
  [176, 'delete_module', 'str x'],
  [177, 'get_kernel_syms', 'p'],
  [178, 'query_module', 'str d p u p'],
  [179, 'quotactl', 'x str d p'],
  [180, 'nfsservctl', 'd p p'],
  [181, 'getpmsg', 'x x x x x'],
  [182, 'putpmsg', 'x x x x x'],
  [183, 'afs_syscall', 'x x x x x'],
  [184, 'tuxcall', 'x x x'],
  [185, 'security', 'x x x'],
  [186, 'gettid', ''],
  [187, 'readahead', 'fd d u'],
  [188, 'setxattr', 'path str p u x'],
  [189, 'lsetxattr', 'path str p u x'],
  [190, 'fsetxattr', 'fd str p u x'],
  [191, 'getxattr', 'path str p u'],
  [192, 'lgetxattr', 'path str p u'],
  [193, 'fgetxattr', 'fd str p u'],
  [194, 'listxattr', 'path p u'],
  [195, 'llistxattr', 'path p u'],
  [196, 'flistxattr', 'fd p u'],
  [197, 'removexattr', 'path str'],
  [198, 'lremovexattr', 'path str'],
  [199, 'fremovexattr', 'fd str'],
  [200, 'tkill', 'd sig'],
  [201, 'time', 'p'],
  [202, 'futex', 'p futexop d p p d'],
  [203, 'sched_setaffinity', 'd u p'],
  [204, 'sched_getaffinity', 'd u p'],
  [205, 'set_thread_area', 'p'],
  [206, 'io_setup', 'u p'],
  [207, 'io_destroy', 'x'],
  [208, 'io_getevents', 'x d d p p'],
  [209, 'io_submit', 'x d p'],
  [210, 'io_cancel', 'x p p'],
  [211, 'get_thread_area', 'p'],
  [212, 'lookup_dcookie', 'x p u'],
  [213, 'epoll_create', 'd'],
  [214, 'epoll_ctl_old', 'x x x x'],
  [215, 'epoll_wait_old', 'x x x x'],
  [216, 'remap_file_pages', 'p u x x x'],
  [217, 'getdents64', 'fd dirents u'],
  [218, 'set_tid_address', 'p'],
  [219, 'restart_syscall', ''],
  [220, 'semtimedop', 'd p u p'],
  [221, 'fadvise64', 'fd d d d'],
  [222, 'timer_create', 'clock p p'],
  [223, 'timer_settime', 'x x p p'],
  [224, 'timer_gettime', 'x p'],
  [225, 'timer_getoverrun', 'x'],
  [226, 'timer_delete', 'x'],
  [227, 'clock_settime', 'clock p'],
  [228, 'clock_gettime', 'clock ots'],
  [229, 'clock_getres', 'clock ots'],
  [230, 'clock_nanosleep', 'clock x ts p'],
  [231, 'exit_group', 'd'],
  [232, 'epoll_wait', 'fd p d d'],
  [233, 'epoll_ctl', 'fd d fd p'],
  [234, 'tgkill', 'd d sig'],
  [235, 'utimes', 'path p'],
  [236, 'vserver', 'x x x x x'],
  [237, 'mbind', 'p u x p u x'],
  [238, 'set_mempolicy', 'x p u'],
  [239, 'get_mempolicy', 'p p u p x'],
  [240, 'mq_open', 'str oflags mode p'],
  [241, 'mq_unlink', 'str'],
  [242, 'mq_timedsend', 'd p u u p'],
  [243, 'mq_timedreceive', 'd p u p p'],
  [244, 'mq_notify', 'd p'],
  [245, 'mq_getsetattr', 'd p p'],
  [246, 'kexec_load', 'x u p x'],
  [247, 'waitid', 'd d p x p'],
  [248, 'add_key', 'str str p u d'],
  [249, 'request_key', 'str str str d'],
  [250, 'keyctl', 'd x x x x'],
  [251, 'ioprio_set', 'd d d'],
  [252, 'ioprio_get', 'd d'],
  [253, 'inotify_init', ''],
  [254, 'inotify_add_watch', 'fd path x'],
  [255, 'inotify_rm_watch', 'fd d'],
  [256, 'migrate_pages', 'd u p p'],
  [257, 'openat', 'dirfd path oflags mode'],
  [258, 'mkdirat', 'dirfd path mode'],
  [259, 'mknodat', 'dirfd path mode x'],
  [260, 'fchownat', 'dirfd path d d atflags'],
  [261, 'futimesat', 'dirfd path p'],
  [262, 'newfstatat', 'dirfd path stat atflags'],
  [263, 'unlinkat', 'dirfd path atflags'],
  [264, 'renameat', 'dirfd path dirfd path'],
  [265, 'linkat', 'dirfd path dirfd path atflags'],
  [266, 'symlinkat', 'path dirfd path'],
  [267, 'readlinkat', 'dirfd path obuf u'],
  [268, 'fchmodat', 'dirfd path mode'],
  [269, 'faccessat', 'dirfd path accmode'],
  [270, 'pselect6', 'd p p p p p'],
  [271, 'ppoll', 'pollfds u p p u'],
  [272, 'unshare', 'x'],
  [273, 'set_robust_list', 'p u'],
  [274, 'get_robust_list', 'd p p'],
  [275, 'splice', 'fd p fd p u x'],
  [276, 'tee', 'fd fd u x'],
  [277, 'sync_file_range', 'fd d d x'],
  [278, 'vmsplice', 'fd p u x'],
  [279, 'move_pages', 'd u p p p x'],
  [280, 'utimensat', 'dirfd path p atflags'],
  [281, 'epoll_pwait', 'fd p d d p u'],
  [282, 'signalfd', 'fd p u'],
  [283, 'timerfd_create', 'clock x'],
  [284, 'eventfd', 'u'],
  [285, 'fallocate', 'fd x d d'],
  [286, 'timerfd_settime', 'fd x p p'],
  [287, 'timerfd_gettime', 'fd p'],
  [288, 'accept4', 'fd p p x'],
  [289, 'signalfd4', 'fd p u x'],
  [290, 'eventfd2', 'u x'],
  [291, 'epoll_create1', 'x'],
  [292, 'dup3', 'fd fd fdflags'],
  [293, 'pipe2', 'ofds fdflags'],
  [294, 'inotify_init1', 'x'],
  [295, 'preadv', 'fd oiov u d'],
  [296, 'pwritev', 'fd iov u d'],
  [297, 'rt_tgsigqueueinfo', 'd d sig p'],
  [298, 'perf_event_open', 'p d d d x'],
  [299, 'recvmmsg', 'fd p u x p'],
  [300, 'fanotify_init', 'x x'],
  [301, 'fanotify_mark', 'fd x x dirfd path'],
  [302, 'prlimit64', 'd rlimit rlim orlim'],
  [303, 'name_to_handle_at', 'dirfd path p p atflags'],
  [304, 'open_by_handle_at', 'fd p oflags'],
  [305, 'clock_adjtime', 'clock p'],
  [306, 'syncfs', 'fd'],
  [307, 'sendmmsg', 'fd p u x'],
  [308, 'setns', 'fd x'],
  [309, 'getcpu', 'p p p'],
  [310, 'process_vm_readv', 'd p u p u x'],
  [311, 'process_vm_writev', 'd p u p u x'],
  [312, 'kcmp', 'd d d x x'],
  [313, 'finit_module', 'fd str x'],
  [314, 'sched_setattr', 'd p x'],
  [315, 'sched_getattr', 'd p u x'],
  [316, 'renameat2', 'dirfd path dirfd path x'],
  [317, 'seccomp', 'x x p'],
  [318, 'getrandom', 'obufn u grnd'],
  [319, 'memfd_create', 'str x'],
  [320, 'kexec_file_load', 'fd fd u str x'],
  [321, 'bpf', 'd p u'],
  [322, 'execveat', 'dirfd path argv envp atflags'],
  [323, 'userfaultfd', 'x'],
  [324, 'membarrier', 'x x d'],
  [325, 'mlock2', 'p u x'],
  [326, 'copy_file_range', 'fd p fd p u x'],
  [327, 'preadv2', 'fd oiov u d x'],
  [328, 'pwritev2', 'fd iov u d x'],
  [329, 'pkey_mprotect', 'p u prot d'],
  [330, 'pkey_alloc', 'x x'],
  [331, 'pkey_free', 'd'],
  [332, 'statx', 'dirfd path statxflags statxmask statx'],
  [333, 'io_pgetevents', 'x d d p p p'],
  [334, 'rseq', 'p x x x'],
  [424, 'pidfd_send_signal', 'fd sig p x'],
  [425, 'io_uring_setup', 'u p'],
  [426, 'io_uring_enter', 'fd u u x p u'],
  [427, 'io_uring_register', 'fd u p u'],
  [428, 'open_tree', 'dirfd path x'],
  [429, 'move_mount', 'dirfd path dirfd path x'],
  [430, 'fsopen', 'str x'],
  [431, 'fsconfig', 'fd x str p d'],
  [432, 'fsmount', 'fd x x'],
  [433, 'fspick', 'dirfd path x'],
  [434, 'pidfd_open', 'd x'],
  [435, 'clone3', 'p u'],
  [436, 'close_range', 'fd fd x'],
  [437, 'openat2', 'dirfd path p u'],
  [438, 'pidfd_getfd', 'fd fd x'],
  [439, 'faccessat2', 'dirfd path accmode atflags'],
  [440, 'process_madvise', 'fd p u madv x'],
  [441, 'epoll_pwait2', 'fd p d p p u'],
  [442, 'mount_setattr', 'dirfd path atflags p u'],
  [443, 'quotactl_fd', 'fd x d p'],
  [444, 'landlock_create_ruleset', 'p u x'],
  [445, 'landlock_add_rule', 'fd x p x'],
  [446, 'landlock_restrict_self', 'fd x'],
  [447, 'memfd_secret', 'x'],
  [448, 'process_mrelease', 'fd x'],
  [449, 'futex_waitv', 'p u x p clock'],
  [450, 'set_mempolicy_home_node', 'p u x x'],
  [451, 'cachestat', 'fd p p x'],
  [452, 'fchmodat2', 'dirfd path mode atflags'],
  [453, 'map_shadow_stack', 'p u x'],
  [454, 'futex_wake', 'p x d x'],
  [455, 'futex_wait', 'p x x x p clock'],
  [456, 'futex_requeue', 'p x d d'],
  [457, 'statmount', 'p p u x'],
  [458, 'listmount', 'p p u x'],
  [459, 'lsm_get_self_attr', 'x p p x'],
  [460, 'lsm_set_self_attr', 'x p u x'],
  [461, 'lsm_list_modules', 'p p x'],
  [462, 'mseal', 'p u x'],
];

const handlerSets: Record<string, SyscallImpl>[] = [
  netHandlers,
  fsHandlers,
  fsMetaHandlers,
  mmHandlers,
  timeHandlers,
  infoHandlers,
  pollHandlers,
  eventHandlers,
  processHandlers,
  signalHandlers,
  sigwaitHandlers,
];

const byNr: (SyscallInfo | undefined)[] = [];
const byName = new Map<string, SyscallInfo>();

for (const [nr, name, kinds] of SYSCALLS) {
  let impl: SyscallImpl | null = null;
  for (const set of handlerSets) if (Object.hasOwn(set, name)) impl = set[name];
  const info: SyscallInfo = {
    nr,
    name,
    args: kinds ? (kinds.split(' ') as ArgKind[]) : [],
    impl,
    coverage: impl ? (impl.coverage ?? 'implemented') : 'missing',
    note: impl?.note,
  };
  byNr[nr] = info;
  byName.set(name, info);
}

/** The syscall with number nr, if Linux x86-64 has one. */
export function syscallByNumber(nr: number): SyscallInfo | undefined {
  return byNr[nr];
}

/** The syscall with this name (gdb's names: "openat", "exit_group"…). */
export function syscallByName(name: string): SyscallInfo | undefined {
  return byName.get(name);
}

/** Every syscall, ascending by number. */
export function allSyscalls(): SyscallInfo[] {
  return byNr.filter((s): s is SyscallInfo => s !== undefined);
}

/** Per-syscall counters for --syscall-report. */
export interface SyscallCounter {
  calls: number;
  errors: number;
}

const counters = new Map<number, SyscallCounter>();

/** Counters of every syscall made so far (number → calls, errors). */
export function syscallCounters(): ReadonlyMap<number, SyscallCounter> {
  return counters;
}

export function resetSyscallCounters(): void {
  counters.clear();
}

function count(nr: number, result: number): void {
  let c = counters.get(nr);
  if (!c) counters.set(nr, (c = { calls: 0, errors: 0 }));
  c.calls++;
  if (result < 0 && result > -4096) c.errors++;
}

const reportedInternal = new Set<string>();
const reportedMissing = new Set<number>();

/** Called (once per number) when the guest uses an unimplemented syscall. */
export const unimplementedHooks: { onFirstUse: ((t: Task, nr: number, name: string) => void) | null } = { onFirstUse: null };

/**
 * Runs the handler of syscall nr for t and returns rax (a result or a
 * negative errno) or Blocked (re-run the same call when it settles).
 * Never throws: a guest fault while touching its memory becomes -EFAULT, any
 * other exception is reported once and becomes -EINVAL; an unknown or
 * unimplemented number returns -ENOSYS. Counts every completed call and
 * writes the strace line when --strace is on.
 */
export function dispatchSyscall(t: Task, nr: number): number | Blocked {
  const info = byNr[nr];
  const strace = t.kernel.options.strace;
  const before = strace ? straceBefore(t, nr) : null;
  let result: number | Blocked;
  if (!info || !info.impl) {
    result = -ENOSYS;
    if (!reportedMissing.has(nr)) {
      reportedMissing.add(nr);
      unimplementedHooks.onFirstUse?.(t, nr, info?.name ?? `syscall_${nr}`);
    }
  } else {
    try {
      result = info.impl.handler(t);
    } catch (e) {
      if (e instanceof GuestFault) result = -EFAULT;
      else {
        const key = info.name;
        if (!reportedInternal.has(key)) {
          reportedInternal.add(key);
          const msg = e instanceof Error ? e.message : String(e);
          writeDiagnostic(`elfshim: internal error in ${key}: ${msg}\n`);
        }
        result = -EINVAL;
      }
    }
  }
  if (result instanceof Blocked) return result;
  count(nr, result);
  if (strace && before) t.kernel.options.straceOut(straceAfter(t, nr, before, result));
  return result;
}
