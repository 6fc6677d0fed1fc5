import { unescapeBinary } from './binary-escape.js';
import { hexToBytes, parseHex } from './hex.js';
import { parseThreadId, type ThreadId } from './thread-id.js';

/**
 * One parser per packet kind. Each takes the whole packet payload and
 * returns the parsed fields, or null when the packet is malformed (the
 * session answers E.. then). Pure.
 */

/** The packet's name, used to find its handler: "m", "Z", "vCont?", "vFile", "qXfer", "QStartNoAckMode"… */
export function packetName(p: string): string {
  const c = p[0];
  if (c !== 'q' && c !== 'Q' && c !== 'v') return p.slice(0, 1);
  const m = /^[^:;,]*/.exec(p);
  return m ? m[0] : p;
}

/** "addr,len" with hex numbers. */
function addrLen(s: string): { addr: number; len: number } | null {
  const comma = s.indexOf(',');
  if (comma < 0) return null;
  const addr = parseHex(s.slice(0, comma));
  const len = parseHex(s.slice(comma + 1));
  return addr === null || len === null ? null : { addr, len };
}

/** m ADDR,LEN */
export function parseReadMemory(p: string): { addr: number; len: number } | null {
  return addrLen(p.slice(1));
}

/** M ADDR,LEN:HEX — the data length must match LEN. */
export function parseWriteMemoryHex(p: string): { addr: number; data: Uint8Array } | null {
  const colon = p.indexOf(':');
  if (colon < 0) return null;
  const al = addrLen(p.slice(1, colon));
  const data = hexToBytes(p.slice(colon + 1));
  if (!al || !data || data.length !== al.len) return null;
  return { addr: al.addr, data };
}

/** X ADDR,LEN:BINARY — escaped binary data whose length must match LEN. */
export function parseWriteMemoryBinary(p: string): { addr: number; data: Uint8Array } | null {
  const colon = p.indexOf(':');
  if (colon < 0) return null;
  const al = addrLen(p.slice(1, colon));
  const data = unescapeBinary(p.slice(colon + 1));
  if (!al || !data || data.length !== al.len) return null;
  return { addr: al.addr, data };
}

