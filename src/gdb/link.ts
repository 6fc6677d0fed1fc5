import createDebug from 'debug';
import { PacketDecoder, frame } from './framing.js';
import { rleEncode } from './rle.js';

const log = createDebug('elfshim:gdb');

/** What the link delivers upward. */
export interface LinkEvents {
  /** A complete, checksum-verified packet payload. */
  packet(data: string): void;
  /** The 0x03 byte between packets (Ctrl-C in gdb). */
  interrupt(): void;
  /** A packet longer than the advertised PacketSize arrived (it was skipped). */
  overlong(length: number): void;
}

/**
 * The acknowledgement layer of one connection: `+` for every good packet,
 * `-` for a bad checksum, retransmission of the last reply when the peer
 * sends `-`, and no-ack mode after QStartNoAckMode. Replies are run-length
 * encoded and framed here. Sockets stay outside: bytes go to `write`.
 */
export class RspLink {
  private readonly decoder: PacketDecoder;
  private lastFrame: string | null = null;
  private noAck = false;

  constructor(
    private readonly write: (bytes: string) => void,
    private readonly events: LinkEvents,
    /** Largest payload accepted and sent (the advertised PacketSize). */
    readonly maxPacket: number,
  ) {
    this.decoder = new PacketDecoder(maxPacket);
  }

  get ackMode(): boolean {
    return !this.noAck;
  }

  /** Feeds received bytes (any chunking). */
  receive(chunk: Uint8Array | string): void {
    for (const ev of this.decoder.push(chunk)) {
      switch (ev.type) {
        case 'packet':
          log('<- %s', preview(ev.data));
          if (!this.noAck) this.write('+');
          this.events.packet(ev.data);
          break;
        case 'ack':
          break;
        case 'nak':
          // In no-ack mode a stray '-' means nothing; otherwise the peer wants the last reply again.
          if (!this.noAck && this.lastFrame !== null) {
            log('-> (retransmit) %s', preview(this.lastFrame));
            this.write(this.lastFrame);
          }
          break;
        case 'interrupt':
          log('<- ^C');
          this.events.interrupt();
          break;
        case 'bad-checksum':
          log('<- bad checksum: %s', preview(ev.data));
          // Without acks the peer cannot resend; drop it (TCP does not corrupt, so this is a broken peer).
          if (!this.noAck) this.write('-');
          break;
        case 'overlong':
          log('<- overlong packet (%d bytes) skipped', ev.length);
          if (!this.noAck) this.write('+');
          this.events.overlong(ev.length);
          break;
      }
    }
  }

  /**
   * Sends one reply payload (already hex- or binary-escaped). It must fit the
   * packet size: callers size their data with maxPacket.
   */
  send(payload: string): void {
    if (payload.length > this.maxPacket) {
      // A bug in a handler: never put an oversized packet on the wire.
      log('reply of %d bytes exceeds PacketSize; sending E01 instead', payload.length);
      payload = 'E01';
    }
    const f = frame(rleEncode(payload));
    log('-> %s', preview(payload));
    this.lastFrame = f;
    this.write(f);
  }

  /** Switches to no-ack mode (after the OK reply to QStartNoAckMode went out). */
  startNoAckMode(): void {
    this.noAck = true;
  }
}

function preview(s: string): string {
  if (!log.enabled) return '';
  const shown = s.length > 200 ? s.slice(0, 200) + `... (${s.length} bytes)` : s;
  return JSON.stringify(shown);
}
