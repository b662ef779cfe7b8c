/**
 * Sockets from sock_diag dumps, kept column by column: a few typed arrays and two arrays of
 * shared address strings instead of an object of thirteen fields per socket. At 40,000 sockets
 * the objects, and the garbage collector copying them out of the young generation, cost tens of
 * milliseconds on a machine where each fresh page of memory is slow to touch.
 *
 * The core takes sockets as objects ({@linkcode RawSocket}): {@linkcode SocketColumns.sockets}
 * hands out one small view per row, whose fields are read from the columns.
 *
 * @module
 */
import { FAMILIES, KIND_STRIDE, PROTOCOLS, REASONS, TCP_STATES } from "../../core/fields.ts";
import type { Family, Protocol, Reason, TcpState } from "../../core/record.ts";
import type { EndpointColumns, RawSocket, SocketRows, SocketStats } from "../../core/source.ts";

/**
 * Nothing to explain about a socket. Linux keeps no creation time for a socket at all (neither
 * `/proc/net` nor sock_diag has one), so, like `sessionId`, it is left out rather than explained:
 * the record's `connectionCreated` is null without a reason.
 */
export const NOTHING_UNAVAILABLE: NonNullable<RawSocket["unavailable"]> = Object.freeze({});
/** Why the counters are null, by `statsReason`. */
export const NO_STATS: Readonly<Record<StatsReason, NonNullable<RawSocket["unavailable"]>>> = {
  "not-supported": Object.freeze({ stats: "not-supported" }),
  "not-applicable": Object.freeze({ stats: "not-applicable" }),
};

/** The owners of a socket until a scan finds some; shared, so frozen. */
export const NO_PIDS: readonly number[] = Object.freeze([]);

/** Why a socket's counters are null. */
export type StatsReason = "not-supported" | "not-applicable";

/**
 * One socket from a sock_diag dump: the core's {@linkcode RawSocket} (no creation time), plus
 * what only netlink tells.
 */
export interface SockDiagSocket extends RawSocket {
  /** The socket's inode number; 0 when no file refers to it (TIME_WAIT, not yet accepted). */
  inode: number;
  /**
   * The kernel's cookie of the socket: unique among the sockets of this boot. 0 for a socket
   * read from `/proc/net`, which does not show it.
   */
  cookie: number;
  /**
   * TCP byte and segment counters, when they were asked for; null when the kernel keeps none
   * for the socket or sent too short a `tcp_info` (then `statsReason` says why).
   */
  stats?: SocketStats | null;
  /**
   * Why `stats` is null: `not-applicable` for a mini-socket (TIME_WAIT, SYN_RECV request),
   * which keeps no counters; `not-supported` for a kernel whose `tcp_info` is too short.
   */
  statsReason?: StatsReason;
}

/** The `kind` column, as {@linkcode EndpointColumns} has it: UDP adds 3, IPv6 adds 1. */
const KIND_UDP = PROTOCOLS.indexOf("UDP") * KIND_STRIDE;
const KIND_IPV6 = FAMILIES.indexOf("IPv6");

/** The `counted` column: counters not asked for, read, or null for a reason. */
const STATS_NOT_ASKED = 0;
const STATS_READ = 1;
const STATS_REASONS: readonly (StatsReason | undefined)[] = [
  undefined,
  undefined,
  "not-applicable",
  "not-supported",
];

/** Owner reason codes: 0 is none, else 1 + the index in REASONS. */
const OWNER_REASONS: readonly (Reason | undefined)[] = [undefined, ...REASONS];
const OWNER_CODES: ReadonlyMap<Reason, number> = new Map(REASONS.map((r, i) => [r, i + 1]));
const NO_OWNER_CODE = OWNER_CODES.get("no-owner")!;

/** The `state` column: 0 for none (UDP), else 1 + the index in TCP_STATES. */
const STATE_CODES: ReadonlyMap<TcpState, number> = new Map(TCP_STATES.map((s, i) => [s, i + 1]));

