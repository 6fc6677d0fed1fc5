import { connect, type Socket } from 'node:net';
import { PacketDecoder, frame, type DecoderEvent } from '../src/gdb/framing.js';
import { rleDecode } from '../src/gdb/rle.js';

/**
 * A small Remote Serial Protocol client for the server tests: it frames
 * requests, follows acks, expands run-length encoding, and also lets a test
 * put arbitrary bytes on the wire.
 */
export class RspClient {
  noAck = false;
  private readonly decoder = new PacketDecoder(1 << 20);
  private readonly events: DecoderEvent[] = [];
  private waiter: (() => void) | null = null;
  private isClosed = false;
  readonly closed: Promise<void>;
  /** Everything received, raw (for tests that look at the bytes). */
  received = '';

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.received += chunk.toString('latin1');
      this.events.push(...this.decoder.push(chunk));
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static connect(where: number | string): Promise<RspClient> {
    return new Promise((resolve, reject) => {
      const socket = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
      socket.once('connect', () => resolve(new RspClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next event from the server (ack, nak, packet...); rejects when the connection closes first. */
  async nextEvent(): Promise<DecoderEvent> {
    for (;;) {
      const e = this.events.shift();
      if (e) return e;
      if (this.isClosed) throw new Error('connection closed');
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** The next packet (run-length decoded), acknowledging it unless in no-ack mode. Acks before it are skipped. */
  async nextPacket(): Promise<string> {
    for (;;) {
      const e = await this.nextEvent();
      if (e.type === 'packet') {
        if (!this.noAck) this.sendRaw('+');
        const d = rleDecode(e.data);
        if (d === null) throw new Error(`bad run-length encoding in ${JSON.stringify(e.data)}`);
        return d;
      }
      if (e.type !== 'ack') throw new Error(`unexpected ${e.type}`);
    }
  }

  sendRaw(bytes: string): void {
    this.socket.write(Buffer.from(bytes, 'latin1'));
  }

  sendPacket(payload: string): void {
    this.sendRaw(frame(payload));
  }

  /** Sends a request and returns the reply (after its ack, in ack mode). */
  async request(payload: string): Promise<string> {
    this.sendPacket(payload);
    if (!this.noAck) {
      const ack = await this.nextEvent();
      if (ack.type !== 'ack') throw new Error(`expected an ack for ${payload}, got ${ack.type}`);
    }
    return this.nextPacket();
  }

  /** Handshake like gdb: qSupported with multiprocess/swbreak/hwbreak; returns the reply. */
  async handshake(features = 'multiprocess+;swbreak+;hwbreak+;vContSupported+'): Promise<string> {
    return this.request(`qSupported:${features}`);
  }

  close(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
}
