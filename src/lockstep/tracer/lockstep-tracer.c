/*
 * lockstep-tracer: the native side of the fast lockstep transport
 * (src/lockstep/fast/). Runs PROGRAM under ptrace with ASLR off, single-steps
 * it and streams its registers to the differ over a FIFO, in batches, so the
 * differ pays one pipe round trip per batch instead of several RSP packets per
 * instruction.
 *
 *   lockstep-tracer CMD_FIFO OUT_FIFO PROGRAM [ARGS...]
 *
 * The environment and stdio of PROGRAM are the tracer's own. Commands (read
 * from CMD_FIFO, little-endian):
 *   'R' u32 count, u32 signal, u32 flags   step up to count instructions; the
 *        first step delivers signal; stop before a syscall/cpuid/xgetbv unless
 *        it is the first instruction and flags & 1; stop after a signal
 *        delivery and after a syscall/cpuid/xgetbv (the differ acts on them).
 *   'M' u64 addr, u32 len                  read memory  → DATA
 *   'W' u64 addr, u32 len, bytes           write memory → ACK
 *   'G' user_regs_struct                   set registers → ACK
 *   'T' u32 tid                            make thread tid (0: the main one) current → its STEP record
 *   'K'                                    kill the program and exit
 * Records (to OUT_FIFO): u32 type, u32 value, then
 *   STEP/STOP (1/2): user_regs_struct, u32 has_fp, [user_fpregs_struct]
 *     STEP: an instruction retired (or a signal was delivered into a handler);
 *     STOP value = signal: the program stopped with a signal before executing.
 *   EXIT (3) value = status; KILLED (4) value = signal; END (5) value = why
 *   (0 count reached, 1 a special instruction is next); DATA (6) value = length
 *   (0xffffffff: unreadable) then the bytes; ACK (7); ERROR (8) value = errno;
 *   THREAD_EXIT (9) value = tid: the current thread ended with exit(2), others
 *   live on (the differ picks the next one with 'T'); PROCESS_EXIT (10)
 *   value = wait status: the current thread's process, a forked child (not
 *   the first process), ended; the others live on; VFORKED (11) value =
 *   the child's pid: the current thread's vfork (or clone with CLONE_VFORK)
 *   made a child and waits for it inside the call, at its ptrace event stop.
 *   Until the differ runs it again (after the child's exit), 'T' reports its
 *   registers from before the call, and its next step completes the call.
 *
 * Threads and processes: clones and forks are followed (PTRACE_O_TRACECLONE,
 * PTRACE_O_TRACEFORK), but only the current thread ever runs; the others stay
 * in their ptrace stop until the differ switches to them, so both runs follow
 * the differ's schedule. A new thread's or child's initial SIGSTOP is
 * consumed here. Memory commands address the current thread's process
 * (/proc/TID/mem, reopened at a switch to another process).
 *
 * The program runs pinned to one CPU, the lowest it may use (pinned_cpu):
 * the host kernel writes the CPU number into a registered rseq area and
 * getcpu reports it, and elfshim reports one CPU throughout; a program that
 * migrated between host CPUs would see its cpu id change at any instruction.
 *
 * Single-step artifacts are hidden here: TF pushed by pushf is cleared in
 * memory, and a rep string instruction runs to its end (a breakpoint after
 * it) instead of trapping after every iteration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "turbo.h"

enum { STEP = 1, STOP = 2, EXIT = 3, KILLED = 4, END = 5, DATA = 6, ACK = 7, ERROR = 8, THREAD_EXIT = 9, PROCESS_EXIT = 10, VFORKED = 11 };

/* child: the first process (its leader's tid), 0 once it is gone; tid: the thread that runs; tgid: its process. */
static pid_t child, tid, tgid;
/* Every tracee seen: its process, whether its initial stop was seen (a clone child may report it before its
   parent's clone event), and its wait status once it ended while another thread ran. */
