import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import createDebug from 'debug';
import type { StopEvent, Target } from './target.js';
import { PacketDecoder, frame } from './framing.js';
import { RspLink } from './link.js';
import { GdbSession } from './session.js';
import { DEFAULT_HOST, isLoopback } from './server-address.js';

const debugLog = createDebug('elfshim:gdb');

/** The PacketSize advertised in qSupported: the largest payload accepted and sent. */
export const PACKET_SIZE = 0x4000;

/**
 * A Target that can also stop a guest that is running without a debugger
 * (a late attach, or a new connection after a previous debugger left).
 * Optional: without it, connections to a running guest are refused.
 */
export interface AttachableTarget extends Target {
  /** Stops the free-running guest for a debugger; resolves with the stop to report (e.g. SIGSTOP/SIGINT). */
  attach?(): Promise<StopEvent>;
}

export interface GdbServerOptions {
  /** Interface to listen on (default 127.0.0.1). Anything but loopback prints a warning. */
  host?: string;
  /** TCP port; 0 picks a free one (see GdbServer.port). Ignored with unixPath. */
  port?: number;
  /** Listen on this Unix socket instead of TCP (created with mode 0600). */
  unixPath?: string;
  target: AttachableTarget;
  /**
   * true (default): the guest is held before its first instruction until a
   * debugger drives it, so the first session starts stopped (T05).
   * false: the guest is already running; a connecting debugger stops it
   * through target.attach().
   */
  waitForAttach?: boolean;
  /** User-facing messages (listening address, warnings, connects). Default: stderr. */
  log?: (message: string) => void;
  /** Advertised PacketSize (default 0x4000). */
  packetSize?: number;
}

export interface GdbServer {
  /** "127.0.0.1:PORT" or "unix:/PATH". */
  readonly address: string;
  /** The resolved TCP port (useful with port 0); undefined for a Unix socket. */
  readonly port: number | undefined;
  /** Resolves when the first debugger has connected. */
  readonly attached: Promise<void>;
  /** A debugger is connected now. */
  readonly connected: boolean;
  /** Stops listening and drops the current connection (which detaches the guest). */
  close(): Promise<void>;
}

/** What the guest is doing between debugger sessions. */
type GuestState = { kind: 'held' } | { kind: 'running' } | { kind: 'gone'; stop: StopEvent };

const BUSY_MESSAGE = 'E.elfshim: another debugger is already attached to this guest';
/**
 * Packets waiting behind a running guest (or a pending attach). gdb waits for
 * each reply and sends only 0x03 while the guest runs; a peer that keeps
 * sending regardless would make the queue, and elfshim's memory, grow without
 * bound, so it is dropped.
 */
export const MAX_QUEUED_PACKETS = 1024;
/** Reply bytes the peer has not read yet beyond which no more requests are read (backpressure). */
const WRITE_HIGH_WATER = 1 << 20;
const CANNOT_ATTACH_MESSAGE = 'E.elfshim: the guest is running and cannot be stopped for a debugger';

/**
 * Serves the GDB Remote Serial Protocol for one guest. One debugger at a
 * time; a second connection is told so and closed without disturbing the
 * first. When a debugger disconnects without `detach` or `kill`, the guest
 * is detached: its break/watchpoints are removed and it runs on alone.
 */
