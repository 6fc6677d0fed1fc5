import type { StatePort } from '../port.js';
import { Registers } from '../side.js';
import { EMU_LAYOUT, USER_REG_OFFSET, nativeRegisterBlock } from './native-registers.js';
import type { NativeTracer } from './tracer-client.js';

/**
 * The native process as a StatePort: the registers of the tracer's last
 * record (in elfshim's layout), register writes as a SETREGS of the whole
 * user_regs_struct, memory through /proc/PID/mem. Valid while the tracer
 * waits for a command (between runs).
 */
export class NativeSide implements StatePort {
  private user: Uint8Array = new Uint8Array(216);
  private fp: Uint8Array = new Uint8Array(512);
  private cached: Registers | null = null;

  constructor(readonly tracer: NativeTracer) {}

  /** The state a record reported. */
  update(user: Uint8Array, fp: Uint8Array): Registers {
    this.user = user;
    this.fp = fp;
    this.cached = new Registers(EMU_LAYOUT, nativeRegisterBlock(user, fp));
    return this.cached;
  }

  current(): Registers {
    return (this.cached ??= new Registers(EMU_LAYOUT, nativeRegisterBlock(this.user, this.fp)));
  }

  async registers(): Promise<Registers> {
    return this.current();
  }

  async writeRegister(name: string, value: Uint8Array): Promise<void> {
    const off = USER_REG_OFFSET[name];
    if (off === undefined) throw new Error(`native: cannot write ${name} through ptrace here`);
    const user = this.user.slice();
    user.fill(0, off, off + 8);
    user.set(value.subarray(0, 8), off);
    if (!this.tracer.setRegisters(user)) throw new Error(`native: writing ${name} failed`);
    this.update(user, this.fp);
  }

  async readMemory(addr: number, len: number): Promise<Uint8Array | null> {
    return this.tracer.readMemory(addr, len);
  }

  async writeMemory(addr: number, data: Uint8Array): Promise<boolean> {
    return this.tracer.writeMemory(addr, data);
  }
}