#define MAX_THREADS 1024
static struct tracee {
  pid_t pid, tgid;
  int started, gone, status;
  /* Stopped inside its vfork call (at the event stop), with its registers from before the syscall instruction. */
  int in_vfork;
  struct user_regs_struct before_vfork;
  /* A syscall step ended at another signal (a seccomp trap's SIGSYS) with the step's own SIGTRAP still queued. */
  int trap_queued;
} tracees[MAX_THREADS];
static int ntracees;
static int cmd_fd, out_fd, mem_fd = -1;
static struct user_fpregs_struct last_fp;
static int have_last_fp;
/* The registers of the last record (or as Node set them): no GETREGS before each step. */
static struct user_regs_struct cur;

static char outbuf[1 << 20];
static size_t outlen;

static void flush_out(void) {
  size_t off = 0;
  while (off < outlen) {
    ssize_t n = write(out_fd, outbuf + off, outlen - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      _exit(3);
    }
    off += (size_t)n;
  }
  outlen = 0;
}

static void put(const void *p, size_t n) {
  if (outlen + n > sizeof outbuf) flush_out();
  if (n > sizeof outbuf) {
    /* large DATA payloads go straight out */
    outlen = 0;
    const char *c = p;
    while (n) {
      ssize_t k = write(out_fd, c, n);
      if (k < 0) {
        if (errno == EINTR) continue;
        _exit(3);
      }
      c += k;
      n -= (size_t)k;
    }
    return;
  }
  memcpy(outbuf + outlen, p, n);
  outlen += n;
}

static void header(uint32_t type, uint32_t value) {
  uint32_t h[2] = {type, value};
  put(h, sizeof h);
}

static void get(void *p, size_t n) {
  char *c = p;
  while (n) {
    ssize_t k = read(cmd_fd, c, n);
    if (k <= 0) {
      if (k < 0 && errno == EINTR) continue;
      if (child > 0) kill(child, SIGKILL);
      _exit(k == 0 ? 0 : 3);
    }
    c += k;
    n -= (size_t)k;
  }
}

static struct tracee *tracee(pid_t t);

/* Registers, and the FPU state when it changed since the last record. fpu_maybe = 0 says the instruction
   cannot have touched the FPU/SSE state (an integer instruction), so PTRACE_GETFPREGS is skipped. */
/* A STEP/STOP record of registers u and FPU image fp (sent only when it changed). */
static void emit_state(uint32_t type, uint32_t value, const struct user_regs_struct *u, const struct user_fpregs_struct *fp) {
  header(type, value);
  put(u, sizeof *u);
  uint32_t has_fp = !have_last_fp || memcmp(fp, &last_fp, sizeof *fp) != 0;
  put(&has_fp, 4);
  if (has_fp) {
    put(fp, sizeof *fp);
    last_fp = *fp;
    have_last_fp = 1;
  }
}

static void state_record(uint32_t type, uint32_t value, int fpu_maybe) {
  struct user_fpregs_struct fp;
  struct tracee *e = tracee(tid);
  if (e->in_vfork) cur = e->before_vfork; /* inside its vfork: the differ sees it before the call */
  else ptrace(PTRACE_GETREGS, tid, 0, &cur);
  if (fpu_maybe || !have_last_fp) ptrace(PTRACE_GETFPREGS, tid, 0, &fp);
  else fp = last_fp;
  emit_state(type, value, &cur, &fp);
}

