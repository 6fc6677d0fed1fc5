import type { WatchKind } from './target.js';
import type { GdbSession } from './session.js';
import { slotsForRange } from './debug-registers.js';
import { handleHostIo } from './host-io.js';
import { bytesToHex, hexToBytes, hexToText, textToHex } from './hex.js';
import {
  packetName,
  parseBreakpoint,
  parseCatchSyscalls,
  parseGetTlsAddr,
  parseProcessPacket,
  parseQSupported,
  parseQXferRead,
  parseReadMemory,
  parseReadRegister,
  parseResume,
  parseSetThread,
  parseVCont,
  parseWriteMemoryBinary,
  parseWriteMemoryHex,
  parseWriteRegister,
} from './packets.js';
import { readAllRegisters, readRegister, writeAllRegisters, writeRegister } from './registers.js';
import { gdbToLinuxSignal } from './signals.js';
import { ALL, ANY, formatThreadId, parseThreadId, type ThreadId } from './thread-id.js';
import { XFER_OBJECTS, xferReply } from './qxfer.js';

/**
 * The command handlers, one table entry per packet name. A handler returns
 * the reply payload, '' for "not supported", or undefined for no reply.
 * Each entry also declares the qSupported features it implements, and the
 * qSupported reply is derived from this table alone: a feature is
 * advertised exactly when its handler exists.
 */
type Reply = string | undefined;
export interface Command {
  readonly name: string;
  readonly features?: readonly string[];
  run(s: GdbSession, packet: string): Reply | Promise<Reply>;
}

/** Malformed request / failed operation. */
const E_BAD = 'E01';
/** Memory not mapped (EFAULT). */
const E_FAULT = 'E14';
const OK = 'OK';

const WATCH_KINDS: Record<number, WatchKind> = { 2: 'watch', 3: 'rwatch', 4: 'awatch' };

function isSpecific(tid: number): boolean {
  return tid !== ALL && tid !== ANY;
}

/** The thread a thread id names, if it is one of ours; undefined for "all"/"any". null when foreign. */
function threadOf(s: GdbSession, id: ThreadId): number | undefined | null {
  if (id.pid !== undefined && id.pid !== ALL && id.pid !== ANY && id.pid !== s.target.pid) return null;
  return isSpecific(id.tid) ? id.tid : undefined;
}

// ------------------------------------------------------------------ registers and memory

function readRegisters(s: GdbSession): Reply {
  const cpu = s.selectedCpu();
  return cpu ? bytesToHex(readAllRegisters(cpu)) : E_BAD;
}

function writeRegisters(s: GdbSession, p: string): Reply {
  const cpu = s.selectedCpu();
  const data = hexToBytes(p.slice(1));
  if (!cpu || !data) return E_BAD;
  return writeAllRegisters(cpu, data) ? OK : E_BAD;
}

function readOneRegister(s: GdbSession, p: string): Reply {
  const cpu = s.selectedCpu();
  const n = parseReadRegister(p);
  const data = cpu && n !== null ? readRegister(cpu, n) : null;
  return data ? bytesToHex(data) : E_BAD;
}

function writeOneRegister(s: GdbSession, p: string): Reply {
  const cpu = s.selectedCpu();
  const req = parseWriteRegister(p);
  if (!cpu || !req) return E_BAD;
  return writeRegister(cpu, req.regnum, req.data) ? OK : E_BAD;
}

function readMemory(s: GdbSession, p: string): Reply {
  const req = parseReadMemory(p);
  if (!req) return E_BAD;
  if (s.processGone) return E_FAULT;
  if (req.len === 0) return '';
  // Two hex digits per byte: a short read is allowed, and keeps the reply within PacketSize.
  const len = Math.min(req.len, Math.floor(s.transport.maxPacket / 2));
  const data = s.target.mem.peek(req.addr, len);
  return data && data.length > 0 ? bytesToHex(data) : E_FAULT;
}

