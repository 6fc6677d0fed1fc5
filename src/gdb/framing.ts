import { hex2 } from './hex.js';

/**
 * Packet framing: `$payload#cs` with cs the modulo-256 sum of the payload
 * bytes as two hex digits, plus the out-of-band characters `+` / `-`
 * (acknowledgements) and 0x03 (interrupt) that arrive between packets.
 * Pure: no sockets here.
 */

export const INTERRUPT_BYTE = '\x03';

/** Modulo-256 sum of the payload's bytes (latin1 string). */
export function checksum(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) sum = (sum + payload.charCodeAt(i)) & 0xff;
  return sum;
}

/** `$payload#cs` for an already encoded payload. */
export function frame(payload: string): string {
  return '$' + payload + '#' + hex2(checksum(payload));
}

export type DecoderEvent =
  | { type: 'packet'; data: string }
  | { type: 'ack' }
  | { type: 'nak' }
  | { type: 'interrupt' }
  /** The checksum did not match (or was not hex): the peer should be asked to resend. */
  | { type: 'bad-checksum'; data: string }
  /** The payload exceeded the size limit: it was skipped up to its checksum. */
  | { type: 'overlong'; length: number };

const enum State {
  Idle,
  Payload,
  Checksum1,
  Checksum2,
}

const HEX_CHAR = /^[0-9a-fA-F]$/;

/**
 * Streaming decoder: accepts arbitrary chunks (packets split anywhere,
 * several per chunk, garbage in between) and returns the events they
 * complete. Never throws; a malformed frame costs only that frame.
 */
export class PacketDecoder {
  private state = State.Idle;
  private parts: string[] = [];
  private length = 0;
  private sum = 0;
  private overlong = false;
  private cs1 = '';
  /** Bytes seen outside packets that were neither acks nor interrupts. */
  garbageBytes = 0;

  constructor(readonly maxPayload: number) {}

  /** Feeds a chunk (a Buffer/Uint8Array, or a latin1 string). */
  push(chunk: Uint8Array | string): DecoderEvent[] {
    const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const events: DecoderEvent[] = [];
    let i = 0;
    while (i < s.length) {
      switch (this.state) {
        case State.Idle: {
          const c = s[i++];
          if (c === '$') this.startPacket();
          else if (c === '+') events.push({ type: 'ack' });
          else if (c === '-') events.push({ type: 'nak' });
          else if (c === INTERRUPT_BYTE) events.push({ type: 'interrupt' });
          else this.garbageBytes++;
          break;
        }
        case State.Payload: {
          // Take everything up to the next '#' (end) or '$' (a restarted packet) in one slice.
          let j = i;
          while (j < s.length && s[j] !== '#' && s[j] !== '$') j++;
          this.append(s.slice(i, j));
          i = j;
          if (i < s.length) {
            if (s[i] === '$') this.startPacket(); // gdb restarts a packet on '$' too
            else this.state = State.Checksum1;
            i++;
          }
          break;
        }
        case State.Checksum1:
        case State.Checksum2: {
          const c = s[i++];
          if (c === '$') {
            // A truncated frame followed by a new packet: reject the old one, resynchronise on the new.
            events.push(this.finish('xx'));
            this.startPacket();
          } else if (this.state === State.Checksum1) {
            this.cs1 = c;
            this.state = State.Checksum2;
          } else {
            events.push(this.finish(this.cs1 + c));
            this.state = State.Idle;
          }
          break;
        }
      }
    }
    return events;
  }

  private startPacket(): void {
    this.state = State.Payload;
    this.parts = [];
    this.length = 0;
    this.sum = 0;
    this.overlong = false;
  }

  private append(text: string): void {
    if (text.length === 0) return;
    this.length += text.length;
    if (this.length > this.maxPayload) {
      // Stop buffering: the packet will be rejected anyway.
      this.overlong = true;
      this.parts = [];
      return;
    }
    for (let k = 0; k < text.length; k++) this.sum = (this.sum + text.charCodeAt(k)) & 0xff;
    this.parts.push(text);
  }

  private finish(cs: string): DecoderEvent {
    if (this.overlong) return { type: 'overlong', length: this.length };
    const data = this.parts.join('');
    this.parts = [];
    if (!HEX_CHAR.test(cs[0]) || !HEX_CHAR.test(cs[1]) || parseInt(cs, 16) !== this.sum) return { type: 'bad-checksum', data };
    return { type: 'packet', data };
  }
}
