/** netclient's host server (the sockets tests and the lockstep peer): "GET n\n" → n bytes of a fixed pattern, then close. */
import { createServer, type Server } from 'node:net';

/** The bytes the server sends for "GET n". */
export const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

/** The server, not yet listening. */
export function netclientServer(): Server {
  return createServer((s) => {
    let req = '';
    s.on('data', (d) => {
      req += d;
      const m = /^GET (\d+)\n/.exec(req);
      if (m) s.end(pattern(Number(m[1])));
    });
    s.on('error', () => {});
  });
}
