import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { harness, makeRootfs } from './kernel-harness.js';
import { Blocked } from '../src/kernel/syscall-types.js';
import { vsyscallMapsLine } from '../src/kernel/vsyscall.js';

const AT_FDCWD = -100;
const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000;
const O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_CLOEXEC = 0o2000000, O_NONBLOCK = 0o4000;
const ENOENT = -2, EBADF = -9, EAGAIN = -11, EEXIST = -17, ENOTDIR = -20, EISDIR = -21, EINVAL = -22, ELOOP = -40, EPIPE = -32;
const AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000, AT_REMOVEDIR = 0x200;

function stDv(h: ReturnType<typeof harness>, addr: number): DataView {
  const b = h.read(addr, 144);
  return new DataView(b.buffer, b.byteOffset, 144);
}

test('open, write, lseek, read and close a file in the rootfs', () => {
  const h = harness();
  const fd = h.sys('openat', AT_FDCWD, h.str('/hello.txt'), O_RDWR | O_CREAT | O_TRUNC, 0o644);
  assert.equal(fd, 0);
  const data = h.str('hello world');
  assert.equal(h.sys('write', fd, data, 11), 11);
  assert.equal(fs.readFileSync(path.join(h.root, 'hello.txt'), 'utf8'), 'hello world');
  assert.equal(h.sys('lseek', fd, 6, 0), 6);
  const buf = h.buf(64);
  assert.equal(h.sys('read', fd, buf, 64), 5);
  assert.equal(h.text(buf, 5), 'world');
  assert.equal(h.sys('read', fd, buf, 64), 0);
  assert.equal(h.sys('pread64', fd, buf, 5, 0), 5);
  assert.equal(h.text(buf, 5), 'hello');
  assert.equal(h.sys('lseek', fd, 0, 2), 11);
  assert.equal(h.sys('close', fd), 0);
  assert.equal(h.sys('close', fd), EBADF);
  assert.equal(h.sys('read', fd, buf, 1), EBADF);
});

test('open flags: O_EXCL, O_DIRECTORY, O_APPEND, access mode checks, umask', () => {
  const h = harness();
  fs.writeFileSync(path.join(h.root, 'f'), 'abc');
  fs.mkdirSync(path.join(h.root, 'd'));
  assert.equal(h.sys('open', h.str('/f'), O_CREAT | O_EXCL | O_WRONLY, 0o600), EEXIST);
  assert.equal(h.sys('open', h.str('/f'), O_DIRECTORY), ENOTDIR);
  assert.equal(h.sys('open', h.str('/d'), O_WRONLY), EISDIR);
  assert.equal(h.sys('open', h.str('/missing'), O_RDONLY), ENOENT);
  assert.equal(h.sys('open', h.str('/missing/x'), O_CREAT | O_WRONLY, 0o600), ENOENT);
  const fd = h.sys('open', h.str('/f'), O_WRONLY | O_APPEND);
  assert.ok(fd >= 0);
  assert.equal(h.sys('write', fd, h.str('de'), 2), 2);
  assert.equal(fs.readFileSync(path.join(h.root, 'f'), 'utf8'), 'abcde');
  assert.equal(h.sys('read', fd, h.buf(4), 4), EBADF);
  const ro = h.sys('open', h.str('/f'), O_RDONLY);
  assert.equal(h.sys('write', ro, h.str('x'), 1), EBADF);
  h.sys('umask', 0o077);
  const nf = h.sys('creat', h.str('/new'), 0o666);
  assert.ok(nf >= 0);
  assert.equal(fs.statSync(path.join(h.root, 'new')).mode & 0o777, 0o600);
  assert.equal(h.sys('umask', 0o022), 0o077);
});

