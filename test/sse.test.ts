/**
 * SSE instructions against the host CPU: test/fixtures/sse-oracle/oracle.c
 * runs every listed instruction natively on generated inputs (NaNs,
 * infinities, denormals, integer limits, random values, several MXCSR modes)
 * and prints the machine code, the state before and the state after. Each
 * case is decoded here, executed with decodeSse on an emulated Cpu, and the
 * resulting state compared bit for bit (xmm0-2, rax, rcx, rdx, MXCSR, the
 * arithmetic flags, 32 bytes of memory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cpu } from '../src/cpu/cpu.js';
import { Instr, REP_F2, REP_F3 } from '../src/cpu/instr.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { decodeSse } from '../src/cpu/sse/index.js';

const SOURCE = fileURLToPath(new URL('../../test/fixtures/sse-oracle/oracle.c', import.meta.url));
const BASE = 0x10000; // guest address of the 128-byte state (rdi)
const ARITH = 0x8d5;

/** Builds an Instr the way the main decoder does, from legacy-SSE machine code. */
function decodeBytes(b: Uint8Array): { i: Instr; prefix: number } {
  const i = new Instr();
  let p = 0, rep = 0, p66 = false, rex = 0;
  for (;; p++) {
    if (b[p] === 0x66) p66 = true;
    else if (b[p] === 0xf2 || b[p] === 0xf3) rep = b[p];
    else break;
  }
  if ((b[p] & 0xf0) === 0x40) rex = b[p++];
  if (b[p++] !== 0x0f) throw new Error('not a 0F opcode');
  i.map = 0x0f;
  if (b[p] === 0x38) { i.map = 0x0f38; p++; } else if (b[p] === 0x3a) { i.map = 0x0f3a; p++; }
  i.op = b[p++];
  const modrm = b[p++];
  i.mod = modrm >> 6;
  i.reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
  const rm = (modrm & 7) | (rex & 1 ? 8 : 0);
  if (i.mod === 3) {
    i.rm = rm;
  } else {
    if ((modrm & 7) === 4 || (i.mod === 0 && (modrm & 7) === 5)) throw new Error('SIB/rip forms not used by the oracle');
    i.isMem = true;
    i.rm = -1;
    i.base = rm;
    if (i.mod === 1) i.disp = (b[p++] << 24) >> 24;
    else if (i.mod === 2) { i.disp = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24); p += 4; }
  }
  if (p < b.length) i.imm = b[p++];
  i.len = p;
  i.rexW = (rex & 8) !== 0;
  i.rex = rex !== 0;
  i.p66 = p66;
  i.rep = rep === 0xf3 ? REP_F3 : rep === 0xf2 ? REP_F2 : 0;
  i.opsize = i.rexW ? 8 : p66 ? 2 : 4;
  return { i, prefix: rep || (p66 ? 0x66 : 0) };
}

function hexBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(s.substr(2 * k, 2), 16);
  return out;
}

function newCpu(): Cpu {
  const mem = new AddressSpace(new PhysicalMemory(1 << 24));
  const r = mem.mmap(BASE, 0x2000, 3, { fixed: true });
  assert.equal(r, BASE);
  return new Cpu(mem);
}

/** Loads an oracle state into the Cpu (and its memory at BASE). */
function loadState(c: Cpu, s: Uint8Array): void {
  const v = new DataView(s.buffer, s.byteOffset, 128);
  c.xmm.fill(0x5a5a5a5a);
  for (let k = 0; k < 12; k++) c.xmm[k] = v.getInt32(4 * k, true);
  c.r.fill(0);
  c.r[0] = v.getInt32(48, true); c.r[1] = v.getInt32(52, true);
  c.r[2] = v.getInt32(56, true); c.r[3] = v.getInt32(60, true);
  c.r[4] = v.getInt32(72, true); c.r[5] = v.getInt32(76, true);
  c.set64(7, BASE, 0);
  c.mxcsr = v.getUint32(64, true);
  c.setEflags(v.getUint32(80, true));
  c.mem.poke(BASE, s);
}
/** Reads the same fields back into oracle layout. */
function saveState(c: Cpu, template: Uint8Array): Uint8Array {
  const s = template.slice();
  const v = new DataView(s.buffer);
  for (let k = 0; k < 12; k++) v.setInt32(4 * k, c.xmm[k], true);
  v.setInt32(48, c.r[0], true); v.setInt32(52, c.r[1], true);
  v.setInt32(56, c.r[2], true); v.setInt32(60, c.r[3], true);
  v.setInt32(72, c.r[4], true); v.setInt32(76, c.r[5], true);
  v.setUint32(64, c.mxcsr, true);
  v.setUint32(80, (v.getUint32(80, true) & ~ARITH) | (c.getEflags() & ARITH), true);
  s.set(c.mem.peek(BASE + 96, 32)!, 96);
  return s;
}

