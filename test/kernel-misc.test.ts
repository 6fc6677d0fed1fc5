import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './kernel-harness.js';
import { Blocked } from '../src/kernel/syscall-types.js';
import { hostRlimits } from '../src/kernel/syscalls/system-identity.js';
import { allSyscalls, syscallByName, syscallByNumber, syscallCounters } from '../src/kernel/syscall-table.js';

test('the table lists every x86-64 syscall with gdb\'s names and numbers', () => {
  assert.equal(syscallByName('read')!.nr, 0);
  assert.equal(syscallByName('openat')!.nr, 257);
  assert.equal(syscallByName('exit_group')!.nr, 231);
  assert.equal(syscallByName('set_mempolicy_home_node')!.nr, 450);
  assert.equal(syscallByNumber(59)!.name, 'execve');
  assert.equal(syscallByNumber(335), undefined);
  const all = allSyscalls();
  assert.ok(all.length >= 362);
  for (let k = 1; k < all.length; k++) assert.ok(all[k].nr > all[k - 1].nr);
  assert.equal(syscallByName('mmap')!.args.length, 6);
  assert.equal(syscallByName('openat')!.coverage, 'implemented');
  assert.equal(syscallByName('kexec_load')!.coverage, 'missing');
});

test('unknown and unimplemented numbers return -ENOSYS and are counted', () => {
  const h = harness();
  const before = syscallCounters().get(246)?.calls ?? 0;
  assert.equal(h.sys('kexec_load', 0, 0, 0, 0), -38);
  assert.equal(syscallCounters().get(246)!.calls, before + 1);
  assert.equal(syscallCounters().get(246)!.errors >= 1, true);
});

test('uname, ids, rlimits, affinity and sysinfo agree with each other', () => {
  const h = harness();
  const u = h.buf(390);
  assert.equal(h.sys('uname', u), 0);
  const field = (k: number) => {
    const b = h.read(u + 65 * k, 65);
    return Buffer.from(b.subarray(0, b.indexOf(0))).toString();
  };
  assert.equal(field(0), 'Linux');
  assert.equal(field(4), 'x86_64');
  assert.match(field(2), /^\d+\.\d+\.\d+/);
  assert.equal(h.sys('getpid'), 4242);
  assert.equal(h.sys('gettid'), 4242);
  assert.equal(h.sys('getppid'), 4241);
  assert.equal(h.sys('getuid'), process.getuid!());
  const rl = h.buf(16);
  assert.equal(h.sys('prlimit64', 0, 3 /* STACK */, 0, rl), 0);
  const dv = () => new DataView(h.read(rl, 16).buffer);
  assert.equal(Number(dv().getBigUint64(0, true)), 8 << 20);
  assert.equal(dv().getBigUint64(8, true), 0xffffffffffffffffn);
  assert.equal(h.sys('getrlimit', 7 /* NOFILE */, rl), 0);
  assert.equal(Number(dv().getBigUint64(0, true)), hostRlimits()[7].cur);
  // Lowering NOFILE limits the fd table.
  const nl = h.buf(16);
  const w = new DataView(new ArrayBuffer(16));
  w.setBigUint64(0, 4n, true);
  w.setBigUint64(8, BigInt(hostRlimits()[7].max), true);
  h.t.mem.writeBytes(nl, new Uint8Array(w.buffer));
  assert.equal(h.sys('setrlimit', 7, nl), 0);
  assert.equal(h.t.files.limit, 4);
  assert.equal(h.sys('prlimit64', 0, 99, 0, rl), -22);
  const mask = h.buf(128);
  const bytes = h.sys('sched_getaffinity', 0, 128, mask);
  assert.equal(bytes, 8);
  const bits = h.read(mask, 8).reduce((a, b) => a + [...b.toString(2)].filter((c) => c === '1').length, 0);
  assert.ok(bits >= 1);
  const si = h.buf(112);
  assert.equal(h.sys('sysinfo', si), 0);
  assert.equal(Number(new DataView(h.read(si, 112).buffer).getBigUint64(32, true)), h.t.kernel.options.memoryLimit);
});

test('getrandom is deterministic with a seed and validates flags', () => {
  const h1 = harness();
  const h2 = harness();
  const a = h1.buf(16);
  const b = h2.buf(16);
  assert.equal(h1.sys('getrandom', a, 16, 0), 16);
  assert.equal(h2.sys('getrandom', b, 16, 1), 16);
  assert.deepEqual(h1.read(a, 16), h2.read(b, 16));
  assert.equal(h1.sys('getrandom', a, 16, 0x100), -22);
});

