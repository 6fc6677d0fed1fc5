import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unescapeBinary } from '../src/gdb/binary-escape.js';
import { dispatchCommand, supportedFeatures, COMMANDS } from '../src/gdb/commands.js';
import { bytesToHex, textToHex } from '../src/gdb/hex.js';
import { GdbSession, type SessionTransport } from '../src/gdb/session.js';
import { TARGET_XML } from '../src/gdb/target-xml.js';
import type { StopEvent } from '../src/gdb/target.js';
import { CODE_BASE, CODE_PROLOGUE, FakeTarget, STACK_TOP } from './gdb-fake-target.js';

class Transport implements SessionTransport {
  sent: string[] = [];
  noAck = false;
  constructor(readonly maxPacket = 0x4000) {}
  send(p: string): void {
    this.sent.push(p);
  }
  startNoAckMode(): void {
    this.noAck = true;
  }
}

function setup(opts: { tids?: number[]; maxPacket?: number; features?: string; initialStop?: StopEvent } = {}) {
  const target = new FakeTarget(opts.tids);
  const transport = new Transport(opts.maxPacket);
  const session = new GdbSession(target, transport, opts.initialStop);
  /** Sends a packet and returns the replies it produced. */
  const ask = async (p: string): Promise<string[]> => {
    const before = transport.sent.length;
    await session.receivePacket(p);
    return transport.sent.slice(before);
  };
  const one = async (p: string): Promise<string> => {
    const r = await ask(p);
    assert.equal(r.length, 1, `one reply to ${p}: ${JSON.stringify(r)}`);
    return r[0];
  };
  return { target, transport, session, ask, one, handshake: () => one(`qSupported:${opts.features ?? 'multiprocess+;swbreak+;hwbreak+'}`) };
}

const hex64 = (v: number) => bytesToHex(new Uint8Array(new BigUint64Array([BigInt(v)]).buffer));

test('qSupported is derived from the command table and names only handled packets', async () => {
  const { handshake } = setup();
  const reply = await handshake();
  const feats = reply.split(';');
  assert.equal(feats[0], 'PacketSize=4000');
  for (const f of ['QStartNoAckMode+', 'swbreak+', 'hwbreak+', 'multiprocess+', 'vContSupported+', 'qXfer:features:read+', 'qXfer:auxv:read+', 'qXfer:exec-file:read+', 'qXfer:siginfo:read+', 'QCatchSyscalls+', 'QPassSignals+', 'QProgramSignals+']) {
    assert.ok(feats.includes(f), f);
  }
  assert.ok(!feats.includes('QNonStop+'));
  assert.deepEqual(feats, supportedFeatures(0x4000));
  // Every advertised packet has a handler.
  const names = new Set(COMMANDS.map((c) => c.name));
  for (const f of feats.slice(1)) {
    const packet = f.startsWith('qXfer:') ? 'qXfer' : f.replace(/\+$/, '');
    if (['swbreak', 'hwbreak', 'multiprocess', 'vContSupported'].includes(packet)) continue;
    assert.ok(names.has(packet), `${f} has no handler`);
  }
});