test('fstat and newfstatat write the x86-64 struct stat layout', () => {
  const h = harness();
  fs.writeFileSync(path.join(h.root, 'data'), Buffer.alloc(1234, 1));
  fs.chmodSync(path.join(h.root, 'data'), 0o640);
  const st = h.buf(144);
  assert.equal(h.sys('newfstatat', AT_FDCWD, h.str('/data'), st, 0), 0);
  const v = stDv(h, st);
  const host = fs.statSync(path.join(h.root, 'data'));
  assert.equal(Number(v.getBigUint64(8, true)), host.ino);
  assert.equal(Number(v.getBigUint64(16, true)), 1); // nlink
  assert.equal(v.getUint32(24, true), 0o100640); // mode
  assert.equal(Number(v.getBigInt64(48, true)), 1234); // size
  assert.equal(Number(v.getBigInt64(88, true)), Math.floor(host.mtimeMs / 1000)); // mtime sec
  const fd = h.sys('open', h.str('/data'), O_RDONLY);
  const st2 = h.buf(144);
  assert.equal(h.sys('fstat', fd, st2), 0);
  assert.deepEqual(h.read(st2, 144), h.read(st, 144));
  // fstatat(fd, "", AT_EMPTY_PATH) is how glibc does fstat.
  const st3 = h.buf(144);
  assert.equal(h.sys('newfstatat', fd, h.str(''), st3, AT_EMPTY_PATH), 0);
  assert.deepEqual(h.read(st3, 144), h.read(st, 144));
  assert.equal(h.sys('newfstatat', fd, h.str(''), st3, 0), ENOENT);
});

test('statx reports mask, mode, size and times', () => {
  const h = harness();
  fs.writeFileSync(path.join(h.root, 'x'), 'hello');
  const b = h.buf(256);
  assert.equal(h.sys('statx', AT_FDCWD, h.str('x'), 0, 0x7ff, b), 0);
  const v = new DataView(h.read(b, 256).buffer);
  assert.equal(v.getUint32(0, true) & 0x7ff, 0x7ff);
  assert.equal(v.getUint16(28, true), 0o100644 & ~0o022 | 0o100000);
  assert.equal(Number(v.getBigUint64(40, true)), 5);
  assert.equal(Number(v.getBigInt64(112, true)), Math.floor(fs.statSync(path.join(h.root, 'x')).mtimeMs / 1000));
});

test('lstat, readlink and symlink; stat follows the link', () => {
  const h = harness();
  fs.writeFileSync(path.join(h.root, 'target'), '12345');
  assert.equal(h.sys('symlink', h.str('target'), h.str('/link')), 0);
  const st = h.buf(144);
  assert.equal(h.sys('lstat', h.str('/link'), st), 0);
  assert.equal(stDv(h, st).getUint32(24, true) & 0o170000, 0o120000);
  assert.equal(h.sys('stat', h.str('/link'), st), 0);
  assert.equal(Number(stDv(h, st).getBigInt64(48, true)), 5);
  const buf = h.buf(64);
  assert.equal(h.sys('readlink', h.str('/link'), buf, 64), 6);
  assert.equal(h.text(buf, 6), 'target');
  assert.equal(h.sys('readlink', h.str('/link'), buf, 3), 3); // truncated, no NUL
  assert.equal(h.sys('readlink', h.str('/target'), buf, 64), EINVAL);
  assert.equal(h.sys('open', h.str('/link'), O_RDONLY | O_NOFOLLOW), ELOOP);
});

test('confinement: .. chains, absolute and relative symlinks and /proc/self/root stay inside the rootfs', () => {
  const outer = makeRootfs();
  fs.writeFileSync(path.join(outer, 'secret'), 'outside');
  const root = path.join(outer, 'root');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc', 'secret'), 'inside');
  fs.writeFileSync(path.join(root, 'secret'), 'root-secret');
  const h = harness({ root });
  const buf = h.buf(64);
  const readWhole = (p: string) => {
    const fd = h.sys('open', h.str(p), O_RDONLY);
    if (fd < 0) return fd;
    const n = h.sys('read', fd, buf, 64);
    h.sys('close', fd);
    return h.text(buf, n);
  };
  assert.equal(readWhole('/../../../../secret'), 'root-secret');
  assert.equal(readWhole('../secret'), 'root-secret');
  assert.equal(readWhole('/etc/../../secret'), 'root-secret');
  // An absolute symlink is interpreted in the guest root.
  fs.symlinkSync('/secret', path.join(root, 'abs'));
  assert.equal(readWhole('/abs'), 'root-secret');
  fs.symlinkSync(path.join(outer, 'secret'), path.join(root, 'hostabs'));
  assert.equal(readWhole('/hostabs'), ENOENT);
  // Relative symlinks with .. are clamped at the root.
  fs.symlinkSync('../../../secret', path.join(root, 'etc', 'rel'));
  assert.equal(readWhole('/etc/rel'), 'root-secret');
  fs.symlinkSync('../..', path.join(root, 'etc', 'up'));
  assert.equal(readWhole('/etc/up/secret'), 'root-secret');
  assert.equal(readWhole('/proc/self/root/secret'), 'root-secret');
  assert.equal(readWhole('/proc/self/root/../secret'), 'root-secret');
  // Creating through a symlink pointing outside lands inside.
  fs.symlinkSync('/../../newfile', path.join(root, 'mk'));
  const fd = h.sys('open', h.str('/mk'), O_WRONLY | O_CREAT, 0o644);
  assert.ok(fd >= 0);
  assert.ok(fs.existsSync(path.join(root, 'newfile')));
  assert.ok(!fs.existsSync(path.join(outer, 'newfile')));
  // getcwd after chdir("..") at the root stays "/".
  assert.equal(h.sys('chdir', h.str('/../..')), 0);
  const cwd = h.buf(64);
  assert.equal(h.sys('getcwd', cwd, 64), 2);
  assert.equal(h.text(cwd, 1), '/');
  // Symlink loops.
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  assert.equal(readWhole('/loop1'), ELOOP);
});

