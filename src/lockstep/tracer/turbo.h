/*
 * In-process stepping ("turbo") for lockstep-tracer: the layout shared by the tracer (turbo.c) and the code it
 * copies into the traced program (turbo-handler.c).
 *
 * A ptrace single step costs a stop of the tracee, two context switches and a waitpid per instruction (about
 * 20 µs on the 2-vCPU VM this was built on). Here the tracee steps itself instead: the trap flag stays set, and
 * each instruction's #DB trap runs a SIGTRAP handler (on an alternate stack, so the program's stack below its
 * red zone is untouched) that copies the interrupted context — the general registers and the FPU/SSE image the
 * kernel saved in the signal frame — into a ring shared with the tracer (a memfd mapped in both), and returns
 * with TF still set. The tracer is detached meanwhile (a ptraced process's every signal stops for its tracer,
 * which is the cost avoided); it forwards the records to the differ as they come.
 *
 * The handler stops the program (waits on a futex in the handler, still in the signal frame) before every
 * instruction the tracer must step itself (syscall, cpuid, xgetbv: the differ acts on them) or cannot step this
 * way (int3, int n, ud2, hlt, in/out, mov ss, iret, sysenter …, or code it cannot read), when a run's count is
 * reached, and at a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL: the program has no handler for them, else no turbo).
 * The tracer then either lets it go on (the next run) or has it leave the handler: sigreturn restores the
 * program's state (signal mask, FPU) exactly, the return address is a park stub that waits on a futex, and the
 * tracer attaches again and puts back the registers the stub clobbered.
 */
#ifndef LOCKSTEP_TURBO_H
#define LOCKSTEP_TURBO_H
#include <stdint.h>

/* Far below the top-down mmap area (0x7ffff7fff000 down, ASLR off) and far above brk: the program's own mmap
   results are the same with and without these mappings. */
#define TURBO_CODE 0x6f0000000000ULL /* private: handler code (RX), then the alternate signal stack (RW) */
#define TURBO_CODE_SIZE 0x4000ULL
#define TURBO_STACK_SIZE 0x10000ULL
#define TURBO_SHM (TURBO_CODE + 0x100000ULL) /* shared with the tracer (memfd): control block, then the ring */
#define TURBO_SLOTS 4096u
#define TURBO_CTL_SIZE 4096u

/* Why the handler stopped (turbo_ctl.state). */
enum { T_RUNNING = 0, T_LIMIT = 1, T_SPECIAL = 2, T_BAIL = 3, T_FAULT = 4 };
/* What the tracer tells a stopped handler (turbo_ctl.cmd). */
enum { C_CONTINUE = 0, C_LEAVE = 1 };
/* Classification of the next instruction (turbo_decode). */
enum { K_NORMAL = 0, K_SPECIAL = 1, K_BAIL = 2 };
/* Flags of the instruction about to run (turbo_ctl.next_flags). */
enum { NF_PUSHF = 1, NF_REP = 2 };

#define TURBO_GOOD_PAGES 16

struct turbo_ctl {
  uint32_t produced;       /* records written since the turbo run started (slot = produced % TURBO_SLOTS) */
  uint32_t limit;          /* stop when produced reaches it */
  uint32_t state;          /* T_*: the handler waits for go to change */
  uint32_t go;             /* futex: bumped by the tracer to let a stopped handler go on */
  uint32_t cmd;            /* C_*, read when go changes */
  uint32_t seq;            /* futex: bumped by the handler at every 16th record and at a stop */
  uint32_t tracer_waiting; /* the tracer sleeps on seq: wake it */
  uint32_t parked;         /* futex: the park stub reached its wait */
  uint32_t sig;            /* T_FAULT: the signal */
  uint32_t next_flags;     /* NF_* of the instruction at next_rip */
  uint64_t next_rip;
  uint64_t pid;            /* the tracee's (process_vm_readv probes code pages with it) */
  uint64_t tracer;         /* the tracer's pid: the handler gives up (SIGKILL) if its parent is another */
  uint64_t park_stub;      /* where a leaving handler returns to */
  uint64_t good_pages[TURBO_GOOD_PAGES]; /* code pages known readable (page number + 1), emptied by the tracer */
  uint64_t park_gregs[23]; /* the context at the stop (ucontext gregs order, TF cleared) */
};

/* One instruction: the ucontext's gregs (REG_R8 … REG_CR2, TF cleared in REG_EFL), the fxsave image of the signal
   frame and its XSAVE header's xstate_bv (which components were not in their initial state). */
