import { ElfError } from './elf-error.js';

/** BINPRM_BUF_SIZE: Linux only looks at the first 256 bytes of a script. */
const BUF_SIZE = 256;
/** Scripts may name scripts as interpreters this many times (BINPRM_MAX_RECURSION) before ELOOP. */
export const MAX_SCRIPT_DEPTH = 4;

export interface Shebang {
  interpreter: string;
  /** Everything after the interpreter name (one argument, spaces included), or null. */
  arg: string | null;
}

const isBlank = (c: number) => c === 0x20 || c === 0x09;

/**
 * binfmt_script: `#!interpreter [one argument]` on the first line. Returns null when the
 * file is not a script; throws ElfError (ENOEXEC) for a `#!` line Linux refuses.
 */
export function parseShebang(image: Uint8Array): Shebang | null {
  if (image.length < 2 || image[0] !== 0x23 || image[1] !== 0x21) return null;
  const buf = image.subarray(0, BUF_SIZE);
  const newline = buf.indexOf(0x0a);
  // Without a newline in the first 256 bytes the line may be cut short: Linux accepts that
  // only when the interpreter's name itself is complete (followed by a blank).
  const truncated = newline < 0 && image.length > BUF_SIZE;
  let end = newline < 0 ? buf.length : newline;
  const nul = buf.subarray(0, end).indexOf(0, 2);
  if (nul >= 0) end = nul;
  while (end > 2 && isBlank(buf[end - 1])) end--; // only blanks: a CR stays ("bad interpreter: /bin/sh^M")
  let i = 2;
  while (i < end && isBlank(buf[i])) i++;
  if (i === end) throw new ElfError('#! line names no interpreter');
  let j = i;
  while (j < end && !isBlank(buf[j])) j++;
  if (truncated && j === end) throw new ElfError('#! interpreter path longer than the 256-byte line Linux reads');
  const decoder = new TextDecoder();
  const interpreter = decoder.decode(buf.subarray(i, j));
  while (j < end && isBlank(buf[j])) j++;
  return { interpreter, arg: j < end ? decoder.decode(buf.subarray(j, end)) : null };
}

/** The argv the interpreter gets: interpreter, [arg], the script's path, then argv[1..]. */
export function scriptArgv(sb: Shebang, path: string, argv: readonly string[]): string[] {
  return [sb.interpreter, ...(sb.arg !== null ? [sb.arg] : []), path, ...argv.slice(1)];
}
