/**
 * Binary data in packets (X, vFile:pwrite requests; qXfer, vFile:pread replies):
 * the bytes `#` `$` `}` `*` are sent as `}` followed by the byte XOR 0x20.
 * Everything is a latin1 string (one char per byte).
 */

const ESCAPE = 0x7d; // '}'

function needsEscape(b: number): boolean {
  return b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a;
}

/**
 * Escapes bytes from data[start..] until the output would exceed maxChars.
 * Returns the escaped text and how many input bytes it covers, so callers can
 * fit a reply into the packet size and report the real length.
 */
export function escapeBinary(data: Uint8Array, maxChars = Infinity, start = 0): { text: string; count: number } {
  const parts: string[] = [];
  let chars = 0;
  let i = start;
  let runStart = i;
  for (; i < data.length; i++) {
    const b = data[i];
    const w = needsEscape(b) ? 2 : 1;
    if (chars + w > maxChars) break;
    chars += w;
    if (w === 2) {
      if (i > runStart) parts.push(String.fromCharCode(...data.subarray(runStart, i)));
      parts.push('}' + String.fromCharCode(b ^ 0x20));
      runStart = i + 1;
    } else if (i - runStart >= 4096) {
      parts.push(String.fromCharCode(...data.subarray(runStart, i)));
      runStart = i;
    }
  }
  if (i > runStart) parts.push(String.fromCharCode(...data.subarray(runStart, i)));
  return { text: parts.join(''), count: i - start };
}

/** Undoes escapeBinary; null when the text ends in a lone `}`. */
export function unescapeBinary(text: string): Uint8Array | null {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) & 0xff;
    if (c === ESCAPE) {
      if (++i >= text.length) return null;
      out[n++] = (text.charCodeAt(i) & 0xff) ^ 0x20;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}
