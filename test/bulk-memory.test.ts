// Bulk copies and fills of guest memory: the shared pool's WebAssembly
// memory.copy / memory.fill (src/mem/bulk.ts) against a plain array, and
// rep movs' multi-page runs (AddressSpace.copyRun) against the page-by-page
// path, including where a run must stop (a page not yet touched, read-only,
// watched, or not the next frame).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { cliPath, fixturesDir, runProcess } from './helpers/run.js';

/** A reference memmove on a plain array. */
function memmove(a: Uint8Array, dst: number, src: number, n: number): void {
  a.set(a.slice(src, src + n), dst);
}

describe('shared pool: memory.copy / memory.fill', () => {
  test('copies like memmove at every relative alignment and overlap, and fills', () => {
    const pm = new PhysicalMemory(1 << 22, true);
    assert.ok(pm.buffer instanceof SharedArrayBuffer);
    const ref = new Uint8Array(1 << 16);
    for (let k = 0; k < ref.length; k++) ref[k] = (k * 131 + 7) & 0xff;
    pm.bytes.set(ref);
    const cases: [number, number, number][] = [];
    for (let d = 0; d < 9; d++) cases.push([1000 + d, 3000, 5000], [3000, 1000 + d, 5000], [2000 + d, 2003, 4099], [100, 40000 + d, 1]);
    for (const [dst, src, n] of cases) {
      pm.copy(dst, src, n);
      memmove(ref, dst, src, n);
    }
    pm.fill(777, 1234, 0xa5);
    ref.fill(0xa5, 777, 777 + 1234);
    assert.deepEqual(pm.bytes.subarray(0, ref.length), ref);
  });

  test('a released frame comes back zeroed', () => {
    const pm = new PhysicalMemory(1 << 22, true);
    const f = pm.alloc();
    pm.bytes.fill(0xff, f, f + 4096);
    pm.release(f);
    const g = pm.alloc();
    assert.equal(g, f);
    assert.ok(pm.bytes.subarray(g, g + 4096).every((b) => b === 0));
  });
});

describe('rep movs runs over consecutive frames (AddressSpace.copyRun)', () => {
  const SRC = 0x10000000, DST = 0x20000000, PAGES = 6;

  function space(shared: boolean): AddressSpace {
    const mem = new AddressSpace(new PhysicalMemory(1 << 24, shared));
    mem.mmap(SRC, PAGES * 4096, 3, { fixed: true });
    mem.mmap(DST, PAGES * 4096, 3, { fixed: true });
    const data = new Uint8Array(PAGES * 4096);
    for (let k = 0; k < data.length; k++) data[k] = (k * 7 + (k >> 8)) & 0xff;
    mem.writeBytes(SRC, data); // touched front to back: consecutive frames
    mem.writeBytes(DST, new Uint8Array(PAGES * 4096));
    return mem;
  }

  for (const shared of [false, true]) {
    test(`one run across every page, misaligned (${shared ? 'shared pool' : 'ArrayBuffer pool'})`, () => {
      const mem = space(shared);
      const src = SRC + 3, dst = DST + 8 * 2 + 5, len = PAGES * 4096 - 64;
      const n = mem.copyRun(dst, src, len, 8);
      assert.equal(n, len - (len % 8));
      assert.deepEqual(mem.peek(dst, n), mem.peek(src, n));
    });
  }

  test('stops before a page that is read-only, watched or not the next frame', () => {
    const len = PAGES * 4096;
    let mem = space(false);
    mem.mprotect(DST + 3 * 4096, 4096, 1);
    assert.equal(mem.copyRun(DST, SRC, len, 8), 3 * 4096, 'read-only destination page');

    mem = space(false);
    mem.setWatchedPages([SRC / 4096 + 2]);
    assert.equal(mem.copyRun(DST, SRC, len, 8), 2 * 4096, 'watched source page');

    // A destination never touched has no frames yet: nothing qualifies (the page-by-page path populates it).
    const fresh = new AddressSpace(new PhysicalMemory(1 << 24));
    fresh.mmap(SRC, 4096, 3, { fixed: true });
    fresh.mmap(DST, 4096, 3, { fixed: true });
    fresh.writeBytes(SRC, new Uint8Array(4096).fill(1));
    assert.equal(fresh.copyRun(DST, SRC, 4096, 1), 0);

    // Frames out of order: DST's pages touched back to front are not consecutive going forward.
    const rev = new AddressSpace(new PhysicalMemory(1 << 24));
    rev.mmap(SRC, 2 * 4096, 3, { fixed: true });
    rev.mmap(DST, 2 * 4096, 3, { fixed: true });
    rev.writeBytes(SRC, new Uint8Array(2 * 4096).fill(2));
    rev.writeBytes(DST + 4096, new Uint8Array(4096));
    rev.writeBytes(DST, new Uint8Array(4096));
    assert.equal(rev.copyRun(DST, SRC, 2 * 4096, 8), 4096);
  });
});

describe('the CLI under a virtual memory limit', () => {
  const hello = path.join(fixturesDir, 'build', 'musl', 'hello');
  // V8 reserves guard regions around a WebAssembly memory (several times its size): a limit that a 2 GiB
  // SharedArrayBuffer fits in refuses it. The pool then falls back to a SharedArrayBuffer instead of failing.
  test('ulimit -v 6 GB: the guest still runs', { skip: !existsSync(hello) && 'fixtures not built' }, async () => {
    const r = await runProcess('bash', ['-c', `ulimit -v 6000000 && exec "${process.execPath}" "${cliPath}" "${hello}"`]);
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), /^hello from the fixture/);
  });
});