function writeMemory(s: GdbSession, req: { addr: number; data: Uint8Array } | null): Reply {
  if (!req) return E_BAD;
  if (s.processGone) return E_FAULT;
  if (req.data.length === 0) return OK; // gdb probes X support with an empty write
  return s.target.mem.poke(req.addr, req.data) ? OK : E_FAULT;
}

// ------------------------------------------------------------------ break- and watchpoints

function breakpoint(s: GdbSession, p: string): Reply {
  const req = parseBreakpoint(p);
  if (!req) return E_BAD;
  if (s.processGone) return E_BAD;
  const key = `${req.type},${req.addr},${req.kind}`;
  const t = s.target;
  if (!req.insert) {
    const point = s.points.get(key);
    if (!point) return OK; // idempotent: removing twice is fine
    const ok = point.kind === 'sw' || point.kind === 'hw' ? t.removeBreakpoint(point.kind, point.addr) : t.removeWatchpoint(point.kind, point.addr, point.len);
    s.points.delete(key);
    s.slots.release(key);
    return ok ? OK : E_BAD;
  }
  if (s.points.has(key)) return OK; // idempotent: inserting twice is one insertion
  if (req.type === 0) {
    if (!t.insertBreakpoint('sw', req.addr)) return E_BAD;
    s.points.set(key, { kind: 'sw', addr: req.addr, len: 1 });
    return OK;
  }
  // Hardware points share the four debug registers.
  const watch = WATCH_KINDS[req.type];
  if (watch && req.kind === 0) return E_BAD;
  const slots = watch ? slotsForRange(req.addr, req.kind) : 1;
  if (!s.slots.reserve(key, slots)) return E_BAD;
  const ok = watch ? t.insertWatchpoint(watch, req.addr, req.kind) : t.insertBreakpoint('hw', req.addr);
  if (!ok) {
    s.slots.release(key);
    return E_BAD;
  }
  s.points.set(key, watch ? { kind: watch, addr: req.addr, len: req.kind } : { kind: 'hw', addr: req.addr, len: 1 });
  return OK;
}

// ------------------------------------------------------------------ execution

/** c/C/s/S [sig][;addr]: resume the thread chosen by Hc (all threads for continue). */
async function resumeLegacy(s: GdbSession, p: string): Promise<Reply> {
  const req = parseResume(p);
  if (!req) return E_BAD;
  const signal = gdbToLinuxSignal(req.signal);
  if (signal === null) return E_BAD;
  const chosen = isSpecific(s.continueThread) ? s.continueThread : undefined;
  const tid = req.step ? chosen ?? s.currentTid : chosen;
  if (req.addr !== undefined) {
    const cpu = s.processGone ? undefined : s.target.cpuOf(tid ?? s.currentTid);
    if (!cpu) return E_BAD;
    cpu.rip = req.addr;
  }
  return s.resume(req.step, tid, signal);
}

/**
 * vCont: all-stop, one process. A step action wins (gdb sends "s:THREAD;c"
 * to step one thread while the others may run). Otherwise the guest
 * continues; a continue-with-signal action names the thread that gets the
 * signal (gdb sends "C0b:THREAD;c" to pass a signal and resume everyone).
 */
async function resumeVCont(s: GdbSession, p: string): Promise<Reply> {
  const actions = parseVCont(p);
  if (!actions) return E_BAD;
  const step = actions.find((a) => a.action === 's' || a.action === 'S' || a.action === 'r');
  const chosen = step ?? actions.find((a) => a.action === 'C') ?? actions.find((a) => a.action === 'c');
  if (!chosen) return E_BAD; // only 't' (stop) actions: meaningless in all-stop mode
  const tid = chosen.thread ? threadOf(s, chosen.thread) : undefined;
  if (tid === null) return E_BAD;
  const signal = gdbToLinuxSignal(chosen.signal);
  if (signal === null) return E_BAD;
  // "s:T;c": the others run while T steps (gdb's default for next/step over a blocking call).
  const othersRun = !!step && actions.some((a) => a !== step && (a.action === 'c' || a.action === 'C'));
  return s.resume(chosen === step, step ? tid ?? s.currentTid : tid, signal, othersRun);
}