static int read_mem(uint64_t addr, void *buf, size_t len) { return pread(mem_fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1; }
static int write_mem(uint64_t addr, const void *buf, size_t len) { return pwrite(mem_fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1; }

/* The instruction at rip: prefixes skipped. */
struct insn {
  unsigned char b[16];
  int npfx, rep, adsize32, ok;
};

/* Instruction bytes by address, direct-mapped; emptied whenever memory may have changed under it (a syscall,
   a write by the differ). Code that rewrites itself without a syscall is not supported. */
#define CODE_CACHE 8192
static struct {
  uint64_t rip;
  struct insn in;
} code_cache[CODE_CACHE];
static void flush_code_cache(void) { memset(code_cache, 0, sizeof code_cache); }

static void decode_prefixes(struct insn *in);

static void look(uint64_t rip, struct insn *in) {
  unsigned slot = (unsigned)(rip ^ (rip >> 13)) % CODE_CACHE;
  if (code_cache[slot].rip == rip && rip) {
    *in = code_cache[slot].in;
    return;
  }
  memset(in, 0, sizeof *in);
  if (read_mem(rip, in->b, 16) != 0) {
    /* near the end of a mapping: read what there is */
    for (int k = 0; k < 16 && read_mem(rip + k, in->b + k, 1) == 0; k++) in->ok = 1;
  } else in->ok = 1;
  decode_prefixes(in);
  code_cache[slot].rip = rip;
  code_cache[slot].in = *in;
}

static void decode_prefixes(struct insn *in) {
  int k = 0;
  for (; k < 15; k++) {
    unsigned char c = in->b[k];
    if (c == 0xf2 || c == 0xf3) in->rep = 1;
    else if (c == 0x67) in->adsize32 = 1;
    else if (c == 0x66 || c == 0x2e || c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65 || c == 0x36 || c == 0xf0 || (c >= 0x40 && c <= 0x4f)) {
    } else break;
  }
  in->npfx = k;
}

static int is_special(const struct insn *in) {
  const unsigned char *o = in->b + in->npfx;
  if (o[0] != 0x0f) return 0;
  return o[1] == 0x05 || o[1] == 0xa2 || (o[1] == 0x01 && o[2] == 0xd0);
}

static int is_rep_string(const struct insn *in) {
  unsigned char o = in->b[in->npfx];
  return in->rep && ((o >= 0xa4 && o <= 0xa7) || (o >= 0xaa && o <= 0xaf));
}

/*
 * Whether the instruction may change the x87/SSE state (or MXCSR): anything in the 0F maps except the common
 * integer ones, x87 escapes, fwait, syscall (rt_sigreturn restores the FPU) and anything undecodable.
 * A wrong "no" would hide an FPU difference until the next FPU instruction, so the list is conservative.
 */
static int may_touch_fpu(const struct insn *in) {
  const unsigned char *o = in->b + in->npfx;
  if (!in->ok || in->npfx >= 14) return 1;
  if (o[0] == 0xc4 || o[0] == 0xc5) return 1; /* VEX */
  if (o[0] >= 0xd8 && o[0] <= 0xdf) return 1; /* x87 */
  if (o[0] == 0x9b) return 1;                  /* fwait */
  if (o[0] != 0x0f) return 0;
  unsigned char op = o[1];
  if (op == 0x05) return 1;                                   /* syscall */
  if (op >= 0x80 && op <= 0x8f) return 0;                     /* jcc */
  if (op >= 0x90 && op <= 0x9f) return 0;                     /* setcc */
  if (op >= 0x40 && op <= 0x4f) return 0;                     /* cmovcc */
  if (op >= 0xc8 && op <= 0xcf) return 0;                     /* bswap */
  switch (op) {
  case 0x1f: case 0x0b: case 0x31: case 0xa2: case 0xa3: case 0xa4: case 0xa5: case 0xab: case 0xac: case 0xad:
  case 0xaf: case 0xb0: case 0xb1: case 0xb3: case 0xb6: case 0xb7: case 0xb8: case 0xba: case 0xbb: case 0xbc:
  case 0xbd: case 0xbe: case 0xbf: case 0xc0: case 0xc1:
    return 0;
  }
  return 1;
}

static int is_pushf(const struct insn *in) { return in->b[in->npfx] == 0x9c; }

/* The entry of tracee t (made if new; its process unknown, 0, until its creator's event says). */
/* The thread group of pid (from /proc/PID/status), or -1. */
static pid_t proc_tgid(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  pid_t g = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Tgid: %d", &g) == 1) break;
  fclose(f);
  return g;
}

static struct tracee *tracee(pid_t t) {
  for (int k = 0; k < ntracees; k++)
    if (tracees[k].pid == t) return &tracees[k];
  if (ntracees == MAX_THREADS) return &tracees[MAX_THREADS - 1];
  struct tracee *e = &tracees[ntracees++];
  memset(e, 0, sizeof *e);
  e->pid = t;
  return e;
}

/* A wait status of a thread other than the current one: a new thread's initial stop, or a thread's end. */
static void other_status(pid_t p, int st) {
  struct tracee *e = tracee(p);
  if (WIFSTOPPED(st)) e->started = 1;
  else {
    e->gone = 1;
    e->status = st;
  }
}

/* The process of tracee t (its tgid, from /proc when no event told it). */
static pid_t tgid_of(pid_t t) {
  struct tracee *e = tracee(t);
  if (e->tgid) return e->tgid;
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)t);
  FILE *f = fopen(path, "r");
  if (f) {
    while (fgets(line, sizeof line, f))
      if (strncmp(line, "Tgid:", 5) == 0) e->tgid = (pid_t)atoi(line + 5);
    fclose(f);
  }
  return e->tgid ? e->tgid : t;
}