test('initial stop, thread queries, multiprocess ids', async () => {
  const { one, handshake, target } = setup({ tids: [0x1234, 0x1240] });
  await handshake();
  const stop = await one('?');
  assert.match(stop, /^T05/);
  assert.match(stop, /thread:p1234\.1234;core:0;$/);
  assert.ok(stop.includes(`10:${hex64(CODE_BASE)};`), stop);
  assert.equal(await one('qC'), 'QCp1234.1234');
  assert.equal(await one('qfThreadInfo'), 'mp1234.1234,p1234.1240');
  assert.equal(await one('qsThreadInfo'), 'l');
  // Started for the debugger (like gdbserver PROG): gdb kills it when it quits.
  assert.equal(await one('qAttached'), '0');
  assert.equal(await one('qAttached:1234'), '0');
  // Stopped where it was running (--no-wait): gdb detaches when it quits.
  const attached = new GdbSession(target, new Transport(), { kind: 'signal', signal: 2, tid: 0x1234 }, true);
  assert.equal(await dispatchCommand(attached, 'qAttached'), '1');
  assert.equal(await one('Tp1234.1240'), 'OK');
  assert.equal(await one('Tp1234.999'), 'E01');
  assert.equal(await one('Hgp1234.1240'), 'OK');
  target.cpus.get(0x1240)!.rip = 0x401100;
  assert.equal(await one(`p${(16).toString(16)}`), hex64(0x401100));
  assert.equal(await one('Hgp0.0'), 'OK');
  assert.equal(await one('p10'), hex64(CODE_BASE));
  assert.equal(await one('Hgp1234.777'), 'E01');
  assert.equal(await one('Hgp99.1234'), 'E01');
  assert.equal(await one('Hc-1'), 'OK');
  const xml = await one('qXfer:threads:read::0,1000');
  assert.match(xml, /^l<threads>\n<thread id="p1234.1234" core="0"\/>\n<thread id="p1234.1240" core="0"\/>\n<\/threads>\n$/);
});

test('without multiprocess, thread ids are bare', async () => {
  const { one, handshake } = setup({ features: 'swbreak+' });
  await handshake();
  assert.match(await one('?'), /thread:1234;core:0;$/);
  assert.equal(await one('qC'), 'QC1234');
  assert.equal(await one('Hg1234'), 'OK');
});

test('registers: g, G, p, P', async () => {
  const { one, handshake, target } = setup();
  await handshake();
  const cpu = target.mainCpu;
  cpu.setBig(0, 0x1122334455667788n);
  const g = await one('g');
  assert.equal(g.length, 1120);
  assert.equal(g.slice(0, 16), '8877665544332211');
  assert.equal(await one('p0'), '8877665544332211');
  assert.equal(await one(`P10=${hex64(0x401010)}`), 'OK');
  assert.equal(cpu.rip, 0x401010);
  assert.equal(await one('P39=ffffffffffffffff'), 'OK'); // orig_rax
  assert.equal(cpu.origRax, -1);
  const g2 = await one('g');
  const changed = '0000000000000000' + g2.slice(16);
  assert.equal(await one('G' + changed), 'OK');
  assert.equal(cpu.getBig(0), 0n);
  assert.equal(await one('G00'), 'E01');
  assert.equal(await one('p3c'), 'E01');
  assert.equal(await one('pzz'), 'E01');
  assert.equal(await one('P10=12'), 'E01');
  assert.equal(await one('P10'), 'E01');
});

test('memory: m, M, X; unmapped is E14; reads are capped to the packet size', async () => {
  const { one, handshake, target } = setup({ maxPacket: 0x100 });
  await handshake();
  assert.equal(await one(`m${CODE_BASE.toString(16)},4`), bytesToHex(Uint8Array.from(CODE_PROLOGUE)));
  assert.equal(await one('m0,4'), 'E14');
  assert.equal(await one('m10,'), 'E01');
  assert.equal(await one('mxyz,4'), 'E01');
  // Short read at the end of a mapping.
  assert.equal(await one(`m${(STACK_TOP - 2).toString(16)},8`), '0000');
  // Capped: 0x100 hex chars = 0x80 bytes.
  assert.equal((await one(`m${CODE_BASE.toString(16)},1000`)).length, 0x100);
  // M ignores page protection (the code page is read-only), like ptrace.
  assert.equal(await one(`M${(CODE_BASE + 8).toString(16)},2:cccc`), 'OK');
  assert.deepEqual(target.mem.peek(CODE_BASE + 8, 2), Uint8Array.from([0xcc, 0xcc]));
  assert.equal(await one('M0,1:00'), 'E14');
  assert.equal(await one(`M${CODE_BASE.toString(16)},2:00`), 'E01');
  // X with every escaped byte.
  const data = Uint8Array.from([0x23, 0x24, 0x7d, 0x2a, 0x03, 0x00]);
  const escaped = '}\x03}\x04}]}\x0a\x03\x00';
  assert.deepEqual(unescapeBinary(escaped), data);
  assert.equal(await one(`X${(CODE_BASE + 16).toString(16)},6:${escaped}`), 'OK');
  assert.deepEqual(target.mem.peek(CODE_BASE + 16, 6), data);
  assert.equal(await one(`X${CODE_BASE.toString(16)},0:`), 'OK');
  assert.equal(await one(`X${CODE_BASE.toString(16)},2:a`), 'E01');
  assert.equal(await one('X0,1:a'), 'E14');
});