test('dirfd-relative *at calls, chdir/fchdir and getcwd', () => {
  const h = harness();
  fs.mkdirSync(path.join(h.root, 'a/b'), { recursive: true });
  fs.writeFileSync(path.join(h.root, 'a/b/f'), 'F');
  const dfd = h.sys('open', h.str('/a'), O_RDONLY | O_DIRECTORY);
  const st = h.buf(144);
  assert.equal(h.sys('newfstatat', dfd, h.str('b/f'), st, 0), 0);
  const ffd = h.sys('openat', dfd, h.str('b/f'), O_RDONLY);
  assert.ok(ffd >= 0);
  assert.equal(h.sys('newfstatat', ffd, h.str('x'), st, 0), ENOTDIR);
  assert.equal(h.sys('newfstatat', 99, h.str('x'), st, 0), EBADF);
  assert.equal(h.sys('newfstatat', 99, h.str('/a'), st, 0), 0); // absolute ignores dirfd
  assert.equal(h.sys('fchdir', dfd), 0);
  const cwd = h.buf(64);
  assert.equal(h.sys('getcwd', cwd, 64), 3);
  assert.equal(h.text(cwd, 2), '/a');
  assert.equal(h.sys('getcwd', cwd, 2), -34); // ERANGE
  assert.equal(h.sys('chdir', h.str('b')), 0);
  assert.equal(h.sys('getcwd', cwd, 64), 5);
  assert.equal(h.text(cwd, 4), '/a/b');
  assert.equal(h.sys('chdir', h.str('f')), ENOTDIR);
  assert.equal(h.sys('access', h.str('f'), 4), 0);
  assert.equal(h.sys('faccessat', AT_FDCWD, h.str('nope'), 0), ENOENT);
});

test('mkdir, rename, link, unlink, rmdir', () => {
  const h = harness();
  assert.equal(h.sys('mkdir', h.str('/d'), 0o755), 0);
  assert.equal(h.sys('mkdir', h.str('/d'), 0o755), EEXIST);
  fs.writeFileSync(path.join(h.root, 'd/f'), 'x');
  assert.equal(h.sys('rmdir', h.str('/d')), -39); // ENOTEMPTY
  assert.equal(h.sys('rename', h.str('/d/f'), h.str('/g')), 0);
  assert.ok(fs.existsSync(path.join(h.root, 'g')));
  assert.equal(h.sys('link', h.str('/g'), h.str('/h')), 0);
  assert.equal(fs.statSync(path.join(h.root, 'g')).nlink, 2);
  assert.equal(h.sys('renameat2', AT_FDCWD, h.str('/g'), AT_FDCWD, h.str('/h'), 1), EEXIST);
  assert.equal(h.sys('unlink', h.str('/h')), 0);
  assert.equal(h.sys('unlink', h.str('/d')), EISDIR);
  assert.equal(h.sys('unlinkat', AT_FDCWD, h.str('/d'), AT_REMOVEDIR), 0);
  assert.equal(h.sys('unlink', h.str('/nope')), ENOENT);
});