/**
 * D / vKill: a malformed one is an error, not a detach or a kill. The pid is
 * not checked: there is one process, and protocol-level clients address it by
 * any pid.
 */
function endSession(_s: GdbSession, p: string, name: 'D' | 'vKill', end: () => void): Reply {
  if (!parseProcessPacket(p, name)) return E_BAD;
  end();
  return OK;
}

// ------------------------------------------------------------------ threads

function setThread(s: GdbSession, p: string): Reply {
  const req = parseSetThread(p);
  if (!req) return E_BAD;
  const tid = threadOf(s, req.id);
  if (tid === null || (tid !== undefined && !s.isThreadAlive(tid))) return E_BAD;
  if (req.op === 'g') s.generalThread = tid ?? req.id.tid;
  else if (req.op === 'c') s.continueThread = tid ?? req.id.tid;
  return OK;
}

function threadAlive(s: GdbSession, p: string): Reply {
  const id = parseThreadId(p.slice(1));
  const tid = id ? threadOf(s, id) : null;
  return tid !== null && tid !== undefined && s.isThreadAlive(tid) ? OK : E_BAD;
}

function threadList(s: GdbSession): Reply {
  if (s.processGone) return 'l';
  const ids = s.target.threads().map((t) => formatThreadId(s.target.pid, t, s.multiprocess));
  return ids.length ? 'm' + ids.join(',') : 'l';
}

// ------------------------------------------------------------------ queries

/** qGetTLSAddr: gdb's `print` of a __thread variable (what gdbserver answers through libthread_db). */
function tlsAddr(s: GdbSession, p: string): Reply {
  const q = parseGetTlsAddr(p);
  if (!q || !s.target.tlsAddress || s.processGone) return E_BAD;
  const tid = threadOf(s, q.id) ?? s.currentTid;
  const a = tid === null ? null : s.target.tlsAddress(tid, q.offset, q.lm);
  return a === null ? E_BAD : a.toString(16);
}

function supported(s: GdbSession, p: string): Reply {
  const peer = parseQSupported(p);
  s.multiprocess = peer.get('multiprocess') === '+';
  s.swbreak = peer.get('swbreak') === '+';
  s.hwbreak = peer.get('hwbreak') === '+';
  return supportedFeatures(s.transport.maxPacket).join(';');
}

function xfer(s: GdbSession, p: string): Reply {
  const req = parseQXferRead(p);
  // Writes are not supported (empty reply); a malformed read is an error.
  if (!req) return /^qXfer:[^:]+:read:/.test(p) ? E_BAD : '';
  const obj = XFER_OBJECTS.find((o) => o.name === req.object);
  if (!obj) return '';
  const data = obj.read(s, req.annex);
  if (!data) return E_BAD;
  return xferReply(data, req.offset, req.length, s.transport.maxPacket);
}

function catchSyscalls(s: GdbSession, p: string): Reply {
  const set = parseCatchSyscalls(p);
  if (set === undefined) return E_BAD;
  s.target.setCatchSyscalls(set);
  s.catchingSyscalls = set !== null;
  return OK;
}

/** qRcmd,HEX: monitor command; its output goes out as O packets before the final OK. */
function monitor(s: GdbSession, p: string): Reply {
  const cmd = hexToText(p.slice('qRcmd,'.length));
  if (cmd === null) return E_BAD;
  const out = s.target.monitor(cmd);
  if (out === null) return ''; // gdb: "Target does not support this command."
  const bytes = new TextEncoder().encode(out);
  const perPacket = Math.floor((s.transport.maxPacket - 1) / 2);
  for (let i = 0; i < bytes.length; i += perPacket) s.transport.send('O' + bytesToHex(bytes.subarray(i, i + perPacket)));
  return OK;
}

