// Mutations of ELF images for the hardening tests (issue 8): the damage the issue
// lists — overlapping segments, p_filesz > p_memsz, offsets past the end, huge
// p_memsz, zero sizes, misalignment, hostile PT_INTERP — plus random bytes and
// truncation. Each mutation edits the image it is given (pass a copy).
import { EXIT_0, tinyElf } from './tiny-elf.js';

const cstr = (s: string) => Buffer.from(s + '\0');

/** Generates `count` seeded mutants of the bases: [label, first mutation kind, image]. */
export function* mutants(bases: ReadonlyArray<{ name: string; image: Uint8Array }>, count: number, seed: number, outsideInterp: string): Generator<{ label: string; kind: string; image: Uint8Array }> {
  const rnd = prng(seed);
  const names = Object.keys(MUTATIONS);
  for (let i = 0; i < count; i++) {
    const base = bases[i % bases.length];
    const kinds = [names[i % names.length], ...(rnd(3) === 0 ? [pick(names, rnd)] : [])];
    let img: Uint8Array = new Uint8Array(base.image);
    for (const k of kinds) img = MUTATIONS[k](img, rnd, outsideInterp);
    yield { label: `case ${i} (${base.name}: ${kinds.join(' + ')})`, kind: kinds[0], image: img };
  }
}

/** mulberry32: small, fast, reproducible. */
export function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) | 0;
  };
}

// ---------------------------------------------------------------- mutations

const HUGE = [1n << 32n, 1n << 40n, 1n << 47n, 1n << 48n, 1n << 63n, (1n << 64n) - 1n, (1n << 64n) - 0x1000n];
const PT_LOAD = 1;
const PT_INTERP = 3;

interface Phdr {
  at: number;
  type: number;
}

function phdrs(img: Uint8Array): Phdr[] {
  if (img.length < 64) return [];
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const phoff = Number(v.getBigUint64(32, true));
  const n = v.getUint16(56, true);
  const out: Phdr[] = [];
  for (let i = 0; i < n && phoff + 56 * (i + 1) <= img.length; i++) out.push({ at: phoff + 56 * i, type: v.getUint32(phoff + 56 * i, true) });
  return out;
}

/** PT_INTERP strings that must never lead outside the rootfs (or hang it); outsideInterp is a host path outside it. */
export function interpTargets(outsideInterp: string): Uint8Array[] {
  return [
    cstr('/../../../../../../../..' + outsideInterp),
    cstr(outsideInterp),
    cstr('/abs-escape'),
    cstr('/rel-escape'),
    cstr('/deep-escape'),
    cstr('../outside-interp'),
    cstr('/prog'), // the program itself
    cstr('/'),
    cstr('/dir/'),
    cstr('/fifo'),
    cstr('/dev/zero'),
    cstr('/proc/self/exe'),
    cstr('/proc/self/root/../outside-interp'),
    cstr('/nonexistent'),
    cstr(''),
    Buffer.from('/lib/ld-tiny'), // not NUL-terminated
    cstr('/lib/ld-tiny\0junk'),
    cstr('/' + 'a'.repeat(5000)),
  ];
}

export type Mutation = (img: Uint8Array, rnd: (n: number) => number, outsideInterp: string) => Uint8Array;

const u64 = (img: Uint8Array, off: number, v: bigint) => {
  if (off + 8 <= img.length) new DataView(img.buffer, img.byteOffset).setBigUint64(off, BigInt.asUintN(64, v), true);
};
const get64 = (img: Uint8Array, off: number) => (off + 8 <= img.length ? new DataView(img.buffer, img.byteOffset).getBigUint64(off, true) : 0n);
export const pick = <T>(xs: T[], rnd: (n: number) => number) => xs[rnd(xs.length)];
const loads = (img: Uint8Array) => phdrs(img).filter((p) => p.type === PT_LOAD);
const anyPh = (img: Uint8Array, rnd: (n: number) => number) => pick(phdrs(img), rnd);

