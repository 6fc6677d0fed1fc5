/*
 * lockstep-tracer's in-process stepping, the tracer's side (see turbo.h for the design): setting the program up
 * through injected syscalls, detaching and re-attaching, and turning the handler's records into the tracer's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "turbo.h"

int turbo_parked, turbo_installed;
static struct turbo_ctl *ctl;
static struct turbo_rec *recs;
static const int SIGNALS[] = {SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define NSIGNALS (int)(sizeof SIGNALS / sizeof SIGNALS[0])
struct ksigaction {
  uint64_t handler, flags, restorer, mask;
};
/*
 * An address space with the code, stack and ring mappings: the first process's (mapped by the tracer) or a
 * forked child's (inherited: a private copy of the code and stack, the same ring, which serves every process
 * since one thread runs at a time). Its own memory file (the tracer's follows the thread that runs), and what
 * turbo_install changed in it so far (an install that failed half way is undone as far as it went): the
 * dispositions (the process's), the program's own ones kept.
 */
#define MAX_SPACES 256
static struct space {
  pid_t tgid;
  int mem, actions_set;
  struct ksigaction old_actions[NSIGNALS];
} spaces[MAX_SPACES];
static int nspaces;
static pid_t first_tgid;
/* The space injected calls and memory accesses go to (set by each entry point). */
static struct space *sp;
/* The thread whose alternate stack is the handler's (0: none), in space stack_space, with its own kept: set in one
   thread at a time, the one that runs (turbo_switching). */
static pid_t stack_tid;
static struct space *stack_space;
static stack_t old_stack;
/* Where the structures injected calls take are written: the top of the handler's stack (unused meanwhile). */
#define SCRATCH (TURBO_CODE + TURBO_CODE_SIZE + TURBO_STACK_SIZE - 1024)
#define SA_RESTORER_FLAG 0x04000000

static uint64_t in_code(const char *sym) { return TURBO_CODE + (uint64_t)(sym - __start_turbo_text); }

static int poke(uint64_t addr, const void *p, size_t n) { return pwrite(sp->mem, p, n, (off_t)addr) == (ssize_t)n ? 0 : -1; }
static int peek(uint64_t addr, void *p, size_t n) { return pread(sp->mem, p, n, (off_t)addr) == (ssize_t)n ? 0 : -1; }

/* The space of process tgid, or NULL if it has no mappings. */
static struct space *space_of(pid_t tgid) {
  for (int k = 0; k < nspaces; k++)
    if (spaces[k].tgid == tgid) return &spaces[k];
  return NULL;
}

/* A new space for process tgid (its memory file opened), or NULL. */
static struct space *new_space(pid_t tgid) {
  struct space *s = space_of(tgid);
  if (!s) {
    for (int k = 0; k < nspaces && !s; k++)
      if (!spaces[k].tgid) s = &spaces[k];
    if (!s && nspaces < MAX_SPACES) s = &spaces[nspaces++];
    if (!s) return NULL;
  } else if (s->mem >= 0) close(s->mem);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)tgid);
  memset(s, 0, sizeof *s);
  s->mem = open(path, O_RDWR | O_CLOEXEC);
  if (s->mem < 0) return NULL;
  s->tgid = tgid;
  return s;
}

static void drop_space(struct space *s) {
  if (s == stack_space) stack_tid = 0, stack_space = NULL;
  if (s->mem >= 0) close(s->mem);
  memset(s, 0, sizeof *s);
}

/* A syscall run by the tracee (ptrace-stopped) at the syscall instruction at `at`; its registers are put back. */
static long inject(pid_t tid, uint64_t at, long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  struct user_regs_struct save, r;
  if (ptrace(PTRACE_GETREGS, tid, 0, &save) != 0) return -errno;
  r = save;
  r.rax = (uint64_t)nr;
  r.rdi = (uint64_t)a0, r.rsi = (uint64_t)a1, r.rdx = (uint64_t)a2, r.r10 = (uint64_t)a3, r.r8 = (uint64_t)a4, r.r9 = (uint64_t)a5;
  r.rip = at;
  int st;
  if (ptrace(PTRACE_SETREGS, tid, 0, &r) != 0 || ptrace(PTRACE_SINGLESTEP, tid, 0, 0) != 0) return -errno;
  if (waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP) return -EIO;
  ptrace(PTRACE_GETREGS, tid, 0, &r);
  ptrace(PTRACE_SETREGS, tid, 0, &save);
  return (long)r.rax;
}

