import createDebug from 'debug';
import type { Cpu } from '../cpu/cpu.js';
import type { BreakKind, StopEvent, Target, WatchKind } from './target.js';
import { DebugRegisterSlots } from './debug-registers.js';
import { dispatchCommand } from './commands.js';
import { formatStopReply } from './stop-reply.js';
import { ALL, ANY } from './thread-id.js';

const log = createDebug('elfshim:gdb');

/** How the session talks back; implemented by RspLink (or by a test). */
export interface SessionTransport {
  /** Sends one reply payload (escaped, not yet run-length encoded or framed). */
  send(payload: string): void;
  /** Turns acknowledgements off (after the OK to QStartNoAckMode has been sent). */
  startNoAckMode(): void;
  /** Largest payload the transport sends or accepts (the advertised PacketSize). */
  readonly maxPacket: number;
}

/** A break- or watchpoint inserted through the session (removed again when the session ends). */
export interface InsertedPoint {
  kind: BreakKind | WatchKind;
  addr: number;
  len: number;
}

export type SessionEnd = 'detached' | 'killed' | 'disconnected';

/**
 * A stopped-or-running guest as seen by one debugger connection: the state
 * behind the command handlers (selected threads, the last stop, inserted
 * break/watchpoints, what the peer supports), the serial packet queue, and
 * what happens when the connection ends.
 */
export class GdbSession {
  /** What the peer announced in qSupported. */
  multiprocess = false;
  swbreak = false;
  hwbreak = false;
  /** Thread selected by Hg (registers) and Hc (resume); ANY/ALL mean "the current one". */
  generalThread = ANY;
  continueThread = ALL;
  /** The last stop, answered to `?` and used as the current thread. */
  lastStop: StopEvent;
  /** A resume() is pending. */
  running = false;
  /** How the session ended, once it has. */
  ended: SessionEnd | null = null;
  /** Z points inserted through this session, by "type,addr,kind". */
  readonly points = new Map<string, InsertedPoint>();
  readonly slots = new DebugRegisterSlots();
  catchingSyscalls = false;

  private queue: Promise<void> = Promise.resolve();
  /** Packets received but not yet handled. */
  private queued = 0;
  /** A Ctrl-C that arrived while a resume packet was still queued: applied once that resume starts. */
  private interruptRequested = false;

  constructor(
    readonly target: Target,
    readonly transport: SessionTransport,
    initialStop?: StopEvent,
    /**
     * The session began by stopping a guest that was already running (--no-wait,
     * or a debugger after another detached), like `gdbserver --attach`; otherwise
     * the guest was started for it, like `gdbserver PROG`. qAttached tells gdb,
     * which then detaches or kills when it quits.
     */
    readonly attachedToRunning = false,
  ) {
    this.lastStop = initialStop ?? { kind: 'signal', signal: 5, tid: target.threads()[0] ?? target.pid };
  }

  /** The guest process has exited or was killed. */
  get processGone(): boolean {
    return this.lastStop.kind !== 'signal';
  }

  /** Queues a packet: packets are handled strictly one after another (a resume holds the queue until the stop). */
  receivePacket(packet: string): Promise<void> {
    this.queued++;
    this.queue = this.queue.then(async () => {
      try {
        await this.handle(packet);
      } finally {
        if (--this.queued === 0) this.interruptRequested = false;
      }
    });
    return this.queue;
  }

  /** A packet that was too long to accept: answered with an error in its turn (not ahead of a pending stop reply). */
  receiveOverlong(): Promise<void> {
    this.queue = this.queue.then(() => {
      if (!this.ended) this.transport.send('E01');
    });
    return this.queue;
  }

  private async handle(packet: string): Promise<void> {
    if (this.ended) return;
    let reply: string | undefined;
    try {
      reply = await dispatchCommand(this, packet);
    } catch (e) {
      // A handler or the target threw: report an error, keep the connection in step.
      log('handler for %j failed: %O', packet.slice(0, 40), e);
      reply = 'E01';
    }
    if (reply !== undefined && this.ended !== 'disconnected') this.transport.send(reply);
  }

  /** The 0x03 byte: stop a running guest (its pending resume then reports SIGINT). */
  interrupt(): void {
    if (this.running) this.target.interrupt();
    else if (this.queued > 0) this.interruptRequested = true; // e.g. "$vCont;c#..\x03" in one chunk
    else log('interrupt while stopped: ignored');
  }

  /** The thread whose stop is current. */
  get currentTid(): number {
    return this.lastStop.kind === 'signal' ? this.lastStop.tid : this.target.threads()[0] ?? this.target.pid;
  }

  /** The thread Hg selected (or the current one). */
  get selectedTid(): number {
    return this.generalThread === ANY || this.generalThread === ALL ? this.currentTid : this.generalThread;
  }

  selectedCpu(): Cpu | undefined {
    return this.processGone ? undefined : this.target.cpuOf(this.selectedTid);
  }

  isThreadAlive(tid: number): boolean {
    return !this.processGone && this.target.threads().includes(tid);
  }

  stopReply(ev: StopEvent = this.lastStop): string {
    return formatStopReply(ev, {
      pid: this.target.pid,
      multiprocess: this.multiprocess,
      swbreak: this.swbreak,
      hwbreak: this.hwbreak,
      cpuOf: (tid) => this.target.cpuOf(tid),
    });
  }

  /**
   * Resumes the guest and waits for its next stop. Resolves with the stop
   * reply, or undefined when the connection went away meanwhile.
   */
  async resume(step: boolean, tid: number | undefined, linuxSignal: number, othersRun = false): Promise<string | undefined> {
    if (this.processGone) return this.stopReply();
    this.running = true;
    let stop: StopEvent;
    try {
      const pending = this.target.resume({ step, tid, signal: linuxSignal, othersRun });
      if (this.interruptRequested) {
        this.interruptRequested = false;
        this.target.interrupt();
      }
      stop = await pending;
    } finally {
      this.running = false;
    }
    if (this.ended) return undefined;
    this.lastStop = stop;
    // A new stop makes "the current thread" the one that stopped.
    this.generalThread = ANY;
    return this.stopReply(stop);
  }

  /** Removes every point this session inserted and turns syscall catching off. */
  clearDebugState(): void {
    for (const p of this.points.values()) {
      if (p.kind === 'sw' || p.kind === 'hw') this.target.removeBreakpoint(p.kind, p.addr);
      else this.target.removeWatchpoint(p.kind, p.addr, p.len);
    }
    this.points.clear();
    this.slots.clear();
    if (this.catchingSyscalls) this.target.setCatchSyscalls(null);
    this.catchingSyscalls = false;
  }

  /** gdb detached (D): clean up and let the guest run on its own. */
  detach(): void {
    if (this.ended) return;
    this.clearDebugState();
    this.ended = 'detached';
    if (!this.processGone) this.target.detach();
  }

  /** gdb killed the guest (k / vKill). */
  kill(): void {
    if (this.ended) return;
    this.clearDebugState();
    this.ended = 'killed';
    if (!this.processGone) this.target.kill();
  }

  /**
   * The connection closed without D or k: the guest is detached (it runs on
   * without a debugger, break/watchpoints removed), as gdbserver does when
   * its debugger disappears on an attached process.
   */
  connectionClosed(): void {
    if (this.ended) return;
    this.clearDebugState();
    this.ended = 'disconnected';
    if (!this.processGone) this.target.detach();
  }
}
