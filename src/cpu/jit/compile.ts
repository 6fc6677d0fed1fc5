/**
 * Translates a decoded block into one JavaScript function (compiled with
 * `new Function`):
 *
 *   fn(c, budget) → instructions retired
 *
 * The function loads the guest registers it uses into locals, runs the
 * block's instructions as straight-line JavaScript (the common ones
 * translated in emit-*.ts, every other one through its interpreter exec
 * function), writes the registers and the last flag producer back and sets
 * c.rip. A block whose last instruction jumps back to its own start loops
 * inside the function while fewer than `budget` instructions have retired,
 * exactly as the engine's run loop would have re-entered it.
 *
 * Faults: the handler writes the locals back (they hold the state before the
 * faulting instruction), stores the flags pending at that instruction, sets
 * c.rip to the instruction and c.faultIndex to the instructions retired in
 * this call, and rethrows for the engine.
 */
import type { Cpu } from '../cpu.js';
import type { Instr } from '../instr.js';
import * as C from '../ops/control.js';
import { ARITH_FLAGS, materialize } from './flag-exprs.js';
import { Emitter, type FlagState, REG_NAMES, RELOAD, Retry, SYNC_OUT, type Terminator } from './emitter.js';
import { RUNTIME } from './runtime.js';
import { TRANSLATIONS } from './translator.js';
import './emit-alu.js';
import './emit-move.js';
import './emit-shift.js';
import './emit-control.js';

export type JitFn = (c: Cpu, budget: number) => number;

/** What the translator needs of a block. */
export interface JitBlock {
  readonly start: number;
  readonly instrs: Instr[];
  readonly end: number;
  /** Cleared when the block's code is overwritten: a looping block stops at its back edge. */
  readonly valid: boolean;
}

export interface JitOptions {
  /** May the block loop inside its function (false when a breakpoint is at its start). */
  loop: boolean;
}

/** Flags live after each instruction (throw points and exits observe all flags). */
function flagLiveness(instrs: Instr[]): number[] {
  const live = new Array<number>(instrs.length);
  let l = ARITH_FLAGS;
  for (let j = instrs.length - 1; j >= 0; j--) {
    live[j] = l;
    const i = instrs[j];
    const t = TRANSLATIONS.get(i.exec);
    const [rd, wr] = t ? (t.flags?.(i) ?? [0, 0]) : [ARITH_FLAGS, 0];
    const throws = t ? (t.throws ? t.throws(i) : i.isMem) : true;
    l = rd | (l & ~wr) | (throws ? ARITH_FLAGS : 0);
  }
  return live;
}

function isSelfLoop(b: JitBlock): boolean {
  const last = b.instrs[b.instrs.length - 1];
  return (last.exec === C.jcc || last.exec === C.jmpRel) && last.target === b.start;
}

/** The JavaScript source of the block's function body and the fallbacks it binds. */
export function generate(b: JitBlock, opts: JitOptions): { source: string; fallbacks: number[] } {
  const loop = opts.loop && isSelfLoop(b);
  try {
    return generateWith(b, loop, false);
  } catch (e) {
    if (!(e instanceof Retry)) throw e;
    return generateWith(b, loop, true);
  }
}