/* Memory commands go to process p's address space. */
static void open_mem(pid_t p) {
  char path[64];
  if (mem_fd >= 0) close(mem_fd);
  snprintf(path, sizeof path, "/proc/%d/mem", (int)p);
  mem_fd = open(path, O_RDWR);
}

/* The next wait status of thread t (those of other threads are noted on the way). */
static int wait_thread(pid_t t, int *st) {
  for (;;) {
    pid_t p = waitpid(-1, st, __WALL);
    if (p < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (p == t) return 0;
    other_status(p, *st);
  }
}

/* The current thread's process has ended (exit_group or a fatal signal seen in thread tid with status st):
   reaps its threads up to the leader, whose status is the process's, and reports it: the first process's end
   ends the run (EXIT/KILLED), a child's is a PROCESS_EXIT record. */
static void process_end(int st) {
  struct tracee *leader = tracee(tgid);
  if (tid != tgid) {
    while (!leader->gone) {
      int s2;
      pid_t p = waitpid(-1, &s2, __WALL);
      if (p < 0 && errno == EINTR) continue;
      if (p < 0) break;
      other_status(p, s2);
    }
    if (leader->gone) st = leader->status;
  }
  leader->gone = 1;
  tracee(tid)->gone = 1;
  if (tgid != child) {
    turbo_forget_mappings(tgid); /* its pid may come again, for a process without them */
    header(PROCESS_EXIT, (uint32_t)st);
    tid = 0;
    return;
  }
  if (WIFEXITED(st)) header(EXIT, WEXITSTATUS(st));
  else header(KILLED, WTERMSIG(st));
  child = 0;
}

/* Waits for the current thread; returns the stop signal (or the whole ptrace status, event bits included, for a
   ptrace event stop), or -1 after sending EXIT/KILLED/THREAD_EXIT. nr: the syscall the step ran (-1: none). */
static int wait_child_nr(long nr) {
  int st;
  if (wait_thread(tid, &st) < 0) {
    header(ERROR, errno);
    return -1;
  }
  if (WIFEXITED(st) || WIFSIGNALED(st)) {
    if (WIFEXITED(st) && nr == 60 && tid != tgid) {
      /* exit(2) of one thread: the others live on */
      header(THREAD_EXIT, (uint32_t)tid);
      tid = 0;
      return -1;
    }
    process_end(st);
    return -1;
  }
  if (st >> 16) return st >> 8;
  return WSTOPSIG(st);
}

static int wait_child(void) { return wait_child_nr(-1); }

/* A hex signal mask line of /proc/PID/status ("SigIgn:", "SigCgt:"). */
static uint64_t status_mask(const char *name) {
  char path[64], line[256];
  uint64_t m = 0;
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, name, strlen(name)) == 0) m = strtoull(line + strlen(name), NULL, 16);
  fclose(f);
  return m;
}

