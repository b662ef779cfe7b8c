/**
 * What changed between two listings: the core of `procconn watch`. A connection is identified by
 * its protocol, both ends and its owner (pid and process start time, so a reused pid is another
 * owner); the same identity in another TCP state is a change, not a close and an open.
 *
 * @module
 */
import type { Connection, TcpState } from "./record.ts";

/** The kinds of change between two listings. */
export const CHANGE_KINDS = ["opened", "closed", "changed"] as const;

/** A kind of change: a new endpoint, a gone one, or one in another TCP state. */
export type ChangeKind = typeof CHANGE_KINDS[number];

/** One change between two listings. */
export interface ConnectionChange {
  /** What happened. */
  event: ChangeKind;
  /** The record as it is now; for `closed`, the record as it was last seen. */
  connection: Connection;
  /** For `changed`, the state before; null for `opened` and `closed`. */
  previousState: TcpState | null;
}

/** A listing indexed by identity. A key can hold several records (see {@linkcode indexListing}). */
export type Listing = ReadonlyMap<string, readonly Connection[]>;

/**
 * Returns the identity of a connection: protocol, local address and port, remote address and
 * port, pid and process start time. The state is not part of it.
 *
 * @param connection The record.
 * @returns A string that is equal for two records exactly when their identities are equal.
 *
 * @example
 * ```ts
 * import { connectionKey } from "./diff.ts";
 * import type { Connection } from "./record.ts";
 * const row = { protocol: "TCP", localAddress: "127.0.0.1", localPort: 80, remoteAddress: null,
 *   remotePort: null, pid: 7, processStartTime: null } as Connection;
 * connectionKey(row) === connectionKey({ ...row, state: "LISTEN" }); // true
 * ```
 */
export function connectionKey(connection: Connection): string {
  const c = connection;
  return JSON.stringify([
    c.protocol,
    c.localAddress,
    c.localPort,
    c.remoteAddress,
    c.remotePort,
    c.pid,
    c.processStartTime,
  ]);
}

/**
 * Indexes a listing by identity. Several records can share one identity (two sockets bound to the
 * same port by one process with `SO_REUSEPORT`), so each key holds a list.
 *
 * @param rows The records of one listing.
 * @returns The records grouped by {@linkcode connectionKey}, in listing order.
 *
 * @example
 * ```ts
 * import { indexListing } from "./diff.ts";
 * indexListing([]).size; // 0
 * ```
 */
export function indexListing(rows: Iterable<Connection>): Map<string, Connection[]> {
  const index = new Map<string, Connection[]>();
  for (const row of rows) {
    const key = connectionKey(row);
    const list = index.get(key);
    if (list) list.push(row);
    else index.set(key, [row]);
  }
  return index;
}

/**
 * Compares two listings. Records that keep their identity and state are unchanged; the same
 * identity in another state is `changed`; the rest are `closed` (only before) or `opened` (only
 * now). The result lists every `closed` change first (in the order of the previous listing), then
 * every `changed`, then every `opened` (both in the order of the current listing).
 *
 * @param previous The earlier listing, indexed.
 * @param current The later listing, indexed.
 * @returns The changes; empty when nothing changed.
 *
 * @example
 * ```ts
 * import { diffListings, indexListing } from "./diff.ts";
 * import type { Connection } from "./record.ts";
 * const before = { protocol: "TCP", localAddress: "10.0.0.2", localPort: 50000,
 *   remoteAddress: "10.0.0.9", remotePort: 443, state: "ESTABLISHED", pid: 7,
 *   processStartTime: null } as Connection;
 * const after = { ...before, state: "CLOSE_WAIT" } as Connection;
 * const [change] = diffListings(indexListing([before]), indexListing([after]));
 * // change.event === "changed", change.previousState === "ESTABLISHED"
 * ```
 */
export function diffListings(previous: Listing, current: Listing): ConnectionChange[] {
  const closed: ConnectionChange[] = [];
  const changed: ConnectionChange[] = [];
  const opened: ConnectionChange[] = [];
  for (const [key, before] of previous) {
    if (!current.has(key)) {
      for (const connection of before) closed.push(change("closed", connection));
    }
  }
  for (const [key, now] of current) {
    const before = previous.get(key);
    if (!before) {
      for (const connection of now) opened.push(change("opened", connection));
    } else if (before.length === 1 && now.length === 1) {
      if (before[0].state !== now[0].state) {
        changed.push(change("changed", now[0], before[0].state));
      }
    } else {
      matchSameKey(before, now, { closed, changed, opened });
    }
  }
  return [...closed, ...changed, ...opened];
}

/**
 * Pairs the records of one identity that several sockets share: equal states first, then the
 * rest pairwise as state changes; what is left over closed or opened.
 */
function matchSameKey(
  before: readonly Connection[],
  now: readonly Connection[],
  out: Record<ChangeKind, ConnectionChange[]>,
): void {
  const unmatched = [...before];
  const fresh: Connection[] = [];
  for (const connection of now) {
    const i = unmatched.findIndex((b) => b.state === connection.state);
    if (i >= 0) unmatched.splice(i, 1);
    else fresh.push(connection);
  }
  const pairs = Math.min(unmatched.length, fresh.length);
  for (let i = 0; i < pairs; i++) {
    out.changed.push(change("changed", fresh[i], unmatched[i].state));
  }
  for (const connection of unmatched.slice(pairs)) out.closed.push(change("closed", connection));
  for (const connection of fresh.slice(pairs)) out.opened.push(change("opened", connection));
}

function change(
  event: ChangeKind,
  connection: Connection,
  previousState: TcpState | null = null,
): ConnectionChange {
  return { event, connection, previousState };
}

/** Remembers the last listing and reports what changed since. */
export interface ChangeTracker {
  /**
   * Compares a new listing with the previous one and keeps the new one in its place. The first
   * call reports every record as `opened`.
   *
   * @param rows The new listing.
   * @returns The changes since the previous call.
   */
  update(rows: Iterable<Connection>): ConnectionChange[];
  /** How many records the tracker holds (those of the last listing). */
  readonly size: number;
}

/**
 * Creates a tracker for a stream of listings. It holds the last listing and nothing else, so its
 * memory follows the size of one listing however long it runs.
 *
 * @returns A tracker with an empty previous listing.
 *
 * @example
 * ```ts
 * import { createChangeTracker } from "./diff.ts";
 * const tracker = createChangeTracker();
 * tracker.update([]); // []
 * ```
 */
export function createChangeTracker(): ChangeTracker {
  let previous: Map<string, Connection[]> = new Map();
  let size = 0;
  return {
    update(rows) {
      const current = indexListing(rows);
      const changes = diffListings(previous, current);
      previous = current;
      size = 0;
      for (const list of current.values()) size += list.length;
      return changes;
    },
    get size() {
      return size;
    },
  };
}