static long sys(pid_t tid, long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  return inject(tid, in_code(turbo_syscall), nr, a0, a1, a2, a3, a4, a5);
}

/* The first mmap (the code's), before the code is there: at a syscall instruction written over the one at rip for the call. */
static long first_mmap(pid_t tid, uint64_t rip) {
  unsigned char saved[2], sc[2] = {0x0f, 0x05};
  if (peek(rip, saved, 2) != 0 || poke(rip, sc, 2) != 0) return -EIO;
  long r = inject(tid, rip, SYS_mmap, (long)TURBO_CODE, (long)TURBO_CODE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  poke(rip, saved, 2);
  return r;
}

static int map_all(pid_t tid, const struct user_regs_struct *regs) {
  size_t code = (size_t)(__stop_turbo_text - __start_turbo_text);
  char path[64];
  if (code > TURBO_CODE_SIZE || !(sp = new_space(first_tgid))) return -1;
  if (first_mmap(tid, regs->rip) != (long)TURBO_CODE) {
    drop_space(sp);
    return -1;
  }
  /* written through /proc/PID/mem, which may write a read-only private mapping */
  if (poke(TURBO_CODE, __start_turbo_text, code) != 0) return -1;
  long stack = sys(tid, SYS_mmap, (long)(TURBO_CODE + TURBO_CODE_SIZE), (long)TURBO_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (stack != (long)(TURBO_CODE + TURBO_CODE_SIZE)) return -1;
  /* the ring: a memfd the tracee makes (and closes again once mapped: its fd numbers stay the program's) */
  const char name[] = "lockstep-turbo";
  if (poke(SCRATCH, name, sizeof name) != 0) return -1;
  long fd = sys(tid, SYS_memfd_create, (long)SCRATCH, 0, 0, 0, 0, 0);
  if (fd < 0) return -1;
  size_t size = TURBO_CTL_SIZE + TURBO_SLOTS * sizeof(struct turbo_rec);
  snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)tid, fd);
  int mine = open(path, O_RDWR);
  long ok = mine >= 0 && ftruncate(mine, (off_t)size) == 0 ? sys(tid, SYS_mmap, (long)TURBO_SHM, (long)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0) : -1;
  sys(tid, SYS_close, fd, 0, 0, 0, 0, 0);
  if (ok != (long)TURBO_SHM) {
    if (mine >= 0) close(mine);
    drop_space(sp);
    return -1;
  }
  if (ctl) munmap(ctl, size);
  ctl = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mine, 0);
  close(mine);
  if (ctl == MAP_FAILED) {
    ctl = NULL;
    drop_space(sp);
    return -1;
  }
  recs = (struct turbo_rec *)((char *)ctl + TURBO_CTL_SIZE);
  return 0;
}

void turbo_init(pid_t first) { first_tgid = first; }

void turbo_forget_mappings(pid_t tgid) {
  /* the first process's new image: its children's rings are the old one (the tracer's view is remapped) */
  for (int k = 0; k < nspaces; k++)
    if (spaces[k].tgid && (tgid == first_tgid || spaces[k].tgid == tgid)) drop_space(&spaces[k]);
  turbo_installed = 0;
}

void turbo_forked(pid_t parent, pid_t child) {
  /* its dispositions are the program's: a fork is made with the handler's put back (turbo_sensitive) */
  if (space_of(parent) && ctl) new_space(child);
}

int turbo_may_run(pid_t tgid) { return tgid == first_tgid || space_of(tgid) != NULL; }

/* A hex mask line of /proc/TID/status, or -1 if missing. */
static long long status_field(pid_t tid, const char *name, int base) {
  char path[64], line[256];
  long long v = -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, name, strlen(name)) == 0) v = strtoll(line + strlen(name), NULL, base);
  fclose(f);
  return v;
}

