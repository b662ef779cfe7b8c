/**
 * Which processes hold which sockets: the (inode, pid) pairs an owner scan finds, collected in
 * typed arrays and sorted once into a table looked up by inode.
 *
 * A scan of a busy machine finds tens of thousands of pairs. Kept as a `Map` of arrays, each
 * socket costs a hash entry and an array on the heap; here the pairs cost 12 bytes each until
 * the sort, and the table holds three typed arrays. Lists of one pid are shared: every socket a
 * process alone holds gets the same array.
 *
 * @module
 */

/** Pids are below 2^22 (`PID_MAX_LIMIT` on 64-bit Linux); with inodes below 2^31 a pair fits in
 * one float64 key, `inode * 2^22 + pid`, exactly. */
const PID_SPAN = 2 ** 22;
const KEYED_INODE_LIMIT = 2 ** 31;

/**
 * Socket inode -> the pids holding it, ascending, each once. Read-only, with the `Map` methods a
 * caller needs (`get`, `has`, `size`, `keys`, iteration as `[inode, pids]` pairs, ascending by
 * inode).
 */
export class OwnerTable {
  /** Distinct inodes, ascending. */
  readonly #inodes: Float64Array;
  /** The pids of `#inodes[i]` are `#pids[#start[i]]` up to `#pids[#start[i + 1]]`. */
  readonly #start: Uint32Array;
  readonly #pids: Float64Array;
  /** One-pid lists handed out so far, by pid. */
  readonly #alone = new Map<number, readonly number[]>();

  constructor(inodes: Float64Array, start: Uint32Array, pids: Float64Array) {
    this.#inodes = inodes;
    this.#start = start;
    this.#pids = pids;
  }

  /** How many sockets have at least one owner. */
  get size(): number {
    return this.#inodes.length;
  }

  /** The index of `inode` in `#inodes`, or -1. */
  #find(inode: number): number {
    const inodes = this.#inodes;
    let low = 0;
    let high = inodes.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = inodes[middle];
      if (value < inode) low = middle + 1;
      else if (value > inode) high = middle - 1;
      else return middle;
    }
    return -1;
  }

  #list(index: number): readonly number[] {
    const from = this.#start[index];
    const to = this.#start[index + 1];
    if (to - from > 1) return Array.from(this.#pids.subarray(from, to));
    const pid = this.#pids[from];
    let list = this.#alone.get(pid);
    if (list === undefined) this.#alone.set(pid, list = Object.freeze([pid]));
    return list;
  }

  /**
   * The pids holding a socket.
   *
   * @param inode The socket's inode.
   * @returns Its pids ascending (a one-pid list may be shared with other sockets: do not change
   *   it), or undefined when no scanned process holds it.
   */
  get(inode: number): readonly number[] | undefined {
    const index = this.#find(inode);
    return index < 0 ? undefined : this.#list(index);
  }

  /**
   * Whether some scanned process holds a socket.
   *
   * @param inode The socket's inode.
   * @returns True when the socket has an owner.
   */
  has(inode: number): boolean {
    return this.#find(inode) >= 0;
  }

  /** Every socket inode with an owner, ascending. */
  *keys(): IterableIterator<number> {
    yield* this.#inodes;
  }

  /** Each socket inode with its pids, ascending by inode. */
  *[Symbol.iterator](): IterableIterator<[number, readonly number[]]> {
    for (let i = 0; i < this.#inodes.length; i++) yield [this.#inodes[i], this.#list(i)];
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
  #inodes = new Float64Array(1024);
  #pids = new Float64Array(1024);
  #count = 0;

  /** Records that `pid` holds the socket `inode`. */
  readonly add = (inode: number, pid: number): void => {
    const count = this.#count;
    if (count === this.#inodes.length) this.#grow();
    this.#inodes[count] = inode;
    this.#pids[count] = pid;
    this.#count = count + 1;
  };

  #grow(): void {
    const inodes = new Float64Array(this.#inodes.length * 2);
    inodes.set(this.#inodes);
    this.#inodes = inodes;
    const pids = new Float64Array(this.#pids.length * 2);
    pids.set(this.#pids);
    this.#pids = pids;
  }

  /**
   * The table of what was added. The collector is emptied; it may be filled again.
   *
   * @returns The owners, each socket's pids ascending and once each, and whether the scan was
   *   incomplete.
   */
  finish(): { byInode: OwnerTable; incomplete: boolean } {
    const count = this.#count;
    const inodes = this.#inodes.subarray(0, count);
    const pids = this.#pids.subarray(0, count);
    this.#inodes = new Float64Array(1024);
    this.#pids = new Float64Array(1024);
    this.#count = 0;
    sortPairs(inodes, pids);

    // Distinct inodes, and for each its distinct pids (adjacent once sorted).
    let distinct = 0;
    let kept = 0;
    const start = new Uint32Array(count + 1);
    for (let i = 0; i < count; i++) {
      const inode = inodes[i];
      if (distinct === 0 || inodes[distinct - 1] !== inode) {
        start[distinct] = kept;
        inodes[distinct++] = inode;
        pids[kept++] = pids[i];
      } else if (pids[kept - 1] !== pids[i]) {
        pids[kept++] = pids[i];
      }
    }
    start[distinct] = kept;
    return {
      byInode: new OwnerTable(
        inodes.slice(0, distinct),
        start.slice(0, distinct + 1),
        pids.slice(0, kept),
      ),
      incomplete: this.incomplete,
    };
  }
}

/**
 * Sorts the pairs `(inodes[i], pids[i])` in place by inode, then pid. When every inode is below
 * 2^31 and every pid below 2^22 (always, on today's kernels), each pair becomes one exact float64
 * key and the typed array's native sort does the work; otherwise the pairs are sorted through a
 * comparison.
 */
export function sortPairs(inodes: Float64Array, pids: Float64Array): void {
  const count = inodes.length;
  let keyed = true;
  for (let i = 0; i < count && keyed; i++) {
    keyed = inodes[i] < KEYED_INODE_LIMIT && pids[i] < PID_SPAN;
  }
  if (keyed) {
    const keys = new Float64Array(count);
    for (let i = 0; i < count; i++) keys[i] = inodes[i] * PID_SPAN + pids[i];
    keys.sort();
    for (let i = 0; i < count; i++) {
      const inode = Math.floor(keys[i] / PID_SPAN);
      inodes[i] = inode;
      pids[i] = keys[i] - inode * PID_SPAN;
    }
    return;
  }
  const order = Array.from({ length: count }, (_, i) => i);
  order.sort((a, b) => (inodes[a] - inodes[b]) || (pids[a] - pids[b]));
  const sortedInodes = Float64Array.from(order, (i) => inodes[i]);
  const sortedPids = Float64Array.from(order, (i) => pids[i]);
  inodes.set(sortedInodes);
  pids.set(sortedPids);
}
