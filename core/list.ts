/**
 * The listing pipeline: read sockets, filter them, look up only the owning processes that are
 * still needed, join, validate.
 *
 * @module
 */
import { compareAddressText } from "./address.ts";
import { type FilterOptions, nameMatcher, type SocketEndpoint, socketPredicate } from "./filter.ts";
import { checkListed, explained, prepareCheck } from "./check.ts";
import {
  COUNTER_FIELDS,
  type ExplainableField,
  FAMILIES,
  KIND_STRIDE,
  PROTOCOLS,
  type Reason,
  TCP_STATES,
  type TcpState,
} from "./fields.ts";
import { checkListOptions } from "./options.ts";
import type { Connection } from "./record.ts";
import type {
  EndpointColumns,
  ProcessField,
  ProcessInfo,
  RawSocket,
  SocketRows,
  SocketSource,
  SocketStats,
} from "./source.ts";
import type { HashResult, ImageHasher } from "./hash.ts";
import type { ResolveOptions, ReverseResolver } from "./resolve.ts";
import { descendantsOf } from "./tree.ts";

/** Options of {@linkcode listConnections}: the filters, enrichments, and the backend. */
export interface ListOptions extends FilterOptions {
  /** The socket backend; defaults to the one for this OS. */
  source?: SocketSource;
  /**
   * With `pids` or `name`: also keep the rows of every descendant of the selected processes
   * ("this program and everything it spawned").
   */
  tree?: boolean;
  /** Compute `imageSha256` of each distinct image. */
  hash?: boolean;
  /**
   * Read per-connection byte and segment counters (TCP). Windows keeps them only for the
   * connections whose collection was switched on: the others' counters are `not-enabled`.
   */
  stats?: boolean;
  /**
   * Also switch the counters on where they are off (implies `stats`). On Windows this changes the
   * system: the kernel counts for those connections from then until each one ends (it needs an
   * elevated administrator). Pass it only with the user's consent. Linux keeps the counters
   * always, so nothing changes there.
   */
  enableStats?: boolean;
  /** Resolve remote addresses to `remoteHostName`; `true` or resolver options. */
  resolve?: boolean | ResolveOptions;
  /**
   * Lookups to keep across listings (as `watch` does): pass the same object each time and
   * images are hashed and addresses resolved once, not on every refresh.
   */
  cache?: EnrichmentCache;
}

/** Image hashes and reverse DNS answers kept across listings; start with `{}`. */
export interface EnrichmentCache {
  /** Filled on the first listing with `hash`. */
  hasher?: ImageHasher;
  /** Filled on the first listing with `resolve`. */
  resolver?: ReverseResolver;
}

const PROTOCOL_ORDER = new Map(PROTOCOLS.map((p, i) => [p, i]));
const FAMILY_ORDER = new Map(FAMILIES.map((f, i) => [f, i]));

/** How many values {@linkcode EndpointColumns.kind} can take, one past each list for strays. */
const KINDS = (PROTOCOLS.length + 1) * KIND_STRIDE;

/**
 * The rows' endpoints as columns: the rows' own when they keep them
 * ({@linkcode SocketRows.endpointColumns}), else made here in one pass.
 */
function endpointColumnsOf(rows: SocketRows): EndpointColumns {
  if (rows.endpointColumns) return rows.endpointColumns();
  const n = rows.size;
  const kind = new Uint8Array(n);
  const localPort = new Uint16Array(n);
  const remotePort = new Uint16Array(n);
  const local = new Uint32Array(n);
  const remote = new Uint32Array(n);
  const texts: (string | null)[] = [null];
  const ids = new Map<string, number>();
  const idOf = (text: string): number => {
    let id = ids.get(text);
    if (id === undefined) {
      ids.set(text, id = texts.length);
      texts.push(text);
    }
    return id;
  };
  for (let i = 0; i < n; i++) {
    // A protocol or family outside the schema sorts last; its record fails validation anyway.
    const protocol = PROTOCOL_ORDER.get(rows.protocol(i)) ?? PROTOCOLS.length;
    const family = FAMILY_ORDER.get(rows.family(i)) ?? FAMILIES.length;
    kind[i] = protocol * KIND_STRIDE + family;
    localPort[i] = rows.localPort(i);
    local[i] = idOf(rows.localAddress(i));
    const address = rows.remoteAddress(i);
    remote[i] = address === null ? 0 : idOf(address);
    remotePort[i] = address === null ? 0 : rows.remotePort(i) ?? 0;
  }
  return { kind, localPort, remotePort, texts, local, remote };
}

