import type { FileDescription } from './description.js';
import { descriptionReleased } from './locks.js';
import { Pipe } from './pipe.js';

/** File descriptions sent with SCM_RIGHTS, riding on the bytes [at, at + len) of the stream. */
interface Rights {
  at: number;
  len: number;
  files: FileDescription[];
}

/**
 * One direction of an AF_UNIX stream connection inside elfshim: the bytes
 * (a Pipe) plus the file descriptions in flight with them (SCM_RIGHTS).
 *
 * Linux attaches passed fds to the skb that carried them: a read stops after
 * the bytes of a message that carried fds (so they arrive with their own
 * data and not a later message's), and a read without room for ancillary data
 * closes them. Offsets count bytes since the channel was made, so the
 * records need no adjusting as bytes are consumed. An in-flight description
 * holds a reference (refs) like an fd does: the sender may close its fd.
 */
export class UnixChannel extends Pipe {
  private written = 0;
  private consumed = 0;
  private rights: Rights[] = [];
  /** Message mode counts messages, not bytes: an empty message has a place of its own. */
  private messagesWritten = 0;
  private messagesConsumed = 0;
  /** The lengths of the queued messages, in order, for SOCK_DGRAM / SOCK_SEQPACKET pairs; null for a byte stream. */
  readonly messages: number[] | null;

  constructor(messages = false) {
    super();
    this.messages = messages ? [] : null;
  }

  /** Whether a read would find something (a zero-length message counts). */
  get pending(): boolean {
    return this.messages ? this.messages.length > 0 : this.size > 0;
  }

  push(data: Uint8Array): void {
    this.written += data.length;
    if (this.messages) {
      this.messages.push(data.length);
      this.messagesWritten++;
    }
    super.push(data);
  }

  /** Message mode: drops the whole next message (what a read did not take of it is lost). */
  consumeMessage(): void {
    this.drop(this.take(0)); // files of a message read without room for them are closed
    const n = this.messages!.shift() ?? 0;
    this.messagesConsumed++;
    this.consumed += n;
    super.consume(n);
    if (n === 0) this.changed.wakeAll();
  }

  consume(n: number): void {
    this.drop(this.take(n)); // bytes read without asking for ancillary data: their fds are closed
    this.consumed += n;
    super.consume(n);
  }

  /** Attaches files to the next len bytes (message mode: the next message) to be pushed. */
  attach(files: FileDescription[], len: number): void {
    for (const f of files) f.refs++;
    this.rights.push({ at: this.messages ? this.messagesWritten : this.written, len, files });
  }

  /** How many of max bytes one read may take: up to the end of the first message that carries fds. */
  limit(max: number): number {
    const r = this.rights[0];
    if (this.messages) return max; // one message per read anyway
    if (!r || r.at >= this.consumed + max) return max;
    return Math.max(1, Math.min(max, r.at + r.len - this.consumed));
  }

  /**
   * The files riding on the next n bytes (n from limit()): detached from the
   * channel, each still holding its in-flight reference, or duplicated when
   * peeking (MSG_PEEK gives copies and leaves them queued, as Linux does).
   */
  take(n: number, peek = false): FileDescription[] {
    const r = this.rights[0];
    // A message's files ride on the message (even an empty one); a stream's on the bytes.
    if (!r || (this.messages ? r.at !== this.messagesConsumed : r.at >= this.consumed + n)) return [];
    if (peek) {
      for (const f of r.files) f.refs++;
      return [...r.files];
    }
    this.rights.shift();
    return r.files;
  }

  /** Lets go of in-flight references (received files that found no fd, or a channel nobody reads). */
  drop(files: FileDescription[]): void {
    for (const f of files) dropReference(f);
  }

  /** The last reader is gone: whatever is in flight is closed. */
  discard(): void {
    for (const r of this.rights.splice(0)) this.drop(r.files);
  }
}

/** One reference (an fd or an in-flight message) to d went away. */
export function dropReference(d: FileDescription): void {
  if (--d.refs === 0) {
    descriptionReleased(d);
    d.release();
  }
}
