import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { harness } from './kernel-harness.js';
import { escapeBytes, formatSyscall, openFlags, quoteBytes } from '../src/kernel/strace.js';
import { syscallByName } from '../src/kernel/syscall-table.js';
import { ARG_REGS } from '../src/kernel/args.js';

test('escaping and truncation follow strace', () => {
  assert.equal(escapeBytes(new Uint8Array([0x61, 0x0a, 0x09, 0x22, 0x5c, 0x00, 0x31, 0x7f])), 'a\\n\\t\\"\\\\\\0001\\177');
  assert.equal(quoteBytes(Buffer.from('x'.repeat(40))), `"${'x'.repeat(32)}"...`);
  assert.equal(quoteBytes(Buffer.from('short')), '"short"');
  assert.equal(openFlags(0o2000000), 'O_RDONLY|O_CLOEXEC');
  assert.equal(openFlags(0o1101), 'O_WRONLY|O_CREAT|O_TRUNC');
});

test('lines for the common calls, written by the dispatcher when --strace is on', () => {
  const lines: string[] = [];
  const h = harness({ strace: lines });
  fs.writeFileSync(path.join(h.root, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nmore lines follow here\n');
  fs.mkdirSync(path.join(h.root, 'etc'));
  fs.renameSync(path.join(h.root, 'passwd'), path.join(h.root, 'etc', 'passwd'));
  const fd = h.sys('openat', -100, h.str('/etc/passwd'), 0o2000000, 0);
  const buf = h.buf(4096);
  h.sys('read', fd, buf, 4096);
  h.sys('openat', -100, h.str('/nope'), 0, 0);
  const st = h.buf(144);
  h.sys('fstat', fd, st);
  h.sys('mmap', 0, 8192, 3, 0x22, -1, 0);
  h.sys('write', 77, h.str('hi\n'), 3);
  h.sys('kexec_load', 0, 0, 0, 0);
  h.sys('lseek', fd, 0, 1);
  assert.equal(lines[0], 'openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 0');
  assert.equal(lines[1], 'read(0, "root:x:0:0:root:/root:/bin/sh\\nmo"..., 4096) = 53');
  assert.equal(lines[2], 'openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)');
  assert.equal(lines[3], 'fstat(0, {st_mode=S_IFREG|0644, st_size=53, ...}) = 0');
  assert.match(lines[4], /^mmap\(NULL, 8192, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x[0-9a-f]+$/);
  assert.equal(lines[5], 'write(77, "hi\\n", 3) = -1 EBADF (Bad file descriptor)');
  assert.equal(lines[6], 'kexec_load(0, 0, NULL, 0) = -1 ENOSYS (not implemented)');
  assert.equal(lines[7], 'lseek(0, 0, SEEK_CUR) = 53');
});

test('formatSyscall formats from the registers: NULL, hex pointers, modes with O_CREAT', () => {
  const h = harness();
  const set = (...args: number[]) => args.forEach((v, i) => h.t.cpu.setS(ARG_REGS[i], v));
  set(-100, h.str('/tmp/x'), 0o1101, 0o644);
  assert.equal(formatSyscall(h.t, syscallByName('openat')!.nr, 3), 'openat(AT_FDCWD, "/tmp/x", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3');
  set(0x7f0000001000, 4096, 1);
  assert.equal(formatSyscall(h.t, syscallByName('mprotect')!.nr, 0), 'mprotect(0x7f0000001000, 4096, PROT_READ) = 0');
  set(0);
  assert.equal(formatSyscall(h.t, syscallByName('brk')!.nr, 0x5000), 'brk(NULL) = 0x5000');
  set(0, h.str('\x01\x02'), 2, 0, 0, 0);
  assert.equal(formatSyscall(h.t, 1, 2), 'write(0, "\\1\\2", 2) = 2');
  set(0, 0x10, 2, 0, 0, 0);
  assert.equal(formatSyscall(h.t, 600, -38), 'syscall_0x258(0, 0x10, 0x2, 0, 0, 0) = -1 ENOSYS (not implemented)');
});
