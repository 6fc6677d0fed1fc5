/** Linux x86-64 ABI constants used by the handlers, the file layer and strace. */

// open(2) flags (octal, as in asm-generic/fcntl.h).
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;

/** Flags F_SETFL may change. */
export const SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

/** Names for strace, in strace's order (compound flags before their parts). */
export const OPEN_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [O_CREAT, 'O_CREAT'],
  [O_EXCL, 'O_EXCL'],
  [O_NOCTTY, 'O_NOCTTY'],
  [O_TRUNC, 'O_TRUNC'],
  [O_APPEND, 'O_APPEND'],
  [O_NONBLOCK, 'O_NONBLOCK'],
  [O_SYNC, 'O_SYNC'],
  [O_DSYNC, 'O_DSYNC'],
  [O_DIRECT, 'O_DIRECT'],
  [O_LARGEFILE, 'O_LARGEFILE'],
  [O_NOFOLLOW, 'O_NOFOLLOW'],
  [O_NOATIME, 'O_NOATIME'],
  [O_CLOEXEC, 'O_CLOEXEC'],
  [O_PATH, 'O_PATH'],
  [O_TMPFILE, 'O_TMPFILE'],
  [O_DIRECTORY, 'O_DIRECTORY'],
  [O_ASYNC, 'O_ASYNC'],
];

// *at() flags.
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_EACCESS = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_STATX_FORCE_SYNC = 0x2000;
export const AT_STATX_DONT_SYNC = 0x4000;

export const AT_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [AT_SYMLINK_NOFOLLOW, 'AT_SYMLINK_NOFOLLOW'],
  [AT_REMOVEDIR, 'AT_REMOVEDIR'],
  [AT_SYMLINK_FOLLOW, 'AT_SYMLINK_FOLLOW'],
  [AT_NO_AUTOMOUNT, 'AT_NO_AUTOMOUNT'],
  [AT_EMPTY_PATH, 'AT_EMPTY_PATH'],
  [AT_STATX_FORCE_SYNC, 'AT_STATX_FORCE_SYNC'],
  [AT_STATX_DONT_SYNC, 'AT_STATX_DONT_SYNC'],
];

// File types (st_mode).
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
  [S_IFSOCK]: 'S_IFSOCK',
  [S_IFLNK]: 'S_IFLNK',
  [S_IFREG]: 'S_IFREG',
  [S_IFBLK]: 'S_IFBLK',
  [S_IFDIR]: 'S_IFDIR',
  [S_IFCHR]: 'S_IFCHR',
  [S_IFIFO]: 'S_IFIFO',
};

/** getdents64 d_type from st_mode. */
export function dtypeOf(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

// lseek whence.
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
export const WHENCE_NAMES = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];

// access(2) mode.
export const F_OK = 0;
export const X_OK = 1;
export const W_OK = 2;
export const R_OK = 4;

// fcntl commands.
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_GETLK = 5;
export const F_SETLK = 6;
export const F_SETLKW = 7;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
export const F_SETLEASE = 1024;
export const F_GETLEASE = 1025;
export const F_DUPFD_CLOEXEC = 1030;
export const F_SETPIPE_SZ = 1031;
export const F_GETPIPE_SZ = 1032;
export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;
export const FD_CLOEXEC = 1;

export const FCNTL_NAMES: Readonly<Record<number, string>> = {
  0: 'F_DUPFD', 1: 'F_GETFD', 2: 'F_SETFD', 3: 'F_GETFL', 4: 'F_SETFL', 5: 'F_GETLK', 6: 'F_SETLK',
  7: 'F_SETLKW', 8: 'F_SETOWN', 9: 'F_GETOWN', 36: 'F_OFD_GETLK', 37: 'F_OFD_SETLK', 38: 'F_OFD_SETLKW',
  1024: 'F_SETLEASE', 1025: 'F_GETLEASE', 1030: 'F_DUPFD_CLOEXEC', 1031: 'F_SETPIPE_SZ',
  1032: 'F_GETPIPE_SZ', 1033: 'F_ADD_SEALS', 1034: 'F_GET_SEALS',
};

// mmap.
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;
export const PROT_NAMES: readonly (readonly [number, string])[] = [
  [PROT_READ, 'PROT_READ'],
  [PROT_WRITE, 'PROT_WRITE'],
  [PROT_EXEC, 'PROT_EXEC'],
  [PROT_GROWSDOWN, 'PROT_GROWSDOWN'],
  [PROT_GROWSUP, 'PROT_GROWSUP'],
];

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_32BIT = 0x40;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [MAP_FIXED, 'MAP_FIXED'],
  [MAP_ANONYMOUS, 'MAP_ANONYMOUS'],
  [MAP_32BIT, 'MAP_32BIT'],
  [MAP_NORESERVE, 'MAP_NORESERVE'],
  [MAP_POPULATE, 'MAP_POPULATE'],
  [MAP_NONBLOCK, 'MAP_NONBLOCK'],
  [MAP_GROWSDOWN, 'MAP_GROWSDOWN'],
  [MAP_DENYWRITE, 'MAP_DENYWRITE'],
  [MAP_EXECUTABLE, 'MAP_EXECUTABLE'],
  [MAP_LOCKED, 'MAP_LOCKED'],
  [MAP_STACK, 'MAP_STACK'],
  [MAP_HUGETLB, 'MAP_HUGETLB'],
  [MAP_SYNC, 'MAP_SYNC'],
  [MAP_FIXED_NOREPLACE, 'MAP_FIXED_NOREPLACE'],
];

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