/**
 * Ranks of the used address ids in en-US collation order ({@linkcode compareAddressText}):
 * texts that collate equal share a rank, and id 0 (no address) ranks 0, before every text.
 * Sorting the few distinct addresses once, and then comparing ranks, orders the records exactly
 * as comparing the texts would, without a collation call per comparison.
 *
 * @param texts The distinct texts by id.
 * @param used Which ids to rank (1 for used).
 * @returns The rank of each id, and one more than the highest rank.
 */
function addressRanks(
  texts: readonly (string | null)[],
  used: Uint8Array,
): { rank: Float64Array; span: number } {
  const ids: number[] = [];
  for (let id = 1; id < texts.length; id++) if (used[id]) ids.push(id);
  ids.sort((a, b) => compareAddressText(texts[a]!, texts[b]!));
  const rank = new Float64Array(texts.length);
  let next = 0;
  for (let k = 0; k < ids.length; k++) {
    if (k === 0 || compareAddressText(texts[ids[k - 1]]!, texts[ids[k]]!) !== 0) next++;
    rank[ids[k]] = next;
  }
  return { rank, span: next + 1 };
}

/**
 * The order of the listing: protocol, family, local port and address, remote port and address,
 * pid. Worked out on the sockets and owners before any record is built, so that records can be
 * made one at a time in this order. Addresses compare as the en-US collation orders them (no
 * remote address first). Each record gets two numeric keys (protocol, family, local port, local
 * address; remote port, remote address), so the sort compares numbers only; when the two fit one
 * sort word with the record's position (as they do unless there are many thousands of distinct
 * addresses), the words are made in the same pass as the keys.
 *
 * @param rows The sockets.
 * @param socketOf For each record, its socket's row.
 * @param pidOf For each record, its pid (-1 for none).
 * @returns The record indices in listing order (the sort is stable).
 */
function listingOrder(
  rows: SocketRows,
  socketOf: Uint32Array,
  pidOf: Float64Array,
): Uint32Array {
  const n = socketOf.length;
  const { kind, localPort, remotePort, texts, local, remote } = endpointColumnsOf(rows);
  // Local and remote addresses are ranked apart, which keeps both keys small.
  const usedLocal = new Uint8Array(texts.length);
  const usedRemote = new Uint8Array(texts.length);
  for (let r = 0; r < n; r++) {
    const i = socketOf[r];
    usedLocal[local[i]] = 1;
    usedRemote[remote[i]] = 1;
  }
  const { rank: localRank, span: localSpan } = addressRanks(texts, usedLocal);
  const { rank: remoteRank, span: remoteSpan } = addressRanks(texts, usedRemote);
  // keyA < KINDS * 65536 * localSpan, keyB < 65537 * remoteSpan.
  const spanB = 65537 * remoteSpan;
  const words = packedWords(n, KINDS * 65536 * localSpan * spanB);
  const keyA = words ? null : new Float64Array(n);
  const keyB = words ? null : new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const i = socketOf[r];
    const a = (kind[i] * 65536 + localPort[i]) * localSpan + localRank[local[i]];
    const remoteId = remote[i];
    const b = (remoteId === 0 ? 0 : remotePort[i] + 1) * remoteSpan + remoteRank[remoteId];
    if (words) words.pack(r, a * spanB + b, r);
    else {
      keyA![r] = a;
      keyB![r] = b;
    }
  }
  return words ? words.order(pidOf) : recordOrder(keyA!, keyB!, pidOf);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * 64-bit sort words, one per record, each a key in its high bits and the record's position in
 * its low bits, so that the runtime's own sort of the words orders the records by key and keeps
 * records with equal keys in their order.
 */
interface PackedWords {
  /** Writes word `w` as `key * 2^positionBits + position`. */
  pack(w: number, key: number, position: number): void;
  /**
   * Sorts the words, and returns the positions in their order: by key, then position; with
   * `pidOf`, records with equal keys (the same endpoints, told apart by pid) by pid, then
   * position (positions are then record indices).
   */
  order(pidOf?: Float64Array): Uint32Array;
}