test('clock_gettime, gettimeofday and time agree with the host clock', () => {
  const h = harness();
  const ts = h.buf(16);
  assert.equal(h.sys('clock_gettime', 0, ts), 0);
  const v = new DataView(h.read(ts, 16).buffer);
  const sec = Number(v.getBigInt64(0, true));
  const nsec = Number(v.getBigInt64(8, true));
  assert.ok(Math.abs(sec - Date.now() / 1000) < 5);
  assert.ok(nsec >= 0 && nsec < 1e9);
  assert.equal(h.sys('clock_gettime', 1, ts), 0);
  assert.equal(h.sys('clock_gettime', 99, ts), -22);
  const tv = h.buf(16);
  assert.equal(h.sys('gettimeofday', tv, 0), 0);
  assert.ok(Math.abs(Number(new DataView(h.read(tv, 16).buffer).getBigInt64(0, true)) - Date.now() / 1000) < 5);
  const now = h.sys('time', 0);
  assert.ok(Math.abs(now - Date.now() / 1000) < 5);
  assert.equal(h.sys('clock_getres', 1, ts), 0);
  assert.equal(Number(new DataView(h.read(ts, 16).buffer).getBigInt64(8, true)), 1);
});

test('nanosleep parks the task on a timer and the re-run returns 0', async () => {
  const h = harness();
  const req = h.buf(16);
  const w = new DataView(new ArrayBuffer(16));
  w.setBigInt64(8, 20_000_000n, true); // 20 ms
  h.t.mem.writeBytes(req, new Uint8Array(w.buffer));
  const first = h.call('nanosleep', req, 0);
  assert.ok(first instanceof Blocked);
  await first.wake;
  assert.equal(h.call('nanosleep', req, 0), 0);
  // Invalid nanoseconds.
  w.setBigInt64(8, 1_000_000_000n, true);
  h.t.mem.writeBytes(req, new Uint8Array(w.buffer));
  assert.equal(h.call('nanosleep', req, 0), -22);
});

test('poll reports ready fds and waits for a pipe to become readable', async () => {
  const h = harness();
  const fds = h.buf(8);
  h.sys('pipe', fds);
  const v = new DataView(h.read(fds, 8).buffer);
  const [r, w] = [v.getInt32(0, true), v.getInt32(4, true)];
  const pfd = h.buf(16);
  const p = new DataView(new ArrayBuffer(16));
  p.setInt32(0, r, true);
  p.setInt16(4, 1, true); // POLLIN
  p.setInt32(8, w, true);
  p.setInt16(12, 4, true); // POLLOUT
  h.t.mem.writeBytes(pfd, new Uint8Array(p.buffer));
  assert.equal(h.sys('poll', pfd, 2, 0), 1);
  const out = new DataView(h.read(pfd, 16).buffer);
  assert.equal(out.getInt16(6, true), 0);
  assert.equal(out.getInt16(14, true), 4);
  // Only the read end, infinite timeout: blocks until a write.
  const pending = h.callAsync('poll', pfd, 1, -1);
  await new Promise((res) => setImmediate(res));
  h.t.files.get(w)!.write(h.t, h.str('x'), 1);
  assert.equal(await pending, 1);
  assert.equal(new DataView(h.read(pfd, 8).buffer).getInt16(6, true), 1);
});

test('eventfd counts, epoll reports readiness, memfd is a file in memory', async () => {
  const h = harness();
  const efd = h.sys('eventfd2', 0, 0o4000 /* EFD_NONBLOCK */);
  const eight = h.buf(8);
  assert.equal(h.sys('read', efd, eight, 8), -11);
  const ep = h.sys('epoll_create1', 0);
  const ev = h.buf(24);
  const e = new DataView(new ArrayBuffer(12));
  e.setUint32(0, 1, true); // EPOLLIN
  e.setUint32(4, 0xdead, true);
  h.t.mem.writeBytes(ev, new Uint8Array(e.buffer));
  assert.equal(h.sys('epoll_ctl', ep, 1, efd, ev), 0);
  assert.equal(h.sys('epoll_ctl', ep, 1, efd, ev), -17);
  const out = h.buf(24);
  assert.equal(h.sys('epoll_wait', ep, out, 2, 0), 0);
  const pending = h.callAsync('epoll_wait', ep, out, 2, -1);
  await new Promise((r) => setImmediate(r));
  const one = h.buf(8);
  h.t.mem.write8(one, 3);
  h.t.files.get(efd)!.write(h.t, one, 8);
  assert.equal(await pending, 1);
  const got = new DataView(h.read(out, 12).buffer);
  assert.equal(got.getUint32(0, true), 1);
  assert.equal(got.getUint32(4, true), 0xdead);
  assert.equal(h.sys('read', efd, eight, 8), 8);
  assert.equal(h.t.mem.read32(eight), 3);
  // Regular files cannot be watched.
  const mfd = h.sys('memfd_create', h.str('blob'), 1);
  assert.equal(h.sys('epoll_ctl', ep, 1, mfd, ev), -1);
  assert.equal(h.sys('write', mfd, h.str('memory!'), 7), 7);
  assert.equal(h.sys('lseek', mfd, 0, 0), 0);
  const b = h.buf(16);
  assert.equal(h.sys('read', mfd, b, 16), 7);
  assert.equal(h.text(b, 7), 'memory!');
  assert.equal(h.sys('ftruncate', mfd, 4096), 0);
  const m = h.sys('mmap', 0, 4096, 1, 2, mfd, 0);
  assert.equal(h.text(m, 7), 'memory!');
  const link = h.buf(64);
  const n = h.sys('readlink', h.str(`/proc/self/fd/${mfd}`), link, 64);
  assert.equal(h.text(link, n), '/memfd:blob (deleted)');
});
