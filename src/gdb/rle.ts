/**
 * gdb's run-length encoding of replies: "X*c" stands for X followed by
 * (c - 29) more copies of X. Counts are printable characters from ' ' (3
 * more) to '~' (97 more); '#' and '$' would break framing and '+' / '-'
 * could be mistaken for acknowledgements, so those counts are never produced.
 */

const MIN_EXTRA = 3;
const MAX_EXTRA = 126 - 29;
const FORBIDDEN_COUNT_CHARS = new Set(['#', '$', '+', '-'].map((c) => c.charCodeAt(0)));

/** Largest usable "extra copies" count ≤ n (skipping the forbidden count characters). */
function usableExtra(n: number): number {
  n = Math.min(n, MAX_EXTRA);
  while (n >= MIN_EXTRA && FORBIDDEN_COUNT_CHARS.has(n + 29)) n--;
  return n;
}

/**
 * Encodes a reply payload. The payload must not contain a raw `*` (binary
 * data is escaped first, which turns `*` into `}` + 0x0a).
 */
export function rleEncode(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    let run = 1;
    while (i + run < s.length && s[i + run] === c) run++;
    out += c;
    let extra = run - 1;
    i += run;
    // Emit as many "*count" groups as the run needs; leftovers go out literally.
    while (extra >= MIN_EXTRA) {
      const n = usableExtra(extra);
      if (n < MIN_EXTRA) break;
      out += '*' + String.fromCharCode(n + 29);
      extra -= n;
      if (extra > 0) {
        // A new group must start with a literal copy of the character.
        out += c;
        extra--;
      }
    }
    out += c.repeat(extra);
  }
  return out;
}

/** Expands run-length encoding (used by the test client, and to check the encoder). null when malformed. */
export function rleDecode(s: string): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '*') {
      out += c;
      continue;
    }
    if (out.length === 0 || i + 1 >= s.length) return null;
    const extra = s.charCodeAt(++i) - 29;
    if (extra < MIN_EXTRA || extra > MAX_EXTRA) return null;
    out += out[out.length - 1].repeat(extra);
  }
  return out;
}