/**
 * Words for `n` records whose keys stay below `keyLimit`, or null when such a key and a
 * position do not fit one word (or a key is not exact as a number).
 */
function packedWords(n: number, keyLimit: number): PackedWords | null {
  const positionBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  if (positionBits > 31 || keyLimit > 2 ** 53 || keyLimit > 2 ** (64 - positionBits)) {
    return null;
  }
  const words = new BigUint64Array(n);
  const halves = new Uint32Array(words.buffer);
  const lowAt = LITTLE_ENDIAN ? 0 : 1;
  const highAt = 1 - lowAt;
  const positions = 2 ** positionBits;
  const lowSpan = 2 ** (32 - positionBits);
  const mask = positions - 1;
  return {
    pack(w, key, position) {
      const high = Math.floor(key / lowSpan);
      halves[2 * w + highAt] = high;
      halves[2 * w + lowAt] = (key - high * lowSpan) * positions + position;
    },
    order(pidOf) {
      words.sort();
      const order = new Uint32Array(n);
      if (!pidOf) {
        for (let q = 0; q < n; q++) order[q] = halves[2 * q + lowAt] & mask;
        return order;
      }
      const ties = (x: number, y: number) => (pidOf[x] - pidOf[y]) || (x - y);
      // Runs of equal keys are found as the positions are read out.
      let start = 0;
      let runHigh = -1;
      let runLow = -1;
      for (let q = 0; q < n; q++) {
        const high = halves[2 * q + highAt];
        const low = halves[2 * q + lowAt];
        order[q] = low & mask;
        const keyLow = low >>> positionBits;
        if (high !== runHigh || keyLow !== runLow) {
          if (q - start > 1) order.subarray(start, q).sort(ties);
          start = q;
          runHigh = high;
          runLow = keyLow;
        }
      }
      if (n - start > 1) order.subarray(start, n).sort(ties);
      return order;
    },
  };
}

/**
 * Sorts records by two numeric keys, then pid, then their index (a stable sort), with the
 * runtime's own sort over {@linkcode PackedWords}. When both keys fit one word with the position,
 * one sort does; else two: first by the second key, then by the first key and the position the
 * first sort gave. Only runs of records with equal keys (the same endpoints, told apart by pid)
 * are then sorted by comparison. A key too large to share a word with a position (beyond 2^44 at
 * a million records) has every record compared instead.
 *
 * @param keyA The first key of each record (non-negative integers).
 * @param keyB The second key of each record (non-negative integers).
 * @param pidOf Each record's pid (-1 for none).
 * @param limit When a key reaches it, every record is compared (tests lower it; the default is
 *   what fits a word).
 * @returns The record indices in order.
 */
export function recordOrder(
  keyA: Float64Array,
  keyB: Float64Array,
  pidOf: Float64Array,
  limit: number = Infinity,
): Uint32Array {
  const n = keyA.length;
  const compare = (x: number, y: number) =>
    (keyA[x] - keyA[y]) || (keyB[x] - keyB[y]) || (pidOf[x] - pidOf[y]) || (x - y);
  let maxA = 0;
  let maxB = 0;
  for (let r = 0; r < n; r++) {
    if (keyA[r] > maxA) maxA = keyA[r];
    if (keyB[r] > maxB) maxB = keyB[r];
  }
  const spanB = maxB + 1;
  // Both keys in one word (they are for most listings): one sort.
  const one = maxA * spanB + maxB < limit ? packedWords(n, maxA * spanB + spanB) : null;
  if (one) {
    for (let r = 0; r < n; r++) one.pack(r, keyA[r] * spanB + keyB[r], r);
    return one.order(pidOf);
  }
  const words = Math.max(maxA, maxB) < limit ? packedWords(n, Math.max(maxA, maxB) + 1) : null;
  const order = new Uint32Array(n);
  if (!words) {
    for (let r = 0; r < n; r++) order[r] = r;
    return order.sort(compare);
  }
  // Two sorts: by the second key, then by the first key and the position after the first sort.
  for (let r = 0; r < n; r++) words.pack(r, keyB[r], r);
  const byB = words.order();
  for (let p = 0; p < n; p++) words.pack(p, keyA[byB[p]], p);
  const byA = words.order();
  for (let q = 0; q < n; q++) order[q] = byB[byA[q]];
  for (let start = 0; start < n;) {
    const a = keyA[order[start]];
    const b = keyB[order[start]];
    let end = start + 1;
    while (end < n && keyA[order[end]] === a && keyB[order[end]] === b) end++;
    if (end - start > 1) order.subarray(start, end).sort(compare);
    start = end;
  }
  return order;
}

