import type { RspClient } from './rsp-client.js';

/** One register as a target description declares it. */
export interface RegisterSlot {
  name: string;
  regnum: number;
  /** Size in bytes. */
  size: number;
  /** Byte offset in the `g` reply, or -1 when it comes after the registers `g` covers. */
  offset: number;
}

/** A target's register file layout: every register by name, in regnum order. */
export class RegisterLayout {
  readonly byName = new Map<string, RegisterSlot>();

  constructor(readonly slots: RegisterSlot[]) {
    for (const s of slots) this.byName.set(s.name, s);
  }

  get(name: string): RegisterSlot | undefined {
    return this.byName.get(name);
  }
}

/**
 * Reads target.xml (following xi:include) and lays the registers out in
 * regnum order, as the `g` packet orders them. gdbserver's description
 * differs from elfshim's (it adds ymm/avx512/pkeys registers), so each side
 * is laid out from its own description.
 */
export async function readRegisterLayout(client: RspClient): Promise<RegisterLayout> {
  const regs: { name: string; bits: number; regnum: number }[] = [];
  let next = 0;
  const seen = new Set<string>();
  const visit = async (annex: string): Promise<void> => {
    if (seen.has(annex)) return;
    seen.add(annex);
    const xml = Buffer.from(await client.xfer('features', annex)).toString('utf8');
    // Registers and includes in document order.
    const re = /<reg\s([^>]*)\/?>|<xi:include\s[^>]*href="([^"]+)"/g;
    for (let m = re.exec(xml); m; m = re.exec(xml)) {
      if (m[2]) {
        await visit(m[2]);
        continue;
      }
      const attr = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(m![1])?.[1];
      const name = attr('name');
      const bits = Number(attr('bitsize'));
      const rn = attr('regnum');
      const regnum = rn !== undefined ? Number(rn) : next;
      next = regnum + 1;
      if (name) regs.push({ name, bits, regnum });
    }
  };
  await visit('target.xml');
  regs.sort((a, b) => a.regnum - b.regnum);
  let offset = 0;
  const slots = regs.map((r) => {
    const s = { name: r.name, regnum: r.regnum, size: r.bits / 8, offset };
    offset += s.size;
    return s;
  });
  return new RegisterLayout(slots);
}