test('getdents64 fills linux_dirent64 records and resumes where it stopped', () => {
  const h = harness();
  fs.mkdirSync(path.join(h.root, 'dir'));
  for (const n of ['alpha', 'beta', 'gamma']) fs.writeFileSync(path.join(h.root, 'dir', n), n);
  fs.mkdirSync(path.join(h.root, 'dir', 'sub'));
  const fd = h.sys('open', h.str('/dir'), O_RDONLY | O_DIRECTORY);
  const parse = (buf: number, n: number) => {
    const b = h.read(buf, n);
    const v = new DataView(b.buffer);
    const out: { ino: number; off: number; reclen: number; type: number; name: string }[] = [];
    for (let o = 0; o < n; ) {
      const reclen = v.getUint16(o + 16, true);
      const nameEnd = b.indexOf(0, o + 19);
      out.push({ ino: Number(v.getBigUint64(o, true)), off: Number(v.getBigInt64(o + 8, true)), reclen, type: b[o + 18], name: Buffer.from(b.subarray(o + 19, nameEnd)).toString() });
      assert.equal(reclen % 8, 0);
      assert.ok(nameEnd < o + reclen);
      o += reclen;
    }
    return out;
  };
  // A buffer that holds exactly two records (24 bytes each for short names).
  const small = h.buf(48);
  const n1 = h.sys('getdents64', fd, small, 48);
  assert.equal(n1, 48);
  const first = parse(small, n1);
  assert.deepEqual(first.map((e) => e.name), ['.', '..']);
  assert.equal(first[0].type, 4);
  const big = h.buf(4096);
  const n2 = h.sys('getdents64', fd, big, 4096);
  const rest = parse(big, n2);
  assert.deepEqual(rest.map((e) => e.name).sort(), ['alpha', 'beta', 'gamma', 'sub']);
  const sub = rest.find((e) => e.name === 'sub')!;
  assert.equal(sub.type, 4);
  assert.equal(rest.find((e) => e.name === 'alpha')!.type, 8);
  assert.equal(rest.find((e) => e.name === 'alpha')!.ino, fs.statSync(path.join(h.root, 'dir', 'alpha')).ino);
  assert.equal(rest[rest.length - 1].off, 6);
  assert.equal(h.sys('getdents64', fd, big, 4096), 0);
  assert.equal(h.sys('getdents64', fd, h.buf(8), 8), 0);
  // Too small for one record.
  assert.equal(h.sys('lseek', fd, 0, 0), 0);
  assert.equal(h.sys('getdents64', fd, h.buf(8), 8), EINVAL);
  // seekdir to a d_off resumes after that entry.
  assert.equal(h.sys('lseek', fd, rest[1].off, 0), rest[1].off);
  assert.equal(parse(big, h.sys('getdents64', fd, big, 4096))[0].name, rest[2].name);
});

test('pipes: data, EOF, EPIPE, non-blocking EAGAIN and Blocked until a writer writes', async () => {
  const h = harness();
  const fds = h.buf(8);
  assert.equal(h.sys('pipe2', fds, O_CLOEXEC), 0);
  const v = new DataView(h.read(fds, 8).buffer);
  const [r, w] = [v.getInt32(0, true), v.getInt32(4, true)];
  assert.deepEqual([r, w], [0, 1]);
  assert.equal(h.sys('fcntl', r, 1 /* F_GETFD */), 1);
  assert.equal(h.sys('write', w, h.str('ping'), 4), 4);
  const buf = h.buf(16);
  assert.equal(h.sys('read', r, buf, 2), 2);
  assert.equal(h.text(buf, 2), 'pi');
  assert.equal(h.sys('read', r, buf, 16), 2);
  // Empty pipe with a writer: the read blocks (without blocking Node) until data arrives.
  const blocked = h.call('read', r, buf, 16);
  assert.ok(blocked instanceof Blocked);
  const later = h.callAsync('read', r, buf, 16);
  await new Promise((res) => setImmediate(res));
  // The harness has one task: the "other task" writes straight to the pipe end.
  assert.equal(h.t.files.get(w)!.write(h.t, h.str('pong'), 4), 4);
  assert.equal(await later, 4);
  assert.equal(h.text(buf, 4), 'pong');
  // Non-blocking read on an empty pipe.
  assert.equal(h.sys('fcntl', r, 4 /* F_SETFL */, O_NONBLOCK), 0);
  assert.equal(h.sys('fcntl', r, 3 /* F_GETFL */) & O_NONBLOCK, O_NONBLOCK);
  assert.equal(h.sys('read', r, buf, 16), EAGAIN);
  // FIONREAD.
  h.sys('write', w, h.str('abc'), 3);
  const cnt = h.buf(4);
  assert.equal(h.sys('ioctl', r, 0x541b, cnt), 0);
  assert.equal(new DataView(h.read(cnt, 4).buffer).getInt32(0, true), 3);
  // Closing the write end gives EOF after the data.
  assert.equal(h.sys('close', w), 0);
  assert.equal(h.sys('read', r, buf, 16), 3);
  assert.equal(h.sys('read', r, buf, 16), 0);
  // Writing with no reader: EPIPE.
  assert.equal(h.sys('pipe', fds), 0);
  const v2 = new DataView(h.read(fds, 8).buffer);
  h.sys('close', v2.getInt32(0, true));
  assert.equal(h.sys('write', v2.getInt32(4, true), h.str('x'), 1), EPIPE);
});

