/**
 * Where the stub listens, from a command-line spelling: "PORT", ":PORT",
 * "HOST:PORT", "[V6]:PORT", or "unix:/PATH".
 */
export type ListenAddress = { host: string; port: number } | { unixPath: string };

export const DEFAULT_HOST = '127.0.0.1';

export function parseListenAddress(spec: string): ListenAddress | null {
  if (spec.startsWith('unix:')) {
    const unixPath = spec.slice(5);
    return unixPath ? { unixPath } : null;
  }
  // "PORT" alone, or "[HOST]:PORT" / "HOST:PORT" / ":PORT".
  const m = /^(\d+)$/.exec(spec) ?? /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d+)$/.exec(spec);
  if (!m) return null;
  const port = Number(m.length === 2 ? m[1] : m[3]);
  if (port > 65535) return null;
  const host = m.length === 2 ? DEFAULT_HOST : m[1] ?? (m[2] || DEFAULT_HOST);
  return { host, port };
}

/** Whether a host name / address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