/**
 * Sockets in columns. Rows are added as a dump is decoded, may be dropped again (a repeated
 * answer, a failed dump), get their owners, and are then handed to the core as views
 * ({@linkcode SocketColumns.sockets}).
 *
 * @example
 * ```ts
 * import { SocketColumns } from "./socket_columns.ts";
 * const columns = new SocketColumns();
 * // A TCP/IPv4 socket listening on 0.0.0.0:22, inode 1234, cookie 1.
 * columns.add("TCP", "IPv4", "LISTEN", "0.0.0.0", 22, null, 0, 1234, 1);
 * columns.setOwners(0, [812]);
 * const [ssh] = columns.sockets();
 * [ssh.state, ssh.localPort, ssh.pids]; // ["LISTEN", 22, [812]]
 * ```
 */
export class SocketColumns implements SocketRows {
  /** How many rows there are. */
  size = 0;
  #capacity: number;
  #kind: Uint8Array;
  #state: Uint8Array;
  #localPort: Uint16Array;
  #remotePort: Uint16Array;
  #inode: Float64Array;
  #cookie: Float64Array;
  #ownerCode: Uint8Array;
  #counted: Uint8Array;
  /** bytesIn, bytesOut, segmentsIn, segmentsOut per row; made when the first counters come. */
  #counters: Float64Array | null = null;
  /** Address text ids: indices into #texts. A remote id of 0 is no remote address. */
  #local: Uint32Array;
  #remote: Uint32Array;
  /** Each distinct address text once; index 0 stands for none. */
  #texts: (string | null)[] = [null];
  #textIds = new Map<string, number>();
  /** The owners of each row; made when the first owners are set. */
  #pids: (readonly number[])[] | null = null;

  /**
   * @param capacity Rows to make room for up front; the columns grow as needed.
   */
  constructor(capacity = 1024) {
    this.#capacity = Math.max(1, capacity);
    this.#kind = new Uint8Array(this.#capacity);
    this.#state = new Uint8Array(this.#capacity);
    this.#localPort = new Uint16Array(this.#capacity);
    this.#remotePort = new Uint16Array(this.#capacity);
    this.#inode = new Float64Array(this.#capacity);
    this.#cookie = new Float64Array(this.#capacity);
    this.#ownerCode = new Uint8Array(this.#capacity);
    this.#counted = new Uint8Array(this.#capacity);
    this.#local = new Uint32Array(this.#capacity);
    this.#remote = new Uint32Array(this.#capacity);
  }