test('dup, dup2, dup3 and F_DUPFD share the description (offset) but not CLOEXEC', () => {
  const h = harness();
  fs.writeFileSync(path.join(h.root, 'f'), 'abcdef');
  const fd = h.sys('open', h.str('/f'), O_RDONLY | O_CLOEXEC);
  assert.equal(h.sys('fcntl', fd, 1), 1);
  const d = h.sys('dup', fd);
  assert.equal(d, 1);
  assert.equal(h.sys('fcntl', d, 1), 0);
  const buf = h.buf(8);
  h.sys('read', fd, buf, 2);
  assert.equal(h.sys('lseek', d, 0, 1), 2);
  assert.equal(h.sys('dup2', fd, 10), 10);
  assert.equal(h.sys('dup2', fd, fd), fd);
  assert.equal(h.sys('dup3', fd, fd, 0), EINVAL);
  assert.equal(h.sys('dup3', fd, 11, O_CLOEXEC), 11);
  assert.equal(h.sys('fcntl', 11, 1), 1);
  assert.equal(h.sys('fcntl', fd, 0 /* F_DUPFD */, 20), 20);
  assert.equal(h.sys('fcntl', fd, 1030 /* F_DUPFD_CLOEXEC */, 20), 21);
  assert.equal(h.sys('fcntl', 21, 1), 1);
  assert.equal(h.sys('close', fd), 0);
  assert.equal(h.sys('read', 20, buf, 8), 4);
  assert.equal(h.text(buf, 4), 'cdef');
  h.t.files.closeOnExec();
  assert.deepEqual(h.t.files.fds(), [1, 10, 20]);
});

test('/proc/self: exe, fd, maps, cmdline and the fd magic links', () => {
  const h = harness();
  const buf = h.buf(256);
  assert.equal(h.sys('readlink', h.str('/proc/self/exe'), buf, 256), 9);
  assert.equal(h.text(buf, 9), '/bin/prog');
  const n = h.sys('readlink', h.str('/proc/self'), buf, 256);
  assert.equal(h.text(buf, n), '4242');
  fs.writeFileSync(path.join(h.root, 'file'), 'contents');
  const fd = h.sys('open', h.str('/file'), O_RDONLY);
  const m = h.sys('readlink', h.str(`/proc/self/fd/${fd}`), buf, 256);
  assert.equal(h.text(buf, m), '/file');
  // Opening /proc/self/fd/N reopens the file (own offset).
  h.sys('read', fd, buf, 3);
  const again = h.sys('open', h.str(`/proc/self/fd/${fd}`), O_RDONLY);
  assert.equal(h.sys('read', again, buf, 8), 8);
  assert.equal(h.text(buf, 8), 'contents');
  // A pipe's fd link is pipe:[ino] and opens the same pipe.
  const fds = h.buf(8);
  h.sys('pipe', fds);
  const dv = new DataView(h.read(fds, 8).buffer);
  const pl = h.sys('readlink', h.str(`/proc/self/fd/${dv.getInt32(0, true)}`), buf, 256);
  assert.match(h.text(buf, pl), /^pipe:\[\d+\]$/);
  const pw = h.sys('open', h.str(`/proc/self/fd/${dv.getInt32(4, true)}`), O_WRONLY);
  assert.equal(h.sys('write', pw, h.str('via-proc'), 8), 8);
  assert.equal(h.sys('read', dv.getInt32(0, true), buf, 16), 8);
  // maps is the address space's text, plus the host's [vsyscall] line when it has one.
  const mfd = h.sys('open', h.str('/proc/self/maps'), O_RDONLY);
  const big = h.buf(4096);
  const len = h.sys('read', mfd, big, 4096);
  assert.equal(h.text(big, len), h.t.mem.formatMaps() + (vsyscallMapsLine() ?? ''));
  const cfd = h.sys('open', h.str('/proc/self/cmdline'), O_RDONLY);
  const cl = h.sys('read', cfd, big, 4096);
  assert.equal(h.text(big, cl), 'prog\0arg1\0');
  // Listing /proc/self/fd shows the open fds.
  const dfd = h.sys('open', h.str('/proc/self/fd'), O_RDONLY | O_DIRECTORY);
  const dl = h.sys('getdents64', dfd, big, 4096);
  assert.ok(dl > 0);
  assert.equal(h.sys('open', h.str('/proc/self/maps'), O_WRONLY), -13);
  assert.equal(h.sys('open', h.str('/proc/nonexistent'), O_RDONLY), ENOENT);
});

