// The last pieces of "real programs" (issue 5), each a fixture compared with its native
// run in every build: vfork and posix_spawn (shared memory, suspended parent), UDP
// (guest↔guest and guest↔host), and fd passing over AF_UNIX (SCM_RIGHTS, SO_PEERCRED).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { ELFSHIM_TIMEOUT_MS, compareWithNative, fixturePath, type CompareOptions } from './helpers/run.js';

const VARIANTS = ['glibc-pie', 'glibc-static', 'musl', 'glibc-dynamic'] as const;
// The kernel is under test here, not the block translator (work in progress, see dynamic-fixtures.test.ts).
const OPTS: CompareOptions = { elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS, env: { ELFSHIM_ENGINE: 'interp' } };

/** expect: a line the native run must print (so that a run where both sides fail alike cannot pass). */
export const REAL_CASES: { fixture: string; label: string; args?: string[]; expect: RegExp; opts?: CompareOptions }[] = [
  { fixture: 'vfork', label: 'vfork shares memory and suspends the parent; posix_spawn reports exec errors', expect: /after vfork: shared=42 local=2/ },
  {
    fixture: 'udp',
    label: 'UDP between guest sockets and processes: boundaries, MSG_TRUNC/PEEK/DONTWAIT, poll/epoll, connect, IPv6',
    expect: /recvmmsg: 3: "one" "two!" "three"/,
  },
  {
    fixture: 'unixfd',
    label: 'SCM_RIGHTS between processes over a socketpair, MSG_CTRUNC, MSG_CMSG_CLOEXEC, SO_PEERCRED; SOCK_DGRAM and SOCK_SEQPACKET pairs',
    expect: /from the passed pipe: "hello through a passed pipe"/,
  },
  {
    fixture: 'unixfd',
    label: 'SCM_RIGHTS and SO_PEERCRED between a guest server on a path and a guest client, shutdown',
    args: ['{tmp}'],
    opts: { tempDir: true },
    expect: /client checks \(peer cred, getpeername, sendmsg, reply \+ EOF\): 0xf/,
  },
];

// A host UDP peer for `udp host PORT`: answers every datagram with it in upper case.
let echo: Socket;
let echoPort = 0;
before(async () => {
  echo = createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m.toString().toUpperCase(), r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  echoPort = echo.address().port;
});
after(() => echo.close());

for (const variant of VARIANTS) {
  describe(variant, () => {
    for (const c of REAL_CASES) {
      test(`${c.fixture} ${(c.args ?? []).join(' ')}: ${c.label}`, async (t) => {
        const { native } = await compareWithNative(t, fixturePath(variant, c.fixture), c.args, { ...OPTS, ...c.opts });
        // Same output is not enough: the native run must have passed its own checks.
        assert.doesNotMatch(native.stdout.toString(), /FAILED/);
        assert.match(native.stdout.toString(), c.expect);
      });
    }
    test('udp host: a guest client and a host UDP peer', async (t) => {
      const { native } = await compareWithNative(t, fixturePath(variant, 'udp'), ['host', String(echoPort)], OPTS);
      assert.match(native.stdout.toString(), /reply "PING 2" from 127\.0\.0\.1, the host's port: yes/);
    });
  });
}