/* A signal the kernel would have discarded without a tracer (SIG_IGN, or default action ignore and no handler):
   ptrace still reports it, elfshim does not see it at all. The tracer discards it too. */
static int discarded_signal(int sig) {
  if (sig <= 0 || sig > 64) return 0;
  uint64_t bit = 1ULL << (sig - 1);
  if (status_mask("SigIgn:") & bit) return 1;
  if (status_mask("SigCgt:") & bit) return 0;
  return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH;
}

/* Whether SIGTRAP is pending for the current thread (its own queue: SigPnd). */
static int sigtrap_pending(void) { return (status_mask("SigPnd:") >> (SIGTRAP - 1)) & 1; }

/* One instruction (a rep string instruction to its end). Returns 0 on a step, or -1 (record already sent). */
static int step_one(int signal, const struct insn *in, uint64_t rip, const struct user_regs_struct *r) {
  if (!signal && is_rep_string(in)) {
    uint64_t count = in->adsize32 ? (uint32_t)r->rcx : r->rcx;
    if (count > 1) {
      uint64_t next = rip + in->npfx + 1, word, trap;
      if (read_mem(next, &word, 8) == 0) {
        trap = (word & ~0xffULL) | 0xcc;
        write_mem(next, &trap, 8);
        int sig;
        do {
          ptrace(PTRACE_CONT, tid, 0, 0);
          sig = wait_child();
        } while (sig > 0 && sig != SIGTRAP && discarded_signal(sig));
        if (child) write_mem(next, &word, 8);
        if (sig < 0) return -1;
        struct user_regs_struct now;
        ptrace(PTRACE_GETREGS, tid, 0, &now);
        if (sig == SIGTRAP && now.rip == next + 1) {
          now.rip = next;
          ptrace(PTRACE_SETREGS, tid, 0, &now);
          return 0;
        }
        state_record(STOP, sig, 1);
        return -1;
      }
    }
  }
  long nr = is_special(in) && in->b[in->npfx + 1] == 0x05 ? (long)r->rax : -1;
  int sig, deliver = signal;
  /* A thread inside its vfork (its child has ended or exec'd): this step, from the event stop, ends the call. */
  tracee(tid)->in_vfork = 0;
  do {
    ptrace(PTRACE_SINGLESTEP, tid, 0, (void *)(long)deliver);
    deliver = 0; /* delivered once: a discarded signal's retry delivers nothing */
    sig = wait_child_nr(nr);
  } while (sig > 0 && sig != SIGTRAP && discarded_signal(sig));
  if (sig < 0) return -1;
  if (sig == (SIGTRAP | (PTRACE_EVENT_VFORK << 8))) {
    /* The parent waits inside the call until the child exits or execs: it stays at this stop while the differ
       runs the child, and shows its registers from before the call. */
    unsigned long msg = 0;
    ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
    tracee((pid_t)msg)->tgid = (pid_t)msg;
    struct tracee *e = tracee(tid);
    e->in_vfork = 1;
    e->before_vfork = *r;
    header(VFORKED, (uint32_t)msg);
    return -1;
  }
  while (sig == (SIGTRAP | (PTRACE_EVENT_CLONE << 8)) || sig == (SIGTRAP | (PTRACE_EVENT_FORK << 8))) {
    /* a new thread or child process: it stays stopped (its initial SIGSTOP is consumed when the differ
       switches to it); the parent's step goes on to the end of the syscall */
    unsigned long msg = 0;
    ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
    /* PTRACE_EVENT_CLONE means an exit signal other than SIGCHLD, not a thread: its process is the kernel's word */
    pid_t g = proc_tgid((pid_t)msg);
    tracee((pid_t)msg)->tgid = g > 0 ? g : sig == (SIGTRAP | (PTRACE_EVENT_FORK << 8)) ? (pid_t)msg : tgid;
    /* a forked child has the mappings of in-process stepping if its parent had them (not after a vfork: the
       address space is the parent's until the child's exec) */
    if (sig == (SIGTRAP | (PTRACE_EVENT_FORK << 8))) turbo_forked(tgid, (pid_t)msg);
    ptrace(PTRACE_SINGLESTEP, tid, 0, 0);
    sig = wait_child_nr(nr);
    if (sig < 0) return -1;
  }
  if (sig != SIGTRAP) {
    /* A single-stepped syscall queues a SIGTRAP on its way out (user_single_step_report), also when a seccomp
       filter trapped it: then the SIGSYS, queued first, is reported first, and the SIGTRAP would stop the step
       after the one delivering the SIGSYS before any instruction ran. That step absorbs it (below). */
    if (nr >= 0 && sigtrap_pending()) tracee(tid)->trap_queued = 1;
    state_record(STOP, sig, 1);
    return -1;
  }
  if (tracee(tid)->trap_queued) {
    tracee(tid)->trap_queued = 0;
    if (sigtrap_pending()) {
      /* the queued SIGTRAP: a signal-delivery stop now, discarded by the next step (which delivers nothing) */
      ptrace(PTRACE_SINGLESTEP, tid, 0, 0);
      if (wait_child() < 0) return -1;
    }
  }
  if (nr == 59 || nr == 322) {
    /* execve/execveat: a new address space if it succeeded (the memory file is the old one's) */
    open_mem(tgid);
    flush_code_cache();
    struct user_regs_struct now;
    /* the new image has none of the in-process stepping's mappings (the first process's: nor have the children
       it forked before, whose ring is not the one the tracer maps next) */
    if (ptrace(PTRACE_GETREGS, tid, 0, &now) == 0 && now.rax == 0) turbo_forget_mappings(tgid);
  }
  if (!signal && is_pushf(in)) {
    /* natively TF is set while single-stepping: pushf pushed it */
    struct user_regs_struct now;
    uint64_t w;
    ptrace(PTRACE_GETREGS, tid, 0, &now);
    if (read_mem(now.rsp, &w, 8) == 0 && (w & 0x100)) {
      w &= ~0x100ULL;
      write_mem(now.rsp, &w, 8);
    }
  }
  return 0;
}

