import { spawnSync } from 'node:child_process';

/**
 * The host terminal's settings, read and written for real. Node has no
 * tcgetattr/tcsetattr (only setRawMode, which cannot turn echo off while
 * keeping line editing, as a password prompt does), so this goes through the
 * host's stty(1) with the terminal as its stdin, in `stty -g` form:
 * iflag:oflag:cflag:lflag:cc0:cc1:… in hex (glibc's NCCS = 32 control characters;
 * the kernel's struct termios has 19 and c_line, which stty does not show).
 * Null / false when stty is not there or fails: the caller falls back.
 */

/** Size of the kernel's struct termios (NCCS = 19). */
export const TERMIOS_SIZE = 36;
const KERNEL_NCCS = 19;
const CC_OFFSET = 17;
/** stty is quick; a stty stopped by SIGTTOU (elfshim in the background) must not hang elfshim for good. */
const STTY_TIMEOUT_MS = 5000;

/** The control characters beyond the kernel's 19 that the last read showed (written back unchanged). */
const extraCc = new Map<number, string[]>();

function stty(hostFd: number, args: string[]): string | null {
  try {
    const r = spawnSync('stty', args, { stdio: [hostFd, 'pipe', 'pipe'], encoding: 'utf8', timeout: STTY_TIMEOUT_MS, killSignal: 'SIGKILL' });
    return r.status === 0 ? r.stdout : null;
  } catch {
    return null;
  }
}

/** TCGETS on the host terminal behind hostFd: the kernel's struct termios, or null. */
export function readHostTermios(hostFd: number): Uint8Array | null {
  const out = stty(hostFd, ['-g']);
  const fields = out?.trim().split(':');
  if (!fields || fields.length < 4 + KERNEL_NCCS || fields.some((f) => !/^[0-9a-f]+$/i.test(f))) return null;
  const b = new Uint8Array(TERMIOS_SIZE);
  const v = new DataView(b.buffer);
  for (let k = 0; k < 4; k++) v.setUint32(4 * k, parseInt(fields[k], 16) >>> 0, true);
  for (let k = 0; k < KERNEL_NCCS; k++) b[CC_OFFSET + k] = parseInt(fields[4 + k], 16) & 0xff;
  extraCc.set(hostFd, fields.slice(4 + KERNEL_NCCS));
  return b;
}

/** TCSETS on the host terminal behind hostFd; false when it could not be applied. */
export function writeHostTermios(hostFd: number, tm: Uint8Array): boolean {
  const v = new DataView(tm.buffer, tm.byteOffset, TERMIOS_SIZE);
  const flags = [0, 1, 2, 3].map((k) => v.getUint32(4 * k, true).toString(16));
  const cc = Array.from(tm.subarray(CC_OFFSET, CC_OFFSET + KERNEL_NCCS), (c) => c.toString(16));
  const extra = extraCc.get(hostFd) ?? Array.from({ length: 32 - KERNEL_NCCS }, () => '0');
  return stty(hostFd, [[...flags, ...cc, ...extra].join(':')]) !== null;
}