int turbo_eligible(pid_t tid, pid_t tgid) {
  struct space *s = space_of(tgid);
  int actions_set = s ? s->actions_set : 0;
  long long ours = 0;
  for (int k = 0; k < NSIGNALS; k++) ours |= 1LL << (SIGNALS[k] - 1);
  /* the handler's own dispositions, still set from another thread's run, are not the program's */
  long long caught = status_field(tid, "SigCgt:", 16) & ~(actions_set ? ours : 0);
  return !(caught & ours) && !(status_field(tid, "SigBlk:", 16) & ours) && status_field(tid, "Seccomp:", 10) == 0;
}

int turbo_signal_pending(pid_t tid) {
  long long blocked = status_field(tid, "SigBlk:", 16);
  return ((status_field(tid, "SigPnd:", 16) | status_field(tid, "ShdPnd:", 16)) & ~blocked) != 0;
}

/* The handler's alternate stack for thread tid of space sp (its own kept to be put back). */
static int install_stack(pid_t tid) {
  stack_t ss = {.ss_sp = (void *)(TURBO_CODE + TURBO_CODE_SIZE), .ss_flags = 0, .ss_size = TURBO_STACK_SIZE};
  if (poke(SCRATCH, &ss, sizeof ss) != 0) return -1;
  if (sys(tid, SYS_sigaltstack, (long)SCRATCH, (long)SCRATCH + 64, 0, 0, 0, 0) != 0) return -1;
  peek(SCRATCH + 64, &old_stack, sizeof old_stack);
  stack_tid = tid, stack_space = sp;
  return 0;
}

/* Puts back stack_tid's own alternate stack (if the thread is gone, there is nothing to put back). */
static void release_stack(void) {
  if (!stack_tid) return;
  struct space *was = sp;
  sp = stack_space;
  poke(SCRATCH, &old_stack, sizeof old_stack);
  sys(stack_tid, SYS_sigaltstack, (long)SCRATCH, 0, 0, 0, 0, 0);
  sp = was;
  stack_tid = 0, stack_space = NULL;
}

int turbo_install(pid_t tid, pid_t tgid, const struct user_regs_struct *regs) {
  sp = space_of(tgid);
  if (!sp && (tgid != first_tgid || map_all(tid, regs) != 0)) {
    /* half mapped: no further try (the caller turns in-process stepping off) */
    if ((sp = space_of(first_tgid))) drop_space(sp);
    return -1;
  }
  if (stack_tid != tid) {
    release_stack();
    if (install_stack(tid) != 0) return -1;
  }
  if (sp->actions_set < NSIGNALS) {
    struct ksigaction act = {in_code((const char *)turbo_handler), SA_SIGINFO | SA_ONSTACK | SA_RESTORER_FLAG, in_code(turbo_restorer), 0};
    poke(SCRATCH, &act, sizeof act);
    for (int k = sp->actions_set; k < NSIGNALS; k++) {
      if (sys(tid, SYS_rt_sigaction, SIGNALS[k], (long)SCRATCH, (long)SCRATCH + 64, 8, 0, 0) != 0) return -1;
      peek(SCRATCH + 64, &sp->old_actions[k], sizeof sp->old_actions[k]);
      sp->actions_set = k + 1;
    }
  }
  turbo_installed = 1;
  return 0;
}

void turbo_switching(pid_t to) {
  if (stack_tid && stack_tid != to) {
    release_stack();
    turbo_installed = 0;
  }
}

int turbo_handles(int sig) {
  for (int k = 0; k < NSIGNALS; k++)
    if (SIGNALS[k] == sig) return 1;
  return 0;
}

int turbo_active(pid_t tgid) {
  struct space *s = space_of(tgid);
  return s && (s->actions_set > 0 || (stack_tid != 0 && stack_space == s));
}

void turbo_uninstall(pid_t tid, pid_t tgid) {
  sp = space_of(tgid);
  if (!sp) return;
  for (int k = 0; k < sp->actions_set; k++) {
    poke(SCRATCH, &sp->old_actions[k], sizeof sp->old_actions[k]);
    sys(tid, SYS_rt_sigaction, SIGNALS[k], (long)SCRATCH, 0, 8, 0, 0);
  }
  release_stack();
  sp->actions_set = 0;
  turbo_installed = 0;
}