/* In-process stepping (turbo.h): used for runs of the threads of the first process and of the children it forks
   while the process has no handler of its own for SIGTRAP or a fault signal and no signal is pending; off for
   good once setting it up failed or the program registered rseq. */
static int turbo_off;
#define TURBO_MIN_RUN 64

static void turbo_record(const struct user_regs_struct *u, const struct user_fpregs_struct *fp) {
  emit_state(STEP, 0, u, fp);
  if (outlen >= 16384) flush_out();
}

struct insn_at {
  const struct insn *in;
  uint64_t rip;
};
static int insn_byte(void *ctx, uint64_t addr) {
  const struct insn_at *a = ctx;
  uint64_t k = addr - a->rip;
  return a->in->ok && k < 16 ? a->in->b[k] : -1;
}

/* The tracee ptrace-stopped again if it was parked in the handler. 0 if the process ended (record sent). */
static int ensure_ptraced(void) {
  int st;
  if (!turbo_parked) return 1;
  if (turbo_leave(tid, &cur, &st) == 0) return 1;
  process_end(st);
  return 0;
}

/* Syscalls before which the program's own signal dispositions, mask and alternate stack must be in place (they
   read or change them, or make a process or image that would inherit the handler). */
static int turbo_sensitive(long nr) {
  static const long list[] = {13, 14, 15, 56, 57, 58, 59, 131, 157, 317, 322, 435};
  for (unsigned k = 0; k < sizeof list / sizeof list[0]; k++)
    if (list[k] == nr) return 1;
  return 0;
}