test('breakpoints: Z0 via the target, hardware limited to four debug registers, idempotent', async () => {
  const { one, handshake, target } = setup();
  await handshake();
  const a = (n: number) => (CODE_BASE + n).toString(16);
  assert.equal(await one(`Z0,${a(0x10)},1`), 'OK');
  assert.equal(await one(`Z0,${a(0x10)},1`), 'OK');
  assert.equal(target.calls.filter((c) => c.startsWith('insert sw')).length, 1);
  assert.equal(await one('Z0,10,1'), 'E01'); // unmapped: the target refuses
  assert.equal(await one(`Z1,${a(1)},1`), 'OK');
  assert.equal(await one(`Z1,${a(2)},1`), 'OK');
  assert.equal(await one(`Z2,${(STACK_TOP - 8).toString(16)},8`), 'OK');
  // An unaligned 4-byte watch needs two debug registers; only one is left.
  assert.equal(await one(`Z3,${(STACK_TOP - 0x22).toString(16)},4`), 'E01');
  assert.equal(await one(`Z4,${(STACK_TOP - 0x20).toString(16)},4`), 'OK');
  assert.equal(await one(`Z1,${a(3)},1`), 'E01');
  assert.equal(await one(`z1,${a(1)},1`), 'OK');
  assert.equal(await one(`Z1,${a(3)},1`), 'OK');
  assert.equal(await one(`z1,${a(1)},1`), 'OK'); // removing twice is fine
  assert.equal(await one(`Z5,${a(3)},1`), 'E01');
  assert.equal(await one(`Z2,${a(3)},0`), 'E01');
  assert.ok(target.watchpoints.has(`watch:${STACK_TOP - 8}:8`));
  assert.ok(target.watchpoints.has(`awatch:${STACK_TOP - 0x20}:4`));
  assert.equal(await one(`z0,${a(0x10)},1`), 'OK');
  assert.ok(!target.breakpoints.has(`sw:${CODE_BASE + 0x10}`));
});

test('continue to a breakpoint reports swbreak; step reports T05; signals are translated', async () => {
  const { one, handshake, target } = setup();
  await handshake();
  await one(`Z0,${(CODE_BASE + 0x20).toString(16)},1`);
  const stop = await one('vCont;c:p1234.-1');
  assert.match(stop, /^T05swbreak:;/);
  assert.equal(target.mainCpu.rip, CODE_BASE + 0x20);
  assert.match(await one('vCont;s:p1234.1234;c:p1234.-1'), /^T05(?!swbreak)/);
  assert.equal(target.mainCpu.rip, CODE_BASE + 0x21);
  assert.match(await one('s'), /^T05/);
  assert.match(await one(`s${CODE_BASE.toString(16)}`), /^T05/);
  assert.equal(target.mainCpu.rip, CODE_BASE + 1);
  // gdb SIGUSR1 (30) is Linux 10; gdb SIGBUS (10) is Linux 7.
  await one('S1e');
  await one('vCont;S0a:p1234.1234');
  assert.deepEqual(target.calls.filter((c) => c.startsWith('resume')).slice(-2), ['resume step=true tid=4660 signal=10', 'resume step=true tid=4660 signal=7']);
  assert.equal(await one('S07'), 'E01'); // SIGEMT has no Linux number
  assert.equal(await one('vCont;t'), 'E01');
  assert.equal(await one('vCont;x'), 'E01');
  assert.equal(await one('vCont?'), 'vCont;c;C;s;S;t');
});

