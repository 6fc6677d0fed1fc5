import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Task } from '../task.js';
import { EBADF, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, hostErrno } from '../errno.js';
import { AT_FDCWD, S_IFDIR, S_IFLNK, S_IFMT } from '../syscalls/abi.js';
import type { FileDescription } from './description.js';
import { DEV_NAMES, devDirNode, devNode } from './devfs.js';
import { procRoot } from './procfs.js';
import type { SynthNode } from './synth.js';

const MAX_SYMLINKS = 40;
const NAME_MAX = 255;

/** Where a guest path leads. */
export type Resolved =
  /** A host file (or the place a new one would go: st === null). */
  | { kind: 'host'; guestPath: string; hostPath: string; st: fs.Stats | null }
  /**
   * A node of /proc or the emulated /dev. followed: a magic link (one with
   * open()) was followed as the last component, so opening or stat'ing it
   * means its object, not the link.
   */
  | { kind: 'synth'; guestPath: string; node: SynthNode; parentIno: number; followed?: boolean }
  /** AT_EMPTY_PATH: the dirfd itself. */
  | { kind: 'fd'; guestPath: string; desc: FileDescription };

export interface ResolveOptions {
  /** Follow a symlink in the last component (stat vs lstat, O_NOFOLLOW). */
  follow: boolean;
  /** AT_EMPTY_PATH: an empty path means the dirfd itself. */
  emptyPath?: boolean;
}

/** One step of a walk: the components so far and, inside a synthetic tree, its nodes. */
interface Loc {
  comps: string[];
  /** nodes[i] is the synthetic node for comps[0..i], or null for host directories. */
  nodes: (SynthNode | null)[];
}

/**
 * A process's filesystem view: the guest root (a host directory, or the host
 * `/`) and the current directory (a canonical guest path). Paths are resolved
 * component by component: symlinks are read and followed here, absolute ones
 * relative to the guest root, and `..` stops at the root, so no path reaches
 * outside the root. /proc and the emulated /dev entries are layered on top.
 */
export class FsContext {
  /** Host path of the guest root, without a trailing slash ('' for the host root). */
  readonly root: string;
  cwd: string;

  constructor(root: string | null = null, cwd = '/') {
    const r = root === null ? '/' : fs.realpathSync(nodePath.resolve(root));
    this.root = r === '/' ? '' : r;
    this.cwd = cwd;
  }

  /** For fork (without CLONE_FS): an independent copy. */
  clone(): FsContext {
    const c = Object.create(FsContext.prototype) as FsContext;
    (c as { root: string }).root = this.root;
    c.cwd = this.cwd;
    return c;
  }

  /** Host path of a canonical guest path. */
  hostPathOf(guestPath: string): string {
    return this.root + (guestPath === '/' ? (this.root ? '' : '/') : guestPath);
  }

  /**
   * Resolves path relative to dirfd (AT_FDCWD for the cwd). Returns where it
   * leads or a negative errno (ENOENT for a missing directory on the way,
   * ENOTDIR, ELOOP, ENAMETOOLONG, EBADF, EACCES). A missing last component is
   * not an error: kind 'host' with st === null.
   */
  resolve(t: Task, dirfd: number, path: string, opts: ResolveOptions): Resolved | number {
    if (path === '') {
      if (!opts.emptyPath) return -ENOENT;
      if (dirfd === AT_FDCWD) path = '.';
      else {
        const d = t.files.get(dirfd);
        if (!d) return -EBADF;
        return { kind: 'fd', guestPath: d.path, desc: d };
      }
    }
    let start: string;
    if (path.startsWith('/')) start = '/';
    else if (dirfd === AT_FDCWD) start = this.cwd;
    else {
      const d = t.files.get(dirfd);
      if (!d) return -EBADF;
      if (!d.isDirectory) return -ENOTDIR;
      start = d.path;
    }
    const trailingSlash = path.length > 1 && path.endsWith('/');
    const loc = this.locate(t, start);
    return this.walk(t, loc, path.split('/'), opts.follow || trailingSlash, trailingSlash);
  }

  /** Builds a Loc for a canonical guest path (no symlinks in it). */
  private locate(t: Task, guestPath: string): Loc {
    const loc: Loc = { comps: [], nodes: [] };
    for (const c of guestPath.split('/')) {
      if (c === '' || c === '.') continue;
      const synth = this.synthChild(t, loc, c);
      loc.comps.push(c);
      loc.nodes.push(synth);
    }
    return loc;
  }

