// The debug run as the README documents it: the project's gdbinit against a real
// `elfshim --gdb`, the packet log behind DEBUG=elfshim:gdb, gdb's machine interface
// (what VS Code's C/C++ extension drives through miDebuggerServerAddress), and what a
// second gdb is told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, haveGdb, spawnGdb, startStub } from './helpers/gdb-run.js';
import { RspClient } from './gdb-client.js';

const DEBUG_PIE = path.join(ROOT, 'test/fixtures/build/debug-glibc-pie/debug');
const skip = !haveGdb() ? 'gdb is not installed' : !fs.existsSync(DEBUG_PIE) ? 'fixtures not built (npm run fixtures)' : false;

/** Runs gdb to completion; resolves with everything it printed. */
function gdb(args: string[]): Promise<string> {
  const { gdb: p, text } = spawnGdb(args);
  const killer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => p.on('close', () => (clearTimeout(killer), resolve(text()))));
}

function exited(child: { exitCode: number | null; on(e: 'exit', f: (code: number | null) => void): unknown }): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.on('exit', r));
}

test('gdbinit: connects, shows the first instruction, and the session goes on from there', { skip }, async () => {
  const script = fs.readFileSync(path.join(ROOT, 'gdbinit'), 'utf8');
  // The script targets the documented default (localhost:1234); the test's stub listens on a free port.
  assert.match(script, /^target remote localhost:1234$/m);
  const stub = await startStub(DEBUG_PIE, ['2']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elfshim-gdbinit-'));
  try {
    const local = path.join(dir, 'gdbinit');
    fs.writeFileSync(local, script.replace('localhost:1234', `localhost:${stub.port}`));
    const out = await gdb(['-batch', '-nx', '-x', local, '-ex', 'hbreak main', '-ex', 'continue', '-ex', 'continue', DEBUG_PIE]);
    assert.match(out, /^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <_start>$/m);
    assert.match(out, /^=> 0x[0-9a-f]+ <_start>:\t\S+/m);
    assert.equal((out.match(/^(=>| ) +0x[0-9a-f]+ <_start\+?\d*>:/gm) ?? []).length, 3, out);
    assert.match(out, /Breakpoint 1, main \(argc=2, /);
    assert.match(out, /\[Inferior 1 \(process \d+\) exited normally\]/);
    assert.equal(await exited(stub.child), 0);
  } finally {
    stub.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('DEBUG=elfshim:gdb logs every packet both ways on stderr; without it nothing is logged', { skip }, async () => {
  for (const debug of [true, false]) {
    const stub = await startStub(DEBUG_PIE, ['1'], [], debug ? { DEBUG: 'elfshim:gdb' } : {});
    try {
      await gdb(['-batch', '-nx', '-ex', `target remote 127.0.0.1:${stub.port}`, '-ex', 'stepi', '-ex', 'kill', DEBUG_PIE]);
      await exited(stub.child);
      const err = stub.err();
      if (!debug) {
        assert.doesNotMatch(err, /elfshim:gdb/);
        continue;
      }
      // What gdb sent, what the stub answered, in order, as JSON strings.
      const lines = err.split('\n').filter((l) => / elfshim:gdb /.test(l));
      const first = (re: RegExp) => lines.findIndex((l) => re.test(l));
      const supported = first(/ elfshim:gdb <- "qSupported:multiprocess\+;/);
      const reply = first(/ elfshim:gdb -> "PacketSize=4000;QStartNoAckMode\+;/);
      assert.ok(supported >= 0 && reply > supported, lines.slice(0, 4).join('\n'));
      const step = first(/ elfshim:gdb <- "vCont;s:p[0-9a-f]+\.[0-9a-f]+/);
      assert.ok(step > reply && /-> "T05/.test(lines[step + 1]), lines.slice(step, step + 2).join('\n'));
      assert.ok(first(/ elfshim:gdb <- "vKill;[0-9a-f]+"/) > step);
    } finally {
      stub.child.kill('SIGKILL');
    }
  }
});

/**
 * A minimal MI front end, as VS Code's cppdbg is: commands one at a time,
 * each answered by a ^result record; async *stopped records arrive later.
 */
class MiSession {
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private readonly gdb = spawn('gdb', ['--interpreter=mi2', '-nx'], { stdio: ['pipe', 'pipe', 'pipe'] });
  readonly closed = new Promise<void>((r) => this.gdb.on('close', () => r()));

  constructor() {
    createInterface({ input: this.gdb.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
  }

  /** The first line from now on that matches re (lines before it are consumed). */
  async next(re: RegExp): Promise<string> {
    for (;;) {
      const i = this.lines.findIndex((l) => re.test(l));
      if (i >= 0) return this.lines.splice(0, i + 1)[i];
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Sends a command; resolves with its result record (^done, ^running, ^connected, ^error…). */
  async command(cmd: string): Promise<string> {
    this.gdb.stdin!.write(cmd + '\n');
    return this.next(/^\^/);
  }

  kill(): void {
    this.gdb.kill('SIGKILL');
  }
}

test('gdb/MI (how VS Code drives gdb with miDebuggerServerAddress): connect, break main, continue, frames, exit', { skip }, async () => {
  const stub = await startStub(DEBUG_PIE, ['2']);
  const mi = new MiSession();
  const guard = setTimeout(() => mi.kill(), 60_000);
  try {
    assert.match(await mi.command('-gdb-set mi-async on'), /^\^done/);
    assert.match(await mi.command(`-file-exec-and-symbols ${DEBUG_PIE}`), /^\^done/);
    assert.match(await mi.command(`-target-select remote localhost:${stub.port}`), /^\^connected/);
    assert.match(await mi.command('-break-insert -f main'), /^\^done,bkpt=\{number="1",type="breakpoint"/);
    assert.match(await mi.command('-exec-continue'), /^\^running/);
    assert.match(await mi.next(/^\*stopped/), /^\*stopped,reason="breakpoint-hit",disp="keep",bkptno="1",frame=\{addr="0x[0-9a-f]+",func="main",args=\[\{name="argc",value="2"\}/);
    assert.match(await mi.command('-stack-list-frames'), /^\^done,stack=\[frame=\{level="0",addr="0x[0-9a-f]+",func="main",file="[^"]*debug\.c"/);
    assert.match(await mi.command('-data-evaluate-expression global_counter'), /^\^done,value="0"/);
    assert.match(await mi.command('-exec-continue'), /^\^running/);
    assert.match(await mi.next(/^\*stopped/), /^\*stopped,reason="exited-normally"/);
    assert.match(await mi.command('-gdb-exit'), /^\^exit/);
    await mi.closed;
    assert.equal(await exited(stub.child), 0);
    assert.match(stub.out(), /debug fixture: done/);
  } finally {
    clearTimeout(guard);
    mi.kill();
    stub.child.kill('SIGKILL');
  }
});

test('a second gdb is refused with a message it prints; the first session goes on', { skip }, async () => {
  const stub = await startStub(DEBUG_PIE, ['1']);
  try {
    const first = await RspClient.connect(stub.port);
    await first.handshake();
    const out = await gdb(['-batch', '-nx', '-ex', `target remote 127.0.0.1:${stub.port}`, '-ex', 'info registers rip', DEBUG_PIE]);
    assert.match(out, /Remote failure reply: E\.elfshim: another debugger is already attached to this guest/);
    assert.match(stub.err(), /refused a connection from 127\.0\.0\.1:\d+: elfshim: another debugger is already attached/);
    // The first debugger still drives the guest.
    assert.match(await first.request('?'), /^T05/);
    assert.equal(await first.request('D'), 'OK');
    assert.equal(await exited(stub.child), 0);
  } finally {
    stub.child.kill('SIGKILL');
  }
});
