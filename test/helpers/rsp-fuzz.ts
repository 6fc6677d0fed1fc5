// Generators of hostile Remote Serial Protocol traffic (fast-check arbitraries),
// shared by the in-process and the over-the-socket protocol fuzz tests.
import fc from 'fast-check';
import { checksum, frame } from '../../src/gdb/framing.js';
import { bytesToHex, hex2 } from '../../src/gdb/hex.js';
import { escapeBinary } from '../../src/gdb/binary-escape.js';

/** One fuzz case: the bytes to put on the wire (latin1), possibly in several chunks. */
export interface FuzzCase {
  chunks: string[];
  /** '$'-framed packets in the case (good or broken). */
  packets: number;
}

/** Address ranges the fuzzer aims at (mapped memory, its edges, and the rest). */
export interface AddressTargets {
  /** [start, end) of mapped regions worth hitting. */
  regions: Array<[number, number]>;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const hexNum = (n: number) => n.toString(16);

/** Hex numbers gdb would never send: empty, huge, negative-looking, not hex at all. */
const weirdNumber = fc.oneof(
  fc.constantFrom('', '-1', 'ffffffffffffffff', '10000000000000000', 'f'.repeat(40), '0x10', 'zz', ' 1', '1 ', '８'),
  fc.stringMatching(/^[0-9a-fA-F]{1,24}$/),
  fc.string({ maxLength: 6 }),
);

export function addressArb(t: AddressTargets): fc.Arbitrary<string> {
  const inRegion = fc
    .tuple(fc.integer({ min: 0, max: t.regions.length - 1 }), fc.integer({ min: -64, max: 0x11000 }))
    .map(([r, d]) => {
      const [start, end] = t.regions[r];
      return hexNum(Math.max(0, d < 0x8000 ? start + d : end - (d - 0x8000)));
    });
  return fc.oneof(
    { weight: 6, arbitrary: inRegion },
    { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => b.toString(16)) },
    { weight: 1, arbitrary: fc.constantFrom('0', '7ffffffff000', '7fffffffffff', '800000000000', 'ffff800000000000', 'fffffffffffff000') },
    { weight: 1, arbitrary: weirdNumber },
  );
}

const lengthArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }).map(hexNum) },
  { weight: 2, arbitrary: fc.constantFrom(0x1000, 0x1001, 0x2000, 0x3fff, 0x4000, 0x8000, 0x10000, 0x100000, 2 ** 31, 2 ** 32 + 1, 2 ** 53).map(hexNum) },
  { weight: 1, arbitrary: weirdNumber },
);

const smallHex = fc.integer({ min: 0, max: 0x200 }).map(hexNum);
const threadId = fc.oneof(fc.constantFrom('-1', '0', 'p-1.-1', 'p0.0', '1'), smallHex, fc.tuple(smallHex, smallHex).map(([p, t]) => `p${p}.${t}`), fc.bigInt({ min: 0n, max: 1n << 70n }).map((b) => b.toString(16)), weirdNumber);
// Mostly "no signal": most real signals end the guest, which ends the interesting part of a run.
const signal = fc.oneof({ weight: 8, arbitrary: fc.constant('00') }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x100 }).map(hex2) }, { weight: 1, arbitrary: weirdNumber });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

/** Paths a hostile debugger might ask vFile for. */
export function hostilePathArb(extra: string[]): fc.Arbitrary<string> {
  const pieces = ['..', '.', '', 'etc', 'passwd', 'shadow', 'proc', 'self', 'root', 'cwd', 'exe', 'fd', '0', '3', '1', 'dev', 'null', 'zero', 'tty', '...', '\0', '%2e%2e', '..\\..'];
  const composed = fc.tuple(fc.boolean(), fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 12 })).map(([abs, p]) => (abs ? '/' : '') + p.join('/'));
  return fc.oneof(
    fc.constantFrom(
      '/../../etc/shadow', '../../../../etc/passwd', '/proc/self/root/etc/passwd', '/proc/self/cwd/../../etc/passwd',
      '/proc/1/root/etc/passwd', '/proc/self/fd/0', '/proc/self/exe', '/dev/zero', '/dev/urandom', '/dev/tty', '/', '', '//////', 'x'.repeat(5000),
      '/proc/self/fd/../../../../etc/passwd', ...extra,
    ),
    composed,
    fc.string({ maxLength: 40 }),
  );
}

