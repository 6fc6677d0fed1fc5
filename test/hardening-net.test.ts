// The socket syscalls (src/kernel/syscalls/net.ts) driven directly: errors a
// hostile or sloppy guest gets, readiness, half-close, bounded buffering, and
// AF_UNIX paths confined to the rootfs.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { harness, type Harness } from './kernel-harness.js';
import { syscallByName } from '../src/kernel/syscall-table.js';
import { netHandlers } from '../src/kernel/syscalls/net.js';
import { Blocked } from '../src/kernel/syscall-types.js';

const AF_UNIX = 1, AF_INET = 2, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_NONBLOCK = 0o4000;
const EAGAIN = 11, EPIPE = 32, ENOTSOCK = 88, ESOCKTNOSUPPORT = 94, EAFNOSUPPORT = 97, ECONNREFUSED = 111, EINPROGRESS = 115, EACCES = 13, ENOTCONN = 107;
const SOL_SOCKET = 1, SO_ERROR = 4, MSG_NOSIGNAL = 0x4000, FIONREAD = 0x541b;

before(() => {
  // Until the table registers netHandlers, register them here (a test-only hook on the table).
  for (const [name, impl] of Object.entries(netHandlers)) {
    const info = syscallByName(name)!;
    if (!info.impl) info.impl = impl;
  }
});

function sockaddrIn(h: Harness, port: number, ip = [127, 0, 0, 1]): number {
  const a = h.buf(16);
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  b.set(ip, 4);
  h.t.mem.writeBytes(a, b);
  return a;
}

function sockaddrUn(h: Harness, path: string): { addr: number; len: number } {
  const a = h.buf(110);
  const b = new Uint8Array(110);
  new DataView(b.buffer).setUint16(0, AF_UNIX, true);
  b.set(Buffer.from(path), 2);
  h.t.mem.writeBytes(a, b);
  return { addr: a, len: 2 + path.length + 1 };
}

/** Waits until fd is ready for events (poll), as a guest would. */
async function pollFd(h: Harness, fd: number, events: number): Promise<number> {
  const pfd = h.buf(8);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setInt32(0, fd, true);
  new DataView(b.buffer).setInt16(4, events, true);
  h.t.mem.writeBytes(pfd, b);
  assert.equal(await h.callAsync('poll', pfd, 1, 10_000), 1);
  return new DataView(h.read(pfd, 8).buffer).getInt16(6, true);
}