/* A run's first part in-process: returns the number of instructions done (the rest by ptrace), or -1 if the
   run is over (its END or the process's end sent). */
static int try_turbo(uint32_t count) {
  uint32_t first = 0;
  if (!turbo_parked) {
    /* the first process, and the children it forked after its mapping (they have its mappings) */
    if (turbo_off || !turbo_may_run(tgid) || count < TURBO_MIN_RUN) return 0;
    struct insn in;
    look(cur.rip, &in);
    struct insn_at at = {&in, cur.rip};
    if (turbo_decode(insn_byte, &at, cur.rip, &first) != K_NORMAL || turbo_signal_pending(tid)) return 0;
    if (!turbo_installed) {
      if (!turbo_eligible(tid, tgid)) return 0;
      if (turbo_install(tid, tgid, &cur) != 0) {
        /* silently: the program's stderr is the tracer's */
        turbo_uninstall(tid, tgid);
        turbo_off = 1;
        return 0;
      }
    }
  }
  int why = 0, st = 0;
  int n = turbo_steps(tid, count, first, &cur, turbo_record, &why, &st);
  if (n == -1) {
    process_end(st);
    return -1;
  }
  if (n < 0) {
    header(ERROR, EIO);
    return -1;
  }
  if (why == T_LIMIT || why == T_SPECIAL) {
    header(END, why == T_SPECIAL);
    return -1;
  }
  return n;
}

static void run(uint32_t count, uint32_t signal, uint32_t flags) {
  uint32_t k = 0;
  if (signal || (flags & 1)) {
    if (!ensure_ptraced()) return;
  } else {
    int n = try_turbo(count);
    if (n < 0) return;
    k = (uint32_t)n;
  }
  if (k < count) {
    /* Stepped by ptrace from here, where a signal may come (a syscall's, or one pending): the program's own
       alternate stack must be in place for its delivery (a frame on it shows it). An injected call now, and not
       at the signal's stop, which it would end without delivering the signal. */
    turbo_switching(0);
    /* One of the handler's signals has no handler of the program's (else no in-process stepping): its own
       disposition (mostly the default: the end) takes it. */
    if (signal && turbo_active(tgid) && turbo_handles(signal)) turbo_uninstall(tid, tgid);
  }
  for (; k < count; k++) {
    struct user_regs_struct r = cur;
    struct insn in;
    look(r.rip, &in);
    if (!signal && is_special(&in) && !(k == 0 && (flags & 1))) {
      header(END, 1);
      return;
    }
    if (is_special(&in)) flush_code_cache();
    if (turbo_active(tgid) && is_special(&in) && in.b[in.npfx + 1] == 0x05 && turbo_sensitive((long)r.rax)) turbo_uninstall(tid, tgid);
    /* rseq: the kernel rewrites the area and aborts critical sections at every ptrace stop and at every signal
       delivery, but not at the same points of a step; the differ's rseq handling is ptrace's (see README) */
    if (is_special(&in) && in.b[in.npfx + 1] == 0x05 && r.rax == 334) {
      turbo_uninstall(tid, tgid);
      turbo_off = 1;
    }
    if (step_one(k == 0 ? (int)signal : 0, &in, r.rip, &r) < 0) return;
    state_record(STEP, 0, signal || may_touch_fpu(&in));
    /* Hand records over as they come, so that the differ checks them while the program runs on. */
    if (outlen >= 16384) flush_out();
    if (signal || is_special(&in)) {
      /* one syscall/cpuid or signal delivery at a time: the differ reconciles it (or lines up the signal
         frames) before going on */
      header(END, signal ? 0 : 1);
      return;
    }
  }
  header(END, 0);
}

