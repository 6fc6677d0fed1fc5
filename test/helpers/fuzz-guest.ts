// An in-process debug session on a real Kernel + DebugController, wired the way
// src/gdb/server.ts wires a connection (RspLink → GdbSession), with probes that
// record every reply and check guest memory between guest executions.
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel } from '../../src/kernel/kernel.js';
import { DebugController } from '../../src/kernel/debug-target.js';
import { GdbSession } from '../../src/gdb/session.js';
import { RspLink } from '../../src/gdb/link.js';
import { PacketDecoder } from '../../src/gdb/framing.js';
import { rleDecode } from '../../src/gdb/rle.js';
import { PACKET_SIZE } from '../../src/gdb/server.js';
import { DATA_ADDR, CODE_ADDR, PAUSE_LOOP, tinyElf } from './tiny-elf.js';

export const DATA_SIZE = 0x4000;

/** A rootfs with the guest, a FIFO, and links that point at a canary outside it. */
export interface FuzzWorld {
  dir: string;
  root: string;
  guest: string;
  canary: string;
  canaryText: string;
  /** Guest paths a hostile debugger should try. */
  hostilePaths: string[];
}

export function makeFuzzWorld(seedBytes: (n: number) => Uint8Array): FuzzWorld {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'elfshim-rspfuzz-')));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'bin'), { recursive: true });
  const canary = join(dir, 'canary');
  const canaryText = `ELFSHIM-CANARY-${Date.now().toString(36)}-OUTSIDE`;
  writeFileSync(canary, canaryText);
  const guest = join(root, 'bin', 'guest');
  writeFileSync(guest, tinyElf({ code: PAUSE_LOOP, data: seedBytes(DATA_SIZE) }), { mode: 0o755 });
  writeFileSync(join(root, 'inside.txt'), 'inside the rootfs\n');
  symlinkSync(canary, join(root, 'abs-link'));
  symlinkSync('../canary', join(root, 'rel-link'));
  symlinkSync('../../../../../../..' + canary, join(root, 'deep-link'));
  spawnSync('mkfifo', [join(root, 'fifo')]);
  return {
    dir, root, guest, canary, canaryText,
    hostilePaths: ['/abs-link', 'abs-link', '/rel-link', '/deep-link', '/fifo', '/inside.txt', '/bin/guest', '/../canary', '../canary', '/bin/../../canary', canary, '/proc/self/root/../canary', '/proc/self/cwd/../canary'],
  };
}

/** A memory range checked between guest executions (bytes, or null where unmapped). */
interface Region {
  start: number;
  len: number;
}

export class FuzzIncarnation {
  readonly kernel: Kernel;
  readonly ctl: DebugController;
  readonly session: GdbSession;
  readonly link: RspLink;
  readonly done: Promise<unknown>;
  /** Decoded reply payloads, in order (cleared by the harness as it consumes them). */
  readonly replies: string[] = [];
  /** The last stop reply seen (T.., W.., X..). */
  lastStop = 'T05';
  /** Problems found: memory changed behind the debugger's back, an oversized reply, a canary leak. */
  readonly problems: string[] = [];
  readonly regions: Region[];
  private shadow: (Uint8Array | null)[] | null = null;
  private outstanding = 0;
  private last: Promise<void> = Promise.resolve();
  private readonly decoder = new PacketDecoder(1 << 22);

  constructor(world: FuzzWorld, private readonly forbidden: string[]) {
    this.kernel = new Kernel({ rootfs: world.root, memoryLimit: 2 << 20, seed: 7, maxTasks: 8, straceOut: () => {} });
    const first = this.kernel.spawn({ hostPath: world.guest, guestPath: '/bin/guest', argv: ['/bin/guest'], envp: ['A=1'] });
    this.ctl = new DebugController(this.kernel, first);
    this.kernel.attachDebugger(this.ctl);
    this.done = this.kernel.run();
    const stack = first.mem.findVma(first.cpu.rsp);
    this.regions = [
      { start: CODE_ADDR, len: 0x1000 },
      { start: DATA_ADDR, len: DATA_SIZE },
      { start: DATA_ADDR + DATA_SIZE, len: 0x2000 }, // unmapped: must stay so
      { start: 0x500000, len: 0x1000 }, // unmapped
      ...(stack ? [{ start: stack.end - 0x2000, len: 0x2000 }] : []),
    ];
    this.link = new RspLink(
      (bytes) => this.onWire(bytes),
      {
        packet: (data) => this.track(this.session.receivePacket(data)),
        interrupt: () => this.session.interrupt(),
        overlong: () => this.track(this.session.receiveOverlong()),
      },
      PACKET_SIZE,
    );
    this.session = new GdbSession(this.ctl, this.link);
    this.instrument();
  }

