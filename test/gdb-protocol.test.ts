import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeBinary, unescapeBinary } from '../src/gdb/binary-escape.js';
import { PacketDecoder, checksum, frame, type DecoderEvent } from '../src/gdb/framing.js';
import { bytesToHex, hexToBytes, hexToText, parseHex, parseSignedHex, textToHex } from '../src/gdb/hex.js';
import { RspLink } from '../src/gdb/link.js';
import { rleDecode, rleEncode } from '../src/gdb/rle.js';
import { gdbToLinuxSignal, linuxToGdbSignal, GDB_SIGNAL_UNKNOWN } from '../src/gdb/signals.js';
import { parseListenAddress, isLoopback } from '../src/gdb/server-address.js';

const latin1 = (bytes: number[]) => String.fromCharCode(...bytes);

test('checksum and framing match gdb', () => {
  // Captured from gdb 13 talking to gdbserver.
  assert.equal(frame('vMustReplyEmpty'), '$vMustReplyEmpty#3a');
  assert.equal(frame('QStartNoAckMode'), '$QStartNoAckMode#b0');
  assert.equal(frame('Hgp0.0'), '$Hgp0.0#ad');
  assert.equal(frame(''), '$#00');
  assert.equal(checksum('\xff\x02'), 0x01);
});

test('hex helpers', () => {
  assert.equal(bytesToHex(Uint8Array.from([0, 0xab, 0x7f])), '00ab7f');
  assert.deepEqual(hexToBytes('00AB7f'), Uint8Array.from([0, 0xab, 0x7f]));
  assert.equal(hexToBytes('abc'), null);
  assert.equal(hexToBytes('zz'), null);
  assert.equal(parseHex('7ffff7fe4b70'), 0x7ffff7fe4b70);
  assert.equal(parseHex(''), null);
  assert.equal(parseHex('12g'), null);
  assert.equal(parseSignedHex('-1'), -1);
  assert.equal(hexToText(textToHex('info ✓')), 'info ✓');
});

test('binary escaping round-trips every byte and escapes exactly # $ } *', () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const { text, count } = escapeBinary(all);
  assert.equal(count, 256);
  assert.equal(text.length, 256 + 4);
  for (const c of ['#', '$', '*']) assert.ok(!text.includes(c), `raw ${c} in escaped data`);
  assert.ok(text.includes('}\x03') && text.includes('}\x04') && text.includes('}]') && text.includes('}\x0a'));
  assert.deepEqual(unescapeBinary(text), all);
  assert.equal(unescapeBinary('ab}'), null);
});

test('binary escaping stops before exceeding the size limit', () => {
  const data = Uint8Array.from([0x41, 0x23, 0x42]);
  assert.deepEqual(escapeBinary(data, 2), { text: 'A', count: 1 }); // '#' needs two chars
  assert.deepEqual(escapeBinary(data, 3), { text: 'A}\x03', count: 2 });
  assert.deepEqual(escapeBinary(data, 3, 1), { text: '}\x03B', count: 2 });
});

test('run-length encoding matches gdbserver and never emits # $ + - as counts', () => {
  // gdbserver's reply captured on this machine, and its expansion.
  const wire = 'T0506:0*,;07:20e8f*"7f0* ;';
  assert.equal(rleDecode(wire), 'T0506:' + '0'.repeat(16) + ';07:20e8' + 'f'.repeat(6) + '7f' + '0'.repeat(4) + ';');
  for (let n = 1; n < 400; n++) {
    for (const c of ['0', 'f', '}']) {
      const s = 'x' + c.repeat(n) + 'y';
      const enc = rleEncode(s);
      assert.equal(rleDecode(enc), s, `run of ${n}`);
      for (let i = 0; i < enc.length; i++) {
        if (enc[i] === '*') assert.ok(!'#$+-'.includes(enc[i + 1]), `forbidden count after run of ${n}: ${enc}`);
      }
      assert.ok(enc.length <= s.length);
    }
  }
  assert.equal(rleEncode('000'), '000'); // too short to shorten
  assert.equal(rleEncode('0000'), '0* ');
  assert.equal(rleDecode('*a'), null);
});

function decodeAll(d: PacketDecoder, chunks: string[]): DecoderEvent[] {
  return chunks.flatMap((c) => d.push(c));
}

test('decoder: packets split anywhere, several per chunk, garbage in between', () => {
  const stream = 'junk+' + frame('qSupported:multiprocess+') + '\r\n' + frame('g') + '-' + frame('m401000,4') + '\x03';
  const expected: DecoderEvent[] = [
    { type: 'ack' },
    { type: 'packet', data: 'qSupported:multiprocess+' },
    { type: 'packet', data: 'g' },
    { type: 'nak' },
    { type: 'packet', data: 'm401000,4' },
    { type: 'interrupt' },
  ];
  // Every split point, and byte-by-byte.
  for (let cut = 0; cut <= stream.length; cut++) {
    assert.deepEqual(decodeAll(new PacketDecoder(4096), [stream.slice(0, cut), stream.slice(cut)]), expected, `cut at ${cut}`);
  }
  assert.deepEqual(decodeAll(new PacketDecoder(4096), [...stream]), expected);
  const d = new PacketDecoder(4096);
  d.push(stream);
  assert.equal(d.garbageBytes, 6);
});