test('/dev/null, /dev/zero and /dev/urandom are emulated even when the rootfs has no /dev', () => {
  const h = harness();
  const buf = h.buf(64);
  const nul = h.sys('open', h.str('/dev/null'), O_RDWR);
  assert.equal(h.sys('write', nul, buf, 10), 10);
  assert.equal(h.sys('read', nul, buf, 10), 0);
  const st = h.buf(144);
  assert.equal(h.sys('fstat', nul, st), 0);
  const v = stDv(h, st);
  assert.equal(v.getUint32(24, true) & 0o170000, 0o020000);
  assert.equal(Number(v.getBigUint64(40, true)), (1 << 8) | 3);
  h.t.mem.fill(buf, 64, 0xaa);
  const z = h.sys('open', h.str('/dev/zero'), O_RDONLY);
  assert.equal(h.sys('read', z, buf, 64), 64);
  assert.ok(h.read(buf, 64).every((b) => b === 0));
  const u = h.sys('open', h.str('/dev/urandom'), O_RDONLY);
  assert.equal(h.sys('read', u, buf, 32), 32);
  assert.ok(h.read(buf, 32).some((b) => b !== 0));
  const dl = h.sys('open', h.str('/dev'), O_RDONLY | O_DIRECTORY);
  assert.ok(dl >= 0);
  assert.equal(h.sys('stat', h.str('/dev/stdin'), st), 0);
});

test('truncate, ftruncate, fsync, utimensat, chmod, chown no-op', () => {
  const h = harness();
  fs.writeFileSync(path.join(h.root, 'f'), 'abcdef');
  assert.equal(h.sys('truncate', h.str('/f'), 2), 0);
  assert.equal(fs.readFileSync(path.join(h.root, 'f'), 'utf8'), 'ab');
  const fd = h.sys('open', h.str('/f'), O_RDWR);
  assert.equal(h.sys('ftruncate', fd, 4), 0);
  assert.equal(fs.statSync(path.join(h.root, 'f')).size, 4);
  assert.equal(h.sys('fsync', fd), 0);
  const times = h.buf(32);
  const tv = new DataView(new ArrayBuffer(32));
  tv.setBigInt64(0, 1000000000n, true);
  tv.setBigInt64(16, 1200000000n, true);
  tv.setBigInt64(24, 500000000n, true);
  h.t.mem.writeBytes(times, new Uint8Array(tv.buffer));
  assert.equal(h.sys('utimensat', AT_FDCWD, h.str('/f'), times, 0), 0);
  assert.equal(fs.statSync(path.join(h.root, 'f')).mtimeMs, 1200000000500);
  assert.equal(h.sys('chmod', h.str('/f'), 0o600), 0);
  assert.equal(fs.statSync(path.join(h.root, 'f')).mode & 0o777, 0o600);
  assert.equal(h.sys('fchmodat', AT_FDCWD, h.str('/f'), 0o640), 0);
  assert.equal(h.sys('chown', h.str('/f'), 0, 0), 0);
  assert.equal(h.sys('chown', h.str('/nope'), 0, 0), ENOENT);
  assert.equal(h.sys('fchownat', AT_FDCWD, h.str('/f'), 0, 0, AT_SYMLINK_NOFOLLOW), 0);
});