function listening(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

test('unsupported kinds of socket are refused with the right errno', () => {
  const h = harness();
  assert.equal(h.sys('socket', AF_UNIX, SOCK_DGRAM, 0), -ESOCKTNOSUPPORT); // named AF_UNIX datagram sockets: not yet
  assert.equal(h.sys('socket', 17 /* AF_PACKET */, SOCK_STREAM, 0), -EAFNOSUPPORT);
  assert.equal(h.sys('socket', AF_INET, SOCK_STREAM | 0x100, 0), -22);
  // Socket calls on a file that is not a socket.
  const fd = h.sys('openat', -100, h.str('/'), 0o200000, 0);
  assert.equal(h.sys('recvfrom', fd, h.buf(8), 8, 0, 0, 0), -ENOTSOCK);
  assert.equal(h.sys('listen', fd, 1), -ENOTSOCK);
  assert.equal(h.sys('accept4', 999, 0, 0, 0), -9);
});

test('connect to a closed port: ECONNREFUSED (blocking), or EINPROGRESS then SO_ERROR (non-blocking)', async () => {
  const { server, port } = await listening();
  await new Promise((r) => server.close(r));
  const h = harness();
  const fd = h.sys('socket', AF_INET, SOCK_STREAM, 0);
  assert.equal(await h.callAsync('connect', fd, sockaddrIn(h, port), 16), -ECONNREFUSED);
  const nb = h.sys('socket', AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  assert.equal(h.sys('connect', nb, sockaddrIn(h, port), 16), -EINPROGRESS);
  const re = await pollFd(h, nb, 4 /* POLLOUT */);
  assert.ok(re & 8 /* POLLERR */ || re & 4, `revents ${re}`);
  const val = h.buf(4), len = h.buf(4);
  h.t.mem.write32(len, 4);
  assert.equal(h.sys('getsockopt', nb, SOL_SOCKET, SO_ERROR, val, len), 0);
  assert.equal(h.t.mem.read32(val), ECONNREFUSED);
});

test('a connected stream: send, receive, half-close, EOF, EPIPE without SIGPIPE under MSG_NOSIGNAL', async () => {
  const echoed: Buffer[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d) => echoed.push(d));
    s.on('end', () => s.end(Buffer.concat(echoed)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const h = harness();
    h.t.kernel.tasks.push(h.t); // so that signals find it
    const fd = h.sys('socket', AF_INET, SOCK_STREAM, 0);
    assert.equal(await h.callAsync('connect', fd, sockaddrIn(h, port), 16), 0);
    const peer = h.buf(16), peerLen = h.buf(4);
    h.t.mem.write32(peerLen, 16);
    assert.equal(h.sys('getpeername', fd, peer, peerLen), 0);
    assert.equal(new DataView(h.read(peer, 16).buffer).getUint16(2, false), port);
    const msg = h.str('hello, host');
    assert.equal(await h.callAsync('sendto', fd, msg, 11, 0, 0, 0), 11);
    assert.equal(h.sys('shutdown', fd, 1 /* SHUT_WR */), 0);
    const buf = h.buf(64);
    let got = '';
    for (;;) {
      const n = await h.callAsync('recvfrom', fd, buf, 64, 0, 0, 0);
      assert.ok(n >= 0, `recv ${n}`);
      if (n === 0) break;
      got += h.text(buf, n);
    }
    assert.equal(got, 'hello, host');
    assert.equal(await h.callAsync('sendto', fd, msg, 11, MSG_NOSIGNAL, 0, 0), -EPIPE);
    assert.equal(h.t.pendingSignals.has(13), false, 'MSG_NOSIGNAL: no SIGPIPE');
    assert.equal(await h.callAsync('write', fd, msg, 11), -EPIPE);
    assert.equal(h.t.pendingSignals.has(13), true, 'write: SIGPIPE');
    assert.equal(h.sys('close', fd), 0);
  } finally {
    server.close();
  }
});

test('a peer that sends far more than the guest reads is throttled: elfshim buffers a bounded amount', async () => {
  const h = harness();
  const ls = h.sys('socket', AF_INET, SOCK_STREAM, 0);
  assert.equal(h.sys('bind', ls, sockaddrIn(h, 0), 16), 0);
  assert.equal(await h.callAsync('listen', ls, 8), 0);
  const name = h.buf(16), nlen = h.buf(4);
  h.t.mem.write32(nlen, 16);
  assert.equal(h.sys('getsockname', ls, name, nlen), 0);
  const port = new DataView(h.read(name, 16).buffer).getUint16(2, false);
  const client = connect(port, '127.0.0.1');
  const chunk = Buffer.alloc(1 << 20, 7);
  let sent = 0;
  const pump = () => {
    while (sent < 64 << 20 && client.write(chunk)) sent += chunk.length;
  };
  client.on('drain', pump);
  client.on('error', () => {});
  pump();
  const fd = await h.callAsync('accept4', ls, 0, 0, 0);
  assert.ok(fd >= 0);
  // Let the host push as much as it can while the guest reads nothing.
  await new Promise((r) => setTimeout(r, 500));
  const avail = h.buf(4);
  assert.equal(h.sys('ioctl', fd, FIONREAD, avail), 0);
  const queued = h.t.mem.read32(avail);
  assert.ok(queued > 0 && queued <= (256 << 10) + (1 << 20), `elfshim holds ${queued} bytes for the guest`);
  assert.ok(sent < 64 << 20, 'the sender was held back');
  client.destroy();
  h.sys('close', fd);
  h.sys('close', ls);
});

test('socketpair: both directions, EOF after close, EPIPE + SIGPIPE when the reader is gone', async () => {
  const h = harness();
  h.t.kernel.tasks.push(h.t);
  const fds = h.buf(8);
  assert.equal(h.sys('socketpair', AF_UNIX, SOCK_STREAM, 0, fds), 0);
  const a = h.t.mem.read32(fds), b = h.t.mem.read32(fds + 4);
  const buf = h.buf(16);
  assert.equal(h.sys('write', a, h.str('ping'), 4), 4);
  assert.equal(h.sys('read', b, buf, 16), 4);
  assert.equal(h.text(buf, 4), 'ping');
  assert.equal(h.sys('write', b, h.str('pong'), 4), 4);
  assert.equal(h.sys('read', a, buf, 16), 4);
  assert.equal(h.sys('close', b), 0);
  assert.equal(h.sys('read', a, buf, 16), 0, 'EOF');
  assert.equal(h.sys('write', a, h.str('x'), 1), -EPIPE);
  assert.equal(h.t.pendingSignals.has(13), true, 'SIGPIPE');
  const nb = h.buf(8);
  assert.equal(h.sys('socketpair', AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, nb), 0);
  assert.equal(h.sys('read', h.t.mem.read32(nb), buf, 16), -EAGAIN);
});

test('AF_UNIX: paths stay inside the rootfs, abstract names are refused', async () => {
  const h = harness();
  const s = h.sys('socket', AF_UNIX, SOCK_STREAM, 0);
  const esc = sockaddrUn(h, '/../../escape.sock');
  assert.equal(h.sys('bind', s, esc.addr, esc.len), 0);
  assert.equal(await h.callAsync('listen', s, 4), 0);
  assert.ok(existsSync(join(h.root, 'escape.sock')), 'created inside the root');
  const abstract = h.buf(16);
  h.t.mem.writeBytes(abstract, Uint8Array.from([AF_UNIX, 0, 0, 0x78, 0x31]));
  const c = h.sys('socket', AF_UNIX, SOCK_STREAM, 0);
  assert.equal(h.sys('connect', c, abstract, 5), -EACCES);
  const inside = sockaddrUn(h, '/escape.sock');
  // A guest listener is joined in-emulator (0 at once, as Linux); a host one completes later.
  const r = h.call('connect', c, inside.addr, inside.len);
  assert.ok(r instanceof Blocked || r === 0);
  if (r !== 0) assert.equal(await h.callAsync('connect', c, inside.addr, inside.len), 0);
  const fd = await h.callAsync('accept4', s, 0, 0, 0);
  assert.ok(fd >= 0);
  assert.equal(h.sys('getpeername', h.sys('socket', AF_UNIX, SOCK_STREAM, 0), h.buf(16), h.buf(4)), -ENOTCONN);
  h.sys('close', fd);
  h.sys('close', c);
  h.sys('close', s);
  rmSync(h.root, { recursive: true, force: true });
});