/** One command payload with random (mostly hostile) arguments; every command letter appears. */
export function commandArb(t: AddressTargets, gLength: number, paths: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const addr = addressArb(t);
  const writeData = fc.tuple(addr, bytes(600), fc.integer({ min: -2, max: 8 }));
  const textHex = (s: string) => bytesToHex(Buffer.from(s, 'latin1'));
  const vfile = fc.oneof(
    fc.tuple(paths, fc.constantFrom('0', '1', '2', '200', '201', '601', '8', 'ffffffff', 'zz'), fc.constantFrom('0', '1ff', '-1', 'x')).map(([p, f, m]) => `vFile:open:${textHex(p)},${f},${m}`),
    fc.tuple(fc.integer({ min: -2, max: 70 }), lengthArb, lengthArb).map(([fd, n, off]) => `vFile:pread:${hexNum(fd < 0 ? 0 : fd)},${n},${off}`),
    fc.tuple(fc.integer({ min: 0, max: 70 }), lengthArb, bytes(100)).map(([fd, off, d]) => `vFile:pwrite:${hexNum(fd)},${off},${escapeBinary(d).text}`),
    fc.integer({ min: -1, max: 70 }).map((fd) => `vFile:close:${fd < 0 ? '-1' : hexNum(fd)}`),
    fc.integer({ min: 0, max: 70 }).map((fd) => `vFile:fstat:${hexNum(fd)}`),
    paths.map((p) => `vFile:readlink:${textHex(p)}`),
    paths.map((p) => `vFile:unlink:${textHex(p)}`),
    fc.constantFrom('vFile:setfs:0', 'vFile:setfs:1', 'vFile:setfs:zz', 'vFile:', 'vFile:open:', 'vFile:pread:', 'vFile:bogus:1,2'),
  );
  const xferObjects = ['features', 'auxv', 'exec-file', 'siginfo', 'threads', 'libraries-svr4', 'memory-map', 'bogus', ''];
  const xfer = fc
    .tuple(fc.constantFrom(...xferObjects), fc.constantFrom('read', 'write', 'x'), fc.constantFrom('', 'target.xml', '64bit-core.xml', '1', '../../etc/passwd', 'i386-64bit.xml'), lengthArb, lengthArb)
    .map(([o, op, annex, off, len]) => `qXfer:${o}:${op}:${annex}:${off},${len}`);
  return fc.oneof(
    fc.constantFrom('?', 'g', 'qC', 'qfThreadInfo', 'qsThreadInfo', 'qAttached', 'vCont?', 'vMustReplyEmpty', 'qTStatus', 'qSymbol::', 'QNonStop:0', 'QNonStop:1', 'QStartNoAckMode', 'qSupported', 'qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+', 'qSupported:multiprocess-;xmlRegisters=i386'),
    // Every other letter and symbol as a command, with random tails.
    fc.tuple(fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.string({ maxLength: 20 })).map(([c, rest]) => (c === '$' || c === '#' ? 'x' : c) + rest.replace(/[$#]/g, '')),
    fc.tuple(addr, lengthArb).map(([a, l]) => `m${a},${l}`),
    writeData.map(([a, d, skew]) => `M${a},${hexNum(Math.max(0, d.length + (skew > 5 ? skew - 5 : 0)))}:${bytesToHex(d)}`),
    writeData.map(([a, d, skew]) => `X${a},${hexNum(Math.max(0, d.length + (skew > 5 ? skew - 5 : 0)))}:${escapeBinary(d).text}`),
    fc.tuple(addr, fc.string({ maxLength: 20 })).map(([a, junk]) => `M${a},4:${junk}`),
    fc.tuple(fc.integer({ min: 0, max: 6 }), addr, fc.oneof(fc.constantFrom('1', '2', '4', '8', '0', '3', 'ffff', 'ffffffffffff', 'fffffffffffffffff'), lengthArb), fc.boolean(), fc.constantFrom('', ';X1,0', ';cmds:0,1')).map(
      ([type, a, kind, ins, cond]) => `${ins ? 'Z' : 'z'}${type},${a},${kind}${cond}`,
    ),
    fc.oneof(fc.integer({ min: 0, max: 0x200 }).map(hexNum), weirdNumber).map((n) => `p${n}`),
    fc.tuple(fc.integer({ min: 0, max: 0x60 }), bytes(20)).map(([n, d]) => `P${hexNum(n)}=${bytesToHex(d)}`),
    fc.oneof(bytes(gLength + 8).map((d) => `G${bytesToHex(d)}`), fc.uint8Array({ minLength: gLength, maxLength: gLength }).map((d) => `G${bytesToHex(d)}`)),
    fc.tuple(fc.constantFrom('c', 's'), fc.option(addr)).map(([k, a]) => k + (a ?? '')),
    fc.tuple(fc.constantFrom('C', 'S'), signal, fc.option(addr)).map(([k, s, a]) => `${k}${s}${a ? ';' + a : ''}`),
    fc.array(fc.tuple(fc.constantFrom('c', 's', 't', 'C02', 'S05', 'C0b', 'r400000,400010', 'x', 'C'), fc.option(threadId)), { minLength: 0, maxLength: 4 }).map((acts) => 'vCont' + acts.map(([a, th]) => `;${a}${th ? ':' + th : ''}`).join('')),
    fc.tuple(fc.constantFrom('g', 'c', 'x', ''), threadId).map(([op, th]) => `H${op}${th}`),
    threadId.map((th) => `T${th}`),
    // (k, D and vKill end the session: rare, so that most packets meet a live guest.)
    fc.integer({ min: 0, max: 19 }).map((n) => ['k', 'D', 'D;1', 'vKill;1', 'vKill'][n] ?? 'qAttached'),
    xfer,
    fc.array(fc.oneof(fc.integer({ min: 0, max: 500 }).map(hexNum), weirdNumber), { maxLength: 5 }).map((nrs) => `QCatchSyscalls:${nrs.length % 3 === 2 ? '0' : '1'}${nrs.map((n) => ';' + n).join('')}`),
    fc.array(signal, { maxLength: 6 }).map((s) => `QPassSignals:${s.join(';')}`),
    fc.constantFrom('help', 'maps', 'syscalls', 'strace off', 'unimplemented enosys', 'unimplemented stop', 'bogus', '', 'x'.repeat(3000)).map((c) => `qRcmd,${textHex(c)}`),
    fc.string({ maxLength: 30 }).map((s) => `qRcmd,${s}`),
    vfile,
  );
}

/** How a payload goes on the wire: intact, or broken in one of the ways a hostile peer would. */
function framed(payload: string): fc.Arbitrary<FuzzCase> {
  const good = frame(payload);
  const badCsum = `$${payload}#${hex2((checksum(payload) + 1) & 0xff)}`;
  const one = (wire: string): FuzzCase => ({ chunks: [wire], packets: 1 });
  const ways: fc.WeightedArbitrary<FuzzCase>[] = [
    { weight: 12, arbitrary: fc.constant(one(good)) },
    { weight: 1, arbitrary: fc.constant(one(badCsum)) },
    { weight: 1, arbitrary: fc.constant(one(`$${payload}#zz`)) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: good.length }).map((k) => one(good.slice(0, k))) },
    // A 0x03 byte somewhere in the frame (inside a payload it is data, between packets an interrupt).
    { weight: 1, arbitrary: fc.integer({ min: 0, max: good.length }).map((k) => one(good.slice(0, k) + '\x03' + good.slice(k))) },
    // Run-length encoding in a request, which gdb never sends.
    { weight: 1, arbitrary: fc.constant(one(frame(payload + '*' + String.fromCharCode(35)))) },
  ];
  return fc.oneof(...ways);
}

/** Whole cases: framed commands, garbage, huge packets, acks, interrupts — split at random points. */
export function caseArb(t: AddressTargets, gLength: number, paths: fc.Arbitrary<string>, keep: (payload: string) => boolean = () => true): fc.Arbitrary<FuzzCase> {
  const command = commandArb(t, gLength, paths).filter(keep).chain(framed);
  const garbage = bytes(200).map((b) => ({ chunks: [latin1(b)], packets: 0 }));
  const huge = fc
    .tuple(fc.integer({ min: 0x3ff0, max: 0x12000 }), fc.constantFrom('m', 'X', 'M', 'vFile:pwrite:3,0,', 'qRcmd,', 'A'), fc.boolean())
    .map(([n, head, terminated]) => ({ chunks: ['$' + head + 'f'.repeat(n) + (terminated ? '#00' : '')], packets: 1 }));
  const oob = fc.constantFrom('\x03', '+', '-', '---', '\x03\x03\x03', '$', '#', '#00', '$#00', '}', '*').map((s) => ({ chunks: [s], packets: s.includes('$') ? 1 : 0 }));
  const one = fc.oneof({ weight: 20, arbitrary: command }, { weight: 2, arbitrary: garbage }, { weight: 1, arbitrary: huge }, { weight: 2, arbitrary: oob });
  return fc
    .tuple(fc.array(one, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 3 }))
    .map(([parts, cuts]) => {
      // Join the parts and re-split the bytes at random points: frames straddle reads.
      const wire = parts.flatMap((p) => p.chunks).join('');
      const points = [...new Set(cuts.map((c) => (wire.length ? c % wire.length : 0)))].sort((a, b) => a - b);
      const chunks: string[] = [];
      let last = 0;
      for (const p of points) {
        chunks.push(wire.slice(last, p));
        last = p;
      }
      chunks.push(wire.slice(last));
      return { chunks: chunks.filter((c) => c.length > 0), packets: parts.reduce((n, p) => n + p.packets, 0) };
    });
}

/** Commands that run, stop or end the guest, or change memory or registers. */
export const CHANGES_GUEST = /^(c|C|s|S|vCont;|k|D|vKill|M|X|G|P|QStartNoAckMode|R|r|!|vRun|vAttach)/;
