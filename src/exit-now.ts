/**
 * Ending the process without waiting for V8's background compilers.
 *
 * process.exit() disposes of V8's platform, which joins its worker threads:
 * each first finishes the optimizing compile it is running (TurboFan tiering
 * up a WebAssembly region, at nice 19 — see scripts/cli-launcher.cjs). At the
 * end of a run that translated much that took 30 ms (sqlite3 bench) to 100 ms
 * (sqlite3 `select 1`) after the guest had exited. WASI's proc_exit, with
 * returnOnExit false, ends the process through the C library's exit() at once.
 */
import { createRequire } from 'node:module';
import { sleb32 } from './cpu/wasm/encoder.js';

const require = createRequire(import.meta.url);

/** Unsigned LEB128 of a small non-negative integer. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const b = n & 0x7f;
    n >>>= 7;
    out.push(n ? b | 0x80 : b);
  } while (n);
  return out;
}

const ascii = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** A module whose _start calls wasi_snapshot_preview1.proc_exit(code) (WASI.start wants a memory export too). */
function exitModule(code: number): Uint8Array<ArrayBuffer> {
  const body = [0x00, 0x41, ...sleb32(code), 0x10, 0x00, 0x0b]; // no locals; i32.const code; call 0; end
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00]), // types: (i32) -> (), () -> ()
    ...section(2, [0x01, ...ascii('wasi_snapshot_preview1'), ...ascii('proc_exit'), 0x00, 0x00]),
    ...section(3, [0x01, 0x01]), // function 1: type 1
    ...section(5, [0x01, 0x00, 0x01]), // one memory of one page
    ...section(7, [0x02, ...ascii('memory'), 0x02, 0x00, ...ascii('_start'), 0x00, 0x01]),
    ...section(10, [0x01, ...uleb(body.length), ...body]),
  ]);
}

/**
 * Exits with status code (0..255) as process.exit does — 'exit' listeners
 * run first (the launcher writes the code cache in one) — but without joining
 * V8's worker threads. Falls back to process.exit where WASI is missing.
 */
export function exitNow(code: number): never {
  let start: () => void;
  try {
    const { WASI } = require('node:wasi') as typeof import('node:wasi');
    const wasi = new WASI({ version: 'preview1', returnOnExit: false });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(exitModule(code & 0xff)), { wasi_snapshot_preview1: wasi.wasiImport });
    start = () => wasi.start(instance);
  } catch {
    process.exit(code); // no WASI here
  }
  process.exitCode = code;
  process.emit('exit', code);
  start();
  process.exit(code); // not reached
}
