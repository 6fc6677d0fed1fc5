import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { harness } from './kernel-harness.js';

const PROT_READ = 1, PROT_WRITE = 2;
const MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
const EINVAL = -22, ENOMEM = -12, EEXIST = -17, EBADF = -9, EACCES = -13, EFAULT = -14;

test('anonymous mmap is zeroed, top-down, and munmap makes it fault', () => {
  const h = harness();
  const a = h.sys('mmap', 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.ok(a > 0 && a % 4096 === 0);
  assert.ok(h.read(a, 8192).every((b) => b === 0));
  h.t.mem.write32(a + 4096, 0x1234);
  const b = h.sys('mmap', 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert.ok(b < a, 'mmap allocates top-down');
  assert.equal(h.sys('munmap', a, 8192), 0);
  assert.throws(() => h.t.mem.read8(a));
  assert.equal(h.sys('munmap', a + 1, 10), EINVAL);
  assert.equal(h.sys('mmap', 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
  assert.equal(h.sys('mmap', 0, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL); // neither shared nor private
});

test('MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses, hints are honoured when free', () => {
  const h = harness();
  const base = 0x20000000;
  assert.equal(h.sys('mmap', base, 4096 * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), base);
  h.t.mem.write8(base, 7);
  assert.equal(h.sys('mmap', base, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
  assert.equal(h.t.mem.read8(base), 7);
  assert.equal(h.sys('mmap', base, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), base);
  assert.equal(h.t.mem.read8(base), 0, 'MAP_FIXED gives fresh memory');
  assert.equal(h.sys('mmap', base + 1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
  const hint = 0x30000000;
  assert.equal(h.sys('mmap', hint, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), hint);
});

test('file mappings copy the file range; access mode is checked', () => {
  const h = harness();
  const content = Buffer.alloc(10000);
  for (let k = 0; k < content.length; k++) content[k] = k & 0xff;
  fs.writeFileSync(path.join(h.root, 'blob'), content);
  const fd = h.sys('open', h.str('/blob'), 0);
  const a = h.sys('mmap', 0, 10000, PROT_READ, MAP_PRIVATE, fd, 4096);
  assert.ok(a > 0);
  assert.deepEqual(Buffer.from(h.read(a, 10000 - 4096)), content.subarray(4096));
  // Past EOF within the mapping: zeros.
  assert.ok(h.read(a + 10000 - 4096, 4096 * 2 - (10000 - 4096)).every((b) => b === 0));
  const vma = h.t.mem.findVma(a)!;
  assert.equal(vma.name, '/blob');
  assert.equal(vma.offset, 4096);
  assert.equal(vma.inode, fs.statSync(path.join(h.root, 'blob')).ino);
  assert.equal(h.sys('mmap', 0, 4096, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
  assert.equal(h.sys('mmap', 0, 4096, PROT_READ, MAP_PRIVATE, 77, 0), EBADF);
  assert.equal(h.sys('mmap', 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
  // A private writable mapping of a read-only fd is fine, and does not change the file.
  const w = h.sys('mmap', 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  h.t.mem.write8(w, 0xff);
  assert.equal(fs.readFileSync(path.join(h.root, 'blob'))[0], 0);
});

test('mprotect changes permissions and fails on unmapped ranges', () => {
  const h = harness();
  const a = h.sys('mmap', 0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  h.t.mem.write8(a + 4096, 1);
  assert.equal(h.sys('mprotect', a + 4096, 4096, PROT_READ), 0);
  assert.throws(() => h.t.mem.write8(a + 4096, 2));
  assert.equal(h.t.mem.read8(a + 4096), 1);
  h.t.mem.write8(a, 3); // neighbours unchanged
  h.t.mem.write8(a + 8192, 3);
  assert.equal(h.sys('mprotect', a + 1, 4096, PROT_READ), EINVAL);
  assert.equal(h.sys('munmap', a + 8192, 4096), 0);
  assert.equal(h.sys('mprotect', a, 3 * 4096, PROT_READ), ENOMEM);
  // A failed write via a syscall into read-only memory is EFAULT.
  assert.equal(h.sys('getcwd', a + 4096, 100), EFAULT);
});

test('brk grows and shrinks the heap', () => {
  const h = harness();
  h.t.mem.brkStart = h.t.mem.brkEnd = 0x40000000;
  assert.equal(h.sys('brk', 0), 0x40000000);
  assert.equal(h.sys('brk', 0x40002010), 0x40002010);
  h.t.mem.write8(0x40002000, 9);
  assert.equal(h.t.mem.findVma(0x40000000)!.name, '[heap]');
  assert.equal(h.sys('brk', 0x40001000), 0x40001000);
  assert.throws(() => h.t.mem.read8(0x40002000));
  assert.equal(h.sys('brk', 0x1000), 0x40001000, 'below the start: unchanged');
});

test('mremap grows in place or moves, keeping contents', () => {
  const h = harness();
  const a = h.sys('mmap', 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  h.t.mem.write32(a, 0xabcd);
  // Block growth in place with a mapping right after.
  h.sys('mmap', a + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  assert.equal(h.sys('mremap', a, 4096, 8192, 0, 0), ENOMEM);
  const b = h.sys('mremap', a, 4096, 8192, 1 /* MAYMOVE */, 0);
  assert.ok(b > 0 && b !== a);
  assert.equal(h.t.mem.read32(b), 0xabcd);
  const fixed = 0x50000000;
  assert.equal(h.sys('mremap', b, 8192, 4096, 3 /* MAYMOVE|FIXED */, fixed), fixed);
  assert.equal(h.t.mem.read32(fixed), 0xabcd);
  assert.throws(() => h.t.mem.read8(b));
});

test('madvise(MADV_DONTNEED) zeroes private anonymous memory', () => {
  const h = harness();
  const a = h.sys('mmap', 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  h.t.mem.write32(a, 5);
  h.t.mem.write32(a + 4096, 6);
  assert.equal(h.sys('madvise', a, 4096, 4), 0);
  assert.equal(h.t.mem.read32(a), 0);
  assert.equal(h.t.mem.read32(a + 4096), 6);
  assert.equal(h.sys('madvise', a, 4096, 0), 0);
  assert.equal(h.sys('madvise', a + 1, 4096, 0), EINVAL);
});

test('MAP_SHARED file mappings are written back at msync and munmap, never past EOF', () => {
  const h = harness();
  fs.writeFileSync(path.join(h.root, 'shared'), 'hello world');
  const fd = h.sys('open', h.str('/shared'), 2 /* O_RDWR */);
  const a = h.sys('mmap', 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.ok(a > 0);
  h.sys('close', fd); // the mapping keeps the file
  h.t.mem.writeBytes(a, Buffer.from('HELLO'));
  h.t.mem.write8(a + 100, 0x41); // beyond EOF: not written
  assert.equal(fs.readFileSync(path.join(h.root, 'shared'), 'utf8'), 'hello world');
  assert.equal(h.sys('msync', a, 4096, 4 /* MS_SYNC */), 0);
  assert.equal(fs.readFileSync(path.join(h.root, 'shared'), 'utf8'), 'HELLO world');
  h.t.mem.writeBytes(a + 6, Buffer.from('W'));
  assert.equal(h.sys('munmap', a, 4096), 0);
  assert.equal(fs.readFileSync(path.join(h.root, 'shared'), 'utf8'), 'HELLO World');
});