test('stop replies: watchpoints, syscalls, hwbreak, exit, kill (gdb numbering)', async () => {
  const { one, handshake, target } = setup();
  await handshake();
  const next: StopEvent[] = [
    { kind: 'signal', signal: 5, tid: 0x1234, reason: 'watch', addr: 0x7ffffffde010 },
    { kind: 'signal', signal: 5, tid: 0x1234, reason: 'rwatch', addr: 0x10 },
    { kind: 'signal', signal: 5, tid: 0x1234, reason: 'syscall_entry', syscall: 60 },
    { kind: 'signal', signal: 5, tid: 0x1234, reason: 'syscall_return', syscall: 1 },
    { kind: 'signal', signal: 5, tid: 0x1234, reason: 'hwbreak' },
    { kind: 'signal', signal: 31, tid: 0x1234 },
    { kind: 'signal', signal: 7, tid: 0x1234 },
    { kind: 'exited', code: 3 },
  ];
  target.onResume = () => Promise.resolve(next.shift()!);
  assert.match(await one('c'), /^T05watch:7ffffffde010;06:/);
  assert.match(await one('c'), /^T05rwatch:10;/);
  assert.match(await one('c'), /^T05syscall_entry:3c;/);
  assert.match(await one('c'), /^T05syscall_return:1;/);
  assert.match(await one('c'), /^T05hwbreak:;/);
  assert.match(await one('c'), /^T0c06:/); // SIGSYS
  assert.match(await one('c'), /^T0a06:/); // SIGBUS
  assert.equal(await one('c'), 'W03;process:1234');
  assert.equal(await one('?'), 'W03;process:1234');
  assert.equal(await one('g'), 'E01');
  assert.equal(await one('m401000,1'), 'E14');
  assert.equal(await one('qfThreadInfo'), 'l');

  const k = setup({ features: 'swbreak+' });
  await k.handshake();
  k.target.onResume = () => Promise.resolve({ kind: 'killed', signal: 10 } as StopEvent);
  assert.equal(await k.one('c'), 'X1e');
});

test('swbreak is only reported to a peer that announced it', async () => {
  const { one, handshake } = setup({ features: 'multiprocess+' });
  await handshake();
  await one(`Z0,${(CODE_BASE + 0x20).toString(16)},1`);
  assert.match(await one('c'), /^T0506:/);
});

test('interrupt while running resolves the pending resume with SIGINT; ignored while stopped', async () => {
  const { session, transport, target, handshake } = setup();
  await handshake();
  session.interrupt();
  assert.ok(!target.calls.includes('interrupt'));
  const done = session.receivePacket('vCont;c');
  await new Promise((r) => setImmediate(r));
  assert.equal(session.running, true);
  // Packets sent while running wait for the stop.
  const queued = session.receivePacket('qC');
  session.interrupt();
  await done;
  await queued;
  assert.match(transport.sent.at(-2)!, /^T02/);
  assert.equal(transport.sent.at(-1), 'QCp1234.1234');
});

test('qXfer: features in windows, auxv, exec-file, siginfo, bad annexes', async () => {
  const { one, handshake, target } = setup({ maxPacket: 0x200 });
  await handshake();
  let xml = '';
  for (let off = 0; ; ) {
    const r = await one(`qXfer:features:read:target.xml:${off.toString(16)},1000`);
    assert.ok(r.length <= 0x200);
    const data = new TextDecoder().decode(unescapeBinary(r.slice(1))!);
    xml += data;
    off += new TextEncoder().encode(data).length;
    if (r[0] === 'l') break;
    assert.equal(r[0], 'm');
  }
  assert.equal(xml, TARGET_XML);
  assert.equal(await one('qXfer:features:read:target.xml:ffff,10'), 'l');
  assert.equal(await one('qXfer:features:read:other.xml:0,10'), 'E01');
  const auxv = await one('qXfer:auxv:read::0,1000');
  assert.equal(auxv[0], 'l');
  assert.deepEqual(unescapeBinary(auxv.slice(1)), target.auxv());
  assert.equal(await one('qXfer:exec-file:read:1234:0,1000'), 'l/fake/prog');
  assert.equal(await one('qXfer:exec-file:read::0,4'), 'm/fak');
  assert.equal(await one('qXfer:exec-file:read:99:0,1000'), 'E01');
  assert.equal(await one('qXfer:siginfo:read::0,80'), 'E01');
  target.lastSiginfo = new Uint8Array(128).fill(0x2a); // '*' must be escaped
  const si = await one('qXfer:siginfo:read::0,80');
  assert.equal(si, 'l' + '}\x0a'.repeat(128));
  assert.equal(await one('qXfer:nosuch:read::0,10'), '');
  assert.equal(await one('qXfer:siginfo:write::0:abc'), '');
  assert.equal(await one('qXfer:features:read:target.xml:zz,10'), 'E01');
});