/** Z TYPE,ADDR,KIND[;cond...] and z TYPE,ADDR,KIND */
export function parseBreakpoint(p: string): { insert: boolean; type: number; addr: number; kind: number } | null {
  const m = /^([Zz])([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)(;.*)?$/.exec(p);
  if (!m) return null;
  return { insert: m[1] === 'Z', type: Number(m[2]), addr: parseHex(m[3])!, kind: parseHex(m[4])! };
}

/** p N */
export function parseReadRegister(p: string): number | null {
  return parseHex(p.slice(1));
}

/** P N=HEX */
export function parseWriteRegister(p: string): { regnum: number; data: Uint8Array } | null {
  const eq = p.indexOf('=');
  if (eq < 0) return null;
  const regnum = parseHex(p.slice(1, eq));
  const data = hexToBytes(p.slice(eq + 1));
  return regnum === null || data === null ? null : { regnum, data };
}

/** H OP THREAD-ID (op g: registers/memory, c: continue) */
export function parseSetThread(p: string): { op: string; id: ThreadId } | null {
  const op = p[1];
  if (op === undefined) return null;
  const id = parseThreadId(p.slice(2));
  return id ? { op, id } : null;
}

/** c [ADDR], s [ADDR], C SIG[;ADDR], S SIG[;ADDR] — signal in gdb's numbering. */
export function parseResume(p: string): { step: boolean; signal: number; addr?: number } | null {
  const kind = p[0];
  const step = kind === 's' || kind === 'S';
  let rest = p.slice(1);
  let signal = 0;
  if (kind === 'C' || kind === 'S') {
    const semi = rest.indexOf(';');
    const sig = parseHex(semi < 0 ? rest : rest.slice(0, semi));
    if (sig === null) return null;
    signal = sig;
    rest = semi < 0 ? '' : rest.slice(semi + 1);
  }
  if (rest === '') return { step, signal };
  const addr = parseHex(rest);
  return addr === null ? null : { step, signal, addr };
}

export interface VContAction {
  action: 'c' | 'C' | 's' | 'S' | 't' | 'r';
  /** gdb signal number for C/S. */
  signal: number;
  /** Thread the action applies to; undefined = all threads not named by an earlier action. */
  thread?: ThreadId;
  /** Range for 'r'. */
  start?: number;
  end?: number;
}

/** vCont;ACTION[:THREAD];... */
export function parseVCont(p: string): VContAction[] | null {
  if (!p.startsWith('vCont;')) return null;
  const actions: VContAction[] = [];
  for (const part of p.slice(6).split(';')) {
    const colon = part.indexOf(':');
    const head = colon < 0 ? part : part.slice(0, colon);
    let thread: ThreadId | undefined;
    if (colon >= 0) {
      const t = parseThreadId(part.slice(colon + 1));
      if (!t) return null;
      thread = t;
    }
    const a = head[0];
    if (a === 'c' || a === 's' || a === 't') {
      if (head.length !== 1) return null;
      actions.push({ action: a, signal: 0, thread });
    } else if (a === 'C' || a === 'S') {
      const sig = parseHex(head.slice(1));
      if (sig === null) return null;
      actions.push({ action: a, signal: sig, thread });
    } else if (a === 'r') {
      const range = addrLen(head.slice(1));
      if (!range) return null;
      actions.push({ action: 'r', signal: 0, thread, start: range.addr, end: range.len });
    } else return null;
  }
  return actions.length ? actions : null;
}

/** qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH */
/** qGetTLSAddr:THREAD-ID,OFFSET,LM (hex): a thread-local variable's offset in the module of link_map LM. */
export function parseGetTlsAddr(p: string): { id: ThreadId; offset: number; lm: number } | null {
  const m = /^qGetTLSAddr:([^,]+),([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
  const id = m ? parseThreadId(m[1]) : null;
  return m && id ? { id, offset: parseInt(m[2], 16), lm: parseInt(m[3], 16) } : null;
}

export function parseQXferRead(p: string): { object: string; annex: string; offset: number; length: number } | null {
  const m = /^qXfer:([^:]+):read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
  if (!m) return null;
  return { object: m[1], annex: m[2], offset: parseHex(m[3])!, length: parseHex(m[4])! };
}

/** qSupported[:feature;feature...] → feature → '+', '-', '?' or the value after '='. */
export function parseQSupported(p: string): Map<string, string> {
  const out = new Map<string, string>();
  const colon = p.indexOf(':');
  if (colon < 0) return out;
  for (const f of p.slice(colon + 1).split(';')) {
    if (!f) continue;
    const eq = f.indexOf('=');
    if (eq >= 0) out.set(f.slice(0, eq), f.slice(eq + 1));
    else if (/[+\-?]$/.test(f)) out.set(f.slice(0, -1), f.slice(-1));
    else out.set(f, '+');
  }
  return out;
}

/** QCatchSyscalls:0 | QCatchSyscalls:1[;NR]... → null set = off, empty set = all. undefined when malformed. */
export function parseCatchSyscalls(p: string): Set<number> | null | undefined {
  const m = /^QCatchSyscalls:([01])((?:;[0-9a-fA-F]+)*)$/.exec(p);
  if (!m) return undefined;
  if (m[1] === '0') return m[2] === '' ? null : undefined;
  return new Set(m[2].split(';').filter(Boolean).map((x) => parseHex(x)!));
}

/**
 * vFile:OPERATION:ARGS → the operation and its comma-separated arguments.
 * pwrite's last argument is binary data that may itself contain commas, so
 * it is split off after the first two.
 */
export function parseVFile(p: string): { op: string; args: string[] } | null {
  const m = /^vFile:([a-z]+):?/.exec(p);
  if (!m) return null;
  const op = m[1];
  const rest = p.slice(m[0].length);
  if (op === 'pwrite') {
    const c1 = rest.indexOf(',');
    const c2 = c1 < 0 ? -1 : rest.indexOf(',', c1 + 1);
    if (c2 < 0) return null;
    return { op, args: [rest.slice(0, c1), rest.slice(c1 + 1, c2), rest.slice(c2 + 1)] };
  }
  return { op, args: rest === '' ? [] : rest.split(',') };
}

/**
 * D, D;PID (detach) and vKill;PID: the process they name (undefined: the one
 * being debugged), or null when malformed.
 */
export function parseProcessPacket(p: string, name: 'D' | 'vKill'): { pid?: number } | null {
  if (p === name && name === 'D') return {};
  if (!p.startsWith(name + ';')) return null;
  const pid = parseHex(p.slice(name.length + 1));
  return pid === null ? null : { pid };
}
