import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Divergence, LockstepResult } from './differ.js';
import { CORE_NAMES, EFLAGS_COMPARED, eflagsText, formatRegister } from './compare.js';

/** Disassembles one instruction with objdump (AT&T syntax, like gdb); '?' if objdump is missing. */
export function disassemble(addr: number, bytes: Uint8Array): string {
  if (bytes.length === 0) return '(no bytes)';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-'));
  try {
    const file = path.join(dir, 'insn.bin');
    fs.writeFileSync(file, bytes);
    const out = execFileSync('objdump', ['-D', '-b', 'binary', '-m', 'i386:x86-64', `--adjust-vma=0x${addr.toString(16)}`, '--stop-address', `0x${(addr + bytes.length).toString(16)}`, file], { encoding: 'utf8' });
    const line = out.split('\n').find((l) => new RegExp(`^\\s*${addr.toString(16)}:`).test(l));
    return line ? line.split('\t').slice(2).join(' ').trim() || '?' : '?';
  } catch {
    return '?';
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const hexBytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

function instructionLine(addr: number, bytes: Uint8Array): string {
  return `0x${addr.toString(16)}: ${hexBytes(bytes).padEnd(30)} ${disassemble(addr, bytes)}`;
}

/** The divergence report: where, which instruction, the recent path, both register files with differences marked. */
export function formatDivergence(d: Divergence): string {
  const lines: string[] = [];
  lines.push(`lockstep: DIVERGENCE after ${d.index} instructions compared equal`);
  lines.push(d.signal ? `  at 0x${d.addr.toString(16)}, delivering signal ${d.signal}` : `  at ${instructionLine(d.addr, d.bytes)}`);
  lines.push(`  ${d.reason}`);
  if (d.recent.length) {
    lines.push('  preceding instructions:');
    for (const x of d.recent) lines.push(`    ${x.signal ? `0x${x.addr.toString(16)}: (signal ${x.signal} delivered here)` : instructionLine(x.addr, x.bytes)}`);
  }
  const differing = new Set(d.registers.map((r) => r.name));
  const masked = d.registers.find((r) => r.name === 'eflags')?.masked;
  lines.push('');
  lines.push(`  ${'register'.padEnd(10)} ${'before (native)'.padEnd(22)} ${'native'.padEnd(34)} elfshim`);
  const names = [...CORE_NAMES, ...d.registers.map((r) => r.name).filter((n) => !CORE_NAMES.includes(n))];
  for (const name of names) {
    const mark = differing.has(name) ? '  <<' : '';
    const before = d.before && d.before.has(name) ? formatRegister(d.before, name) : '';
    const n = formatRegister(d.native, name), e = formatRegister(d.elfshim, name);
    const wide = n.length > 34 || e.length > 34;
    if (wide) {
      lines.push(`  ${name.padEnd(10)} before  ${before}${mark}`);
      lines.push(`  ${''.padEnd(10)} native  ${n}`);
      lines.push(`  ${''.padEnd(10)} elfshim ${e}`);
    } else lines.push(`  ${name.padEnd(10)} ${before.split(' ')[0].padEnd(22)} ${n.padEnd(34)} ${e}${mark}`);
  }
  if (masked) lines.push(`  (eflags compared without the bits this instruction leaves undefined: ${eflagsText(masked & EFLAGS_COMPARED)})`);
  if (d.memory) {
    const m = d.memory;
    // Show 64 bytes around the first difference.
    let first = m.first ?? 0;
    if (m.first === undefined && m.native && m.elfshim) while (first < m.native.length && m.native[first] === m.elfshim[first]) first++;
    const from = Math.max(0, first - 16) & ~7;
    const at = m.addr + from;
    lines.push('');
    lines.push(`  memory at 0x${at.toString(16)} (first difference at +${first - from}, 0x${(m.addr + first).toString(16)}):`);
    lines.push(`    native  ${m.native ? hexBytes(m.native.subarray(from, from + 64)) : '(unreadable)'}`);
    lines.push(`    elfshim ${m.elfshim ? hexBytes(m.elfshim.subarray(from, from + 64)) : '(unreadable)'}`);
  }
  return lines.join('\n');
}

/** The one-line summary (and notes) of a run. */
export function formatSummary(r: LockstepResult): string {
  const lines: string[] = [];
  for (const n of r.notes) lines.push(`lockstep: note: ${n}`);
  const copied = [...r.copied].map(([k, v]) => `${k} ×${v}`).join(', ');
  if (r.divergence) {
    lines.push(formatDivergence(r.divergence));
    lines.push(`lockstep: ${r.compared} instructions compared before the divergence${r.threads && r.thread !== undefined ? ` (in thread ${r.thread})` : ''}; ${r.syscalls} syscalls stepped over${threadsText(r)}`);
  } else {
    lines.push(`lockstep: OK, ${r.compared} instructions compared, no divergence (${r.end}); ${r.syscalls} syscalls stepped over${threadsText(r)}${copied ? `; copied from native: ${copied}` : ''}`);
  }
  if (r.end.includes('exited') && r.nativeOutput !== r.elfshimOutput) lines.push('lockstep: note: the program output differs between the runs (see --show-output)');
  return lines.join('\n');
}

/** "; 3 threads (tid 100: 5000, …), 4 thread switches" when the run followed threads. */
function threadsText(r: LockstepResult): string {
  if (!r.threads) return '';
  return `; ${r.threads.length} threads (instructions per tid: ${r.threads.map((t) => `${t.tid}: ${t.compared}`).join(', ')}), ${r.switches ?? 0} thread switches`;
}