  /**
   * Adds one socket, without owners (or `no-owner` when its inode is 0) and without counters.
   * Positional, so that decoding tens of thousands of sockets makes no object per socket.
   *
   * @param protocol Transport protocol.
   * @param family Address family.
   * @param state TCP state; null for UDP.
   * @param localAddress Local address text.
   * @param localPort Local port.
   * @param remoteAddress Remote address text, or null (listening TCP, unconnected UDP).
   * @param remotePort Remote port (ignored without a remote address).
   * @param inode Inode number; 0 when no file refers to the socket.
   * @param cookie The kernel's cookie of the socket (0 when the source does not give one).
   * @returns The row number.
   */
  add(
    protocol: Protocol,
    family: Family,
    state: TcpState | null,
    localAddress: string,
    localPort: number,
    remoteAddress: string | null,
    remotePort: number,
    inode: number,
    cookie: number,
  ): number {
    if (this.size === this.#capacity) this.#grow();
    const i = this.size++;
    this.#kind[i] = (protocol === "UDP" ? KIND_UDP : 0) + (family === "IPv6" ? KIND_IPV6 : 0);
    this.#state[i] = state === null ? 0 : STATE_CODES.get(state)!;
    this.#local[i] = this.#textId(localAddress);
    this.#localPort[i] = localPort;
    this.#remote[i] = remoteAddress === null ? 0 : this.#textId(remoteAddress);
    this.#remotePort[i] = remoteAddress === null ? 0 : remotePort;
    this.#inode[i] = inode;
    this.#cookie[i] = cookie;
    this.#ownerCode[i] = inode === 0 ? NO_OWNER_CODE : 0;
    this.#counted[i] = STATS_NOT_ASKED;
    if (this.#pids) this.#pids.push(NO_PIDS);
    return i;
  }

  /**
   * Sets a row's TCP counters.
   *
   * @param i The row.
   * @param stats The counters.
   */
  setStats(i: number, stats: SocketStats): void {
    // Made on first use, zeroed: rows without counters never read theirs.
    if (!this.#counters) this.#counters = new Float64Array(4 * this.#capacity);
    const at = 4 * this.#check(i);
    this.#counters[at] = stats.bytesIn;
    this.#counters[at + 1] = stats.bytesOut;
    this.#counters[at + 2] = stats.segmentsIn;
    this.#counters[at + 3] = stats.segmentsOut;
    this.#counted[i] = STATS_READ;
  }

  /**
   * Says why a row's counters, which were asked for, are null.
   *
   * @param i The row.
   * @param reason Why.
   */
  setStatsReason(i: number, reason: StatsReason): void {
    this.#counted[this.#check(i)] = STATS_REASONS.indexOf(reason);
  }

  /**
   * Sets the processes that hold a row's socket.
   *
   * @param i The row.
   * @param pids The owners (shared lists are fine: they are never changed).
   */
  setOwners(i: number, pids: readonly number[]): void {
    this.#check(i);
    if (!this.#pids) this.#pids = new Array<readonly number[]>(this.size).fill(NO_PIDS);
    this.#pids[i] = pids;
    if (pids.length) this.#ownerCode[i] = 0;
  }

  /**
   * Says why a row has no owners.
   *
   * @param i The row.
   * @param reason Why.
   */
  setOwnerReason(i: number, reason: Reason): void {
    this.#ownerCode[this.#check(i)] = OWNER_CODES.get(reason)!;
  }

  /**
   * A row's inode number.
   *
   * @param i The row.
   * @returns The inode; 0 when no file refers to the socket.
   */
  inode(i: number): number {
    return this.#inode[this.#check(i)];
  }

  /**
   * A row's cookie.
   *
   * @param i The row.
   * @returns The kernel's cookie of the socket.
   */
  cookie(i: number): number {
    return this.#cookie[this.#check(i)];
  }

  /**
   * Whether some row from `from` on has the cookie of an earlier row from `from` on: a dump
   * whose tables changed under it may answer for a socket twice. Sorting the cookies once costs
   * a fraction of looking each one up as it comes.
   *
   * @param from The first row to look at.
   * @returns True when some cookie repeats.
   */
  hasRepeats(from = 0): boolean {
    const sorted = this.#cookie.slice(from, this.size).sort();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return true;
    return false;
  }

  /**
   * Drops the rows from `from` on whose cookie an earlier row from `from` on has, keeping each
   * socket's first answer; the rows keep their order.
   *
   * @param from The first row to look at (the start of one dump).
   */
  dropRepeats(from = 0): void {
    const seen = new Set<number>();
    let kept = from;
    for (let i = from; i < this.size; i++) {
      const cookie = this.#cookie[i];
      if (seen.has(cookie)) continue;
      seen.add(cookie);
      if (kept !== i) this.#move(i, kept);
      kept++;
    }
    this.truncate(kept);
  }

  /**
   * Drops every row from `size` on (what a failed dump added).
   *
   * @param size The rows to keep.
   */
  truncate(size: number): void {
    if (size >= this.size) return;
    this.size = Math.max(0, size);
    if (this.#pids) this.#pids.length = this.size;
  }

  /**
   * One socket view per row, in row order. A view reads its row when a field is read, so set
   * the owners first and change no rows after this.
   *
   * @returns The views.
   */
  sockets(): SockDiagSocket[] {
    const out: SockDiagSocket[] = [];
    for (let i = 0; i < this.size; i++) out.push(new ColumnSocket(this, i));
    return out;
  }

  /**
   * A row as a plain object, with the fields a decoded socket always had: `stats` only when
   * counters were asked for, `statsReason` only when they are null.
   *
   * @param i The row.
   * @returns A new object.
   */
  plain(i: number): SockDiagSocket {
    const socket: SockDiagSocket = {
      protocol: this.protocol(i),
      family: this.family(i),
      localAddress: this.localAddress(i),
      localPort: this.localPort(i),
      remoteAddress: this.remoteAddress(i),
      remotePort: this.remotePort(i),
      state: this.state(i),
      pids: this.pids(i),
      ownerReason: this.ownerReason(i),
      unavailable: this.unavailable(i),
      inode: this.inode(i),
      cookie: this.cookie(i),
    };
    if (this.#counted[i] !== STATS_NOT_ASKED) {
      socket.stats = this.stats(i);
      if (socket.stats === null) socket.statsReason = this.statsReason(i);
    }
    return socket;
  }

  /** See {@linkcode SocketRows}. */
  protocol(i: number): Protocol {
    return this.#kind[i] >= KIND_UDP ? "UDP" : "TCP";
  }

  /** See {@linkcode SocketRows}. */
  family(i: number): Family {
    return this.#kind[i] % KIND_UDP === KIND_IPV6 ? "IPv6" : "IPv4";
  }

  /** See {@linkcode SocketRows}. */
  localAddress(i: number): string {
    return this.#texts[this.#local[i]]!;
  }

  /** See {@linkcode SocketRows}. */
  localPort(i: number): number {
    return this.#localPort[i];
  }

  /** See {@linkcode SocketRows}. */
  remoteAddress(i: number): string | null {
    return this.#texts[this.#remote[i]];
  }

  /** See {@linkcode SocketRows}. */
  remotePort(i: number): number | null {
    return this.#remote[i] === 0 ? null : this.#remotePort[i];
  }

  /** See {@linkcode SocketRows}. */
  state(i: number): TcpState | null {
    const code = this.#state[i];
    return code === 0 ? null : TCP_STATES[code - 1];
  }

  /** See {@linkcode SocketRows}. */
  pids(i: number): readonly number[] {
    return this.#pids ? this.#pids[i] : NO_PIDS;
  }

  /** See {@linkcode SocketRows}. */
  ownerReason(i: number): Reason | undefined {
    return OWNER_REASONS[this.#ownerCode[i]];
  }

  /** See {@linkcode SocketRows}. */
  services(_i: number): undefined {
    return undefined;
  }

  /** See {@linkcode SocketRows}. */
  created(_i: number): undefined {
    return undefined;
  }

  /** See {@linkcode SocketRows}. */
  unavailable(i: number): NonNullable<RawSocket["unavailable"]> {
    const reason = STATS_REASONS[this.#counted[i]];
    return reason === undefined ? NOTHING_UNAVAILABLE : NO_STATS[reason];
  }

  /** See {@linkcode SocketRows}. */
  stats(i: number): SocketStats | null | undefined {
    const counted = this.#counted[i];
    if (counted === STATS_NOT_ASKED) return undefined;
    if (counted !== STATS_READ || !this.#counters) return null;
    const at = 4 * i;
    return {
      bytesIn: this.#counters[at],
      bytesOut: this.#counters[at + 1],
      segmentsIn: this.#counters[at + 2],
      segmentsOut: this.#counters[at + 3],
    };
  }

  /** See {@linkcode SocketRows}. */
  endpointColumns(): EndpointColumns {
    const size = this.size;
    return {
      kind: this.#kind.subarray(0, size),
      localPort: this.#localPort.subarray(0, size),
      remotePort: this.#remotePort.subarray(0, size),
      texts: this.#texts,
      local: this.#local.subarray(0, size),
      remote: this.#remote.subarray(0, size),
    };
  }

  /** See {@linkcode SocketRows}. */
  statsReason(i: number): StatsReason | undefined {
    return STATS_REASONS[this.#counted[i]];
  }

  #textId(text: string): number {
    let id = this.#textIds.get(text);
    if (id === undefined) {
      id = this.#texts.length;
      this.#texts.push(text);
      this.#textIds.set(text, id);
    }
    return id;
  }

  #check(i: number): number {
    if (!(i >= 0 && i < this.size && Number.isInteger(i))) {
      throw new RangeError(`No socket row ${i}: there are ${this.size}`);
    }
    return i;
  }

  #move(from: number, to: number): void {
    this.#kind[to] = this.#kind[from];
    this.#state[to] = this.#state[from];
    this.#localPort[to] = this.#localPort[from];
    this.#remotePort[to] = this.#remotePort[from];
    this.#inode[to] = this.#inode[from];
    this.#cookie[to] = this.#cookie[from];
    this.#ownerCode[to] = this.#ownerCode[from];
    this.#counted[to] = this.#counted[from];
    this.#counters?.copyWithin(4 * to, 4 * from, 4 * from + 4);
    this.#local[to] = this.#local[from];
    this.#remote[to] = this.#remote[from];
    if (this.#pids) this.#pids[to] = this.#pids[from];
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    const wider = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(
      column: T,
      make: (n: number) => T,
      width = 1,
    ): T => {
      const next = make(capacity * width);
      next.set(column);
      return next;
    };
    this.#kind = wider(this.#kind, (n) => new Uint8Array(n));
    this.#state = wider(this.#state, (n) => new Uint8Array(n));
    this.#localPort = wider(this.#localPort, (n) => new Uint16Array(n));
    this.#remotePort = wider(this.#remotePort, (n) => new Uint16Array(n));
    this.#inode = wider(this.#inode, (n) => new Float64Array(n));
    this.#cookie = wider(this.#cookie, (n) => new Float64Array(n));
    this.#ownerCode = wider(this.#ownerCode, (n) => new Uint8Array(n));
    this.#counted = wider(this.#counted, (n) => new Uint8Array(n));
    this.#local = wider(this.#local, (n) => new Uint32Array(n));
    this.#remote = wider(this.#remote, (n) => new Uint32Array(n));
    if (this.#counters) this.#counters = wider(this.#counters, (n) => new Float64Array(n), 4);
    this.#capacity = capacity;
  }
}

/**
 * One row of {@linkcode SocketColumns} as the core's socket: every field is read from the
 * columns. `JSON.stringify` and the console show the plain fields.
 */
class ColumnSocket implements SockDiagSocket {
  readonly #columns: SocketColumns;
  readonly #row: number;

  constructor(columns: SocketColumns, row: number) {
    this.#columns = columns;
    this.#row = row;
  }

  get protocol(): Protocol {
    return this.#columns.protocol(this.#row);
  }
  get family(): Family {
    return this.#columns.family(this.#row);
  }
  get localAddress(): string {
    return this.#columns.localAddress(this.#row);
  }
  get localPort(): number {
    return this.#columns.localPort(this.#row);
  }
  get remoteAddress(): string | null {
    return this.#columns.remoteAddress(this.#row);
  }
  get remotePort(): number | null {
    return this.#columns.remotePort(this.#row);
  }
  get state(): TcpState | null {
    return this.#columns.state(this.#row);
  }
  get pids(): readonly number[] {
    return this.#columns.pids(this.#row);
  }
  get ownerReason(): Reason | undefined {
    return this.#columns.ownerReason(this.#row);
  }
  get created(): undefined {
    return undefined;
  }
  get unavailable(): NonNullable<RawSocket["unavailable"]> {
    return this.#columns.unavailable(this.#row);
  }
  get inode(): number {
    return this.#columns.inode(this.#row);
  }
  get cookie(): number {
    return this.#columns.cookie(this.#row);
  }
  get stats(): SocketStats | null | undefined {
    return this.#columns.stats(this.#row);
  }
  get statsReason(): StatsReason | undefined {
    return this.#columns.statsReason(this.#row);
  }

  /** The plain fields, for `JSON.stringify`. */
  toJSON(): SockDiagSocket {
    return this.#columns.plain(this.#row);
  }

  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return inspect(this.toJSON(), options);
  }

  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    return inspect(this.toJSON(), options);
  }
}
