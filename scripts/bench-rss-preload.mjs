// Loaded with `node --import` into elfshim by scripts/bench-run.mjs when /usr/bin/time
// is missing: records elfshim's peak RSS (KB) at exit. The variable is removed before
// the guest can inherit it.
import { writeFileSync } from 'node:fs';

const file = process.env.ELFSHIM_BENCH_RSS_FILE;
delete process.env.ELFSHIM_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, `${process.resourceUsage().maxRSS}\n`));
