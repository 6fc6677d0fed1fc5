/** Starts test/helpers/lockstep-peer.ts for a lockstep case (see LockstepCase.peer). */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ECHO_CONNECTIONS, ECHO_MESSAGES } from './lockstep-peer.js';
import { scratchDir } from './scratch-dir.js';

const SCRIPT = fileURLToPath(new URL('./lockstep-peer.js', import.meta.url));

export interface Peer {
  port?: number;
  onPortLearned?: (elfshimPort: number, nativePort: number) => void;
  /** The echo clients' transcripts with elfshim's server and the native one. */
  transcripts?: () => Promise<[string, string]>;
  expected?: string;
  stop(): void;
}

export async function startPeer(kind: 'server' | 'udp-echo' | 'echo'): Promise<Peer> {
  const portsFile = join(scratchDir('lockstep-ports-'), 'ports');
  const child = spawn(process.execPath, [SCRIPT, kind, portsFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const stop = () => child.kill();
  if (kind !== 'echo') {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('close', () => reject(new Error(`the peer server ended: ${out}`)));
    });
    return { port, stop };
  }
  const total = ECHO_MESSAGES.reduce((a, b) => a + b, 0);
  return {
    // Called while the differ runs (this process's event loop does not turn): a file the peer polls.
    onPortLearned: (e, n) => appendFileSync(portsFile, `${e} ${n}\n`),
    transcripts: async () => {
      await exited;
      const line = (who: string) => new RegExp(`^${who} (.*)$`, 'm').exec(out)?.[1] ?? `no ${who} line in ${out}`;
      return [line('elfshim'), line('native')];
    },
    expected: Array(ECHO_CONNECTIONS).fill(String(total)).join(' '),
    stop,
  };
}