test('QCatchSyscalls, QPassSignals, QNonStop, qSymbol, unknown packets', async () => {
  const { one, handshake, target } = setup();
  await handshake();
  assert.equal(await one('QCatchSyscalls:1'), 'OK');
  assert.equal(await one('QCatchSyscalls:1;3c;e7'), 'OK');
  assert.deepEqual([...target.catchSyscalls!], [60, 231]);
  assert.equal(await one('QCatchSyscalls:0'), 'OK');
  assert.equal(target.catchSyscalls, null);
  assert.deepEqual(target.calls.filter((c) => c.startsWith('catch')), ['catch all', 'catch 60,231', 'catch off']);
  assert.equal(await one('QCatchSyscalls:2'), 'E01');
  assert.equal(await one('QCatchSyscalls:1;zz'), 'E01');
  assert.equal(await one('QPassSignals:e;14'), 'OK');
  assert.equal(await one('QProgramSignals:0;1;3'), 'OK');
  assert.equal(await one('QNonStop:0'), 'OK');
  assert.equal(await one('QNonStop:1'), 'E01');
  assert.equal(await one('qSymbol::'), 'OK');
  assert.equal(await one('qTStatus'), '');
  assert.equal(await one('vMustReplyEmpty'), '');
  assert.equal(await one('qOffsets'), '');
  assert.equal(await one('!'), '');
  assert.equal(await one('vRun;'), '');
  assert.equal(await one(''), '');
  assert.equal(await one('\x00\xff'), '');
});

test('QStartNoAckMode: OK first, then the transport switches', async () => {
  const { ask, transport } = setup();
  assert.deepEqual(await ask('QStartNoAckMode'), ['OK']);
  assert.equal(transport.noAck, true);
});

test('qRcmd: output as hex O packets, then OK; unknown command gets the empty reply', async () => {
  const { ask, handshake } = setup({ maxPacket: 0x400 });
  await handshake();
  assert.deepEqual(await ask(`qRcmd,${textToHex('hello')}`), ['O' + textToHex('hello from the fake\n'), 'OK']);
  assert.deepEqual(await ask(`qRcmd,${textToHex('nope')}`), ['']);
  assert.deepEqual(await ask('qRcmd,zz'), ['E01']);
  const big = await ask(`qRcmd,${textToHex('big')}`);
  assert.equal(big.at(-1), 'OK');
  assert.ok(big.length > 2);
  assert.ok(big.every((p) => p.length <= 0x400));
  const text = big.slice(0, -1).map((p) => Buffer.from(p.slice(1), 'hex').toString()).join('');
  assert.equal(text, 'x'.repeat(20000) + '\n');
});

