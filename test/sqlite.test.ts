// Debian's /usr/bin/sqlite3 (dynamically linked: ld-linux, libsqlite3, libc, libreadline…)
// under elfshim against the native run: a database file created, filled with thousands of
// rows in a transaction, indexed and queried; WAL mode; two sqlite processes contending for
// the database's locks. (The lock semantics themselves: the locks fixture, test/dynamic-fixtures.test.ts.)
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ELFSHIM_TIMEOUT_MS, compareWithNative } from './helpers/run.js';

const SQLITE = '/usr/bin/sqlite3';
const BUSYBOX = '/bin/busybox';
const skip = !existsSync(SQLITE) ? `${SQLITE} is missing (Debian: apt-get install sqlite3)` : !existsSync(BUSYBOX) ? `${BUSYBOX} is missing (busybox-static)` : false;

const ENV = { LC_ALL: 'C', PATH: '/usr/bin:/bin' };
/** No ~/.sqliterc, no prompts. */
const SQLITE_ARGS = ['-batch', '-init', '/dev/null'];

/** 1500 INSERT statements with deterministic, varied values (strings, reals, NULLs). */
function insertStatements(): string {
  const lines: string[] = [];
  let seed = 12345;
  for (let i = 1; i <= 1500; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const city = ['Paris', 'Oslo', 'Lima', 'Kyiv', 'Rome', 'Quito', "O'Hare"][seed % 7].replace("'", "''");
    const amount = ((seed >>> 8) % 100000) / 100;
    const note = seed % 11 === 0 ? 'NULL' : `'note ${seed.toString(36)}'`;
    lines.push(`INSERT INTO orders(customer, city, amount, note) VALUES (${(seed >>> 4) % 150}, '${city}', ${amount}, ${note});`);
  }
  return lines.join('\n');
}

const MAIN_SCRIPT = `
PRAGMA page_size = 4096;
CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, tier INTEGER);
CREATE TABLE orders(id INTEGER PRIMARY KEY AUTOINCREMENT, customer INTEGER REFERENCES customers(id), city TEXT, amount REAL, note TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 149)
  INSERT INTO customers SELECT x, 'customer-' || printf('%03d', x), x % 5 FROM c;
${insertStatements()}
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
  INSERT INTO orders(customer, city, amount, note) SELECT (x * 7) % 150, 'Gen' || (x % 13), x * 0.25, NULL FROM c;
COMMIT;
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_city_amount ON orders(city, amount);
.headers on
.mode list
SELECT count(*) AS orders, count(note) AS notes, round(sum(amount), 2) AS total, round(avg(amount), 4) AS mean, min(amount), max(amount) FROM orders;
SELECT city, count(*), round(sum(amount), 2), round(max(amount) - min(amount), 2) FROM orders GROUP BY city ORDER BY city;
SELECT c.tier, count(DISTINCT c.id) AS customers, count(o.id) AS orders, round(avg(o.amount), 3) AS avg_amount
  FROM customers c JOIN orders o ON o.customer = c.id GROUP BY c.tier ORDER BY c.tier;
SELECT c.name, round(sum(o.amount), 2) AS spent FROM customers c JOIN orders o ON o.customer = c.id
  GROUP BY c.id ORDER BY spent DESC, c.name LIMIT 5;
.mode column
SELECT id, customer, city, amount, ifnull(note, '-') AS note FROM orders WHERE city = 'O''Hare' ORDER BY amount DESC, id LIMIT 4;
.mode list
EXPLAIN QUERY PLAN SELECT * FROM orders WHERE customer = 42;
SELECT count(*) FROM orders WHERE customer = 42;
SELECT group_concat(id, ',') FROM (SELECT id FROM orders WHERE city = 'Lima' AND amount BETWEEN 100 AND 120 ORDER BY id);
UPDATE orders SET amount = amount * 2 WHERE city = 'Rome';
DELETE FROM orders WHERE id % 10 = 0;
SELECT changes(), total_changes();
SELECT city, count(*) FROM orders GROUP BY city HAVING count(*) > 300 ORDER BY 2 DESC, 1;
PRAGMA integrity_check;
PRAGMA page_count;
VACUUM;
PRAGMA page_count;
.open test.db
.headers off
SELECT 'reopened', count(*), round(sum(amount), 2) FROM orders;
SELECT name FROM sqlite_schema ORDER BY name;
`;

/** Runs sqlite3 on DB inside the test's temp dir (so scripts can name files relatively), script on stdin. */
const inTempDir = (db: string) => ['sh', '-c', `cd "$1" && exec ${SQLITE} ${SQLITE_ARGS.join(' ')} ${db}`, 'sh', '{tmp}'];

describe('sqlite3 (dynamically linked) under elfshim matches native', { skip }, () => {
  test('create a database file, fill it in a transaction, index and query it, reopen it', async (t) => {
    await compareWithNative(t, BUSYBOX, inTempDir('test.db'), { tempDir: true, env: ENV, input: MAIN_SCRIPT, elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS });
  });

  test('WAL journal mode: write, checkpoint, read back', async (t) => {
    const script = `PRAGMA journal_mode=WAL;
CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000) INSERT INTO kv SELECT x, hex(x * 7919) FROM c;
COMMIT;
UPDATE kv SET v = v || '!' WHERE k % 3 = 0;
SELECT count(*), sum(length(v)), max(v) FROM kv;
PRAGMA wal_checkpoint(TRUNCATE);
PRAGMA journal_mode=DELETE;
SELECT count(*) FROM kv WHERE v LIKE '%!';
PRAGMA integrity_check;
`;
    await compareWithNative(t, SQLITE, [...SQLITE_ARGS, '{tmp}/wal.db'], { tempDir: true, env: ENV, input: script, elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS });
  });

  test('a second sqlite process finds the database locked, then not', async (t) => {
    // Process A holds an exclusive transaction until B has tried; .shell runs /bin/sh (dash, dynamic) from sqlite.
    const script = `cd "$1"
sqlite3 -batch -init /dev/null db "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
printf 'BEGIN EXCLUSIVE;\\nINSERT INTO t VALUES (2);\\n.shell touch ready; while [ ! -e done ]; do sleep 0.05; done\\nCOMMIT;\\n' | sqlite3 -batch -init /dev/null db &
while [ ! -e ready ]; do sleep 0.05; done
sqlite3 -batch -init /dev/null db "INSERT INTO t VALUES (3);"; echo "writer while locked: $?"
sqlite3 -batch -init /dev/null db "SELECT count(*) FROM t;"; echo "reader while locked: $?"
touch done; wait $!; echo "holder: $?"
sqlite3 -batch -init /dev/null db "INSERT INTO t VALUES (4); SELECT group_concat(x) FROM t;"
`;
    await compareWithNative(t, BUSYBOX, ['sh', '-c', script, 'sh', '{tmp}'], { tempDir: true, env: ENV, elfshimTimeoutMs: ELFSHIM_TIMEOUT_MS });
  });
});
