/*
 * The code lockstep-tracer copies into the traced program for in-process stepping (see turbo.h): the SIGTRAP
 * (and fault) handler, its sa_restorer and the park stub. Everything here lives in section turbo_text, which the
 * tracer copies as a whole to TURBO_CODE: it must be position-independent and self-contained — no calls out of
 * the section, no data outside the shared block (reached at its fixed address), no stack protector, no jump
 * tables, no library calls (memcpy) generated for loops. The build compiles this file with the flags that
 * guarantee that (scripts/build-fixtures.sh); `objdump -d` shows no call or rip-relative load leaving the section.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>
#include "turbo.h"

#define T __attribute__((section("turbo_text"), used))
#define CTL ((struct turbo_ctl *)TURBO_SHM)
#define RECS ((struct turbo_rec *)(TURBO_SHM + TURBO_CTL_SIZE))
#define TF 0x100ULL
#define SYS_futex 202
#define SYS_getppid 110
#define SYS_kill 62
#define SYS_process_vm_readv 310
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define TRAP_TRACE_CODE 2
#define FP_XSTATE_MAGIC1_VALUE 0x46505853U

T static inline long sys4(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}

T static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return r;
}

T static inline void wake(uint32_t *w) { sys4(SYS_futex, (long)w, FUTEX_WAKE, 1, 0); }

/* Tells the tracer something is there (records or a stop) if it sleeps. */
T static inline void notify(struct turbo_ctl *c) {
  __atomic_add_fetch(&c->seq, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&c->tracer_waiting, __ATOMIC_SEQ_CST)) wake(&c->seq);
}

/*
 * The byte at addr of the program's code, or -1 if it cannot be read. Only bytes of the instruction itself are
 * asked for (its fetch would fault just the same), but a fault inside this handler would be unrecoverable: a
 * page not yet known readable is probed with process_vm_readv, which fails instead of faulting.
 */
T static int fetch_byte(void *ctx, uint64_t addr) {
  struct turbo_ctl *c = ctx;
  uint64_t page = (addr >> 12) + 1;
  uint64_t *slot = &c->good_pages[page % TURBO_GOOD_PAGES];
  if (*slot != page) {
    uint8_t b;
    struct { void *base; uint64_t len; } local = {&b, 1}, remote = {(void *)addr, 1};
    if (sys6(SYS_process_vm_readv, (long)c->pid, (long)&local, 1, (long)&remote, 1, 0) != 1) return -1;
    *slot = page;
    return b;
  }
  return *(volatile uint8_t *)addr;
}

/*
 * What the instruction at rip is for the stepping: K_SPECIAL (the differ acts on it: syscall, cpuid, xgetbv),
 * K_BAIL (stepped by ptrace: traps, interrupts, privileged or trap-suppressing instructions, unreadable code) or
 * K_NORMAL; *flags says pushf (TF must be hidden in what it pushes) and rep string (it traps per iteration).
 * Prefixes are skipped as lockstep-tracer's decode_prefixes does. Also the tracer's, with its own fetch.
 */
T int turbo_decode(turbo_fetch fetch, void *ctx, uint64_t rip, uint32_t *flags) {
  int rep = 0, k = 0, o;
  *flags = 0;
  for (;; k++) {
    if (k == 15) return K_BAIL;
    o = fetch(ctx, rip + k);
    if (o < 0) return K_BAIL;
    if (o == 0xf2 || o == 0xf3) rep = 1;
    else if (!(o == 0x67 || o == 0x66 || o == 0x2e || o == 0x3e || o == 0x26 || o == 0x64 || o == 0x65 || o == 0x36 || o == 0xf0 || (o >= 0x40 && o <= 0x4f))) break;
  }
  if (o == 0x0f) {
    int o1 = fetch(ctx, rip + k + 1);
    if (o1 < 0) return K_BAIL;
    if (o1 == 0x05 || o1 == 0xa2) return K_SPECIAL;
    if (o1 == 0x01) {
      int o2 = fetch(ctx, rip + k + 2);
      if (o2 < 0) return K_BAIL;
      return o2 == 0xd0 ? K_SPECIAL : K_NORMAL;
    }
    if (o1 == 0x0b || o1 == 0x07 || o1 == 0x34 || o1 == 0x35 || o1 == 0xb9 || o1 == 0xff) return K_BAIL;
    return K_NORMAL;
  }
  /* int3 int n into int1 hlt iret in/out ins/outs cli/sti mov-to-ss pop-ss pop-ds */
  if (o == 0xcc || o == 0xcd || o == 0xce || o == 0xf1 || o == 0xf4 || o == 0xcf || (o >= 0xe4 && o <= 0xe7) || (o >= 0xec && o <= 0xef) || (o >= 0x6c && o <= 0x6f) || o == 0xfa || o == 0xfb || o == 0x8e || o == 0x17 || o == 0x1f)
    return K_BAIL;
  if (o == 0x9c) *flags = NF_PUSHF;
  if (rep && ((o >= 0xa4 && o <= 0xa7) || (o >= 0xaa && o <= 0xaf))) *flags = NF_REP;
  return K_NORMAL;
}