test('vFile: open/pread/pwrite/fstat/close/readlink/unlink with gdb flags and errno', async () => {
  const { one, handshake, target } = setup({ maxPacket: 0x100 });
  await handshake();
  const content = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  target.files.set('/lib/x.so', content);
  assert.equal(await one('vFile:setfs:0'), 'F0');
  assert.equal(await one(`vFile:open:${textToHex('/nope')},0,0`), 'F-1,2');
  // gdb O_CREAT|O_TRUNC|O_WRONLY = 0x601 → Linux 0x241.
  assert.equal(await one(`vFile:open:${textToHex('/lib/x.so')},601,1a4`), 'F3');
  assert.ok(target.calls.includes('open /lib/x.so 241 644'));
  const r = await one('vFile:pread:3,1000,0');
  const m = /^F([0-9a-f]+);/.exec(r)!;
  const got = unescapeBinary(r.slice(m[0].length))!;
  assert.equal(got.length, parseInt(m[1], 16));
  assert.ok(r.length <= 0x100);
  assert.deepEqual(got, content.subarray(0, got.length));
  assert.equal(await one('vFile:pread:3,10,3e8'), 'F0;');
  assert.equal(await one('vFile:pread:9,10,0'), 'F-1,9');
  assert.equal(await one('vFile:pwrite:3,2,a,}]'), 'F3');
  assert.deepEqual(target.files.get('/lib/x.so')!.subarray(0, 5), Uint8Array.from([0, 1, 0x61, 0x2c, 0x7d]));
  const st = await one('vFile:fstat:3');
  assert.match(st, /^F40;/);
  assert.equal(unescapeBinary(st.slice(4))!.length, 64);
  assert.equal(await one('vFile:close:3'), 'F0');
  assert.equal(await one('vFile:close:3'), 'F-1,9');
  assert.equal(await one(`vFile:readlink:${textToHex('/proc/self/exe')}`), 'Fa;/fake/prog');
  assert.equal(await one(`vFile:unlink:${textToHex('/lib/x.so')}`), 'F0');
  assert.equal(await one(`vFile:unlink:${textToHex('/lib/x.so')}`), 'F-1,2');
  assert.equal(await one('vFile:open:zz,0,0'), 'F-1,16');
  assert.equal(await one('vFile:frobnicate:1'), '');
});

test('detach, kill, and a dropped connection clean up and tell the target', async () => {
  const d = setup();
  await d.handshake();
  await d.one(`Z0,${(CODE_BASE + 4).toString(16)},1`);
  await d.one(`Z2,${(STACK_TOP - 8).toString(16)},8`);
  await d.one('QCatchSyscalls:1');
  // Malformed: an error, and nothing happens.
  for (const bad of ['Dx', 'D;', 'D;zz', 'D1234']) assert.equal(await d.one(bad), 'E01', bad);
  assert.equal(d.session.ended, null);
  assert.equal(await d.one('D;1234'), 'OK');
  assert.deepEqual(d.target.calls.slice(-4), [`remove sw ${(CODE_BASE + 4).toString(16)}`, `remove watch ${(STACK_TOP - 8).toString(16)},8`, 'catch off', 'detach']);
  assert.equal(d.session.ended, 'detached');
  d.session.connectionClosed();
  assert.equal(d.target.calls.filter((c) => c === 'detach').length, 1);

  const k = setup();
  await k.handshake();
  assert.deepEqual(await k.ask('k'), []);
  assert.equal(k.target.calls.at(-1), 'kill');
  const v = setup();
  for (const bad of ['vKill', 'vKill;', 'vKill;x']) assert.equal(await v.one(bad), 'E01', bad);
  assert.equal(v.session.ended, null);
  assert.equal(await v.one('vKill;1234'), 'OK');
  assert.equal(v.session.ended, 'killed');

  // Dropped mid-continue: the guest is detached and the late stop is not sent anywhere.
  const c = setup();
  await c.handshake();
  const pending = c.session.receivePacket('c');
  await new Promise((r) => setImmediate(r));
  c.session.connectionClosed();
  assert.equal(c.target.calls.at(-1), 'detach');
  const before = c.transport.sent.length;
  c.target.interrupt();
  await pending;
  assert.equal(c.transport.sent.length, before);
});

test('a throwing target costs one E01 reply, not the session', async () => {
  const { one, handshake, target } = setup();
  await handshake();
  target.monitor = () => {
    throw new Error('boom');
  };
  assert.equal(await one(`qRcmd,${textToHex('x')}`), 'E01');
  assert.equal(await one('qC'), 'QCp1234.1234');
});