  /** The synthetic node for child name of loc, or null when it lives on the host. */
  private synthChild(t: Task, loc: Loc, name: string): SynthNode | null {
    const parent = loc.nodes.length ? loc.nodes[loc.nodes.length - 1] : null;
    if (parent) return parent.lookup?.(name) ?? null;
    if (loc.comps.length === 0) {
      if (name === 'proc') return procRoot(t);
      if (name === 'dev' && !fs.existsSync(this.hostPathOf('/dev'))) return devDirNode();
      return null;
    }
    if (loc.comps.length === 1 && loc.comps[0] === 'dev' && DEV_NAMES.includes(name)) return devNode(name);
    return null;
  }

  private walk(t: Task, loc: Loc, parts: string[], followLast: boolean, mustBeDir: boolean): Resolved | number {
    let links = 0;
    const queue = parts.filter((c) => c !== '' && c !== '.');
    // A path of only "/" or "." components names the start directory.
    while (queue.length) {
      const name = queue.shift()!;
      if (name === '..') {
        loc.comps.pop();
        loc.nodes.pop();
        continue;
      }
      if (Buffer.byteLength(name) > NAME_MAX) return -ENAMETOOLONG;
      const last = queue.length === 0;
      const parentNode = loc.nodes.length ? loc.nodes[loc.nodes.length - 1] : null;
      const synth = this.synthChild(t, loc, name);
      // Inside a synthetic directory nothing else exists.
      if (parentNode && !synth) return -ENOENT;
      let isLink: boolean;
      let isDir: boolean;
      let hostSt: fs.Stats | null = null;
      const guestPath = '/' + [...loc.comps, name].join('/');
      if (synth) {
        isLink = synth.type === 'link';
        isDir = synth.type === 'dir';
      } else {
        try {
          hostSt = fs.lstatSync(this.hostPathOf(guestPath));
        } catch (e) {
          const err = hostErrno(e);
          if (err === -ENOENT && last) return { kind: 'host', guestPath, hostPath: this.hostPathOf(guestPath), st: null };
          return err;
        }
        isLink = (hostSt.mode & S_IFMT) === S_IFLNK;
        isDir = (hostSt.mode & S_IFMT) === S_IFDIR;
      }
      if (isLink && (!last || followLast)) {
        // A magic link as the last component opens its object instead of following text.
        if (synth?.open && last) {
          return { kind: 'synth', guestPath, node: synth, parentIno: parentNode?.ino ?? 0, followed: true };
        }
        if (++links > MAX_SYMLINKS) return -ELOOP;
        let target: string;
        if (synth) target = synth.target!();
        else {
          try {
            target = fs.readlinkSync(this.hostPathOf(guestPath));
          } catch (e) {
            return hostErrno(e);
          }
        }
        if (target.startsWith('/')) {
          loc.comps = [];
          loc.nodes = [];
        }
        queue.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
        if (target.endsWith('/') && last) mustBeDir = true;
        continue;
      }
      if (!last && !isDir) return -ENOTDIR;
      loc.comps.push(name);
      loc.nodes.push(synth);
      if (last) {
        if (mustBeDir && !isDir && !isLink) return -ENOTDIR;
        if (synth) return { kind: 'synth', guestPath, node: synth, parentIno: parentNode?.ino ?? 0 };
        return { kind: 'host', guestPath, hostPath: this.hostPathOf(guestPath), st: hostSt };
      }
    }
    // Ended on a directory reached by "..", ".", "/" or a symlink chain: stat it.
    const guestPath = '/' + loc.comps.join('/');
    const node = loc.nodes.length ? loc.nodes[loc.nodes.length - 1] : null;
    if (node) return { kind: 'synth', guestPath, node, parentIno: loc.nodes.length > 1 ? (loc.nodes[loc.nodes.length - 2]?.ino ?? 0) : 0 };
    const hostPath = this.hostPathOf(guestPath);
    try {
      const st = fs.lstatSync(hostPath);
      if (mustBeDir && !st.isDirectory()) return -ENOTDIR;
      return { kind: 'host', guestPath, hostPath, st };
    } catch (e) {
      const err = hostErrno(e);
      return err === -ENOENT ? { kind: 'host', guestPath, hostPath, st: null } : err;
    }
  }
}
