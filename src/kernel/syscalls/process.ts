import { argI, argS, argU, readU64, writeU64 } from '../args.js';
import { EFAULT, EINVAL } from '../errno.js';
import type { SyscallImpl } from '../syscall-types.js';
import type { Task } from '../task.js';
import { futexHandlers } from './futex.js';
import { lifecycleHandlers } from './lifecycle.js';
import { rseqHandlers } from './rseq.js';

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;
const USER_END = 0x800000000000;

/** Thread and process lifetime, TLS, and the per-thread kernel bookkeeping glibc sets up at start. */
export const processHandlers: Record<string, SyscallImpl> = {
  ...futexHandlers,
  ...lifecycleHandlers,
  ...rseqHandlers,
  exit: {
    handler: (t: Task) => {
      t.kernel.exitThread(t, argI(t, 0) & 0xff);
      return 0;
    },
  },
  exit_group: {
    handler: (t: Task) => {
      t.kernel.exitProcess(t.proc, argI(t, 0) & 0xff);
      return 0;
    },
  },
  arch_prctl: {
    handler: (t: Task) => {
      const code = argI(t, 0), addr = argU(t, 1);
      switch (code) {
        case ARCH_SET_FS:
        case ARCH_SET_GS:
          if (addr >= USER_END) return -EFAULT;
          if (code === ARCH_SET_FS) t.cpu.fsBase = addr;
          else t.cpu.gsBase = addr;
          return 0;
        case ARCH_GET_FS:
          writeU64(t, addr, t.cpu.fsBase);
          return 0;
        case ARCH_GET_GS:
          writeU64(t, addr, t.cpu.gsBase);
          return 0;
        default:
          return -EINVAL;
      }
    },
    coverage: 'partial',
    note: 'ARCH_SET/GET_FS and _GS only (no CET or CPUID faulting)',
  },
  set_tid_address: {
    handler: (t: Task) => {
      t.clearChildTid = argU(t, 0);
      return t.tid;
    },
  },
  set_robust_list: {
    handler: (t: Task) => {
      if (argU(t, 1) !== 24) return -EINVAL;
      t.robustList = argU(t, 0);
      return 0;
    },
  },
  get_robust_list: {
    handler: (t: Task) => {
      if (argI(t, 0) !== 0 && argI(t, 0) !== t.tid) return -EINVAL;
      writeU64(t, argU(t, 1), t.robustList);
      writeU64(t, argU(t, 2), 24);
      return 0;
    },
  },
};

export { readU64, argS };
