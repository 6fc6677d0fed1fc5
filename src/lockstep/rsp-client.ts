import { connect, type Socket } from 'node:net';
import { PacketDecoder, frame } from '../gdb/framing.js';
import { rleDecode } from '../gdb/rle.js';
import { unescapeBinary } from '../gdb/binary-escape.js';
import { hexToBytes } from '../gdb/hex.js';

/** LOCKSTEP_RSP_LOG=1 prints every request and reply (debugging the differ itself). */
const LOG = !!process.env.LOCKSTEP_RSP_LOG;

/**
 * A minimal Remote Serial Protocol client for the lockstep differ: one
 * request in flight at a time, no-ack mode after the handshake, Nagle off
 * (a step is a few small packets; delayed acks would cost 40 ms each).
 */
export class RspClient {
  private readonly decoder = new PacketDecoder(1 << 22);
  private readonly replies: string[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;
  private noAck = false;

  private constructor(
    private readonly socket: Socket,
    readonly name: string,
  ) {
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      for (const e of this.decoder.push(chunk)) {
        if (e.type !== 'packet') continue;
        if (!this.noAck) socket.write('+');
        const d = rleDecode(e.data);
        this.replies.push(d ?? e.data);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Connects, retrying until the server listens (it may still be starting). */
  static async connect(where: number | string, name: string, timeoutMs = 10000): Promise<RspClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new RspClient(socket, name);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Sends one packet and returns its reply. */
  async request(payload: string): Promise<string> {
    if (this.closed) throw new Error(`${this.name}: connection closed (sending ${payload.slice(0, 30)})`);
    this.socket.write(frame(payload));
    for (;;) {
      const r = this.replies.shift();
      if (r !== undefined) {
        if (LOG) process.stderr.write(`[${this.name}] ${payload.slice(0, 60)} -> ${r.slice(0, 60)}\n`);
        return r;
      }
      if (this.closed) throw new Error(`${this.name}: connection closed (waiting for the reply to ${payload.slice(0, 30)})`);
      await new Promise<void>((res) => (this.waiter = res));
    }
  }

  /**
   * Sends several packets at once and returns their replies in order. Only
   * for servers that queue packets while a resume runs (elfshim's stub
   * does; gdbserver reads stray bytes during a resume as interrupts).
   */
  async requestMany(payloads: string[]): Promise<string[]> {
    if (this.closed) throw new Error(`${this.name}: connection closed (sending ${payloads[0].slice(0, 30)})`);
    this.socket.write(payloads.map(frame).join(''));
    const out: string[] = [];
    while (out.length < payloads.length) {
      const r = this.replies.shift();
      if (r !== undefined) {
        if (LOG) process.stderr.write(`[${this.name}] ${payloads[out.length].slice(0, 60)} -> ${r.slice(0, 60)}\n`);
        out.push(r);
        continue;
      }
      if (this.closed) {
        // The process ended with the first request (say, a step into exit): the rest get no reply.
        if (out.length > 0) return [...out, ...payloads.slice(out.length).map(() => '')];
        throw new Error(`${this.name}: connection closed (waiting for the reply to ${payloads[out.length].slice(0, 30)})`);
      }
      await new Promise<void>((res) => (this.waiter = res));
    }
    return out;
  }

  /** qSupported, no-ack mode, and the initial stop reply. */
  async handshake(): Promise<string> {
    await this.request('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386;vContSupported+');
    if ((await this.request('QStartNoAckMode')) === 'OK') this.noAck = true;
    return this.request('?');
  }

  /** Reads a whole qXfer object (object "features", annex "target.xml", …). */
  async xfer(object: string, annex: string): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const r = await this.request(`qXfer:${object}:read:${annex}:${offset.toString(16)},3000`);
      if (r[0] !== 'l' && r[0] !== 'm') throw new Error(`qXfer:${object}:read:${annex} failed: ${r}`);
      const data = unescapeBinary(r.slice(1)) ?? new Uint8Array();
      parts.push(data);
      offset += data.length;
      if (r[0] === 'l' || data.length === 0) break;
    }
    const all = new Uint8Array(offset);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  /** Reads memory; null when the target refuses (unmapped). */
  async readMemory(addr: number, len: number): Promise<Uint8Array | null> {
    if (len === 0) return new Uint8Array();
    const r = await this.request(`m${addr.toString(16)},${len.toString(16)}`);
    if (r.startsWith('E') && r.length === 3) return null;
    const b = hexToBytes(r);
    return b && b.length === len ? b : null;
  }

  async writeMemory(addr: number, data: Uint8Array): Promise<boolean> {
    const r = await this.request(`M${addr.toString(16)},${data.length.toString(16)}:${Buffer.from(data).toString('hex')}`);
    return r === 'OK';
  }

  close(): void {
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
