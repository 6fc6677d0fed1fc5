/**
 * Hex helpers for the Remote Serial Protocol. Packet payloads are handled as
 * latin1 strings (one char per byte), so binary data survives unchanged.
 */

const HEX_DIGITS = '0123456789abcdef';
const TWO32 = 4294967296;
const HEX_RE = /^[0-9a-fA-F]+$/;

/** Lower-case hex of a byte array ("c3 90" → "c390"). */
export function bytesToHex(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += HEX_DIGITS[data[i] >> 4] + HEX_DIGITS[data[i] & 15];
  return s;
}

/** Parses a hex byte string; null when the length is odd or a digit is invalid. */
export function hexToBytes(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || (hex.length > 0 && !HEX_RE.test(hex))) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

/**
 * Parses an unsigned hex number (addresses, lengths, register numbers).
 * Values above 2^53 lose precision, which only matters for addresses that
 * are outside the user half anyway. null when empty or not hex.
 */
export function parseHex(s: string): number | null {
  if (!HEX_RE.test(s)) return null;
  return parseInt(s, 16);
}

/** Parses a hex number with an optional leading minus sign (Host I/O arguments). */
export function parseSignedHex(s: string): number | null {
  if (s.startsWith('-')) {
    const v = parseHex(s.slice(1));
    return v === null ? null : -v;
  }
  return parseHex(s);
}

/** Hex of a non-negative integer, no padding ("0" for zero); negatives get a minus sign. */
export function numHex(v: number): string {
  return v < 0 ? '-' + (-v).toString(16) : v.toString(16);
}

/** Two hex digits of a byte (signal numbers, exit codes). */
export function hex2(v: number): string {
  return HEX_DIGITS[(v >> 4) & 15] + HEX_DIGITS[v & 15];
}

/** Hex of the UTF-8 bytes of a text (qRcmd output, qSymbol names). */
export function textToHex(text: string): string {
  return bytesToHex(new TextEncoder().encode(text));
}

/** Decodes hex-encoded UTF-8 text; null when the hex is malformed. */
export function hexToText(hex: string): string | null {
  const b = hexToBytes(hex);
  return b === null ? null : new TextDecoder().decode(b);
}

/** Writes an integer-valued double as 8 little-endian bytes (two's complement for negatives). */
export function writeU64LE(view: DataView, off: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  view.setUint32(off, v - hi * TWO32, true);
  view.setUint32(off + 4, hi >>> 0, true);
}

/** Reads 8 little-endian bytes as an unsigned value (exact below 2^53). */
export function readU64LE(view: DataView, off: number): number {
  return view.getUint32(off + 4, true) * TWO32 + view.getUint32(off, true);
}

/** Reads 8 little-endian bytes as a signed value (exact when |v| < 2^53). */
export function readS64LE(view: DataView, off: number): number {
  return view.getInt32(off + 4, true) * TWO32 + view.getUint32(off, true);
}
