import * as fs from 'node:fs';
import { hostWriter, isRegularFd } from './host-writer.js';

/**
 * elfshim's own lines on its stderr while a guest runs: strace lines, the
 * unimplemented-syscall notice, the illegal-instruction message. Guest output to
 * a pipe or terminal is written asynchronously (HostWriter); a line written
 * straight to process.stderr would overtake it, so that `write(1, "hi\n", 3) = 3`
 * could show up after the lines of later syscalls, or a notice in the middle of
 * an output line. Going through the writer of the same host file keeps the order
 * in which things happened, as strace's own output does.
 */
export function writeDiagnostic(text: string): void {
  // At once (process.stderr writes files and pipes synchronously) when nothing of the
  // guest's is in flight to the same file: a regular file is written at once by guests too.
  const w = isRegularFd(2) ? null : hostWriter(2);
  if (!w || w.pending === 0) {
    process.stderr.write(text);
    return;
  }
  w.enqueue(2, Buffer.from(text, 'utf8'));
  if (!ownQueued) void w.drained().then(() => (ownQueued = false));
  ownQueued = true;
}

/**
 * Writes text to elfshim's stderr at once, as process.stderr does for files, pipes and
 * terminals, but without creating that stream: it is a net.Socket or tty.WriteStream,
 * whose modules cost a few milliseconds of a run that prints one line (--stats).
 * What a blocking write cannot take at once (a full non-blocking pipe: EAGAIN) or any
 * error goes to process.stderr after all, which queues it or reports it as before.
 */
export function writeStderrNow(text: string): void {
  const data = Buffer.from(text, 'utf8');
  let done = 0;
  try {
    while (done < data.length) done += fs.writeSync(2, data, done);
  } catch {
    process.stderr.write(data.subarray(done));
  }
}

/** Whether lines of ours wait in the stderr writer (until it next runs empty). */
let ownQueued = false;

/**
 * While elfshim's stderr holds a full queue of unwritten bytes (a slow or stalled
 * reader of an --strace run), a promise for room: the scheduler waits on it, as a
 * traced process waits while strace blocks on its output, so memory stays bounded.
 * Null when there is room, or when none of the queued bytes are ours.
 */
export function diagnosticBacklog(): Promise<void> | null {
  // Guest output alone never stalls the scheduler: a guest writer waits in its own write.
  if (!ownQueued) return null;
  const w = hostWriter(2);
  return w.writable ? null : w.whenRoom();
}
