/**
 * A guest memory access that the MMU refuses. Thrown by AddressSpace on the
 * slow path and caught by the CPU run loop, which turns it into SIGSEGV for
 * the guest (or a stop for the debugger). Not an Error: no host stack trace
 * is captured, since guest faults are normal events, not host bugs.
 */
export class GuestFault {
  constructor(
    /** The faulting guest address (as reported in si_addr). */
    readonly addr: number,
    /** 'unmapped' → SEGV_MAPERR, 'protection' → SEGV_ACCERR. */
    readonly kind: 'unmapped' | 'protection',
    /** The access that faulted. */
    readonly access: 'read' | 'write' | 'exec',
  ) {}
}

/** Page permission bits, as in the PTE and in mmap's PROT_* values. */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