/** Record fields filled from the process, and the ProcessInfo field each comes from. */
const PROCESS_FIELDS = [
  ["processName", "name"],
  ["processPath", "path"],
  ["parentPid", "parentPid"],
  ["processStartTime", "startTime"],
  ["commandLine", "commandLine"],
  ["userName", "userName"],
  ["sessionId", "sessionId"],
  ["services", "services"],
] as const satisfies readonly (readonly [keyof Connection, ProcessField])[];

/**
 * Fields that an ownerless row explains with the owner's absence (`sessionId` is left out: Linux
 * has none at all, and without a process there is nothing to tell). Services the OS ties to the
 * socket itself replace the reason for `services` (see joinRow).
 */
const OWNER_FIELDS = [
  "pid",
  "processName",
  "processPath",
  "parentPid",
  "processStartTime",
  "commandLine",
  "userName",
  "services",
] as const;

/** The unspecified addresses as procconn writes them: no host at all. */
const UNSPECIFIED = new Set(["0.0.0.0", "::", "::ffff:0.0.0.0"]);

/** The owner list of a socket without owners: one row with a null pid. */
const NO_OWNER: readonly null[] = [null];

/** What a record takes from its owning process: its fields, and why each null one is null. */
export interface ProcessPart {
  /** The record's process fields; a field the backend does not provide at all is null. */
  fields: Pick<Connection, (typeof PROCESS_FIELDS)[number][0]>;
  /** Why a field the backend tried and could not read is null, in the record's field order. */
  reasons: Connection["unavailable"];
}

/**
 * The part of every record of one process that comes from the process: worked out once per
 * process, not once per record (a process may hold tens of thousands of sockets).
 *
 * @param info What is known of the process.
 * @returns Its fields and reasons.
 */
export function processPart(info: ProcessInfo): ProcessPart {
  const fields: Record<string, unknown> = {};
  const reasons: Connection["unavailable"] = {};
  for (const [field, from] of PROCESS_FIELDS) {
    const value = info[from];
    fields[field] = value ?? null;
    if (value === null) reasons[field] = info.unavailable[from] ?? "not-supported";
  }
  return { fields: fields as ProcessPart["fields"], reasons };
}

/**
 * {@linkcode SocketRows} over socket objects, as most backends return them.
 */
class ArrayRows implements SocketRows {
  readonly sockets: readonly RawSocket[];
  constructor(sockets: readonly RawSocket[]) {
    this.sockets = sockets;
  }
  get size(): number {
    return this.sockets.length;
  }
  protocol(i: number) {
    return this.sockets[i].protocol;
  }
  family(i: number) {
    return this.sockets[i].family;
  }
  localAddress(i: number) {
    return this.sockets[i].localAddress;
  }
  localPort(i: number) {
    return this.sockets[i].localPort;
  }
  remoteAddress(i: number) {
    return this.sockets[i].remoteAddress;
  }
  remotePort(i: number) {
    return this.sockets[i].remotePort;
  }
  state(i: number) {
    return this.sockets[i].state;
  }
  pids(i: number) {
    return this.sockets[i].pids;
  }
  ownerReason(i: number) {
    return this.sockets[i].ownerReason;
  }
  services(i: number) {
    return this.sockets[i].services;
  }
  created(i: number) {
    return this.sockets[i].created;
  }
  stats(i: number) {
    return this.sockets[i].stats;
  }
  unavailable(i: number) {
    return this.sockets[i].unavailable;
  }
}

/** The fields of row `i` that the socket-level filters look at. */
function rowEndpoint(rows: SocketRows, i: number): SocketEndpoint {
  if (rows instanceof ArrayRows) return rows.sockets[i];
  return {
    protocol: rows.protocol(i),
    family: rows.family(i),
    localAddress: rows.localAddress(i),
    localPort: rows.localPort(i),
    remoteAddress: rows.remoteAddress(i),
    remotePort: rows.remotePort(i),
    state: rows.state(i),
  };
}

