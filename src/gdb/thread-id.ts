import { parseHex } from './hex.js';

/**
 * Thread ids on the wire: "TID" or, in multiprocess mode, "pPID.TID"; -1
 * means all, 0 means any. Numbers are hex.
 */
export interface ThreadId {
  /** Process id; undefined when the id had no "p" part. */
  pid?: number;
  /** Thread id, -1 for all, 0 for any. */
  tid: number;
}

export const ALL = -1;
export const ANY = 0;

function parsePart(s: string): number | null {
  if (s === '-1') return ALL;
  return parseHex(s);
}

/** Parses a thread id; null when malformed. */
export function parseThreadId(s: string): ThreadId | null {
  if (s.startsWith('p')) {
    const dot = s.indexOf('.');
    const pid = parsePart(dot < 0 ? s.slice(1) : s.slice(1, dot));
    if (pid === null) return null;
    if (dot < 0) return { pid, tid: ALL };
    const tid = parsePart(s.slice(dot + 1));
    return tid === null ? null : { pid, tid };
  }
  const tid = parsePart(s);
  return tid === null ? null : { tid };
}

/** Formats a thread id for the peer. */
export function formatThreadId(pid: number, tid: number, multiprocess: boolean): string {
  return multiprocess ? `p${pid.toString(16)}.${tid.toString(16)}` : tid.toString(16);
}
