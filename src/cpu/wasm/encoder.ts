/**
 * A minimal WebAssembly binary writer: the opcodes the region translator
 * emits, LEB128 immediates, a function body with named labels, and a module
 * of one function importing the guest's shared memory.
 */

/** Value types. */
export const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;

/** Opcodes (the single-byte ones, and the 0xfc prefix ones used). */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f,
  drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, f32Load: 0x2a, f64Load: 0x2b, i64Load8U: 0x31, i64Load16U: 0x33, i64Load32U: 0x35,
  i32Store: 0x36, i64Store: 0x37, f32Store: 0x38, f64Store: 0x39, i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42, f32Const: 0x43, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtU: 0x49, i32GeS: 0x4e, i32GtU: 0x4b, i32LeU: 0x4d, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtS: 0x55, i64GtU: 0x56,
  i64LeS: 0x57, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  f32Eq: 0x5b, f32Ne: 0x5c, f32Lt: 0x5d, f32Gt: 0x5e, f32Le: 0x5f, f32Ge: 0x60,
  f64Eq: 0x61, f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65, f64Ge: 0x66,
  i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  i64Clz: 0x79, i64Ctz: 0x7a, i64Popcnt: 0x7b,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64DivS: 0x7f, i64DivU: 0x80, i64RemS: 0x81, i64RemU: 0x82,
  i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88, i64Rotl: 0x89, i64Rotr: 0x8a,
  f32Abs: 0x8b, f32Neg: 0x8c, f32Add: 0x92, f32Sub: 0x93, f32Mul: 0x94, f32Div: 0x95,
  f64Abs: 0x99, f64Neg: 0x9a, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
  f32ConvertI64S: 0xb4, f64ConvertI64S: 0xb9, i32ReinterpretF32: 0xbc, i64ReinterpretF64: 0xbd,
  i64Extend8S: 0xc2, i64Extend16S: 0xc3, i64Extend32S: 0xc4,
} as const;

/** SIMD opcodes (after the 0xfd prefix, LEB128-encoded). */
export const Simd = {
  v128Load: 0x00, v128Store: 0x0b, v128Const: 0x0c, i8x16Shuffle: 0x0d,
  i32x4ExtractLane: 0x1b, i64x2ExtractLane: 0x1d, i64x2ReplaceLane: 0x1e,
  i8x16Eq: 0x23, i8x16GtS: 0x27, i16x8Eq: 0x2d, i16x8GtS: 0x31, i32x4Eq: 0x37, i32x4GtS: 0x3b,
  v128And: 0x4e, v128AndNot: 0x4f, v128Or: 0x50, v128Xor: 0x51,
  i8x16Bitmask: 0x64, i8x16Add: 0x6e, i8x16Sub: 0x71, i8x16MinU: 0x77, i8x16MaxU: 0x79, i16x8Shl: 0x8b, i16x8ShrS: 0x8c, i16x8ShrU: 0x8d, i16x8Add: 0x8e, i16x8Sub: 0x91,
  i32x4Shl: 0xab, i32x4ShrS: 0xac, i32x4ShrU: 0xad, i32x4Add: 0xae, i32x4Sub: 0xb1,
  i64x2Shl: 0xcb, i64x2ShrS: 0xcc, i64x2ShrU: 0xcd, i64x2Add: 0xce, i64x2Sub: 0xd1, i64x2Mul: 0xd5,
} as const;

