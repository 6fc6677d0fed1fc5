import { REGISTERS, type RegisterFeature } from './registers.js';

/**
 * The target description served by qXfer:features:read:target.xml. Register
 * entries are generated from the register table (registers.ts), so the XML
 * and the `g` packet cannot disagree. Types follow gdb's own amd64 feature
 * files; the bfloat16/half vector views are left out so older gdbs accept it.
 */

const FEATURE_NAMES: Record<RegisterFeature, string> = {
  core: 'org.gnu.gdb.i386.core',
  sse: 'org.gnu.gdb.i386.sse',
  // orig_rax: without it gdb refuses `catch syscall` and loses its Linux support.
  linux: 'org.gnu.gdb.i386.linux',
  segments: 'org.gnu.gdb.i386.segments',
};

/** [name, bit] of the flags gdb decodes for eflags / mxcsr. */
const EFLAGS_FIELDS: Array<[string, number]> = [
  ['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
  ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21],
];
const MXCSR_FIELDS: Array<[string, number]> = [
  ['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7], ['DM', 8], ['ZM', 9],
  ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15],
];

function flags(id: string, fields: Array<[string, number]>): string[] {
  return [
    `    <flags id="${id}" size="4">`,
    ...fields.map(([n, b]) => `      <field name="${n}" start="${b}" end="${b}" type="bool"/>`),
    '    </flags>',
  ];
}

const VEC128_TYPES: string[] = [
  '    <vector id="v4f" type="ieee_single" count="4"/>',
  '    <vector id="v2d" type="ieee_double" count="2"/>',
  '    <vector id="v16i8" type="int8" count="16"/>',
  '    <vector id="v8i16" type="int16" count="8"/>',
  '    <vector id="v4i32" type="int32" count="4"/>',
  '    <vector id="v2i64" type="int64" count="2"/>',
  '    <union id="vec128">',
  '      <field name="v4_float" type="v4f"/>',
  '      <field name="v2_double" type="v2d"/>',
  '      <field name="v16_int8" type="v16i8"/>',
  '      <field name="v8_int16" type="v8i16"/>',
  '      <field name="v4_int32" type="v4i32"/>',
  '      <field name="v2_int64" type="v2i64"/>',
  '      <field name="uint128" type="uint128"/>',
  '    </union>',
];

/** Type definitions each feature needs before its registers. */
const FEATURE_TYPES: Record<RegisterFeature, string[]> = {
  core: flags('i386_eflags', EFLAGS_FIELDS),
  sse: [...VEC128_TYPES, ...flags('i386_mxcsr', MXCSR_FIELDS)],
  linux: [],
  segments: [],
};

function feature(f: RegisterFeature): string[] {
  const regs = REGISTERS.filter((r) => r.feature === f).map(
    (r) => `    <reg name="${r.name}" bitsize="${r.size * 8}" type="${r.type}" regnum="${r.regnum}"${r.group ? ` group="${r.group}"` : ''}/>`,
  );
  return [`  <feature name="${FEATURE_NAMES[f]}">`, ...FEATURE_TYPES[f], ...regs, '  </feature>'];
}

export const TARGET_XML: string = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
  '<target>',
  '  <architecture>i386:x86-64</architecture>',
  '  <osabi>GNU/Linux</osabi>',
  ...(['core', 'sse', 'linux', 'segments'] as const).flatMap(feature),
  '</target>',
  '',
].join('\n');

/** Annexes of qXfer:features:read (the description is self-contained: no xi:include files). */
export const FEATURE_FILES: ReadonlyMap<string, Uint8Array> = new Map([['target.xml', new TextEncoder().encode(TARGET_XML)]]);
