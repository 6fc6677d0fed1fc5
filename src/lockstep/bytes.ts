/** Little-endian byte helpers and chunked memory access over RSP. */

/** Largest memory packet payload used (well under both servers' PacketSize). */
const CHUNK = 0x800;

/** Anything that reads and writes target memory (a Side). */
export interface MemoryPort {
  readMemory(addr: number, len: number): Promise<Uint8Array | null>;
  writeMemory(addr: number, data: Uint8Array): Promise<boolean>;
}

export function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v & 0xffffffffffffffffn, true);
  return b;
}

export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** Reads [addr, addr+len) in chunks; null if any part is unreadable. */
export async function readRange(s: MemoryPort, addr: number, len: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(len);
  for (let off = 0; off < len; off += CHUNK) {
    const part = await s.readMemory(addr + off, Math.min(CHUNK, len - off));
    if (!part) return null;
    out.set(part, off);
  }
  return out;
}

/** Writes data at addr in chunks; false if any part could not be written. */
export async function writeRange(s: MemoryPort, addr: number, data: Uint8Array): Promise<boolean> {
  for (let off = 0; off < data.length; off += CHUNK) {
    if (!(await s.writeMemory(addr + off, data.subarray(off, Math.min(data.length, off + CHUNK))))) return false;
  }
  return true;
}