/**
 * Joins one socket with one of its owners (or with none) into a connection record. A field the
 * backend does not provide at all (undefined) is null without a reason; a field it tried and
 * could not read is null with the reason.
 *
 * @param rows The sockets as the OS reported them.
 * @param i The socket's row.
 * @param pid One owning pid, or null when the socket has no known owner.
 * @param owner What is known of that process ({@linkcode processPart}); absent when it was not
 *   found.
 * @returns The record (not yet validated; enrichments not yet applied).
 */
function joinRow(
  rows: SocketRows,
  i: number,
  pid: number | null,
  owner: ProcessPart | undefined,
): Connection {
  const unavailable: Connection["unavailable"] = {};
  const fields = owner?.fields;
  const remoteAddress = rows.remoteAddress(i);
  const created = rows.created(i);
  const stats: SocketStats | null | undefined = rows.stats(i);
  const record: Connection = {
    protocol: rows.protocol(i),
    family: rows.family(i),
    localAddress: rows.localAddress(i),
    localPort: rows.localPort(i),
    remoteAddress,
    remotePort: remoteAddress === null ? null : rows.remotePort(i),
    state: rows.state(i),
    pid,
    processName: fields ? fields.processName : null,
    processPath: fields ? fields.processPath : null,
    parentPid: fields ? fields.parentPid : null,
    processStartTime: fields ? fields.processStartTime : null,
    commandLine: fields ? fields.commandLine : null,
    userName: fields ? fields.userName : null,
    sessionId: fields ? fields.sessionId : null,
    // Each record its own list: records of one process must not change together.
    services: fields?.services ? fields.services.slice() : null,
    imageSha256: null,
    connectionCreated: created ?? null,
    bytesIn: stats?.bytesIn ?? null,
    bytesOut: stats?.bytesOut ?? null,
    segmentsIn: stats?.segmentsIn ?? null,
    segmentsOut: stats?.segmentsOut ?? null,
    remoteHostName: null,
    unavailable,
  };
  const socketWhy = rows.unavailable(i) ?? {};
  if (created === null) unavailable.connectionCreated = socketWhy.created ?? "not-supported";
  if (stats === null) {
    for (const f of COUNTER_FIELDS) unavailable[f] = socketWhy.stats ?? "not-supported";
  } else if (stats) {
    // A 64-bit count beyond 2^53 - 1 cannot be held exactly as a number: the row stays, the
    // counter says why it is empty.
    for (const f of COUNTER_FIELDS) {
      if (!Number.isSafeInteger(stats[f])) {
        record[f] = null;
        unavailable[f] = "out-of-range";
      }
    }
  }
  if (pid === null || !owner) {
    const reason: Reason = pid === null ? rows.ownerReason(i) ?? "no-owner" : "process-exited";
    for (const field of OWNER_FIELDS) {
      if (field !== "pid" || pid === null) unavailable[field] = reason;
    }
  } else {
    for (const field in owner.reasons) {
      unavailable[field as keyof typeof unavailable] = owner.reasons[field as ExplainableField];
    }
  }
  // Services the OS ties to the socket itself win over the process's.
  const services = rows.services(i);
  if (services !== undefined) {
    record.services = services && services.slice();
    if (services === null) unavailable.services = socketWhy.services ?? "not-supported";
    else delete unavailable.services;
  }
  return record;
}