/* The lowest CPU this process may run on (the differ's src/lockstep/pinned-cpu.ts picks the same one). */
static int pinned_cpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) return c;
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: lockstep-tracer CMD_FIFO OUT_FIFO PROGRAM [ARGS...]\n");
    return 2;
  }
  child = fork();
  if (child == 0) {
    personality(ADDR_NO_RANDOMIZE);
    int cpu = pinned_cpu();
    if (cpu >= 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      sched_setaffinity(0, sizeof one, &one);
    }
    /* In-process stepping runs the program detached (no PTRACE_O_EXITKILL then): it must not outlive the tracer. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execv(argv[3], argv + 3);
    fprintf(stderr, "lockstep-tracer: %s: %s\n", argv[3], strerror(errno));
    _exit(127);
  }
  cmd_fd = open(argv[1], O_RDONLY);
  out_fd = open(argv[2], O_WRONLY);
  if (cmd_fd < 0 || out_fd < 0) {
    perror("lockstep-tracer: fifo");
    kill(child, SIGKILL);
    return 2;
  }
  tid = tgid = child;
  tracee(child)->tgid = child;
  turbo_init(child);
  int sig = wait_child();
  if (sig != SIGTRAP) {
    if (sig >= 0) header(ERROR, 0);
    flush_out();
    return 2;
  }
  tracee(child)->started = 1;
  ptrace(PTRACE_SETOPTIONS, child, 0, (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK));
  open_mem(child);
  state_record(STEP, 0, 1);
  flush_out();
  for (;;) {
    char c;
    get(&c, 1);
    if (c == 'R') {
      uint32_t a[3];
      get(a, sizeof a);
      if (!child || !tid) header(ERROR, ESRCH);
      else run(a[0], a[1], a[2]);
    } else if (c == 'M') {
      uint64_t addr;
      uint32_t len;
      get(&addr, 8);
      get(&len, 4);
      char *buf = malloc(len ? len : 1);
      if (child && read_mem(addr, buf, len) == 0) {
        header(DATA, len);
        put(buf, len);
      } else header(DATA, 0xffffffffu);
      free(buf);
    } else if (c == 'W') {
      uint64_t addr;
      uint32_t len;
      get(&addr, 8);
      get(&len, 4);
      char *buf = malloc(len ? len : 1);
      get(buf, len);
      flush_code_cache();
      header(child && write_mem(addr, buf, len) == 0 ? ACK : ERROR, 0);
      free(buf);
    } else if (c == 'G') {
      struct user_regs_struct r;
      get(&r, sizeof r);
      if (!ensure_ptraced()) {
        flush_out();
        continue;
      }
      int ok = child && ptrace(PTRACE_SETREGS, tid, 0, &r) == 0;
      if (ok) cur = r;
      header(ok ? ACK : ERROR, errno);
    } else if (c == 'T') {
      uint32_t t;
      get(&t, 4);
      if (t == 0) t = (uint32_t)child; /* 0: the main thread (the differ does not know its native tid) */
      if (!ensure_ptraced()) {
        flush_out();
        continue;
      }
      int st = 0;
      struct tracee *e = tracee((pid_t)t);
      if (!child || e->gone) header(ERROR, ESRCH);
      else if (!e->started && (wait_thread((pid_t)t, &st) < 0 || !WIFSTOPPED(st))) {
        if (!WIFSTOPPED(st)) other_status((pid_t)t, st);
        header(ERROR, ESRCH);
      } else {
        e->started = 1;
        /* the handler's alternate stack goes back in the thread that had it (it is set in the one that runs) */
        turbo_switching((pid_t)t);
        pid_t g = tgid_of((pid_t)t);
        if (g != tgid) {
          /* another address space: memory and the code cache are the new process's */
          open_mem(g);
          flush_code_cache();
        }
        tid = (pid_t)t;
        tgid = g;
        have_last_fp = 0;
        state_record(STEP, 0, 1);
      }
    } else if (c == 'K') {
      if (child) kill(child, SIGKILL);
      return 0;
    } else {
      header(ERROR, EINVAL);
    }
    flush_out();
  }
}