/* The registers of a record, in ptrace's form (selectors and segment bases from tmpl: no syscall ran since). */
static void user_of(const uint64_t *g, const struct user_regs_struct *tmpl, struct user_regs_struct *u) {
  *u = *tmpl;
  u->r8 = g[REG_R8], u->r9 = g[REG_R9], u->r10 = g[REG_R10], u->r11 = g[REG_R11], u->r12 = g[REG_R12];
  u->r13 = g[REG_R13], u->r14 = g[REG_R14], u->r15 = g[REG_R15], u->rdi = g[REG_RDI], u->rsi = g[REG_RSI];
  u->rbp = g[REG_RBP], u->rbx = g[REG_RBX], u->rdx = g[REG_RDX], u->rax = g[REG_RAX], u->rcx = g[REG_RCX];
  u->rsp = g[REG_RSP], u->rip = g[REG_RIP], u->eflags = g[REG_EFL];
  u->orig_rax = (uint64_t)-1;
}

/* The fxsave image as PTRACE_GETFPREGS gives it: a component in its initial state (XSTATE_BV bit clear) may
   have stale bytes in the frame; the kernel's ptrace copy shows the initial values. */
static void fp_of(const struct turbo_rec *r, struct user_fpregs_struct *fp) {
  memcpy(fp, r->fx, 416);
  if (!(r->xstate_bv & 1)) {
    fp->cwd = 0x37f, fp->swd = 0, fp->ftw = 0, fp->fop = 0, fp->rip = 0, fp->rdp = 0;
    memset(fp->st_space, 0, sizeof fp->st_space);
  }
  if (!(r->xstate_bv & 2)) memset(fp->xmm_space, 0, sizeof fp->xmm_space);
  if (!(r->xstate_bv & 6)) fp->mxcsr = 0x1f80;
}

static void futex_wait(uint32_t *w, uint32_t v) {
  struct timespec t = {0, 100 * 1000 * 1000};
  syscall(SYS_futex, w, FUTEX_WAIT, v, &t, 0, 0);
}

/* The state letter of /proc/TID/stat, or 0 if the thread is gone. */
static char thread_state(pid_t tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] && p[2] ? p[2] : 0;
}

/* Whether the detached tracee ended. The first process's leader is the tracer's child: waitpid sees it without
   ptrace. Another thread, or a child process's, detached, is not the tracer's to wait for: if it is gone or a
   zombie, its process ended (only a fatal signal can end it while it runs in-process); the first process's
   status its leader reports (the caller's process_end waits for it), a child's is not known: SIGKILL. */
static int ended(pid_t tid, int *status) {
  pid_t r = waitpid(tid, status, WNOHANG | __WALL);
  if (r == tid) return WIFEXITED(*status) || WIFSIGNALED(*status);
  char st = r < 0 && errno == ECHILD ? thread_state(tid) : 'R';
  if (st == 0 || st == 'Z' || st == 'X') {
    *status = SIGKILL; /* a wait status: killed by SIGKILL */
    return 1;
  }
  return 0;
}

/* Forwards records until the handler stops; returns the number forwarded, or -1 if the process ended. */
static int drain(pid_t tid, uint32_t *consumed, struct user_regs_struct *regs, turbo_emit emit, int *status) {
  int n = 0;
  struct user_regs_struct tmpl = *regs;
  static struct user_fpregs_struct fp;
  for (;;) {
    __atomic_store_n(&ctl->tracer_waiting, 1, __ATOMIC_SEQ_CST);
    uint32_t s = __atomic_load_n(&ctl->seq, __ATOMIC_SEQ_CST);
    uint32_t p = __atomic_load_n(&ctl->produced, __ATOMIC_SEQ_CST);
    uint32_t st = __atomic_load_n(&ctl->state, __ATOMIC_SEQ_CST);
    if (st != T_RUNNING) p = __atomic_load_n(&ctl->produced, __ATOMIC_SEQ_CST); /* the stop's record came first */
    if (p == *consumed && st == T_RUNNING) {
      futex_wait(&ctl->seq, s);
      if (ended(tid, status)) return -1;
      continue;
    }
    __atomic_store_n(&ctl->tracer_waiting, 0, __ATOMIC_SEQ_CST);
    for (; *consumed != p; (*consumed)++, n++) {
      const struct turbo_rec *r = &recs[*consumed % TURBO_SLOTS];
      user_of(r->gregs, &tmpl, regs);
      fp_of(r, &fp);
      emit(regs, &fp);
    }
    if (st != T_RUNNING) return n;
  }
}

