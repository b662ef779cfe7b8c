/**
 * Which processes hold which sockets: the (inode, pid) pairs an owner scan finds, collected in
 * typed arrays and sorted once into a table looked up by inode.
 *
 * A scan of a busy machine finds tens of thousands of pairs. Kept as a `Map` of arrays, each
 * socket costs a hash entry and an array on the heap; here each pair is one float64 while it is
 * collected, sorted in place, and looked up where it lies. Lists of one pid are shared: every
 * socket a process alone holds gets the same array.
 *
 * @module
 */

/**
 * Pids are below 2^22 (`PID_MAX_LIMIT` on 64-bit Linux); with inodes below 2^31 a pair fits in
 * one float64 key, `inode * 2^22 + pid`, exactly, and keys sort as the pairs do.
 */
const PID_SPAN = 2 ** 22;
const KEYED_INODE_LIMIT = 2 ** 31;

/** Sorted pairs, as one key per pair or, past the keys' limits, as two arrays. */
type Pairs =
  | { keys: Float64Array }
  | { inodes: Float64Array; pids: Float64Array };

/**
 * Socket inode -> the pids holding it, ascending, each once. Read-only, with the `Map` methods a
 * caller needs (`get`, `has`, `size`, `keys`, iteration as `[inode, pids]` pairs, ascending by
 * inode).
 */
export class OwnerTable {
  readonly #keys: Float64Array | null;
  readonly #inodes: Float64Array | null;
  readonly #pids: Float64Array | null;
  readonly #count: number;
  /** One-pid lists handed out so far, by pid. */
  readonly #alone = new Map<number, readonly number[]>();
  #size = -1;

  /** @param pairs The pairs, sorted by inode and then pid; a pair may repeat. */
  constructor(pairs: Pairs) {
    if ("keys" in pairs) {
      this.#keys = pairs.keys;
      this.#inodes = this.#pids = null;
      this.#count = pairs.keys.length;
    } else {
      this.#keys = null;
      this.#inodes = pairs.inodes;
      this.#pids = pairs.pids;
      this.#count = pairs.inodes.length;
    }
  }

