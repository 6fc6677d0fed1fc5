# elfshim debug run — gdb commands for a guest started with
#
#     elfshim --gdb 1234 ./prog args...
#
# then:   gdb -x gdbinit ./prog
#
# The guest is stopped before its first instruction (the loader's _start for
# a dynamic program, the program's own _start for a static one).

set pagination off
set confirm off
# Addresses are Linux's without ASLR, so a PIE is relocated from the auxv the
# stub sends (qXfer:auxv:read): no add-symbol-file needed.
target remote localhost:1234

# Where are we? The first instruction of the process.
info registers rip
x/3i $pc

# ---------------------------------------------------------------------------
# The workflow (uncomment or type these):
#
#   info auxv                      AT_ENTRY, AT_PHDR, AT_BASE, AT_RANDOM …
#   stepi 10                       walk through the startup code
#   hbreak main                    stop in main (a hardware breakpoint: nothing is written to guest memory)
#   continue
#   info sharedlibrary             ld-linux and libc of a dynamic program
#
# Which system calls does it make, and which does elfshim lack?
#   catch syscall                  stop at every syscall entry and return
#   catch syscall openat write     only these
#   catch syscall group:file       a whole group
#   monitor syscalls               the calls made so far, unimplemented first
#   monitor unimplemented stop     stop with SIGSYS at a call the shim does not implement
#   monitor strace on              one strace line per call on elfshim's stderr
#   monitor maps                   the guest's memory map
#   info proc mappings             the same through gdb
#
# At a syscall entry stop, registers can be changed before the call runs:
#   set $rdi = 3                   change an argument
#   set $orig_rax = -1             skip the call (set $rax to the result you want)
# ---------------------------------------------------------------------------
