/**
 * The integer-ISA oracle (test/fixtures/isa-oracle/isa-oracle.c) runs
 * instructions natively and prints CODE STATE-IN STATE-OUT per case; this
 * module replays each case on an emulated Cpu (decoded by the real decoder
 * from an executable guest page) and compares GPRs, the defined arithmetic
 * flags, xmm0-2, MXCSR and 256 bytes of memory (the stack ends there).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cpu, Stop } from '../src/cpu/cpu.js';
import { Decoder } from '../src/cpu/decoder.js';
import { DIVIDE_ERROR } from '../src/cpu/ops/alu.js';
import { AddressSpace } from '../src/mem/address-space.js';
import { GuestFault, PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/mem/fault.js';
import { PhysicalMemory } from '../src/mem/physical.js';
import { undefinedEffects, ZF } from '../src/lockstep/instruction-facts.js';

const SOURCE = fileURLToPath(new URL('../../test/fixtures/isa-oracle/isa-oracle.c', import.meta.url));
const STATE = 0x20000000;
const MEM = STATE + 0x100;
const CODE = 0x10000000;
const STATE_SIZE = 0x200;
const ARITH = 0x8d5;
const GPR = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export interface OracleCase {
  name: string;
  code: Uint8Array;
  input: Uint8Array;
  /** The native state after, or null when the instruction faulted (then `fault` is the signal). */
  output: Uint8Array | null;
  fault: number;
}

/**
 * Builds and runs the oracle for a group ("bmi", "int"). Returns a reason
 * string when gcc is missing; a source that does not compile is an error.
 */