/** The directed mutations the issue lists, plus random damage. Each edits a copy. */
export const MUTATIONS: Record<string, Mutation> = {
  overlap: (img, rnd) => {
    const ls = loads(img);
    if (ls.length < 2) {
      // Duplicate the only PT_LOAD over another header slot.
      const [p] = ls;
      const q = anyPh(img, rnd);
      if (p && q && p !== q) img.copyWithin(q.at, p.at, p.at + 56);
      return img;
    }
    const a = pick(ls, rnd), b = pick(ls, rnd);
    u64(img, b.at + 16, get64(img, a.at + 16) + BigInt(rnd(3) * 0x1000) + (rnd(2) ? 0n : get64(img, a.at + 8) & 0xfffn));
    return img;
  },
  'filesz>memsz': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 32, get64(img, p.at + 40) + BigInt(1 + rnd(0x10000)));
    return img;
  },
  'offset-past-end': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 8, rnd(2) ? BigInt(img.length + rnd(0x2000)) : pick(HUGE, rnd));
    return img;
  },
  'filesz-past-end': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 32, BigInt(img.length * (1 + rnd(4))));
    return img;
  },
  'huge-memsz': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 40, pick(HUGE, rnd));
    return img;
  },
  'zero-size': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) {
      u64(img, p.at + 40, 0n);
      if (rnd(2)) u64(img, p.at + 32, 0n);
    }
    return img;
  },
  misaligned: (img, rnd) => {
    const p = anyPh(img, rnd);
    if (!p) return img;
    if (rnd(2)) u64(img, p.at + 16, get64(img, p.at + 16) + BigInt(1 + rnd(0xffe)));
    else u64(img, p.at + 48, pick([0n, 3n, 0x1001n, 1n << 63n, 0x200000n], rnd));
    return img;
  },
  'wild-vaddr': (img, rnd) => {
    const p = anyPh(img, rnd);
    if (p) u64(img, p.at + 16, pick([0n, 0xffff800000000000n, (1n << 64n) - 0x1000n, 0x7ffffffff000n, 1n << 47n], rnd));
    return img;
  },
  entry: (img, rnd) => (u64(img, 24, pick([0n, 1n, 0x7ffffffff000n, ...HUGE], rnd)), img),
  'program-header-table': (img, rnd) => {
    const v = new DataView(img.buffer, img.byteOffset);
    if (img.length < 64) return img;
    switch (rnd(4)) {
      case 0:
        v.setUint16(56, pick([0, 0xffff, v.getUint16(56, true) + 1, 1000], rnd), true);
        break;
      case 1:
        u64(img, 32, pick([BigInt(img.length), BigInt(img.length - 8), 1n, (1n << 64n) - 1n], rnd));
        break;
      case 2:
        v.setUint16(54, pick([0, 32, 55, 57, 0xffff], rnd), true);
        break;
      default:
        v.setUint16(16, pick([0, 1, 3, 4, 0xfe00], rnd), true); // e_type
    }
    return img;
  },
  ident: (img, rnd) => {
    if (img.length >= 20) img[pick([4, 5, 6, 18, 19, 7], rnd)] = pick([0, 1, 3, 0xff], rnd);
    return img;
  },
  interp: (_img, rnd, outsideInterp) => {
    // A fresh image whose PT_INTERP names something hostile.
    const img = tinyElf({ code: EXIT_0, interp: pick(interpTargets(outsideInterp), rnd) });
    return rnd(3) ? img : MUTATIONS[pick(['filesz>memsz', 'offset-past-end', 'zero-size', 'filesz-past-end'], rnd)](img, rnd, outsideInterp);
  },
  'interp-header': (img, rnd) => {
    const p = phdrs(img).find((q) => q.type === PT_INTERP) ?? anyPh(img, rnd);
    if (!p) return img;
    new DataView(img.buffer, img.byteOffset).setUint32(p.at, PT_INTERP, true);
    if (rnd(2)) u64(img, p.at + 32, pick([0n, 1n, 4096n, BigInt(img.length), 1n << 40n], rnd));
    return img;
  },
  bytes: (img, rnd) => {
    const hot = Math.min(img.length, 64 + 56 * Math.max(1, phdrs(img).length));
    for (let k = 1 + rnd(8); k > 0; k--) img[rnd(hot)] = rnd(256);
    return img;
  },
  truncate: (img, rnd) => img.slice(0, rnd(Math.min(img.length, 64 + 56 * 4) + 1)),
};