  /** Every byte the stub sends: replies must be well formed, within PacketSize, and leak nothing. */
  private onWire(bytes: string): void {
    for (const ev of this.decoder.push(bytes)) {
      if (ev.type === 'bad-checksum') this.problems.push(`reply with a bad checksum: ${JSON.stringify(ev.data.slice(0, 80))}`);
      if (ev.type !== 'packet') continue;
      const payload = rleDecode(ev.data);
      if (payload === null) {
        this.problems.push(`reply with bad run-length encoding: ${JSON.stringify(ev.data.slice(0, 80))}`);
        continue;
      }
      if (payload.length > PACKET_SIZE) this.problems.push(`reply of ${payload.length} bytes exceeds PacketSize`);
      for (const f of this.forbidden) if (payload.includes(f)) this.problems.push(`reply leaks ${JSON.stringify(f)}: ${JSON.stringify(payload.slice(0, 120))}`);
      if (/^[TWX][0-9a-f]{2}/.test(payload)) this.lastStop = payload;
      this.replies.push(payload);
    }
  }

  private track(p: Promise<void>): void {
    this.outstanding++;
    this.last = p.finally(() => this.outstanding--);
  }

  /**
   * Memory is compared with a shadow copy whenever the guest is about to run
   * (or be detached / killed): between executions only acknowledged M/X writes
   * may change it, and exactly as written.
   */
  private instrument(): void {
    const mem = this.ctl.mem;
    const poke = mem.poke.bind(mem);
    mem.poke = (a: number, data: Uint8Array) => {
      if (!this.shadow) this.shadow = this.snapshot();
      const ok = poke(a, data);
      if (ok) this.applyToShadow(a, data);
      return ok;
    };
    const guard = <A extends unknown[], R>(name: string, f: (...a: A) => R) => (...a: A): R => {
      this.verify(`before ${name}`);
      this.shadow = null;
      return f(...a);
    };
    this.ctl.resume = guard('resume', this.ctl.resume.bind(this.ctl));
    this.ctl.detach = guard('detach', this.ctl.detach.bind(this.ctl));
    this.ctl.kill = guard('kill', this.ctl.kill.bind(this.ctl));
  }

  private snapshot(): (Uint8Array | null)[] {
    return this.regions.map((r) => {
      const b = this.ctl.mem.peek(r.start, r.len);
      return b ? b.slice() : null;
    });
  }

  private applyToShadow(a: number, data: Uint8Array): void {
    this.regions.forEach((r, i) => {
      const s = this.shadow![i];
      for (let k = 0; k < data.length; k++) {
        const off = a + k - r.start;
        if (off >= 0 && off < r.len) {
          if (!s || off >= s.length) this.problems.push(`write acknowledged at unmapped 0x${(a + k).toString(16)}`);
          else s[off] = data[k];
        }
      }
    });
  }

  /** Compares guest memory with the shadow (when one is current). */
  verify(when: string): void {
    if (!this.shadow || this.session.processGone) return;
    const now = this.snapshot();
    now.forEach((b, i) => {
      const s = this.shadow![i];
      const r = this.regions[i];
      if ((b === null) !== (s === null) || (b && s && b.length !== s.length)) {
        this.problems.push(`${when}: mapping of 0x${r.start.toString(16)} changed (${s?.length ?? 'unmapped'} → ${b?.length ?? 'unmapped'} bytes)`);
        return;
      }
      if (b && s) {
        const k = b.findIndex((v, j) => v !== s[j]);
        if (k >= 0) this.problems.push(`${when}: guest memory at 0x${(r.start + k).toString(16)} is ${b[k]}, expected ${s[k]}`);
      }
    });
  }

  /** Feeds bytes as the socket would, then waits until every packet is answered (interrupting a running guest). */
  async feed(chunks: string[], deadlineMs = 10_000): Promise<boolean> {
    for (const c of chunks) this.link.receive(c);
    return this.settle(deadlineMs);
  }

  /** Waits for the queue to drain; a running guest gets 0x03 like gdb's Ctrl-C. False when it never settles. */
  async settle(deadlineMs: number): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const idle = await Promise.race([this.last.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
      if (idle && this.outstanding === 0) return true;
      if (Date.now() > until) return false;
      // A half-sent packet would swallow the 0x03: end any frame first ("#00" leaves the decoder idle from every state).
      if (this.session.running) this.link.receive('#00\x03');
    }
  }

  get usable(): boolean {
    return this.session.ended === null && !this.session.processGone;
  }

  async dispose(): Promise<void> {
    const main = this.kernel.main;
    if (main && main.exitCode === null) this.kernel.killProcess(main, 9);
    this.kernel.wakeScheduler();
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 2000))]);
  }
}

/** Deterministic bytes for the guest's data segment (so stray writes are visible). */
export function seededBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Where the fuzzer aims memory requests: the guest's code, data and stack, and an unmapped page. */
export const FUZZ_TARGETS = {
  regions: [
    [CODE_ADDR, CODE_ADDR + 0x1000],
    [DATA_ADDR, DATA_ADDR + DATA_SIZE],
    [0x7ffffffde000, 0x7ffffffff000],
    [0x500000, 0x501000],
  ] as Array<[number, number]>,
};
