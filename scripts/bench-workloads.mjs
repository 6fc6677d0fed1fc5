// The benchmark workloads of scripts/bench.mjs and the input data they need.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A deterministic, compressible text of `bytes` bytes: words picked by an LCG. */
export function compressibleText(bytes) {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'emulator', 'syscall', 'register', 'x86-64',
    'page', 'fault', 'guest', 'host', 'the', 'a', 'of', 'and', 'to', 'in', '0x7fff', '42',
    'translation', 'block', 'cache', 'decoder', 'interrupt', 'vector', 'memory', 'mapping'];
  const out = Buffer.alloc(bytes);
  let seed = 1234567;
  let at = 0;
  let column = 0;
  while (at < bytes) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const word = words[(seed >>> 16) % words.length];
    // Every so often a run of pseudo-random digits, so it is not too easy to compress.
    const text = (seed & 0xf) === 0 ? String(seed) : word;
    at += out.write(text, at, 'latin1');
    column += text.length + 1;
    if (at < bytes) out[at++] = column > 70 ? 10 : 32;
    if (column > 70) column = 0;
  }
  return out;
}

const SQL_SCRIPT = `CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40000)
INSERT INTO t SELECT x, (x * 7919) % 1000, printf('row-%d', (x * 31) % 977) FROM c;
CREATE INDEX t_k ON t(k);
SELECT k, count(*), sum(id) FROM t GROUP BY k ORDER BY sum(id) DESC, k LIMIT 5;
SELECT count(DISTINCT v), max(length(v)), sum(length(v)) FROM t;
SELECT sum(id) FROM t WHERE k BETWEEN 100 AND 200;
SELECT v, count(*) AS n FROM t GROUP BY v ORDER BY n DESC, v LIMIT 3;
`;

const which = (names) => names.find((p) => existsSync(p)) ?? null;

/**
 * Every workload: { name, what, program, args, input?, needs?, note?, measureRss? }.
 * `needs` is a reason to skip when a program is missing; `note` is shown under the table;
 * `failIsSkip` (a reason) turns an elfshim failure into SKIP instead of FAIL.
 */
export function workloads(root, dataDir) {
  const build = (variant, name) => path.join(root, 'test', 'fixtures', 'build', variant, name);
  const busybox = which(['/bin/busybox', '/usr/bin/busybox']);
  const sqlite3 = which(['/usr/bin/sqlite3', '/bin/sqlite3']);
  const input = path.join(dataDir, 'input-1mb.txt');
  writeFileSync(input, compressibleText(1 << 20));

  return [
    { name: 'fib', what: 'recursive fib(36)', program: build('bench', 'bench-fib'), args: [] },
    { name: 'sieve', what: 'primes below 10M', program: build('bench', 'bench-sieve'), args: [] },
    { name: 'qsort', what: 'qsort 100k ints x2', program: build('musl', 'qsort'), args: ['100000', '2'] },
    { name: 'hash', what: '64-bit mul/rotate x60M', program: build('bench', 'bench-hash'), args: [] },
    { name: 'memstr', what: 'memcpy+strlen 1MB x500', program: build('bench', 'bench-memstr'), args: [] },
    {
      name: 'gzip', what: 'busybox gzip -c 1MB', program: busybox, args: ['gzip', '-c', input],
      needs: busybox ? null : 'busybox missing', measureRss: true,
    },
    {
      name: 'sha1sum', what: 'busybox sha1sum 1MB', program: busybox, args: ['sha1sum', input],
      needs: busybox ? null : 'busybox missing',
    },
    {
      name: 'sqlite3', what: 'sqlite3 :memory: 40k rows', program: sqlite3, args: [':memory:'],
      input: SQL_SCRIPT, needs: sqlite3 ? null : 'sqlite3 missing', note: 'dynamically linked (Debian)',
      failIsSkip: 'needs dynamic linking',
    },
  ];
}