export async function startGdbServer(opts: GdbServerOptions): Promise<GdbServer> {
  const say = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const target = opts.target;
  const packetSize = opts.packetSize ?? PACKET_SIZE;
  let guest: GuestState = opts.waitForAttach === false ? { kind: 'running' } : { kind: 'held' };
  let active: { socket: Socket; session: GdbSession | null } | null = null;
  let markAttached!: () => void;
  const attached = new Promise<void>((resolve) => (markAttached = resolve));

  const server = createServer({ noDelay: true }, (socket) => {
    if (active) return refuse(socket, BUSY_MESSAGE);
    if (guest.kind === 'running' && !target.attach) return refuse(socket, CANNOT_ATTACH_MESSAGE);
    startSession(socket);
  });

  /** Answers the peer's first packet with an error message, then hangs up. */
  function refuse(socket: Socket, message: string): void {
    say(`gdb: refused a connection from ${peerName(socket)}: ${message.slice(2)}`);
    const decoder = new PacketDecoder(packetSize);
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (decoder.push(chunk).some((e) => e.type === 'packet')) {
        socket.end(Buffer.from('+' + frame(message), 'latin1'));
        socket.removeAllListeners('data');
      }
    });
  }

  function startSession(socket: Socket): void {
    const slot: { socket: Socket; session: GdbSession | null } = { socket, session: null };
    active = slot;
    say(`gdb: debugger connected from ${peerName(socket)}`);
    markAttached();
    const pending: Array<(s: GdbSession) => void> = [];
    let unanswered = 0;
    const link = new RspLink(
      (bytes) => {
        if (socket.destroyed) return;
        // A peer that does not read its replies: stop reading its requests until it catches up.
        if (!socket.write(Buffer.from(bytes, 'latin1')) && socket.writableLength > WRITE_HIGH_WATER) socket.pause();
      },
      {
        packet: (data) => {
          if (!admit()) return;
          withSession((s) => void s.receivePacket(data).then(() => (unanswered--, endIfFinished(s))));
        },
        interrupt: () => withSession((s) => s.interrupt()),
        overlong: () => {
          if (!admit()) return;
          withSession((s) => void s.receiveOverlong().then(() => unanswered--));
        },
      },
      packetSize,
    );
    socket.on('drain', () => socket.resume());
    /**
     * Counts a request; drops a peer that floods the queue while it cannot
     * drain (see MAX_QUEUED_PACKETS). A stopped guest answers a burst at once.
     */
    function admit(): boolean {
      if (socket.destroyed) return false;
      const blocked = slot.session === null || slot.session.running;
      if (++unanswered <= MAX_QUEUED_PACKETS || !blocked) return true;
      say(`gdb: the debugger sent more than ${MAX_QUEUED_PACKETS} packets without waiting for replies; disconnecting it`);
      socket.destroy();
      return false;
    }
    function withSession(f: (s: GdbSession) => void): void {
      if (slot.session) f(slot.session);
      else pending.push(f);
    }
    /** After D / k the session is over at once: the next debugger may connect while this socket drains. */
    function endIfFinished(s: GdbSession): void {
      if (s.ended === 'detached' || s.ended === 'killed') {
        finish(s);
        socket.end();
      }
    }
    let finished = false;
    function finish(s: GdbSession | null): void {
      if (finished) return;
      finished = true;
      if (s) {
        s.connectionClosed();
        guest = s.processGone ? { kind: 'gone', stop: s.lastStop } : s.ended === 'killed' ? { kind: 'gone', stop: { kind: 'killed', signal: 9 } } : { kind: 'running' };
        say(`gdb: debugger ${s.ended === 'disconnected' ? 'disconnected; the guest runs on without it' : s.ended === 'killed' ? 'killed the guest' : 'detached'}`);
      } else say('gdb: debugger disconnected before the session started');
      if (active === slot) active = null;
    }

    socket.on('data', (chunk) => link.receive(chunk));
    socket.on('error', (e) => debugLog('socket error: %O', e));
    socket.on('close', () => finish(slot.session));

    const attaching = guest.kind === 'running';
    initialStop().then(
      (stop) => {
        if (socket.destroyed) {
          // The debugger left while the guest was being stopped for it: let the guest go on.
          if (attaching) target.detach();
          return;
        }
        const session = new GdbSession(target, link, stop, attaching);
        slot.session = session;
        for (const f of pending.splice(0)) f(session);
      },
      (e) => {
        debugLog('attach failed: %O', e);
        socket.destroy();
      },
    );

    /** The stop the new session starts from (undefined: the guest is held before its first instruction). */
    async function initialStop(): Promise<StopEvent | undefined> {
      if (guest.kind === 'held') return undefined;
      if (guest.kind === 'gone') return guest.stop;
      return target.attach!();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.unixPath) {
      removeStaleSocket(opts.unixPath);
      // Create the socket file private from the start, then make sure of it.
      const oldMask = process.umask(0o177);
      try {
        server.listen(opts.unixPath, () => resolve());
      } finally {
        process.umask(oldMask);
      }
    } else server.listen(opts.port ?? 0, opts.host ?? DEFAULT_HOST, () => resolve());
  });
  server.removeAllListeners('error');
  server.on('error', (e) => say(`gdb: server error: ${e.message}`));

  let address: string;
  let port: number | undefined;
  if (opts.unixPath) {
    chmodSync(opts.unixPath, 0o600);
    address = `unix:${opts.unixPath}`;
  } else {
    const info = server.address() as AddressInfo;
    port = info.port;
    address = info.family === 'IPv6' ? `[${info.address}]:${port}` : `${info.address}:${port}`;
    if (!isLoopback(opts.host ?? DEFAULT_HOST)) {
      say(
        `gdb: WARNING: listening on ${address}, which is reachable from other machines. ` +
          'Whoever connects gets full control of the guest and read access to its root filesystem.',
      );
    }
  }
  // gdb connects to a Unix socket given as a plain path ("target remote /PATH"); it does not parse "unix:".
  const gdbTarget = opts.unixPath ?? address.replace(/^127\.0\.0\.1/, 'localhost');
  say(opts.waitForAttach === false ? `gdb: listening on ${address}` : `gdb: waiting for a debugger on ${address} (target remote ${gdbTarget})`);

  return {
    address,
    port,
    attached,
    get connected() {
      return active !== null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        active?.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function peerName(socket: Socket): string {
  return socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'a local socket';
}

/** A leftover socket file from an earlier run would make listen() fail; anything else at that path is left alone. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // nothing there
  }
}
