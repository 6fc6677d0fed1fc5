/**
 * CPUID tells the truth: every feature bit set here is implemented by the
 * core (glibc picks its string routines from these bits; an advertised but
 * missing instruction would be a crash later). Values are [eax, ebx, ecx, edx].
 *
 * MMX is set because the x86-64 baseline ISA level requires it (glibc checks
 * the ISA level of binaries); MMX register instructions themselves are not
 * implemented and raise SIGILL. Compilers do not emit them without intrinsics.
 */

// Leaf 1 ECX
const SSE3 = 1 << 0, SSSE3 = 1 << 9, CX16 = 1 << 13, SSE41 = 1 << 19, SSE42 = 1 << 20, MOVBE = 1 << 22, POPCNT = 1 << 23;
// Leaf 1 EDX
const FPU = 1 << 0, TSC = 1 << 4, CX8 = 1 << 8, CMOV = 1 << 15, CLFSH = 1 << 19, MMX = 1 << 23, FXSR = 1 << 24, SSE = 1 << 25, SSE2 = 1 << 26;
// Leaf 7 EBX (BMI1, BMI2 and ADX: src/cpu/vex/, checked against the host by test/isa-bmi.test.ts)
const BMI1 = 1 << 3, BMI2 = 1 << 8, ERMS = 1 << 9, ADX = 1 << 19;
// Leaf 0x80000001
const LAHF_LM = 1 << 0, ABM = 1 << 5; // ABM = lzcnt
const SYSCALL = 1 << 11, NX = 1 << 20, LM = 1 << 29;

/** Feature set, adjusted by the SSE module's report of what it implements. */
export const FEATURES = {
  leaf1Ecx: SSE3 | SSSE3 | CX16 | SSE41 | SSE42 | MOVBE | POPCNT,
  leaf1Edx: FPU | TSC | CX8 | CMOV | CLFSH | MMX | FXSR | SSE | SSE2,
};

function str4(s: string): number {
  return s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
}
function brand(part: number): number[] {
  const text = 'elfshim x86-64 emulator'.padEnd(48, '\0');
  const s = text.slice(part * 16, part * 16 + 16);
  return [str4(s.slice(0, 4)), str4(s.slice(4, 8)), str4(s.slice(8, 12)), str4(s.slice(12, 16))];
}

/** Deterministic cache description (leaf 4): 32K L1d/L1i 8-way, 256K L2 4-way, 8M L3 16-way, 64-byte lines. */
const CACHES: number[][] = [
  [0x121, (7 << 22) | 63, 63, 0],
  [0x122, (7 << 22) | 63, 63, 0],
  [0x143, (3 << 22) | 63, 1023, 0],
  [0x163, (15 << 22) | 63, 8191, 0],
  [0, 0, 0, 0],
];

export const CPUID_LEAVES: Record<number, (sub: number) => number[]> = {
  0x0: () => [0x7, str4('Genu'), str4('ntel'), str4('ineI')],
  // Family 6 model 0x3c stepping 3; CLFLUSH line 8*8 = 64 bytes; 1 logical processor.
  0x1: () => [0x000306c3, 0x00010800, FEATURES.leaf1Ecx, FEATURES.leaf1Edx],
  // Descriptor 0xff: "use leaf 4 for cache parameters".
  0x2: () => [0x00feff01, 0, 0, 0],
  0x4: (sub) => CACHES[Math.min(sub, 4)],
  0x7: (sub) => (sub === 0 ? [0, BMI1 | BMI2 | ERMS | ADX, 0, 0] : [0, 0, 0, 0]),
  0x80000000: () => [0x80000008, 0, 0, 0],
  0x80000001: () => [0, 0, LAHF_LM | ABM, SYSCALL | NX | LM],
  0x80000002: () => brand(0),
  0x80000003: () => brand(1),
  0x80000004: () => brand(2),
  0x80000006: () => [0, 0, (256 << 16) | (6 << 12) | 64, 0],
  0x80000008: () => [0x3030, 0, 0, 0],
};

export function cpuidLeaf(leaf: number, sub: number): number[] {
  const f = CPUID_LEAVES[leaf];
  if (f) return f(sub);
  // Above the maximum basic leaf Intel CPUs return the highest basic leaf's data; zeros is what most code expects.
  return [0, 0, 0, 0];
}

/** /proc/cpuinfo "flags" for exactly the features CPUID advertises (Linux's names). */
export function cpuinfoFlagList(): string {
  const l1d = FEATURES.leaf1Edx, l1c = FEATURES.leaf1Ecx, l7 = CPUID_LEAVES[0x7](0)[1], e1 = CPUID_LEAVES[0x80000001](0);
  const pick = (word: number, names: [number, string][]) => names.filter(([bit]) => word & (1 << bit)).map(([, n]) => n);
  return [
    ...pick(l1d, [[0, 'fpu'], [4, 'tsc'], [8, 'cx8'], [15, 'cmov'], [19, 'clflush'], [23, 'mmx'], [24, 'fxsr'], [25, 'sse'], [26, 'sse2']]),
    ...pick(e1[3], [[11, 'syscall'], [20, 'nx'], [29, 'lm']]),
    ...pick(l1c, [[0, 'pni'], [9, 'ssse3'], [13, 'cx16'], [19, 'sse4_1'], [20, 'sse4_2'], [22, 'movbe'], [23, 'popcnt']]),
    ...pick(e1[2], [[0, 'lahf_lm'], [5, 'abm']]),
    ...pick(l7, [[3, 'bmi1'], [8, 'bmi2'], [9, 'erms'], [19, 'adx']]),
  ].join(' ');
}
