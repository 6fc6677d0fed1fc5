/** Accepted instruction forms no oracle can compare with the host, and where they are checked instead. */
export const NOT_NATIVE: Record<string, string> = {
  '0f 05:r': 'syscall: the kernel runs (every fixture, and the lockstep differ, compares what follows)',
  '0f a2:r': "cpuid: describes elfshim's feature set, not the host's (test/isa-bmi.test.ts checks the leaves)",
  '0f 31:r': 'rdtsc: time (the lockstep differ copies the native value)',
  '0f 01/2.0:r': 'xgetbv: XCR0 is 3 (x87+SSE) where the host has AVX state (test/x87.test.ts xsave cases use XCR0=3 masks)',
};