T static void copy_gregs(uint64_t *to, const greg_t *g) {
  for (int k = 0; k < 23; k++) ((volatile uint64_t *)to)[k] = (uint64_t)g[k];
  to[REG_EFL] &= ~TF;
}

/* Stops (why: T_*), waits for the tracer, and obeys it: go on stepping, or leave to the park stub. */
T static void stop(struct turbo_ctl *c, ucontext_t *uc, uint32_t why) {
  greg_t *g = uc->uc_mcontext.gregs;
  uint32_t go = __atomic_load_n(&c->go, __ATOMIC_SEQ_CST);
  copy_gregs(c->park_gregs, g);
  __atomic_store_n(&c->state, why, __ATOMIC_SEQ_CST);
  notify(c);
  /* The program is detached: if the tracer dies (no PTRACE_O_EXITKILL now), it must not wait forever. */
  volatile long second[2];
  second[0] = 1, second[1] = 0; /* not an initializer: that would be a constant outside the section */
  while (__atomic_load_n(&c->go, __ATOMIC_SEQ_CST) == go) {
    sys4(SYS_futex, (long)&c->go, FUTEX_WAIT, go, (long)&second);
    if ((uint64_t)sys4(SYS_getppid, 0, 0, 0, 0) != c->tracer) sys4(SYS_kill, (long)c->pid, SIGKILL, 0, 0);
  }
  if (__atomic_load_n(&c->cmd, __ATOMIC_SEQ_CST) == C_LEAVE) {
    g[REG_EFL] &= ~TF;
    g[REG_RIP] = (greg_t)c->park_stub;
  } else g[REG_EFL] |= TF;
}

T void turbo_handler(int sig, void *infov, void *ucv) {
  struct turbo_ctl *c = CTL;
  siginfo_t *info = infov;
  ucontext_t *uc = ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  if (sig != SIGTRAP || info->si_code != TRAP_TRACE_CODE) {
    /* a fault of the instruction at rip (it did not complete), or a SIGTRAP sent by someone */
    c->sig = (uint32_t)sig;
    stop(c, uc, T_FAULT);
    return;
  }
  uint64_t rip = (uint64_t)g[REG_RIP];
  /* an iteration of a rep string instruction: one record when it is done, as the ptrace stepping gives */
  if ((c->next_flags & NF_REP) && rip == c->next_rip) return;
  /* TF is set while stepping: pushf pushed it, the program must not see it */
  if (c->next_flags & NF_PUSHF) *(volatile uint64_t *)g[REG_RSP] &= ~TF;
  uint32_t n = c->produced;
  struct turbo_rec *r = &RECS[n % TURBO_SLOTS];
  copy_gregs(r->gregs, g);
  const uint64_t *fx = (const uint64_t *)uc->uc_mcontext.fpregs;
  for (int k = 0; k < 64; k++) ((volatile uint64_t *)r->fx)[k] = fx[k];
  /* sw_reserved.magic1 (at 464) says an XSAVE header follows the legacy area */
  r->xstate_bv = ((const uint32_t *)fx)[116] == FP_XSTATE_MAGIC1_VALUE ? fx[64] : 3;
  __atomic_store_n(&c->produced, n + 1, __ATOMIC_SEQ_CST);
  uint32_t flags;
  int kind = turbo_decode(fetch_byte, c, rip, &flags);
  c->next_rip = rip;
  c->next_flags = flags;
  if (kind == K_SPECIAL) stop(c, uc, T_SPECIAL);
  else if (kind == K_BAIL) stop(c, uc, T_BAIL);
  else if (n + 1 == c->limit) stop(c, uc, T_LIMIT);
  else if (((n + 1) & 15) == 0) notify(c);
}

/* sa_restorer; the park stub (the program's stack is not touched: its red zone is live); a syscall instruction
   for the tracer's injected calls. */
__asm__(".pushsection turbo_text,\"ax\",@progbits\n"
        ".globl turbo_restorer\nturbo_restorer:\n"
        "  mov $15, %eax\n  syscall\n"
        ".globl turbo_park\nturbo_park:\n"
        "  movabs $" "0x6f0000100000" " + 28, %rdi\n" /* &CTL->parked */
        "  movl $1, (%rdi)\n"
        "  mov $202, %eax\n  mov $1, %esi\n  mov $1, %edx\n  syscall\n" /* FUTEX_WAKE the tracer */
        "1:mov $202, %eax\n  xor %esi, %esi\n  mov $1, %edx\n  xor %r10d, %r10d\n  syscall\n  jmp 1b\n" /* wait for the attach */
        ".globl turbo_syscall\nturbo_syscall:\n"
        "  syscall\n  int3\n"
        ".popsection\n");

_Static_assert(__builtin_offsetof(struct turbo_ctl, parked) == 28, "turbo_park's address of parked");
_Static_assert(TURBO_SHM == 0x6f0000100000ULL, "turbo_park's address of the control block");