test('decoder: 0x03 inside a packet is data, between packets an interrupt', () => {
  const payload = 'X1000,1:\x03';
  assert.deepEqual(new PacketDecoder(100).push(frame(payload) + '\x03'), [{ type: 'packet', data: payload }, { type: 'interrupt' }]);
});

test('decoder: bad checksums are reported and the stream stays in sync', () => {
  const d = new PacketDecoder(100);
  assert.deepEqual(d.push('$g#00$g#zz' + frame('qC')), [
    { type: 'bad-checksum', data: 'g' },
    { type: 'bad-checksum', data: 'g' },
    { type: 'packet', data: 'qC' },
  ]);
  // A frame cut short by a new '$' (in the checksum or in the payload) costs only itself.
  assert.deepEqual(d.push('$qC#4$qC#b4'), [{ type: 'bad-checksum', data: 'qC' }, { type: 'packet', data: 'qC' }]);
  assert.deepEqual(d.push('$qAtt$qC#b4'), [{ type: 'packet', data: 'qC' }]);
});

test('decoder: overlong packets are skipped without buffering', () => {
  const d = new PacketDecoder(16);
  const big = 'M1000,100:' + '00'.repeat(0x100);
  assert.deepEqual(d.push(frame(big) + frame('qC')), [{ type: 'overlong', length: big.length }, { type: 'packet', data: 'qC' }]);
  const exact = 'x'.repeat(16);
  assert.deepEqual(d.push(frame(exact)), [{ type: 'packet', data: exact }]);
});

function makeLink(max = 64) {
  const out: string[] = [];
  const got: string[] = [];
  const link = new RspLink((b) => out.push(b), { packet: (p) => got.push(p), interrupt: () => got.push('^C'), overlong: (n) => got.push(`overlong ${n}`) }, max);
  return { link, out, got };
}

test('link: acks good packets, naks bad ones, retransmits the last reply on -', () => {
  const { link, out, got } = makeLink();
  link.receive(frame('qC'));
  assert.deepEqual(out, ['+']);
  assert.deepEqual(got, ['qC']);
  link.send('QCp1.1');
  assert.equal(out[1], frame('QCp1.1'));
  link.receive('-');
  assert.equal(out[2], frame('QCp1.1'));
  link.receive('+');
  link.receive('$qC#00');
  assert.equal(out[3], '-');
  assert.equal(out.length, 4);
  link.receive('\x03');
  assert.deepEqual(got, ['qC', '^C']);
});

test('link: replies are run-length encoded and capped to the packet size', () => {
  const { link, out } = makeLink(32);
  link.send('0'.repeat(32));
  assert.equal(out[0], frame(rleEncode('0'.repeat(32))));
  link.send('0'.repeat(33));
  assert.equal(out[1], frame('E01'));
});

test('link: no-ack mode sends no acks and ignores + and -', () => {
  const { link, out, got } = makeLink();
  link.receive(frame('QStartNoAckMode'));
  link.send('OK');
  link.startNoAckMode();
  assert.deepEqual(out, ['+', frame('OK')]);
  link.receive('+' + frame('g') + '-');
  assert.deepEqual(out, ['+', frame('OK')]);
  assert.deepEqual(got, ['QStartNoAckMode', 'g']);
  assert.equal(link.ackMode, false);
});

test('link: an overlong packet is acked and reported', () => {
  const { link, out, got } = makeLink(8);
  link.receive(frame('m1234567,89ab'));
  assert.deepEqual(out, ['+']);
  assert.deepEqual(got, ['overlong 13']);
});

test('signal numbers: Linux ↔ gdb', () => {
  const pairs: Array<[number, number]> = [
    [2, 2], [5, 5], [11, 11], [7, 10], [31, 12], [10, 30], [12, 31], [17, 20], [14, 14], [6, 6], [8, 8], [4, 4],
    [9, 9], [15, 15], [13, 13], [19, 17], [18, 19], [20, 18], [23, 16], [29, 23], [30, 32], [32, 77], [33, 45], [63, 75], [64, 78],
  ];
  for (const [linux, gdb] of pairs) {
    assert.equal(linuxToGdbSignal(linux), gdb, `linux ${linux}`);
    assert.equal(gdbToLinuxSignal(gdb), linux, `gdb ${gdb}`);
  }
  assert.equal(linuxToGdbSignal(16), GDB_SIGNAL_UNKNOWN); // SIGSTKFLT
  assert.equal(gdbToLinuxSignal(7), null); // SIGEMT: not on Linux
});

test('listen addresses', () => {
  assert.deepEqual(parseListenAddress(':1234'), { host: '127.0.0.1', port: 1234 });
  assert.deepEqual(parseListenAddress('1234'), { host: '127.0.0.1', port: 1234 });
  assert.deepEqual(parseListenAddress('0.0.0.0:99'), { host: '0.0.0.0', port: 99 });
  assert.deepEqual(parseListenAddress('[::1]:5'), { host: '::1', port: 5 });
  assert.deepEqual(parseListenAddress('unix:/tmp/g.sock'), { unixPath: '/tmp/g.sock' });
  assert.equal(parseListenAddress('host:port'), null);
  assert.equal(parseListenAddress(':70000'), null);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('localhost') && isLoopback('::1'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('192.168.1.2'));
});