test('readv/writev move data through several iovecs', () => {
  const h = harness();
  const fd = h.sys('open', h.str('/v'), O_RDWR | O_CREAT, 0o644);
  const iov = h.buf(32);
  const a = h.str('hello ');
  const b = h.str('world');
  const dv = new DataView(new ArrayBuffer(32));
  dv.setBigUint64(0, BigInt(a), true);
  dv.setBigUint64(8, 6n, true);
  dv.setBigUint64(16, BigInt(b), true);
  dv.setBigUint64(24, 5n, true);
  h.t.mem.writeBytes(iov, new Uint8Array(dv.buffer));
  assert.equal(h.sys('writev', fd, iov, 2), 11);
  assert.equal(fs.readFileSync(path.join(h.root, 'v'), 'utf8'), 'hello world');
  h.sys('lseek', fd, 0, 0);
  const x = h.buf(4);
  const y = h.buf(16);
  dv.setBigUint64(0, BigInt(x), true);
  dv.setBigUint64(8, 4n, true);
  dv.setBigUint64(16, BigInt(y), true);
  dv.setBigUint64(24, 16n, true);
  h.t.mem.writeBytes(iov, new Uint8Array(dv.buffer));
  assert.equal(h.sys('readv', fd, iov, 2), 11);
  assert.equal(h.text(x, 4), 'hell');
  assert.equal(h.text(y, 7), 'o world');
  assert.equal(h.sys('readv', fd, iov, -1), EINVAL);
});

test('bad guest pointers give EFAULT, never an exception', () => {
  const h = harness();
  assert.equal(h.sys('open', 0x1234, O_RDONLY), -14);
  assert.equal(h.sys('open', 0, O_RDONLY), -14);
  fs.writeFileSync(path.join(h.root, 'f'), 'abc');
  const fd = h.sys('open', h.str('/f'), O_RDONLY);
  assert.equal(h.sys('read', fd, 0x1000, 3), -14);
  assert.equal(h.sys('fstat', fd, 0x1000), -14);
  assert.equal(h.sys('newfstatat', AT_FDCWD, h.str('/f'), 0x1000, 0), -14);
  assert.equal(h.sys('write', fd, 0x1000, 3), EBADF);
});

test('/proc/self/fd links: lstat shows the link (mode from the access mode), stat shows the target', () => {
  const h = harness();
  const fds = h.buf(8);
  h.sys('pipe', fds);
  const w = new DataView(h.read(fds, 8).buffer).getInt32(4, true);
  const st = h.buf(144);
  assert.equal(h.sys('lstat', h.str(`/proc/self/fd/${w}`), st), 0);
  assert.equal(stDv(h, st).getUint32(24, true), 0o120300);
  assert.equal(Number(stDv(h, st).getBigInt64(48, true)), 64);
  assert.equal(h.sys('stat', h.str(`/proc/self/fd/${w}`), st), 0);
  assert.equal(stDv(h, st).getUint32(24, true) & 0o170000, 0o010000);
  assert.equal(h.sys('open', h.str(`/proc/self/fd/${w}`), O_WRONLY | O_NOFOLLOW), ELOOP);
});

test('/proc/self/exe opens the loaded program even outside the rootfs', () => {
  const outside = makeRootfs();
  fs.writeFileSync(path.join(outside, 'prog'), 'ELF-ish');
  const h = harness();
  h.t.proc.hostExePath = path.join(outside, 'prog');
  const fd = h.sys('open', h.str('/proc/self/exe'), O_RDONLY);
  assert.ok(fd >= 0);
  const buf = h.buf(16);
  assert.equal(h.sys('read', fd, buf, 16), 7);
  assert.equal(h.text(buf, 7), 'ELF-ish');
  assert.equal(h.sys('open', h.str('/proc/self/exe'), O_RDWR), -13);
  const st = h.buf(144);
  assert.equal(h.sys('stat', h.str('/proc/self/exe'), st), 0);
  assert.equal(Number(stDv(h, st).getBigInt64(48, true)), 7);
});

test('a host FIFO is read asynchronously: the read parks instead of blocking Node', async () => {
  const h = harness();
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [path.join(h.root, 'fifo')]);
  // O_RDWR on a FIFO never waits for a peer on Linux.
  const fd = h.sys('open', h.str('/fifo'), O_RDWR);
  assert.ok(fd >= 0);
  const buf = h.buf(16);
  const first = h.call('read', fd, buf, 16);
  assert.ok(first instanceof Blocked);
  let timerRan = false;
  setTimeout(() => (timerRan = true), 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(timerRan, 'the event loop keeps running while the guest waits');
  assert.equal(h.sys('write', fd, h.str('fifo!'), 5), 5);
  assert.equal(await h.callAsync('read', fd, buf, 16), 5);
  assert.equal(h.text(buf, 5), 'fifo!');
  h.sys('close', fd);
});