export const MADV_NAMES: Readonly<Record<number, string>> = {
  0: 'MADV_NORMAL', 1: 'MADV_RANDOM', 2: 'MADV_SEQUENTIAL', 3: 'MADV_WILLNEED', 4: 'MADV_DONTNEED',
  8: 'MADV_FREE', 9: 'MADV_REMOVE', 10: 'MADV_DONTFORK', 11: 'MADV_DOFORK', 12: 'MADV_MERGEABLE',
  13: 'MADV_UNMERGEABLE', 14: 'MADV_HUGEPAGE', 15: 'MADV_NOHUGEPAGE', 16: 'MADV_DONTDUMP',
  17: 'MADV_DODUMP', 18: 'MADV_WIPEONFORK', 19: 'MADV_KEEPONFORK', 20: 'MADV_COLD', 21: 'MADV_PAGEOUT',
  22: 'MADV_POPULATE_READ', 23: 'MADV_POPULATE_WRITE',
};

// Clocks.
export const CLOCK_NAMES = [
  'CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID', 'CLOCK_THREAD_CPUTIME_ID',
  'CLOCK_MONOTONIC_RAW', 'CLOCK_REALTIME_COARSE', 'CLOCK_MONOTONIC_COARSE', 'CLOCK_BOOTTIME',
  'CLOCK_REALTIME_ALARM', 'CLOCK_BOOTTIME_ALARM', '10', 'CLOCK_TAI',
];
export const TIMER_ABSTIME = 1;

// Resource limits.
export const RLIMIT_NAMES = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS',
  'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
];

export const SIGNAL_NAMES = [
  '0', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL',
  'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT',
  'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF',
  'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

// ioctl requests handled (or named) here.
export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TCSETSW = 0x5403;
export const TCSETSF = 0x5404;
export const TIOCSCTTY = 0x540e;
export const TIOCGPGRP = 0x540f;
export const TIOCSPGRP = 0x5410;
export const TIOCGSID = 0x5429;
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;
export const TIOCGPTN = 0x80045430;
export const FIOCLEX = 0x5451;
export const FIONCLEX = 0x5450;
export const IOCTL_NAMES: Readonly<Record<number, string>> = {
  0x5401: 'TCGETS', 0x5402: 'TCSETS', 0x5403: 'TCSETSW', 0x5404: 'TCSETSF', 0x540e: 'TIOCSCTTY',
  0x540f: 'TIOCGPGRP', 0x5410: 'TIOCSPGRP', 0x5413: 'TIOCGWINSZ', 0x5414: 'TIOCSWINSZ',
  0x541b: 'FIONREAD', 0x5421: 'FIONBIO', 0x5450: 'FIONCLEX', 0x5451: 'FIOCLEX',
};

export const FUTEX_OP_NAMES = [
  'FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE', 'FUTEX_WAKE_OP',
  'FUTEX_LOCK_PI', 'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET', 'FUTEX_WAKE_BITSET',
  'FUTEX_WAIT_REQUEUE_PI', 'FUTEX_CMP_REQUEUE_PI', 'FUTEX_LOCK_PI2',
];

export const CLONE_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'], [0x800, 'CLONE_SIGHAND'],
  [0x1000, 'CLONE_PIDFD'], [0x2000, 'CLONE_PTRACE'], [0x4000, 'CLONE_VFORK'], [0x8000, 'CLONE_PARENT'],
  [0x10000, 'CLONE_THREAD'], [0x20000, 'CLONE_NEWNS'], [0x40000, 'CLONE_SYSVSEM'], [0x80000, 'CLONE_SETTLS'],
  [0x100000, 'CLONE_PARENT_SETTID'], [0x200000, 'CLONE_CHILD_CLEARTID'], [0x400000, 'CLONE_DETACHED'],
  [0x800000, 'CLONE_UNTRACED'], [0x1000000, 'CLONE_CHILD_SETTID'], [0x2000000, 'CLONE_NEWCGROUP'],
  [0x4000000, 'CLONE_NEWUTS'], [0x8000000, 'CLONE_NEWIPC'], [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'], [0x80000000, 'CLONE_IO'],
];

export const ARCH_PRCTL_NAMES: Readonly<Record<number, string>> = {
  0x1001: 'ARCH_SET_GS', 0x1002: 'ARCH_SET_FS', 0x1003: 'ARCH_GET_FS', 0x1004: 'ARCH_GET_GS',
  0x1011: 'ARCH_GET_CPUID', 0x1012: 'ARCH_SET_CPUID',
};

export const GRND_NONBLOCK = 1;
export const GRND_RANDOM = 2;
export const GRND_INSECURE = 4;
