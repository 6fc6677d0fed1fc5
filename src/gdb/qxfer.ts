import { escapeBinary } from './binary-escape.js';
import { FEATURE_FILES } from './target-xml.js';
import type { GdbSession } from './session.js';
import { formatThreadId } from './thread-id.js';

/**
 * The objects qXfer:OBJECT:read serves. Each entry is both the handler and
 * the qSupported declaration ("qXfer:OBJECT:read+").
 */
export interface XferObject {
  readonly name: string;
  /** The whole object for an annex, or null when the annex is unknown / the data unavailable. */
  read(s: GdbSession, annex: string): Uint8Array | null;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

export const XFER_OBJECTS: readonly XferObject[] = [
  { name: 'features', read: (_s, annex) => FEATURE_FILES.get(annex) ?? null },
  { name: 'auxv', read: (s, annex) => (annex === '' && !s.processGone ? s.target.auxv() : null) },
  // The annex is the pid in hex (or empty for the current process).
  {
    name: 'exec-file',
    read: (s, annex) => (annex === '' || parseInt(annex, 16) === s.target.pid ? utf8(s.target.execFile()) : null),
  },
  { name: 'siginfo', read: (s, annex) => (annex === '' && !s.processGone ? s.target.siginfo(s.selectedTid) : null) },
  // The whole list every time (no "augmented" start/prev annexes are advertised). A target
  // without the method answers E01 and gdb falls back to reading r_debug from memory.
  {
    name: 'libraries-svr4',
    read: (s) => {
      const xml = s.processGone ? null : s.target.librariesSvr4?.();
      return xml == null ? null : utf8(xml);
    },
  },
  {
    name: 'threads',
    read: (s, annex) => {
      if (annex !== '') return null;
      const tids = s.processGone ? [] : s.target.threads();
      const items = tids.map((t) => {
        const name = s.target.threadName?.(t);
        const named = name ? ` name="${escapeXml(name)}"` : '';
        return `<thread id="${formatThreadId(s.target.pid, t, s.multiprocess)}" core="0"${named}/>\n`;
      });
      return utf8(`<threads>\n${items.join('')}</threads>\n`);
    },
  },
];

/**
 * One window of an object: "m" + data when more follows, "l" + data at the
 * end. The data is binary-escaped and cut to the packet size.
 */
export function xferReply(data: Uint8Array, offset: number, length: number, maxPacket: number): string {
  if (offset >= data.length) return 'l';
  const window = data.subarray(offset, Math.min(data.length, offset + length));
  const { text, count } = escapeBinary(window, maxPacket - 1);
  return (offset + count >= data.length ? 'l' : 'm') + text;
}