struct turbo_rec {
  uint64_t gregs[23];
  uint64_t xstate_bv;
  uint8_t fx[512];
};

/* In the tracer's binary, copied to TURBO_CODE: section turbo_text (turbo-handler.c). */
extern char __start_turbo_text[], __stop_turbo_text[];
void turbo_handler(int sig, void *info, void *uc);
extern char turbo_restorer[], turbo_park[], turbo_syscall[];
typedef int (*turbo_fetch)(void *ctx, uint64_t addr);
int turbo_decode(turbo_fetch fetch, void *ctx, uint64_t rip, uint32_t *flags);

/* The tracer's side (turbo.c). The tracee is either ptrace-stopped (as in plain stepping) or, after a turbo run
   that ended at its count or before a special instruction, detached and parked in the handler (turbo_parked):
   memory can be read and written through /proc/PID/mem, anything else needs turbo_leave first. */
#include <sys/types.h>
#include <sys/user.h>
extern int turbo_parked, turbo_installed;
typedef void (*turbo_emit)(const struct user_regs_struct *u, const struct user_fpregs_struct *fp);
/* Whether thread tid may step itself: no handler of the program's for the handler's signals (SIGTRAP and the
   faults; its handlers for others run only as ptrace delivers them: see turbo_signal_pending), none of those
   blocked in the thread, no seccomp. Other threads may exist: they stay ptrace-stopped or are stepped by ptrace
   (which intercepts their SIGTRAPs before any handler), one thread runs at a time. */
int turbo_eligible(pid_t tid, pid_t tgid);
/* A signal is pending for thread tid (its own or its process's, not blocked): the run goes by ptrace, whose
   signal-delivery stop the differ must see; detached, the kernel would run the program's handler untraced (it
   clears TF for it) or end the program. Other threads and processes are stopped while one runs, so a signal
   they send is pending before the run starts; one from outside the program's processes arriving during a run
   is not caught (none is sent to the CI programs). */
int turbo_signal_pending(pid_t tid);
/* Maps the code, stack and ring (into the first process, once per image; a forked child has its parent's) and
   installs the handler's dispositions (once per process) and its alternate stack (in thread tid of process tgid,
   ptrace-stopped, at registers regs). 0 on success. */
int turbo_install(pid_t tid, pid_t tgid, const struct user_regs_struct *regs);
/* Puts back the program's own dispositions and alternate stack (tid: the current thread, ptrace-stopped). */
void turbo_uninstall(pid_t tid, pid_t tgid);
/* The handler's dispositions or its alternate stack are set (what the program reads or inherits must not be). */
int turbo_active(pid_t tgid);
/* SIGTRAP or a fault signal: the handler's. */
int turbo_handles(int sig);
/* Another thread is to run, or the current one is to be stepped by ptrace (to 0; every thread ptrace-stopped):
   the handler's alternate stack, set in one thread at a time, goes back to the program's in the thread that had
   it; the dispositions stay for the next run. */
void turbo_switching(pid_t to);
/* The first process (the tracer maps the handler into it, once per image). */
void turbo_init(pid_t first);
/* Process tgid's address space is a new one (execve): nothing is mapped there (the first process's: nor in the
   children it forked before, whose ring is the old one). */
void turbo_forget_mappings(pid_t tgid);
/* Process child was forked (not vforked, no CLONE_VM) by parent: it has the parent's mappings, if any. */
void turbo_forked(pid_t parent, pid_t child);
/* The process has the mappings, or is the first process (which gets them at its first install). */
int turbo_may_run(pid_t tgid);
/* Runs up to count instructions in-process, starting from regs (ptrace-stopped, first_flags: NF_* of the
   instruction at regs->rip) or going on (parked). Each instruction's state goes to emit. Returns the number of
   records; *why: T_LIMIT or T_SPECIAL (parked), T_BAIL or T_FAULT (left: ptrace-stopped, *regs the state before
   the instruction to step by ptrace), or -1 with *status: the process ended (a wait status). regs is updated
   to the last state. */
int turbo_steps(pid_t tid, uint32_t count, uint32_t first_flags, struct user_regs_struct *regs, turbo_emit emit, int *why, int *status);
/* From parked to ptrace-stopped, the registers put back (regs: in, the template for selectors and bases; out,
   the state). 0 on success, -1 with *status if the process ended. */
int turbo_leave(pid_t tid, struct user_regs_struct *regs, int *status);

#endif