/** Unsigned LEB128 of a non-negative integer below 2^53. */
export function uleb(n: number, out: number[] = []): number[] {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a 64-bit integer. */
export function sleb(v: bigint, out: number[] = []): number[] {
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Appends the signed LEB128 of a safe integer to out (the same bytes as sleb, in float arithmetic: v / 128 floored is v >> 7). */
export function slebSafe(out: Bytes, v: number): void {
  for (;;) {
    const q = Math.floor(v / 128);
    const b = v - q * 128;
    v = q;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** Signed LEB128 of an int32 (no BigInt: the common case). */
export function sleb32(v: number, out: number[] = []): number[] {
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A growable byte buffer. */
export class Bytes {
  buf: Uint8Array;
  length = 0;
  /** The default fits a region's body, ~3.5 KB on average (sqlite3): one allocation, rarely a copy. */
  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
  }
  push(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
  }
  /** Appends bytes. */
  append(b: ArrayLike<number>): void {
    if (this.length + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** Appends the unsigned LEB128 of a non-negative integer below 2^53 (float arithmetic: no 32-bit wrap). */
  uleb(n: number): void {
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      this.push(b);
    } while (n);
  }
  /** Appends a custom section: id 0, its size, the name, then the payload. */
  customSection(sectionName: string, payload: Bytes): void {
    const label = name(sectionName);
    this.push(0);
    this.uleb(label.length + payload.length);
    this.append(label);
    this.append(payload.bytes);
  }
  private grow(n: number): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * One function body under construction. Locals are declared as they are
 * asked for; structured control constructs push a label, so a branch names
 * the construct it leaves (or continues, for a loop) rather than a depth.
 * Code is written straight into a byte buffer (this runs once per region,
 * mostly before V8 has optimized it: no per-byte arrays).
 */
/** Where float() encodes a constant. */
const floatBytes = new DataView(new ArrayBuffer(8));

export class FunctionBody {
  readonly code = new Bytes();
  private readonly localTypes: number[] = [];
  private readonly labels: string[] = [];

  constructor(readonly params: number[], readonly results: number[]) {}

  /** A new local of type t; returns its index. */
  local(t: number): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  op(a: number, b = -1, c = -1, d = -1): this {
    const code = this.code;
    code.push(a);
    if (b >= 0) code.push(b);
    if (c >= 0) code.push(c);
    if (d >= 0) code.push(d);
    return this;
  }
  get(l: number): this {
    this.code.push(Op.localGet);
    this.code.uleb(l);
    return this;
  }
  set(l: number): this {
    this.code.push(Op.localSet);
    this.code.uleb(l);
    return this;
  }
  tee(l: number): this {
    this.code.push(Op.localTee);
    this.code.uleb(l);
    return this;
  }
  i32(v: number): this {
    this.code.push(Op.i32Const);
    for (const b of sleb32(v)) this.code.push(b);
    return this;
  }
  /** i64.const of an exact integer (|v| < 2^53) or a bigint. */
  i64(v: number | bigint): this {
    this.code.push(Op.i64Const);
    // Most constants are safe integers (guest addresses, masks): encoded without BigInt, which allocates at every step.
    const n = typeof v === 'number' ? v : v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : NaN;
    if (Number.isSafeInteger(n)) slebSafe(this.code, n);
    else for (const b of sleb(BigInt(v))) this.code.push(b);
    return this;
  }
  /** f64.const (f32.const when single: the value must be a float32). */
  float(v: number, single = false): this {
    if (single) floatBytes.setFloat32(0, v, true);
    else floatBytes.setFloat64(0, v, true);
    this.code.push(single ? Op.f32Const : Op.f64Const);
    for (let k = 0; k < (single ? 4 : 8); k++) this.code.push(floatBytes.getUint8(k));
    return this;
  }
  /** A SIMD (0xfd-prefixed) opcode. */
  simd(op: number): this {
    this.code.push(0xfd);
    this.code.uleb(op);
    return this;
  }
  /** A SIMD memory access with alignment hint 0 and offset. */
  simdMem(op: number, offset = 0): this {
    this.simd(op);
    this.code.push(0);
    this.code.uleb(offset);
    return this;
  }
  /** v128.const of 16 bytes. */
  v128(bytes: number[]): this {
    this.simd(Simd.v128Const);
    for (const b of bytes) this.code.push(b & 0xff);
    return this;
  }

  /** A memory access opcode with its alignment hint 0 and offset. */
  mem(opcode: number, offset = 0): this {
    this.code.push(opcode);
    this.code.push(0);
    this.code.uleb(offset);
    return this;
  }

  /**
   * Branch hints, [offset in code, 1 taken / 0 not] pairs, for the branch
   * hinting proposal's custom section (moduleOf): TurboFan (with
   * --experimental-wasm-branch-hinting) makes the unlikely side of a hinted
   * if / br_if deferred — laid out of line, its spills kept off the likely
   * path. Regions hint their slow exits (TLB misses, budget, faults) unlikely.
   */
  private readonly hints: number[] = [];
  /** Hinted branches so far. */
  get hintCount(): number {
    return this.hints.length / 2;
  }
  private hint(likely: boolean | undefined): void {
    if (likely !== undefined) this.hints.push(this.code.length, likely ? 1 : 0);
  }
  /** Where code starts in the encoded body (after the local declarations and the prefix): hint offsets count from the body's start. */
  private codeStart = 0;

  /** block / loop / if labelled `name`, with no result or one of type `result`. */
  open(kind: 'block' | 'loop' | 'if', name: string, result = 0x40): this {
    this.code.push(kind === 'block' ? Op.block : kind === 'loop' ? Op.loop : Op.if);
    this.code.push(result);
    this.labels.push(name);
    return this;
  }
  /** An if (no result) hinted not taken: a slow path, laid out of line by TurboFan. */
  ifUnlikely(name: string): this {
    this.hint(false);
    return this.open('if', name);
  }
  /** An if (no result) hinted taken. */
  ifLikely(name: string): this {
    this.hint(true);
    return this.open('if', name);
  }
  else(): this {
    this.code.push(Op.else);
    return this;
  }
  end(): this {
    this.code.push(Op.end);
    this.labels.pop();
    this.onEnd?.(this.labels.length);
    return this;
  }
  /** Called after each end with the nesting depth left. */
  onEnd: ((depth: number) => void) | null = null;
  /** Labels open now. */
  get nesting(): number {
    return this.labels.length;
  }
  private depth(name: string): number {
    const k = this.labels.lastIndexOf(name);
    if (k < 0) throw new Error(`wasm: no label ${name}`);
    return this.labels.length - 1 - k;
  }
  br(name: string): this {
    this.code.push(Op.br);
    this.code.uleb(this.depth(name));
    return this;
  }
  /** br_if, optionally hinted taken (`likely` true) or not (false). */
  brIf(name: string, likely?: boolean): this {
    this.hint(likely);
    this.code.push(Op.brIf);
    this.code.uleb(this.depth(name));
    return this;
  }
  brTable(names: string[], dflt: string): this {
    this.code.push(Op.brTable);
    this.code.uleb(names.length);
    // One pass over the open labels (a region's dispatch names hundreds of them: depth() each was quadratic).
    const depths = new Map<string, number>();
    this.labels.forEach((name, k) => depths.set(name, this.labels.length - 1 - k));
    for (const n of [...names, dflt]) {
      const d = depths.get(n);
      if (d === undefined) throw new Error(`wasm: no label ${n}`);
      this.code.uleb(d);
    }
    return this;
  }

  /** The encoded body: size, local declarations run-length grouped, `prefix` (code to run first), the code, end. */
  encode(prefix?: FunctionBody): Uint8Array {
    const head: number[] = [];
    const groups: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, head);
    for (const [n, t] of groups) {
      uleb(n, head);
      head.push(t);
    }
    this.codeStart = head.length + (prefix ? prefix.code.length : 0);
    const size = this.codeStart + this.code.length + 1;
    const sizeBytes = uleb(size);
    const out = new Uint8Array(sizeBytes.length + size);
    out.set(sizeBytes);
    let at = sizeBytes.length;
    out.set(head, at);
    at += head.length;
    if (prefix) {
      out.set(prefix.code.bytes, at);
      at += prefix.code.length;
    }
    out.set(this.code.bytes, at);
    out[at + this.code.length] = Op.end;
    return out;
  }

  /**
   * Appends the "metadata.code.branch_hint" custom section for this body as function `index` (after encode())
   * to out, if it has hints. Written byte by byte: a region has hundreds of hints, and building the section
   * from spread arrays took 20-35 ms of the sqlite3 bench's translation.
   */
  hintSection(index: number, out: Bytes): void {
    if (this.hints.length === 0) return;
    const p = new Bytes(8 + 6 * this.hints.length);
    p.push(1); // one function
    p.uleb(index);
    p.uleb(this.hints.length / 2);
    for (let k = 0; k < this.hints.length; k += 2) {
      p.uleb(this.codeStart + this.hints[k]);
      p.push(1); // the hint's size
      p.push(this.hints[k + 1]);
    }
    out.customSection('metadata.code.branch_hint', p);
  }
}

const name = (s: string): number[] => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
/** The name custom section naming function `index`. */
function nameSection(index: number, fnName: string, out: Bytes): void {
  const entry = new Bytes(fnName.length + 8);
  entry.uleb(index);
  entry.append(name(fnName));
  const p = new Bytes(entry.length + 8);
  p.push(1); // subsection 1: function names
  p.uleb(entry.length + 1);
  p.push(1); // one name
  p.append(entry.bytes);
  out.customSection('name', p);
}
const section = (id: number, b: number[]): number[] => [id, ...uleb(b.length), ...b];

/** A function a module imports. */
export interface FunctionImport {
  module: string;
  name: string;
  params: number[];
  results: number[];
}

const typeOf = (params: number[], results: number[]): number[] => [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results];

/**
 * A module exporting one function "f", importing the functions `imports`
 * (function indices 0, 1, … ; f follows them), when memoryPages is given the
 * pool's shared memory of that many pages as "m"."m", and with opts.table a
 * function table as "t"."t". Its types are f's, the imports', then
 * opts.types (for call_indirect).
 */
export function moduleOf(
  fn: FunctionBody,
  memoryPages: number | null,
  imports: FunctionImport[],
  opts: { table?: boolean; types?: { params: number[]; results: number[] }[]; prologue?: FunctionBody; name?: string } = {},
): Uint8Array<ArrayBuffer> {
  const header = headerOf(fn, memoryPages, imports, opts);
  const body = fn.encode(opts.prologue);
  // One buffer: region modules are built by the hundred.
  const out = new Bytes(header.length + body.length + 64 + 6 * fn.hintCount);
  out.append(header);
  fn.hintSection(imports.length, out); // before the code section
  out.push(10); // the code section: one body (encode() starts it with its size)
  out.uleb(body.length + 1);
  out.push(1);
  out.append(body);
  // The function's name (the "name" custom section): V8 shows it in profiles (perf, --cpu-prof) and stack traces.
  if (opts.name !== undefined) nameSection(imports.length, opts.name, out);
  return out.bytes.slice();
}

const sig = (t: { params: number[]; results: number[] }): string => `${t.params.join()}>${t.results.join()}`;
/** Keys of type lists, by list (region modules pass the same, unchanging one every time). */
const typeKeys = new WeakMap<object, string>();
function typesKey(types: { params: number[]; results: number[] }[]): string {
  let k = typeKeys.get(types);
  if (k === undefined) {
    k = types.map(sig).join(';');
    typeKeys.set(types, k);
  }
  return k;
}

/** Everything before the code section; the same for every region module of a pool (cached by shape). */
const headers = new Map<string, Uint8Array>();
function headerOf(fn: FunctionBody, memoryPages: number | null, imports: FunctionImport[], opts: { table?: boolean; types?: { params: number[]; results: number[] }[] }): Uint8Array {
  const key = `${sig(fn)}|${memoryPages}|${opts.table ? 1 : 0}|${imports.length ? imports.map((im) => `${im.module}.${im.name}:${sig(im)}`).join() : ''}|${opts.types ? typesKey(opts.types) : ''}`;
  let header = headers.get(key);
  if (header !== undefined) return header;
  const types = [typeOf(fn.params, fn.results), ...imports.map((im) => typeOf(im.params, im.results)), ...(opts.types ?? []).map((t) => typeOf(t.params, t.results))];
  const importEntries: number[] = [];
  imports.forEach((im, k) => importEntries.push(...name(im.module), ...name(im.name), 0, ...uleb(k + 1)));
  if (memoryPages !== null) importEntries.push(...name('m'), ...name('m'), 2, 3, ...uleb(memoryPages), ...uleb(memoryPages));
  if (opts.table) importEntries.push(...name('t'), ...name('t'), 1, 0x70, 0, 0);
  const importCount = imports.length + (memoryPages !== null ? 1 : 0) + (opts.table ? 1 : 0);
  header = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...(importCount ? section(2, [...uleb(importCount), ...importEntries]) : []),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('f'), 0, ...uleb(imports.length)]),
  ]);
  headers.set(key, header);
  return header;
}