const FIELDS: [string, number, number][] = [
  ['xmm0', 0, 16], ['xmm1', 16, 16], ['xmm2', 32, 16], ['rax', 48, 8], ['rcx', 56, 8],
  ['mxcsr', 64, 4], ['rdx', 72, 8], ['flags', 80, 8], ['mem', 96, 32],
];
function hexOf(s: Uint8Array, o: number, n: number): string {
  let r = '';
  for (let k = n - 1; k >= 0; k--) r += s[o + k].toString(16).padStart(2, '0');
  return r;
}
function diff(got: Uint8Array, want: Uint8Array, input: Uint8Array): string {
  const parts: string[] = [];
  for (const [name, o, n] of FIELDS) {
    let same = true;
    for (let k = 0; k < n; k++) if (got[o + k] !== want[o + k]) same = false;
    if (!same) parts.push(`${name}: in ${hexOf(input, o, n)} got ${hexOf(got, o, n)} want ${hexOf(want, o, n)}`);
  }
  return parts.join('; ');
}

/** rcp/rsqrt approximations differ between CPU vendors: compare xmm1 lanes with a relative tolerance. */
function approxEqual(got: Uint8Array, want: Uint8Array, lanes: number): boolean {
  const g = new DataView(got.buffer), w = new DataView(want.buffer);
  for (let k = 0; k < lanes; k++) {
    const a = g.getFloat32(16 + 4 * k, true), b = w.getFloat32(16 + 4 * k, true);
    if (a !== a && b !== b) continue;
    if (a === b) continue;
    if (!(Math.abs(a - b) <= Math.abs(b) * 2 ** -11)) return false;
    g.setUint32(16 + 4 * k, w.getUint32(16 + 4 * k, true), true);
  }
  return diff(got, want, want) === '';
}
const APPROX: Record<string, number> = { rcpps: 4, rsqrtps: 4, rcpss: 1, rsqrtss: 1 };

function runOracle(): string | null {
  let dir = '';
  try {
    dir = mkdtempSync(join(tmpdir(), 'sse-oracle-'));
    const exe = join(dir, 'oracle');
    execFileSync('gcc', ['-O1', '-o', exe, SOURCE], { stdio: 'pipe' });
    return execFileSync(exe, [], { maxBuffer: 1 << 28, encoding: 'latin1' });
  } catch (e) {
    console.log(`# sse oracle unavailable (gcc missing or host without SSE4.2?): ${(e as Error).message.split('\n')[0]}`);
    return null;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

test('SSE instructions match the host CPU', async (t) => {
  const out = runOracle();
  if (out === null) {
    t.skip('gcc or an SSE4.2 host is not available');
    return;
  }
  const byName = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const name = line.slice(0, line.indexOf(' '));
    let l = byName.get(name);
    if (!l) byName.set(name, (l = []));
    l.push(line);
  }
  assert.ok(byName.size > 200, 'oracle printed the instruction list');
  const c = newCpu();
  for (const [name, lines] of byName) {
    await t.test(name, () => {
      const failures: string[] = [];
      let count = 0;
      for (const line of lines) {
        const [, code, inHex, outHex] = line.split(' ');
        const { i, prefix } = decodeBytes(hexBytes(code));
        const fn = decodeSse(i, prefix);
        assert.ok(fn, `${name} (${code}) is not implemented`);
        const input = hexBytes(inHex), want = hexBytes(outHex);
        loadState(c, input);
        fn(c, i);
        const got = saveState(c, want);
        const d = diff(got, want, input);
        if (d && !(name in APPROX && approxEqual(got, want, APPROX[name]))) {
          count++;
          if (failures.length < 4) failures.push(`${code} imm=${i.imm.toString(16)} ${d}`);
        }
      }
      assert.equal(count, 0, `${count}/${lines.length} cases differ:\n  ${failures.join('\n  ')}`);
    });
  }
});