function startNoAck(s: GdbSession): Reply {
  // The OK still travels with acknowledgements; only what follows goes without.
  s.transport.send(OK);
  s.transport.startNoAckMode();
  return undefined;
}

const ok = () => OK;
const empty = () => '';

export const COMMANDS: readonly Command[] = [
  { name: 'qSupported', run: supported },
  { name: 'QStartNoAckMode', features: ['QStartNoAckMode+'], run: startNoAck },
  { name: 'vMustReplyEmpty', run: empty },
  { name: '?', run: (s) => s.stopReply() },
  { name: 'g', run: readRegisters },
  { name: 'G', run: writeRegisters },
  { name: 'p', run: readOneRegister },
  { name: 'P', run: writeOneRegister },
  { name: 'm', run: readMemory },
  { name: 'M', run: (s, p) => writeMemory(s, parseWriteMemoryHex(p)) },
  { name: 'X', run: (s, p) => writeMemory(s, parseWriteMemoryBinary(p)) },
  // swbreak/hwbreak: breakpoint stops are reported with the pc already at the breakpoint.
  { name: 'Z', features: ['swbreak+', 'hwbreak+'], run: breakpoint },
  { name: 'z', run: breakpoint },
  { name: 'c', run: resumeLegacy },
  { name: 'C', run: resumeLegacy },
  { name: 's', run: resumeLegacy },
  { name: 'S', run: resumeLegacy },
  { name: 'vCont?', features: ['vContSupported+'], run: () => 'vCont;c;C;s;S;t' },
  { name: 'vCont', run: resumeVCont },
  // Thread ids are "pPID.TID" once the peer also announces multiprocess+.
  { name: 'H', features: ['multiprocess+'], run: setThread },
  { name: 'T', run: threadAlive },
  { name: 'qC', run: (s) => 'QC' + formatThreadId(s.target.pid, s.currentTid, s.multiprocess) },
  { name: 'qfThreadInfo', run: threadList },
  { name: 'qsThreadInfo', run: () => 'l' },
  // 0: gdb kills the guest when it quits, as it does a program gdbserver started; 1: it detaches.
  { name: 'qAttached', run: (s) => (s.attachedToRunning ? '1' : '0') },
  { name: 'k', run: (s) => void s.kill() },
  { name: 'vKill', run: (s, p) => endSession(s, p, 'vKill', () => s.kill()) },
  { name: 'D', run: (s, p) => endSession(s, p, 'D', () => s.detach()) },
  { name: 'qXfer', features: XFER_OBJECTS.map((o) => `qXfer:${o.name}:read+`), run: xfer },
  { name: 'QCatchSyscalls', features: ['QCatchSyscalls+'], run: catchSyscalls },
  // Signal filtering is the debugger's business here: every signal stops the guest and gdb decides.
  { name: 'QPassSignals', features: ['QPassSignals+'], run: ok },
  { name: 'QProgramSignals', features: ['QProgramSignals+'], run: ok },
  { name: 'QNonStop', run: (_s, p) => (p === 'QNonStop:0' ? OK : E_BAD) },
  { name: 'qRcmd', run: monitor },
  { name: 'vFile', run: (s, p) => handleHostIo(p, s.target.vfs, s.transport.maxPacket) },
  { name: 'qSymbol', run: ok },
  { name: 'qGetTLSAddr', run: tlsAddr },
  { name: 'qTStatus', run: empty },
];

const BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));

/** The qSupported reply: PacketSize plus every feature a command declares. */
export function supportedFeatures(maxPacket: number): string[] {
  return [`PacketSize=${maxPacket.toString(16)}`, ...COMMANDS.flatMap((c) => c.features ?? [])];
}

/** Runs the handler for a packet; unknown packets get the empty reply. */
export function dispatchCommand(s: GdbSession, packet: string): Reply | Promise<Reply> {
  const cmd = BY_NAME.get(packetName(packet));
  return cmd ? cmd.run(s, packet) : '';
}
