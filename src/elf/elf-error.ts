/** Linux errno values an exec can fail with (what execve(2) returns for each reason). */
export const ENOENT = 2;
export const EIO = 5;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const ENOMEM = 12;
export const EACCES = 13;
export const EEXIST = 17;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ELOOP = 40;
export const EPERM = 1;

const ERRNO_TEXT: Record<number, string> = {
  [EPERM]: 'Operation not permitted',
  [ENOENT]: 'No such file or directory',
  [EIO]: 'Input/output error',
  [E2BIG]: 'Argument list too long',
  [ENOEXEC]: 'Exec format error',
  [ENOMEM]: 'Cannot allocate memory',
  [EACCES]: 'Permission denied',
  [EEXIST]: 'File exists',
  [ENOTDIR]: 'Not a directory',
  [EISDIR]: 'Is a directory',
  [EINVAL]: 'Invalid argument',
  [ELOOP]: 'Too many levels of symbolic links',
};

/** strerror(3) for the errno values above. */
export function errnoText(errno: number): string {
  return ERRNO_TEXT[errno] ?? `errno ${errno}`;
}

/** Node's fs error codes → Linux errno, for interpreters that cannot be read. */
export const NODE_CODE_ERRNO: Record<string, number> = {
  ENOENT, EACCES, ENOTDIR, EISDIR, ELOOP, EPERM, EIO, ENOMEM,
};

/**
 * Why a program cannot be executed. `message` is one line (the CLI prints
 * `elfshim: PATH: MESSAGE`); `errno` is what execve(2) would return for it.
 */
export class ElfError extends Error {
  override readonly name = 'ElfError';
  constructor(
    message: string,
    readonly errno: number = ENOEXEC,
  ) {
    super(oneLine(message));
  }
}

/** Makes text from a file safe for a one-line message: control bytes escaped, length capped. */
export function printable(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return t.length > max ? t.slice(0, max) + '…' : t;
}

function oneLine(s: string): string {
  return s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]+/g, ' ') : s;
}