/**
 * Lists every TCP and UDP endpoint (IPv4 and IPv6) with the process behind it, filtered.
 * A socket held by several processes yields one record per process; a socket without a known
 * owner is kept with `pid: null` and the reason in `unavailable`.
 *
 * @param options Filters, and optionally the backend to read from.
 * @returns The records, validated against the schema, in a stable order.
 * @throws {TypeError} For an unknown option (`ports` for `port`) or a value of the wrong type.
 * @throws {RangeError} For a value an option does not allow (a state spelled other than
 *   `TCP_STATES` spells it, a port above 65535, an empty list), options that together keep
 *   nothing (`states` with only UDP, or without LISTEN beside `listening`), or `tree` without
 *   `pids` or `name`, before anything is read.
 * @throws {Error} With `tree` and `pids` or `name`, when the backend cannot list processes
 *   (it has no `listProcesses`).
 *
 * @example
 * ```ts
 * import { listConnections } from "./list.ts";
 * import type { SocketSource } from "./source.ts";
 * const source: SocketSource = {
 *   name: "example",
 *   listSockets: () => Promise.resolve([{ protocol: "TCP", family: "IPv4",
 *     localAddress: "127.0.0.1", localPort: 8080, remoteAddress: null, remotePort: null,
 *     state: "LISTEN", pids: [42] }]),
 *   describeProcesses: (pids) => Promise.resolve(new Map([...pids].map((pid) => [pid, {
 *     pid, name: "web", path: "/usr/bin/web", parentPid: 1,
 *     startTime: "2026-01-01T00:00:00.000Z", unavailable: {} }]))),
 * };
 * const rows = await listConnections({ source, listening: true });
 * rows[0].processName; // "web"
 * ```
 */
export async function listConnections(options: ListOptions = {}): Promise<Connection[]> {
  const listing = await openListing(options);
  try {
    return Array.from(listing);
  } catch (err) {
    throw await explained(err);
  }
}

/**
 * A listing whose records are made as they are read: {@linkcode openListing}.
 */
export interface Listing extends Iterable<Connection> {
  /** How many records the listing holds. */
  readonly size: number;
}

/**
 * Reads the sockets and their owners like {@linkcode listConnections}, but builds and validates
 * each record only when the listing is iterated, in the same order. Writing records as they come
 * keeps only one of them alive at a time: at 100,000 sockets that is tens of megabytes less than
 * holding them all. With `hash` or `resolve` the records are made up front (the lookups run
 * concurrently over all of them), and the listing just hands them out.
 *
 * Options are checked first: an unknown option or a value outside what it allows throws a
 * `TypeError` or `RangeError` that names it, before anything is read.
 *
 * A record that fails validation throws from the iteration, when it is reached: a `TypeError`
 * that names its bad fields, or, when zod is not loaded (nothing imported `record.ts` or
 * `mod.ts`), an `InvalidConnectionError`, which `explainInvalid` (`check.ts`) turns into that.
 *
 * @param options Filters, enrichments, and optionally the backend to read from.
 * @returns The listing; iterate it once or several times (records are rebuilt each time).
 *
 * @example
 * ```ts
 * import { openListing } from "./list.ts";
 * import type { SocketSource } from "./source.ts";
 * const source: SocketSource = {
 *   name: "example",
 *   listSockets: () => Promise.resolve([{ protocol: "UDP", family: "IPv4",
 *     localAddress: "0.0.0.0", localPort: 53, remoteAddress: null, remotePort: null,
 *     state: null, pids: [] }]),
 *   describeProcesses: () => Promise.resolve(new Map()),
 * };
 * const listing = await openListing({ source });
 * listing.size; // 1
 * for (const row of listing) console.log(row.localPort, row.unavailable.pid); // 53 "no-owner"
 * ```
 */
