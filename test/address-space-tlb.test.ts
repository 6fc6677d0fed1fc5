// The address space's software TLB (two ways per set, which translated code
// probes) and private mappings' contents copied into a page on first touch.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace, MMAP_BASE, STACK_TOP, TLB_SETS, tlbIndex } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/mem/fault.js';

const RW = PROT_READ | PROT_WRITE;

/** The pages (tags) in way 0 and way 1 of address a's set. */
function ways(T: Int32Array, a: number): [number, number] {
  const k = tlbIndex(a | 0);
  return [T[k], T[k + 2]];
}
const tagOf = (a: number) => Math.floor(a / PAGE_SIZE / TLB_SETS);

describe('software TLB', () => {
  // Without ASLR the stack's top page and ld.so's data page share their low page bits.
  const stack = STACK_TOP - 2 * PAGE_SIZE, low = MMAP_BASE - 2 * PAGE_SIZE;

  function space(): AddressSpace {
    const m = new AddressSpace(new PhysicalMemory(1 << 24));
    for (const a of [stack, low, low - TLB_SETS * PAGE_SIZE]) assert.equal(m.mmap(a, PAGE_SIZE, RW, { fixed: true, anonymous: true }), a);
    return m;
  }

  test('two pages of one set both stay translated; a third evicts the older', () => {
    assert.equal(tlbIndex(stack | 0), tlbIndex(low | 0));
    const m = space();
    m.write32(stack + 8, 0x11223344);
    m.write32(low + 8, 0x55667788);
    assert.deepEqual(ways(m.tlbW, stack), [tagOf(low), tagOf(stack)]);
    assert.deepEqual(ways(m.tlbR, stack), [tagOf(low), tagOf(stack)]);
    assert.equal(m.read32(stack + 8), 0x11223344);
    assert.equal(m.read32(low + 8), 0x55667788);
    // A third page of the set: the page least recently filled goes.
    const third = low - TLB_SETS * PAGE_SIZE;
    assert.equal(tlbIndex(third | 0), tlbIndex(stack | 0));
    m.write8(third, 1);
    assert.deepEqual(ways(m.tlbW, stack), [tagOf(third), tagOf(low)]);
  });

  test('a page that becomes code loses its write entry in either way', () => {
    const m = space();
    const written: number[] = [];
    m.onCodeWrite = (vpn) => written.push(vpn);
    assert.equal(m.mprotect(stack, PAGE_SIZE, RW | PROT_EXEC), 0);
    m.write8(stack, 0x90);
    m.write8(low, 0);
    assert.equal(ways(m.tlbW, stack)[1], tagOf(stack)); // the stack page is in way 1
    m.fetch8(stack);
    assert.deepEqual(ways(m.tlbW, stack), [tagOf(low), -1]);
    m.write8(stack, 0xc3);
    assert.deepEqual(written, [stack / PAGE_SIZE]);
  });
});

describe('private mappings filled on first touch', () => {
  const data = Uint8Array.from({ length: 5 * PAGE_SIZE + 100 }, (_, k) => (k * 7 + (k >> 12)) & 0xff);
  const at = 0x10000000;
  const byteAt = (k: number) => (k < data.length ? data[k] : 0);

  function mapped(shared = false): AddressSpace {
    const m = new AddressSpace(new PhysicalMemory(1 << 24));
    assert.equal(m.mmap(at, 8 * PAGE_SIZE, PROT_READ, { fixed: true, shared, data, name: '/f', inode: 5 }), at);
    return m;
  }

  test('pages are copied as they are touched; the tail past the data reads zero', () => {
    const m = mapped();
    const before = m.residentBytes;
    assert.equal(m.read8(at + 3 * PAGE_SIZE + 5), byteAt(3 * PAGE_SIZE + 5));
    assert.equal(m.residentBytes - before, PAGE_SIZE);
    for (const k of [0, 4095, 4096, 5 * PAGE_SIZE + 99, 5 * PAGE_SIZE + 100, 6 * PAGE_SIZE, 8 * PAGE_SIZE - 1]) assert.equal(m.read8(at + k), byteAt(k), `byte ${k}`);
    assert.deepEqual(m.peek(at + PAGE_SIZE - 2, 4), Uint8Array.from([0, 1, 2, 3].map((j) => byteAt(PAGE_SIZE - 2 + j))));
  });

  test('split by mprotect and munmap, moved by mremap, and copied by fork, untouched pages keep their contents', () => {
    const m = mapped();
    assert.equal(m.mprotect(at + 2 * PAGE_SIZE, PAGE_SIZE, RW), 0);
    assert.equal(m.munmap(at + 4 * PAGE_SIZE, PAGE_SIZE), 0);
    assert.equal(m.read8(at + 2 * PAGE_SIZE + 1), byteAt(2 * PAGE_SIZE + 1));
    assert.equal(m.read8(at + 5 * PAGE_SIZE + 1), byteAt(5 * PAGE_SIZE + 1));
    const child = m.clone();
    assert.equal(child.read8(at + 3 * PAGE_SIZE + 9), byteAt(3 * PAGE_SIZE + 9));
    // Move the first two pages (one touched, one not) somewhere else, growing them.
    m.read8(at);
    const moved = m.mremap(at, 2 * PAGE_SIZE, 3 * PAGE_SIZE, true);
    assert.ok(moved > 0 && moved !== at);
    // The grown page continues the file, as Linux's does.
    for (const k of [7, PAGE_SIZE + 7, 2 * PAGE_SIZE + 7]) assert.equal(m.read8(moved + k), byteAt(k), `moved byte ${k}`);
  });

  test('shared mappings are filled at once (their frames are written back to the file)', () => {
    const m = mapped(true);
    assert.equal(m.residentBytes, 6 * PAGE_SIZE);
    assert.equal(m.read8(at + 5 * PAGE_SIZE + 50), byteAt(5 * PAGE_SIZE + 50));
  });
});