function generateWith(b: JitBlock, loop: boolean, backEdgeSync: boolean): { source: string; fallbacks: number[] } {
  const instrs = b.instrs, n = instrs.length;
  const live = flagLiveness(instrs);
  const g = new Emitter(instrs, loop && !backEdgeSync ? { kind: 'carried' } : { kind: 'cpu' });
  let term: Terminator = { kind: 'jump', target: b.end };
  for (let j = 0; j < n; j++) {
    const i = instrs[j];
    const last = j === n - 1;
    g.index = j;
    g.liveAfter = live[j];
    g.emit(`k = ${j};`);
    const t = TRANSLATIONS.get(i.exec);
    const res = t ? t.emit(g, i, last) : false;
    if (res === false) {
      g.emit(`c.rip = ${b.end};`);
      g.fallback(last);
      if (last) term = { kind: 'fallback' };
    } else if (res) {
      term = res;
    }
  }

  const writeBack = [...g.written].sort((x, y) => x - y).map((r) => `r[${2 * r}] = ${REG_NAMES[r]}; r[${2 * r + 1}] = ${REG_NAMES[r]}h;`).join(' ');
  const reload = [...g.cached].sort((x, y) => x - y).map((r) => `${REG_NAMES[r]} = r[${2 * r}]; ${REG_NAMES[r]}h = r[${2 * r + 1}];`).join(' ');
  const flagsAtEnd = g.flags;
  const flagStore = (f: FlagState) => (f.kind === 'pending' ? materialize(f.p) : '');
  const exit = (target: string, count: string) => `${writeBack} ${flagStore(flagsAtEnd)} c.rip = ${target}; return ${count};`;

  const body = g.out.join('\n').split(SYNC_OUT).join(writeBack).split(RELOAD).join(reload);
  const lines: string[] = [];
  const validCheck = g.hasStores ? ' && B.valid' : '';
  switch (term.kind) {
    case 'fallback':
      lines.push(`return ${loop ? 'done + ' : ''}${n};`);
      break;
    case 'indirect':
      lines.push(exit(term.expr, String(n)));
      break;
    case 'jump':
      if (loop) {
        lines.push(`done += ${n};`);
        lines.push(`if (done < budget${validCheck}) { ${backEdgeSync ? flagStore(flagsAtEnd) : ''} continue; }`);
        lines.push(exit(String(term.target), 'done'));
      } else lines.push(exit(String(term.target), String(n)));
      break;
    case 'cond':
      if (loop) {
        lines.push(`done += ${n};`);
        lines.push(`if (${term.cond}) { if (done < budget${validCheck}) { ${backEdgeSync ? flagStore(flagsAtEnd) : ''} continue; } ${exit(String(term.target), 'done')} }`);
        lines.push(exit(String(term.next), 'done'));
      } else lines.push(`if (${term.cond}) { ${exit(String(term.target), String(n))} } ${exit(String(term.next), String(n))}`);
      break;
  }

  // The exception handler: locals back to the Cpu unless the throw came from a fallback (which already had them).
  const cases = new Map<string, number[]>();
  for (const [k, f] of g.throwFlags) {
    if (g.fallbackPoints.has(k)) continue;
    let code = '';
    if (f.kind === 'pending') code = materialize(f.p);
    else if (f.kind === 'carried' && flagsAtEnd.kind === 'pending') code = `if (done > 0) { ${materialize(flagsAtEnd.p)} }`;
    if (!code) continue;
    const l = cases.get(code);
    if (l) l.push(k);
    else cases.set(code, [k]);
  }
  const sw = [...cases].map(([code, ks]) => `${ks.map((k) => `case ${k}:`).join(' ')} ${code} break;`).join('\n');
  const handler = `catch (e) {
  if (FB[k] === 0) { ${writeBack} ${sw ? `switch (k) { ${sw} }` : ''} }
  c.rip = AD[k]; c.faultIndex = done + k; throw e;
}`;

  const regs = [...g.cached].sort((x, y) => x - y).map((r) => `${REG_NAMES[r]} = r[${2 * r}], ${REG_NAMES[r]}h = r[${2 * r + 1}]`);
  const prologue = [
    `const r = c.r, m = c.mem, TR = m.tlbR, TW = m.tlbW, DV = m.view, U8 = m.bytes;`,
    regs.length ? `let ${regs.join(', ')};` : '',
    `let fa = 0, fah = 0, fb = 0, fbh = 0, fr = 0, frh = 0, fci = 0, fcf = 0, fof = 0, k = 0, done = 0;`,
    g.usesFs ? `const fsb = c.fsBase, fsl = fsb | 0, fsh = Math.floor(fsb / 4294967296) | 0;` : '',
    g.usesGs ? `const gsb = c.gsBase, gsl = gsb | 0, gsh = Math.floor(gsb / 4294967296) | 0;` : '',
  ].join('\n');

  const inner = loop ? `for (;;) {\n${body}\n${lines.join('\n')}\n}` : `${body}\n${lines.join('\n')}`;
  const binds = g.fallbacks.map((j) => `const f${j} = F[${j}], i${j} = I[${j}];`).join('\n');
  const fnName = `jit_${b.start.toString(16)}`;
  const source = `const { rd8, rd16, rd32, rd64, wr8, wr16, wr32, wr64, PAR, mulhs32, mulhu32, mul64s, OUT } = H;
const B = H.block, AD = H.addrs, FB = H.fb, F = H.fns, I = H.instrs;
${binds}
return function ${fnName}(c, budget) {
${prologue}
try {
${inner}
} ${handler}
};`;
  return { source, fallbacks: g.fallbacks };
}

/** Translates and compiles a block. Throws if the translator cannot handle it (the caller keeps interpreting). */
export function compileJit(b: JitBlock, opts: JitOptions): JitFn {
  const { source, fallbacks } = generate(b, opts);
  const fb = new Uint8Array(b.instrs.length);
  for (const j of fallbacks) fb[j] = 1;
  const factory = new Function('H', source) as (h: unknown) => JitFn;
  return factory({
    ...RUNTIME,
    block: b,
    addrs: b.instrs.map((i) => i.addr),
    fb,
    fns: b.instrs.map((i) => i.exec),
    instrs: b.instrs,
  });
}