export async function openListing(options: ListOptions = {}): Promise<Listing> {
  checkListOptions(options);
  const source = options.source ?? await (await import("../ffi/mod.ts")).defaultSource();
  await prepareCheck();

  // --tree: the selection (pids and/or name) becomes roots, and their descendants join in.
  let wantedPids = options.pids ? new Set(options.pids) : null;
  let nameOk = options.name === undefined ? null : nameMatcher(options.name);
  if (options.tree && (wantedPids || nameOk)) {
    if (!source.listProcesses) {
      throw new Error(
        `The ${source.name} backend cannot list processes, which the tree option (--tree) needs`,
      );
    }
    const table = await source.listProcesses();
    const roots = table.filter((p) =>
      (!wantedPids || wantedPids.has(p.pid)) && (!nameOk || nameOk(p.name))
    );
    wantedPids = descendantsOf(table, roots.map((p) => p.pid));
    nameOk = null;
  }

  // A selection known up front tells the backend whose sockets are needed: the pids, or else the
  // processes that have the name now. (Rows are still kept by the name each owner is described
  // with, below.)
  let selected = wantedPids;
  const named = nameOk;
  if (!selected && named && source.listProcesses) {
    selected = new Set(
      (await source.listProcesses()).filter((p) => named(p.name)).map((p) => p.pid),
    );
  }
  const tcpStates = tcpStatesKept(options);
  // enableStats reads the counters too: decided once, here.
  const stats = options.stats || options.enableStats;
  const keep = socketPredicate(options);
  const query = {
    // A state filter keeps TCP rows only (UDP has no states), so the UDP tables are not read.
    protocols: (options.protocols ?? PROTOCOLS).filter((p) => !options.states || p === "TCP"),
    families: options.families ?? FAMILIES,
    stats,
    enableStats: options.enableStats,
    ...(selected ? { pids: [...selected] } : {}),
    ...(tcpStates ? { tcpStates } : {}),
  };
  const rows = source.listSocketRows
    ? await source.listSocketRows(query)
    : new ArrayRows(await source.listSockets(query));
  // The rows the socket-level filters keep, or null for all of them.
  let kept: Uint32Array | null = null;
  if (!keep.keepsAll) {
    const all = new Uint32Array(rows.size);
    let n = 0;
    for (let i = 0; i < rows.size; i++) if (keep(rowEndpoint(rows, i))) all[n++] = i;
    kept = all.subarray(0, n);
  }
  const socketCount = kept ? kept.length : rows.size;
  const rowAt = (k: number) => kept ? kept[k] : k;

  // The owners each socket is listed with: its pids the selection keeps, or null for a socket
  // without owners. Without a selection of pids, that is the socket's own list.
  const wanted = wantedPids;
  const ownersOf = (i: number): readonly (number | null)[] => {
    const pids = rows.pids(i);
    if (pids.length === 0) return wanted ? [] : NO_OWNER;
    return wanted ? pids.filter((pid) => wanted.has(pid)) : pids;
  };
  // With a selection, each row's filtered list is worked out once (by row).
  const owners = wanted ? new Map<number, readonly (number | null)[]>() : null;
  const ownersAt = (i: number) => {
    if (!owners) return ownersOf(i);
    let list = owners.get(i);
    if (list === undefined) owners.set(i, list = ownersOf(i));
    return list;
  };

  const pids = new Set<number>();
  let most = 0;
  for (let k = 0; k < socketCount; k++) {
    const list = ownersAt(rowAt(k));
    most += list.length;
    for (let o = 0; o < list.length; o++) {
      const pid = list[o];
      if (pid !== null) pids.add(pid);
    }
  }
  const processes: Map<number, ProcessInfo> = pids.size
    ? await source.describeProcesses(pids)
    : new Map();
  // The process a socket's pid names now, unless it started after the socket was made: then the
  // socket's maker has exited and its pid went to a later process (Windows keeps the maker's pid
  // on a socket that outlives it in a child that inherited the handle, and reuses pids soon).
  const ownerAt = (i: number, pid: number): ProcessInfo | undefined => {
    const info = processes.get(pid);
    if (info === undefined || info.startTime === null) return info;
    const created = rows.created(i);
    return created && startedAfter(info.startTime, created) ? undefined : info;
  };

  // One entry per record: its socket's row, which of its owners, and its pid (-1 for none).
  // Typed arrays instead of an object per record: at 100k sockets those cost megabytes of
  // old-generation heap.
  let socketOf = new Uint32Array(most);
  let ownerOf = new Uint32Array(most);
  let pidOf = new Float64Array(most);
  let count = 0;
  for (let k = 0; k < socketCount; k++) {
    const i = rowAt(k);
    const list = ownersAt(i);
    for (let o = 0; o < list.length; o++) {
      const pid = list[o];
      if (nameOk && !nameOk((pid === null ? undefined : ownerAt(i, pid))?.name ?? null)) {
        continue;
      }
      socketOf[count] = i;
      ownerOf[count] = o;
      pidOf[count++] = pid ?? -1;
    }
  }
  if (count < most) {
    socketOf = socketOf.subarray(0, count);
    ownerOf = ownerOf.subarray(0, count);
    pidOf = pidOf.subarray(0, count);
  }
  const order = listingOrder(rows, socketOf, pidOf);

  // Each process's part of its records, worked out when its first record is built.
  const parts = new Map<number, ProcessPart>();
  const partOf = (pid: number): ProcessPart | undefined => {
    let part = parts.get(pid);
    if (part === undefined) {
      const info = processes.get(pid);
      if (info === undefined) return undefined;
      parts.set(pid, part = processPart(info));
    }
    return part;
  };
  const build = (index: number): Connection => {
    const i = socketOf[index];
    const pid = ownersAt(i)[ownerOf[index]];
    const owner = pid === null || ownerAt(i, pid) === undefined ? undefined : partOf(pid);
    const row = joinRow(rows, i, pid, owner);
    if (stats && rows.protocol(i) === "UDP") {
      for (const f of COUNTER_FIELDS) row.unavailable[f] = "not-applicable";
    }
    return row;
  };

  if (options.hash || options.resolve) {
    const rows = Array.from(order, build);
    await enrich(rows, options, source);
    // Checked in place: the schema has no transforms, so zod's copy would only double the memory.
    try {
      for (const row of rows) checkListed(row);
    } catch (err) {
      throw await explained(err);
    }
    return { size: rows.length, [Symbol.iterator]: () => rows[Symbol.iterator]() };
  }
  return {
    size: order.length,
    *[Symbol.iterator]() {
      for (const index of order) {
        const row = build(index);
        checkListed(row);
        yield row;
      }
    },
  };
}