  #inodeAt(i: number): number {
    return this.#keys ? Math.floor(this.#keys[i] / PID_SPAN) : this.#inodes![i];
  }

  #pidAt(i: number): number {
    return this.#keys ? this.#keys[i] % PID_SPAN : this.#pids![i];
  }

  /** The first pair of `inode`, or -1. */
  #first(inode: number): number {
    const keys = this.#keys;
    let low = 0;
    let high = this.#count;
    if (keys) {
      // Keys of the inode are inode * 2^22 and up: search for the first of them.
      const least = inode * PID_SPAN;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (keys[middle] < least) low = middle + 1;
        else high = middle;
      }
      return low < this.#count && keys[low] < least + PID_SPAN ? low : -1;
    }
    const inodes = this.#inodes!;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (inodes[middle] < inode) low = middle + 1;
      else high = middle;
    }
    return low < this.#count && inodes[low] === inode ? low : -1;
  }

  /** Where the pairs of the inode whose pairs start at `from` end. */
  #end(from: number): number {
    const inode = this.#inodeAt(from);
    let to = from + 1;
    while (to < this.#count && this.#inodeAt(to) === inode) to++;
    return to;
  }

  /** The distinct pids of the pairs `from` up to `to` (one inode's). */
  #list(from: number, to: number): readonly number[] {
    const first = this.#pidAt(from);
    let list: number[] | null = null;
    for (let i = from + 1; i < to; i++) {
      const pid = this.#pidAt(i);
      if (pid === this.#pidAt(i - 1)) continue;
      (list ??= [first]).push(pid);
    }
    if (list) return list;
    let alone = this.#alone.get(first);
    if (alone === undefined) this.#alone.set(first, alone = Object.freeze([first]));
    return alone;
  }

  /** How many sockets have at least one owner. */
  get size(): number {
    if (this.#size < 0) {
      let size = 0;
      for (let i = 0; i < this.#count; i++) {
        if (i === 0 || this.#inodeAt(i) !== this.#inodeAt(i - 1)) size++;
      }
      this.#size = size;
    }
    return this.#size;
  }

  /**
   * The pids holding a socket.
   *
   * @param inode The socket's inode.
   * @returns Its pids ascending (a one-pid list may be shared with other sockets: do not change
   *   it), or undefined when no scanned process holds it.
   */
  get(inode: number): readonly number[] | undefined {
    const from = this.#first(inode);
    if (from < 0) return undefined;
    // Most sockets have one holder: then the next pair is another inode's, or there is none.
    const next = from + 1;
    if (next === this.#count || this.#inodeAt(next) !== inode) return this.#list(from, next);
    return this.#list(from, this.#end(from));
  }

  /**
   * Whether some scanned process holds a socket.
   *
   * @param inode The socket's inode.
   * @returns True when the socket has an owner.
   */
  has(inode: number): boolean {
    return this.#first(inode) >= 0;
  }

  /** Every socket inode with an owner, ascending. */
  *keys(): IterableIterator<number> {
    for (const [inode] of this) yield inode;
  }

  /** Each socket inode with its pids, ascending by inode. */
  *[Symbol.iterator](): IterableIterator<[number, readonly number[]]> {
    for (let i = 0; i < this.#count;) {
      const next = this.#end(i);
      yield [this.#inodeAt(i), this.#list(i, next)];
      i = next;
    }
  }
}

/**
 * Collects a scan's (inode, pid) pairs; `finish` sorts them into an {@linkcode OwnerTable}. A
 * pair may come more than once (a thread with a file table of its own reports its process's pid
 * again), in any order.
 *
 * @example
 * ```ts
 * import { OwnerMap } from "./owner_table.ts";
 * const owners = new OwnerMap();
 * owners.add(77, 9);
 * owners.add(77, 3);
 * owners.add(77, 9);
 * owners.finish().byInode.get(77); // [3, 9]
 * ```
 */
export class OwnerMap {
  /** True when some process could not be scanned (its sockets may be missing). */
  incomplete = false;
  /** One key per pair while every pair fits one; then null, and the pairs are in `#wide`. */
  #keys: Float64Array | null = new Float64Array(1024);
  #wide: { inodes: Float64Array; pids: Float64Array } | null = null;
  #count = 0;

  /** Records that `pid` holds the socket `inode`. */
  readonly add = (inode: number, pid: number): void => {
    const count = this.#count;
    const keys = this.#keys;
    if (keys !== null && inode < KEYED_INODE_LIMIT && pid < PID_SPAN) {
      if (count === keys.length) this.#grow(count * 2);
      this.#keys![count] = inode * PID_SPAN + pid;
    } else {
      const wide = this.#widen();
      if (count === wide.inodes.length) this.#grow(count * 2);
      this.#wide!.inodes[count] = inode;
      this.#wide!.pids[count] = pid;
    }
    this.#count = count + 1;
  };

  /**
   * Makes room for `more` pairs beyond those added, so that a caller who knows how many come
   * (the BPF iterator's records) does not grow the arrays step by step.
   *
   * @param more How many pairs are about to be added.
   */
  reserve(more: number): void {
    const capacity = this.#keys?.length ?? this.#wide!.inodes.length;
    if (this.#count + more > capacity) this.#grow(this.#count + more);
  }

  #grow(capacity: number): void {
    if (this.#keys !== null) {
      const keys = new Float64Array(capacity);
      keys.set(this.#keys.subarray(0, this.#count));
      this.#keys = keys;
      return;
    }
    const wide = this.#wide!;
    const inodes = new Float64Array(capacity);
    inodes.set(wide.inodes.subarray(0, this.#count));
    const pids = new Float64Array(capacity);
    pids.set(wide.pids.subarray(0, this.#count));
    this.#wide = { inodes, pids };
  }

  /** Moves the pairs from keys to two arrays, for a pair that does not fit a key. */
  #widen(): { inodes: Float64Array; pids: Float64Array } {
    if (this.#wide !== null) return this.#wide;
    const keys = this.#keys!;
    const inodes = new Float64Array(keys.length);
    const pids = new Float64Array(keys.length);
    for (let i = 0; i < this.#count; i++) {
      inodes[i] = Math.floor(keys[i] / PID_SPAN);
      pids[i] = keys[i] % PID_SPAN;
    }
    this.#keys = null;
    return this.#wide = { inodes, pids };
  }

  /**
   * The table of what was added. The collector is emptied; it may be filled again.
   *
   * @returns The owners, each socket's pids ascending and once each, and whether the scan was
   *   incomplete.
   */
  finish(): { byInode: OwnerTable; incomplete: boolean } {
    const count = this.#count;
    let pairs: Pairs;
    if (this.#keys !== null) {
      // A typed array's own sort orders numbers, without a comparison function.
      pairs = { keys: this.#keys.subarray(0, count).sort() };
    } else {
      const wide = this.#wide!;
      pairs = sortPairs(wide.inodes.subarray(0, count), wide.pids.subarray(0, count));
    }
    this.#keys = new Float64Array(1024);
    this.#wide = null;
    this.#count = 0;
    return { byInode: new OwnerTable(pairs), incomplete: this.incomplete };
  }
}

/**
 * Sorts pairs by inode, then pid, through a comparison: for pairs that do not fit one key.
 *
 * @param inodes The pairs' inodes.
 * @param pids The pairs' pids.
 * @returns New arrays, sorted.
 */
export function sortPairs(
  inodes: Float64Array,
  pids: Float64Array,
): { inodes: Float64Array; pids: Float64Array } {
  const order = Array.from({ length: inodes.length }, (_, i) => i);
  order.sort((a, b) => (inodes[a] - inodes[b]) || (pids[a] - pids[b]));
  return {
    inodes: Float64Array.from(order, (i) => inodes[i]),
    pids: Float64Array.from(order, (i) => pids[i]),
  };
}
