import * as fs from 'node:fs';
import { createRequire } from 'node:module';

/**
 * n random bytes from the host, for AT_RANDOM and getrandom without --seed.
 *
 * Read from the host's /dev/urandom (what node:crypto's randomBytes draws on
 * too) rather than through node:crypto: loading that module evaluates about 15
 * of Node's internal modules, a few milliseconds of every run's startup for
 * the 16 bytes of AT_RANDOM. node:crypto remains the fallback for a host
 * without a readable /dev/urandom.
 */
export function hostRandomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let fd = -1;
  try {
    fd = fs.openSync('/dev/urandom', 'r');
    for (let done = 0; done < n; ) {
      const k = fs.readSync(fd, out, done, n - done, null);
      if (k <= 0) throw new Error('/dev/urandom: short read');
      done += k;
    }
    return out;
  } catch {
    const { randomBytes } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    return new Uint8Array(randomBytes(n));
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
