/**
 * How a WebAssembly region's blocks nest: a weak topological order of the
 * region's control flow (Bourdoncle, "Efficient chaotic iteration strategies
 * with widenings", 1993). Each loop of the guest code becomes a component:
 * its head followed by its other blocks and inner components, laid out
 * together inside one wasm `loop`, so that the loop's back edges branch to a
 * `loop` label of their own. Every other edge goes forward, to a label that
 * encloses the branch. Before, every branch to an earlier block went round
 * one loop around the whole region and through its br_table: an indirect
 * jump, and one merge point of all the region's locals, which TurboFan fills
 * with spills (a loop laid out this way ran twice as fast in a synthetic
 * region of 13 blocks: scripts/experiments/wasm-loop-layout.mjs).
 */
import { fallThrough, successors, type JitBlock } from '../jit/compile.js';
import * as C from '../ops/control.js';

/** A block, or a loop: its elements, the head block first. */
export type Element = { kind: 'block'; block: number } | { kind: 'loop'; head: number; elements: Element[] };

/** Each block's successors among the region's blocks (by index), its fall-through successor last. */
export function regionSuccessors(blocks: JitBlock[], index: Map<number, number>, retSites: readonly number[], targets: readonly (readonly number[])[]): number[][] {
  return blocks.map((_, bi) => successorsOf(blocks, index, retSites, targets, bi));
}

function successorsOf(blocks: JitBlock[], index: Map<number, number>, retSites: readonly number[], targets: readonly (readonly number[])[], bi: number): number[] {
  const b = blocks[bi];
  const out: number[] = [];
  const add = (a: number) => {
    const k = index.get(a);
    if (k !== undefined && !out.includes(k)) out.push(k);
  };
  for (const a of targets[bi] ?? []) add(a);
  if (b.instrs[b.instrs.length - 1].exec === C.ret) retSites.forEach(add);
  successors(b).forEach(add);
  const ft = fallThrough(b);
  const k = ft === undefined ? undefined : index.get(ft);
  // Visited last, the fall-through successor comes right after the block in the order (where nothing else put it first).
  if (k !== undefined) out.push(...out.splice(out.indexOf(k), 1));
  return out;
}

/**
 * The weak topological order: for every edge u→v, v comes after u, or v is the
 * head of a loop that contains u. Blocks not reached from block 0 (entered only
 * from outside the region, e.g. return addresses) start their own walks.
 * succ[v]: v's successors, walked in that order.
 */
export function weakTopologicalOrder(succ: readonly (readonly number[])[]): Element[] {
  const n = succ.length;
  const dfn = new Float64Array(n);
  const stack: number[] = [];
  let num = 0;
  const visit = (v: number, into: Element[]): number => {
    stack.push(v);
    dfn[v] = ++num;
    let head = dfn[v];
    let loop = false;
    for (const w of succ[v]) {
      const min = dfn[w] === 0 ? visit(w, into) : dfn[w];
      if (min <= head) {
        head = min;
        loop = true;
      }
    }
    if (head === dfn[v]) {
      dfn[v] = Infinity;
      let e = stack.pop()!;
      if (loop) {
        while (e !== v) {
          dfn[e] = 0;
          e = stack.pop()!;
        }
        into.unshift(component(v));
      } else into.unshift({ kind: 'block', block: v });
    }
    return head;
  };
  const component = (v: number): Element => {
    const body: Element[] = [];
    for (const w of succ[v]) if (dfn[w] === 0) visit(w, body);
    return { kind: 'loop', head: v, elements: [{ kind: 'block', block: v }, ...body] };
  };
  const top: Element[] = [];
  for (let root = 0; root < n; root++) {
    if (dfn[root] !== 0) continue;
    const part: Element[] = [];
    visit(root, part);
    top.unshift(...part);
  }
  return top;
}

/** Where the blocks sit: for each, the elements from the top level down to its own; each element's place in its level. */
export function nesting(top: Element[], blockCount: number): { path: Element[][]; place: Map<Element, number> } {
  const path: Element[][] = new Array(blockCount);
  const place = new Map<Element, number>();
  const walk = (level: Element[], above: Element[]) => {
    level.forEach((e, p) => {
      place.set(e, p);
      if (e.kind === 'block') path[e.block] = [...above, e];
      else walk(e.elements, [...above, e]);
    });
  };
  walk(top, []);
  return { path, place };
}

/** The blocks inside an element. */
export function blocksOf(e: Element, out: number[] = []): number[] {
  if (e.kind === 'block') out.push(e.block);
  else for (const x of e.elements) blocksOf(x, out);
  return out;
}
