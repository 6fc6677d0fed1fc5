/**
 * The machine code every host-CPU oracle suite executes: the integer/BMI
 * oracle (test/isa-*.test.ts), the SSE oracle (test/sse.test.ts) and the x87
 * oracle cases (test/x87.test.ts) and the snippets of every decoded form
 * (test/isa-forms.test.ts). Used by test/isa-coverage.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOracle } from './isa-harness.js';
import { x87CaseGroups } from './x87-cases.js';
import { formSnippets } from './isa-form-cases.js';
import { NOT_NATIVE } from './not-native.js';

export interface OracleCode {
  suite: 'isa' | 'sse' | 'x87' | 'forms';
  name: string;
  code: Uint8Array;
}

const SSE_SOURCE = fileURLToPath(new URL('../../test/fixtures/sse-oracle/oracle.c', import.meta.url));

/** One line per case of the SSE oracle: NAME CODE-HEX … */
function sseLines(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'sse-oracle-'));
  try {
    const exe = join(dir, 'oracle');
    execFileSync('gcc', ['-O1', '-o', exe, SSE_SOURCE], { stdio: 'pipe' });
    return execFileSync(exe, [], { maxBuffer: 1 << 28, encoding: 'latin1' }).split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Distinct (suite, code) pairs. Throws if an oracle cannot be built or run (the caller checks the host first). */
export function oracleCodes(): OracleCode[] {
  const out = new Map<string, OracleCode>();
  const add = (suite: OracleCode['suite'], name: string, code: Uint8Array | number[]): void => {
    const k = `${suite} ${Buffer.from(code).toString('hex')}`;
    if (!out.has(k)) out.set(k, { suite, name, code: Uint8Array.from(code) });
  };
  const isa = runOracle('all', 1);
  if (typeof isa === 'string') throw new Error(`isa oracle: ${isa}`);
  for (const c of isa) add('isa', c.name, c.code);
  for (const line of sseLines()) {
    const [name, code] = line.split(' ');
    add('sse', name, Buffer.from(code, 'hex'));
  }
  for (const s of formSnippets(new Set(Object.keys(NOT_NATIVE)))) add('forms', s.form, s.code);
  for (const g of x87CaseGroups()) for (const c of g.cases) add('x87', c.label, c.code);
  return [...out.values()];
}