/**
 * Whether a process started after a socket was made, so that it cannot have made it. Both times
 * come from the same clock (the system time, to the millisecond as records write it).
 *
 * @param startTime The process's start time, ISO 8601.
 * @param created When the socket was made, ISO 8601.
 * @returns True when the process is the newer of the two.
 */
function startedAfter(startTime: string, created: string): boolean {
  return Date.parse(startTime) > Date.parse(created);
}

/** The TCP states the filters keep (`--state`, `--listening`), or undefined for all of them. */
function tcpStatesKept(options: ListOptions): readonly TcpState[] | undefined {
  if (!options.listening) return options.states;
  return (options.states ?? TCP_STATES).filter((state) => state === "LISTEN");
}

/** Applies the opt-in enrichments that work the same on every OS: hashes and reverse DNS. */
async function enrich(
  rows: Connection[],
  options: ListOptions,
  source: SocketSource,
): Promise<void> {
  const work: Promise<void>[] = [];
  // Loaded on demand, so a plain listing (and --version) does not load node:crypto and node:dns.
  if (options.hash) {
    const { ImageHasher } = await import("./hash.ts");
    const fresh = () => new ImageHasher();
    const hasher = options.cache ? (options.cache.hasher ??= fresh()) : fresh();
    // One hash per process, not per record: a process may hold thousands of sockets.
    const byProcess = new Map<string, Promise<HashResult>>();
    for (const row of rows) {
      if (row.processPath === null) {
        row.unavailable.imageSha256 = row.unavailable.processPath ?? "not-found";
        continue;
      }
      const key = `${row.pid}\0${row.processStartTime}\0${row.processPath}`;
      let pending = byProcess.get(key);
      if (!pending) {
        const image = row.pid === null
          ? null
          : source.runningImage?.(row.pid, row.processStartTime) ?? null;
        byProcess.set(key, pending = hasher.hash(row.processPath, image));
      }
      work.push(
        pending.then((r) => {
          if ("sha256" in r) row.imageSha256 = r.sha256;
          else row.unavailable.imageSha256 = r.reason;
        }),
      );
    }
  }
  if (options.resolve) {
    const { ReverseResolver } = await import("./resolve.ts");
    const fresh = () => new ReverseResolver(options.resolve === true ? {} : options.resolve || {});
    const resolver = options.cache ? (options.cache.resolver ??= fresh()) : fresh();
    for (const row of rows) {
      // No remote end to look up. Windows gives its CLOSED and BOUND rows the unspecified
      // address as their remote end, which a hosts file that blocks names by mapping them to
      // 0.0.0.0 would otherwise name.
      if (row.remoteAddress === null || UNSPECIFIED.has(row.remoteAddress)) {
        row.unavailable.remoteHostName = "not-applicable";
        continue;
      }
      work.push(
        resolver.lookup(row.remoteAddress).then((r) => {
          if ("name" in r) row.remoteHostName = r.name;
          else row.unavailable.remoteHostName = r.reason;
        }),
      );
    }
  }
  await Promise.all(work);
}