/* Tells the stopped handler what to do next. */
static void command(uint32_t cmd) {
  __atomic_store_n(&ctl->cmd, cmd, __ATOMIC_SEQ_CST);
  __atomic_store_n(&ctl->state, T_RUNNING, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&ctl->go, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, &ctl->go, FUTEX_WAKE, 1, 0, 0, 0);
}

int turbo_leave(pid_t tid, struct user_regs_struct *regs, int *status) {
  struct user_regs_struct tmpl = *regs;
  __atomic_store_n(&ctl->parked, 0, __ATOMIC_SEQ_CST);
  command(C_LEAVE);
  while (!__atomic_load_n(&ctl->parked, __ATOMIC_SEQ_CST)) {
    futex_wait(&ctl->parked, 0);
    if (ended(tid, status)) return -1;
  }
  int st;
  if (ptrace(PTRACE_ATTACH, tid, 0, 0) != 0) return -1;
  for (;;) {
    if (waitpid(tid, &st, __WALL) != tid) return -1;
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      *status = st;
      return -1;
    }
    if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP) break;
    /* another signal reached it first (only one from outside the program's processes can, all stopped: none is
       sent to the CI programs): the program's disposition takes it */
    ptrace(PTRACE_CONT, tid, 0, (void *)(long)WSTOPSIG(st));
  }
  ptrace(PTRACE_SETOPTIONS, tid, 0, (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK));
  /* The stub clobbered some registers; the stop's context has them all. orig_rax -1: no restart of the stub's
     interrupted futex wait. The next resume delivers nothing: the attach's SIGSTOP is dropped. */
  user_of(ctl->park_gregs, &tmpl, regs);
  ptrace(PTRACE_SETREGS, tid, 0, regs);
  turbo_parked = 0;
  return 0;
}

int turbo_steps(pid_t tid, uint32_t count, uint32_t first_flags, struct user_regs_struct *regs, turbo_emit emit, int *why, int *status) {
  uint32_t consumed = ctl->produced, done = 0;
  if (!turbo_parked) {
    ctl->produced = consumed = 0;
    ctl->state = T_RUNNING;
    ctl->cmd = C_CONTINUE;
    ctl->next_rip = regs->rip;
    ctl->next_flags = first_flags;
    ctl->pid = (uint64_t)tid;
    /* the handler ends the program if its parent changes: the tracer's death (a child process's parent, stopped
       under ptrace, dies with it: PTRACE_O_EXITKILL) */
    long long ppid = status_field(tid, "PPid:", 10);
    ctl->tracer = ppid > 0 ? (uint64_t)ppid : (uint64_t)getpid();
    ctl->park_stub = in_code(turbo_park);
    memset(ctl->good_pages, 0, sizeof ctl->good_pages);
  }
  for (;;) {
    uint32_t chunk = count - done < TURBO_SLOTS ? count - done : TURBO_SLOTS;
    ctl->limit = consumed + chunk;
    if (!turbo_parked) {
      struct user_regs_struct r = *regs;
      r.eflags |= 0x100;
      if (ptrace(PTRACE_SETREGS, tid, 0, &r) != 0 || ptrace(PTRACE_DETACH, tid, 0, 0) != 0) return -2;
      turbo_parked = 1;
    } else command(C_CONTINUE);
    int n = drain(tid, &consumed, regs, emit, status);
    if (n < 0) {
      turbo_parked = 0;
      return -1;
    }
    done += (uint32_t)n;
    uint32_t st = ctl->state;
    if (st == T_LIMIT && done < count) continue;
    *why = (int)st;
    if (st == T_BAIL || st == T_FAULT) {
      if (turbo_leave(tid, regs, status) != 0) return -1;
    }
    return (int)done;
  }
}