export function runOracle(group: string, perInstruction: number, input?: string): OracleCase[] | string {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed';
  }
  const dir = mkdtempSync(join(tmpdir(), 'isa-oracle-'));
  try {
    const exe = join(dir, 'isa-oracle');
    try {
      execFileSync('gcc', ['-O1', '-o', exe, SOURCE], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`the isa oracle does not compile: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
    }
    const text = execFileSync(exe, [group, String(perInstruction)], { maxBuffer: 1 << 30, encoding: 'latin1', input });
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [name, code, input, output] = line.split(' ');
        const fault = output.startsWith('FAULT') ? Number(output.slice(5)) : 0;
        return { name, code: hex(code), input: hex(input), output: fault ? null : hex(output), fault };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Does the host CPU have these /proc/cpuinfo flags? */
export function hostHas(...flags: string[]): boolean {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const have = new Set(line.split(':')[1]?.trim().split(/\s+/));
    return flags.every((f) => have.has(f));
  } catch {
    return false;
  }
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** One emulator run of a case: the state after, or the signal of the fault. */
export interface EmulatedRun {
  output: Uint8Array | null;
  fault: number;
  /** Flags the (last) instruction leaves undefined, and undefined destination registers. */
  undefinedFlags: number;
  undefinedRegs: number[];
}

const mem = new AddressSpace(new PhysicalMemory(1 << 24));
mem.mmap(STATE, 0x1000, PROT_READ | PROT_WRITE, { fixed: true });
// As in the oracle: the page before CODE holds its prologue; both are writable there too.
mem.mmap(CODE - 0x1000, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC, { fixed: true });
const XMM = 136, MXCSR = 184;

/** Runs a case's code on a fresh Cpu loaded with the case's input state. */
export function emulate(c: OracleCase): EmulatedRun {
  const cpu = new Cpu(mem);
  const v = new DataView(c.input.buffer, c.input.byteOffset, STATE_SIZE);
  for (let k = 0; k < 16; k++) {
    cpu.r[2 * k] = v.getInt32(8 * k, true);
    cpu.r[2 * k + 1] = v.getInt32(8 * k + 4, true);
  }
  cpu.r[2 * 4] = STATE + 0x200; // rsp: the oracle's stack ends where MEM does
  cpu.r[2 * 4 + 1] = 0;
  cpu.setEflags(v.getUint32(128, true));
  for (let k = 0; k < 12; k++) cpu.xmm[k] = v.getInt32(XMM + 4 * k, true);
  cpu.mxcsr = v.getUint32(MXCSR, true);
  mem.poke(STATE, c.input);
  mem.poke(CODE, c.code);
  const decoder = new Decoder(mem);
  let undefinedFlags = 0;
  const undefinedRegs: number[] = [];
  let fault = 0;
  for (let a = CODE, steps = 0; a >= CODE && a < CODE + c.code.length && !fault && steps < 64; steps++) {
    const i = decoder.decode(a);
    const branches = decoder.endsBlock;
    const u = undefinedEffects(i, (n) => (BigInt(cpu.r[2 * n + 1] >>> 0) << 32n) | BigInt(cpu.r[2 * n] >>> 0));
    cpu.rip = a;
    cpu.stop = Stop.None;
    try {
      i.exec(cpu, i);
    } catch (e) {
      if (e === DIVIDE_ERROR) fault = 8;
      else if (e instanceof GuestFault) fault = 11;
      else throw e;
    }
    const stop = cpu.stop as Stop;
    if (stop === Stop.Illegal) fault = 4;
    else if (stop === Stop.Privileged) fault = 11;
    else if (stop === Stop.Trap) fault = 5;
    undefinedFlags = u.flags;
    if (u.destReg >= 0 && (!u.destOnlyIfZf || cpu.getEflags() & ZF)) undefinedRegs.push(u.destReg);
    a = branches ? cpu.rip : i.next;
  }
  if (fault) return { output: null, fault, undefinedFlags, undefinedRegs };
  const out = new Uint8Array(STATE_SIZE);
  const o = new DataView(out.buffer);
  for (let k = 0; k < 16; k++) {
    o.setInt32(8 * k, cpu.r[2 * k], true);
    o.setInt32(8 * k + 4, cpu.r[2 * k + 1], true);
  }
  o.setUint32(128, cpu.getEflags(), true);
  for (let k = 0; k < 12; k++) o.setInt32(XMM + 4 * k, cpu.xmm[k], true);
  o.setUint32(MXCSR, cpu.mxcsr, true);
  out.set(mem.peek(MEM, 256) ?? new Uint8Array(256), 0x100);
  return { output: out, fault: 0, undefinedFlags, undefinedRegs };
}

const h64 = (b: Uint8Array, off: number) => Buffer.from(b.subarray(off, off + 8)).reverse().toString('hex');

/** Compares a case with its emulation; returns a description of the first difference, or null. */
export function compareCase(c: OracleCase, e: EmulatedRun): string | null {
  const where = `${c.name} [${Buffer.from(c.code).toString('hex')}]`;
  const input = () => `in: ${GPR.map((n, k) => `${n}=${h64(c.input, 8 * k)}`).filter((_, k) => k !== 4).join(' ')} flags=${h64(c.input, 128)}`;
  if (!c.output || !e.output) {
    if (c.fault === e.fault) return null;
    return `${where}: native ${c.fault ? `faulted (signal ${c.fault})` : 'ran'}, emulator ${e.fault ? `faulted (signal ${e.fault})` : 'ran'}\n  ${input()}`;
  }
  for (let k = 0; k < 16; k++) {
    if (e.undefinedRegs.includes(k)) continue;
    const a = h64(c.output, 8 * k), b = h64(e.output, 8 * k);
    if (a !== b) return `${where}: ${GPR[k]} native ${a} emulator ${b}\n  ${input()}`;
  }
  const mask = ARITH & ~e.undefinedFlags;
  const fa = new DataView(c.output.buffer, c.output.byteOffset).getUint32(128, true);
  const fb = new DataView(e.output.buffer).getUint32(128, true);
  if ((fa ^ fb) & mask) return `${where}: flags native ${(fa & ARITH).toString(16)} emulator ${(fb & ARITH).toString(16)} (compared ${mask.toString(16)})\n  ${input()}`;
  for (let k = XMM; k < MXCSR + 4; k++) {
    if (c.output[k] !== e.output[k]) return `${where}: ${k < MXCSR ? `xmm${(k - XMM) >> 4} byte ${(k - XMM) & 15}` : `mxcsr byte ${k - MXCSR}`} native ${c.output[k].toString(16)} emulator ${e.output[k].toString(16)}\n  ${input()}`;
  }
  for (let k = 0x100; k < STATE_SIZE; k++) {
    if (c.output[k] !== e.output[k]) return `${where}: memory byte ${k - 0x100} native ${c.output[k].toString(16)} emulator ${e.output[k].toString(16)}\n  ${input()}`;
  }
  return null;
}

/** How often the emulator's choice for undefined flags matches this host (information, not a failure). */
export function undefinedFlagAgreement(c: OracleCase, e: EmulatedRun): boolean {
  if (!c.output || !e.output || !e.undefinedFlags) return true;
  const fa = new DataView(c.output.buffer, c.output.byteOffset).getUint32(128, true);
  const fb = new DataView(e.output.buffer).getUint32(128, true);
  return ((fa ^ fb) & e.undefinedFlags) === 0;
}
