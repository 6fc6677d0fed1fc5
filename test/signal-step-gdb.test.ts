/**
 * gdb `stepi` over a signal delivery, elfshim against Debian's gdbserver:
 * the step that passes a signal into a handler stops at the handler's first
 * instruction (ptrace's signal_setup_done reports the step there), and the
 * handler starts with the FPU/SSE state Linux gives it (fpu__clear_user_states:
 * MXCSR 0x1f80, FCW 0x37f, empty tags, xmm zero), with the interrupted state
 * saved in the frame, and uc_stack.ss_flags as Linux stores it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ROOT, haveGdb, haveGdbserver, normaliseGdb, runGdb, runGdbserver } from './helpers/gdb-run.js';

const PROGRAM = `${ROOT}/test/fixtures/build/musl/signals`;

// Stop at the first SIGUSR1 (raise), give the FPU a non-initial state, then stepi: gdb passes the signal.
const COMMANDS = [
  'handle SIGUSR1 stop print pass',
  'continue',
  'set $mxcsr = 0x3f80',
  'set $xmm1.v4_int32 = {1, 2, 3, 4}',
  'stepi',
  'info symbol $pc',
  'p/x $mxcsr',
  'p $xmm1.v4_int32',
  'p/x $fctrl',
  'p/x $ftag',
  // The frame: uc_stack.ss_flags (rdx = &ucontext), the saved MXCSR and xmm1 (uc_mcontext.fpstate at +224).
  'x/wx $rdx+24',
  'x/wx *(long *)($rdx+224)+24',
  'x/4wx *(long *)($rdx+224)+176',
  'stepi',
  'info symbol $pc',
  'kill',
];

test('stepi that delivers a signal stops at the handler entry with a fresh FPU state, as under gdbserver', async (t) => {
  if (!haveGdb() || !haveGdbserver()) return t.skip('gdb or gdbserver not installed');
  if (!existsSync(PROGRAM)) return t.skip('fixtures not built');
  const [emu, native] = await Promise.all([runGdb(PROGRAM, [], COMMANDS), runGdbserver(PROGRAM, [], COMMANDS)]);
  const pick = (text: string) =>
    normaliseGdb(text)
      .map((l) => l.replace(/ of \/\S+$/, '').replace(/^0x\w+:/, 'ADDR:'))
      .filter((l) => /^(\$\d+ = |on_usr1|ADDR:|Program received)/.test(l));
  const n = pick(native.gdb), e = pick(emu.gdb);
  t.diagnostic(e.join(' | '));
  assert.ok(n.some((l) => /^on_usr1 in section \.text$/.test(l)), `gdbserver run did not stop at the handler:\n${native.gdb}`);
  assert.deepEqual(e, n, `elfshim:\n${emu.gdb}\ngdbserver:\n${native.gdb}`);
  // What Linux does, spelled out (so a change in both would still be noticed).
  assert.match(e.join('\n'), /^on_usr1 in section \.text\n\$1 = 0x1f80\n\$2 = \{0, 0, 0, 0\}\n\$3 = 0x37f\n\$4 = 0xffff\n/m);
  assert.match(e.join('\n'), /ADDR:\s+0x00000000\nADDR:\s+0x00003f80\nADDR:\s+0x00000001\s+0x00000002\s+0x00000003\s+0x00000004\non_usr1 \+ \d+ in section \.text/);
});
