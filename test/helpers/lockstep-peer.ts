/**
 * The host side of the network fixtures under the lockstep differ, run as its own process (the fast differ
 * runs elfshim and reads the tracer synchronously in the test's process, whose event loop does not turn
 * meanwhile). Both runs of the program get the same conversation.
 *
 *   lockstep-peer server          netclient's server: "GET n\n" → n pattern bytes, then close; prints its port
 *   lockstep-peer udp-echo        udp host's peer: answers each datagram with "pong: " and it; prints its port
 *   lockstep-peer echo PORTSFILE  tcpserver's clients: waits for the first "ELFSHIM NATIVE" port pair the differ
 *                                 learned (the listening socket's getsockname) and runs the same conversation with
 *                                 both servers at once; prints one transcript line per server
 *
 * The echo conversation is ping-pong in messages smaller than one loopback segment and the server's buffer, so
 * each side's reads see the same sizes (the differ copies read results from native: a run whose socket got more
 * or less at once would wait for bytes its program believes it has).
 */
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { netclientServer } from './netclient-server.js';

export const ECHO_CONNECTIONS = 4;
export const ECHO_MESSAGES = [1, 1000, 16000, 7, 4096];

function server(): void {
  const s = netclientServer();
  s.listen(0, '::', () => process.stdout.write(`port ${(s.address() as { port: number }).port}\n`)); // dual-stack
}

function udpEcho(): void {
  const s = createSocket('udp4');
  s.on('message', (m, from) => s.send(Buffer.concat([Buffer.from('pong: '), m]), from.port, from.address));
  s.bind(0, '127.0.0.1', () => process.stdout.write(`port ${s.address().port}\n`));
}

/** One connection: each message sent once the previous one's echo is back; then a half-close and the server's. */
function conversation(port: number, k: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let i = 0, sent = Buffer.alloc(0), got = Buffer.alloc(0), echoed = 0, wrong = 0;
    const next = () => {
      if (i === ECHO_MESSAGES.length) return s.end();
      const m = Buffer.from(Array.from({ length: ECHO_MESSAGES[i++] }, (_, j) => (j * 31 + k) & 0xff));
      sent = m;
      got = Buffer.alloc(0);
      s.write(m);
    };
    s.on('connect', next);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      echoed += d.length;
      if (got.length < sent.length) return;
      if (!got.equals(sent)) wrong++;
      next();
    });
    s.on('error', (e) => resolve(`error ${e.message}`));
    s.on('end', () => resolve(wrong ? `${echoed}(${wrong} wrong)` : `${echoed}`));
  });
}

async function echo(portsFile: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  let pair: number[] | null = null;
  while (!pair && Date.now() < deadline) {
    let text = '';
    try {
      text = readFileSync(portsFile, 'utf8');
    } catch {}
    const m = /^(\d+) (\d+)\n/.exec(text);
    if (m) pair = [Number(m[1]), Number(m[2])];
    else await new Promise((r) => setTimeout(r, 50));
  }
  if (!pair) throw new Error('no port pair learned');
  const lines = await Promise.all(pair.map(async (port) => {
    const out: string[] = [];
    for (let k = 0; k < ECHO_CONNECTIONS; k++) out.push(await conversation(port, k));
    return out.join(' ');
  }));
  process.stdout.write(`elfshim ${lines[0]}\nnative ${lines[1]}\n`);
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'server') server();
else if (mode === 'udp-echo') udpEcho();
else if (mode === 'echo') await echo(arg);
