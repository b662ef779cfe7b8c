/**
 * The contract between the OS boundary (`ffi/<os>/`) and the portable core: every platform
 * backend produces the same shapes, so the core and the outputs never look at the OS.
 *
 * @module
 */
import type { Family, Protocol, Reason, TcpState } from "./record.ts";

/** One socket as the OS reports it, before the owning processes are described. */
export interface RawSocket {
  /** Transport protocol. */
  protocol: Protocol;
  /** Address family. */
  family: Family;
  /** Formatted local address (see `core/address.ts`), with `%scope` where the OS gives one. */
  localAddress: string;
  /** Local port. */
  localPort: number;
  /** Formatted remote address; null for listening sockets and unconnected UDP. */
  remoteAddress: string | null;
  /** Remote port; null when remoteAddress is null. */
  remotePort: number | null;
  /** TCP state; null for UDP. */
  state: TcpState | null;
  /**
   * Every process that holds the socket (after fork several may). Empty when no owner is known;
   * then `ownerReason` says why. A backend may hand the same list to several sockets.
   */
  pids: readonly number[];
  /** Why `pids` is empty. */
  ownerReason?: Reason;
  /**
   * Services behind the socket, when the OS ties them to the socket (Windows owner-module
   * tables). Undefined when the backend has no such notion.
   */
  services?: string[] | null;
  /** When the socket was created, ISO 8601 UTC; undefined when the OS does not say. */
  created?: string | null;
  /** Byte and segment counters, when asked for with `stats`. */
  stats?: SocketStats | null;
  /** Why `services`, `created` or `stats` is null. */
  unavailable?: Partial<Record<"services" | "created" | "stats", Reason>>;
}

/**
 * Sockets read field by field, row by row: what a backend that keeps its sockets in columns
 * hands the core instead of one object per socket (at 40,000 sockets, the objects alone cost
 * tens of milliseconds). Each method returns the {@linkcode RawSocket} field of the same name
 * for row `i` (0 <= i < size).
 */
export interface SocketRows {
  /** How many sockets there are. */
  readonly size: number;
  /** See {@linkcode RawSocket.protocol}. */
  protocol(i: number): Protocol;
  /** See {@linkcode RawSocket.family}. */
  family(i: number): Family;
  /** See {@linkcode RawSocket.localAddress}. */
  localAddress(i: number): string;
  /** See {@linkcode RawSocket.localPort}. */
  localPort(i: number): number;
  /** See {@linkcode RawSocket.remoteAddress}. */
  remoteAddress(i: number): string | null;
  /** See {@linkcode RawSocket.remotePort}. */
  remotePort(i: number): number | null;
  /** See {@linkcode RawSocket.state}. */
  state(i: number): TcpState | null;
  /** See {@linkcode RawSocket.pids}. */
  pids(i: number): readonly number[];
  /** See {@linkcode RawSocket.ownerReason}. */
  ownerReason(i: number): Reason | undefined;
  /** See {@linkcode RawSocket.services}. */
  services(i: number): string[] | null | undefined;
  /** See {@linkcode RawSocket.created}. */
  created(i: number): string | null | undefined;
  /** See {@linkcode RawSocket.stats}. */
  stats(i: number): SocketStats | null | undefined;
  /** See {@linkcode RawSocket.unavailable}. */
  unavailable(i: number): RawSocket["unavailable"];
  /**
   * Optional: the endpoints of every row as columns, for rows that keep them so. The listing
   * orders its records by these in one pass over numbers, instead of calling the methods above
   * and hashing an address text per row. The arrays are read, never written.
   */
  endpointColumns?(): EndpointColumns;
}

/**
 * The endpoints of {@linkcode SocketRows} as columns, one entry per row. Addresses are ids into
 * a list of distinct texts: `texts[local[i]]` is row i's local address.
 */
export interface EndpointColumns {
  /**
   * Protocol and family: the protocol's index in `PROTOCOLS` times `KIND_STRIDE` (3), plus the
   * family's index in `FAMILIES` (TCP/IPv4 0, TCP/IPv6 1, UDP/IPv4 3, UDP/IPv6 4).
   */
  readonly kind: Uint8Array;
  /** Local port. */
  readonly localPort: Uint16Array;
  /**
   * Remote port where the row has a remote address (0 if it has an address but no port), any
   * value where it has none.
   */
  readonly remotePort: Uint16Array;
  /** Each distinct address text once; id 0 is no address. */
  readonly texts: readonly (string | null)[];
  /** The local address id of each row (never 0). */
  readonly local: Uint32Array;
  /** The remote address id of each row; 0 when it has no remote address. */
  readonly remote: Uint32Array;
}

/** Per-connection counters (TCP). */
export interface SocketStats {
  /** Payload bytes received. */
  bytesIn: number;
  /** Payload bytes sent. */
  bytesOut: number;
  /** Segments received. */
  segmentsIn: number;
  /** Segments sent. */
  segmentsOut: number;
}

/** What the OS says about one process. Null fields carry their reason in `unavailable`. */
export interface ProcessInfo {
  /** Process id. */
  pid: number;
  /** Executable name (e.g. `sshd`, `svchost.exe`). */
  name: string | null;
  /** Full path of the image. */
  path: string | null;
  /** Parent process id. */
  parentPid: number | null;
  /** Start time, ISO 8601 UTC. */
  startTime: string | null;
  /** Command line; undefined when the backend does not read it. */
  commandLine?: string | null;
  /** Account name; undefined when the backend does not read it. */
  userName?: string | null;
  /** Windows session id; undefined where there is no such notion. */
  sessionId?: number | null;
  /** Services hosted by the process (Linux: the systemd unit); undefined when not read. */
  services?: string[] | null;
  /** Why a null field is null. */
  unavailable: Partial<Record<ProcessField, Reason>>;
}

/** The fields of {@linkcode ProcessInfo} that may be null with a reason. */
export type ProcessField =
  | "name"
  | "path"
  | "parentPid"
  | "startTime"
  | "commandLine"
  | "userName"
  | "sessionId"
  | "services";

/** Which parts of the socket tables to read; a backend may skip tables that are not asked for. */
export interface SocketQuery {
  /** Protocols to read. */
  protocols: readonly Protocol[];
  /** Families to read. */
  families: readonly Family[];
  /** Also read per-connection byte and segment counters (TCP). */
  stats?: boolean;
  /**
   * With `stats`: switch the counters on where the OS keeps them only on request (Windows
   * EStats), rather than report those connections' counters as `not-enabled`. This changes the
   * system; the caller has the user's consent.
   */
  enableStats?: boolean;
  /**
   * Only these processes' sockets are wanted (a `--pid` or `--tree` selection). A backend that
   * finds owners by looking through every process may look only at these; a socket none of them
   * holds may then be left out, or come back without these owners. Undefined: every process.
   */
  pids?: readonly number[];
  /**
   * Only TCP sockets in these states are wanted (a `--state` or `--listening` filter); a backend
   * that can ask the OS for some states only may leave the others out. Undefined: every state.
   */
  tcpStates?: readonly TcpState[];
}

/** A platform backend. Each OS module exports one with the same shape. */
export interface SocketSource {
  /** A short name of the backend, e.g. `linux-procfs` or `windows-iphlpapi`. */
  readonly name: string;
  /** Reads the socket tables. */
  listSockets(query: SocketQuery): Promise<RawSocket[]>;
  /**
   * Reads the socket tables like `listSockets`, as rows: optional, for a backend that keeps its
   * sockets in columns. The core lists through it when it is there.
   */
  listSocketRows?(query: SocketQuery): Promise<SocketRows>;
  /**
   * Describes the given processes. Every requested pid gets an entry, even one that exited
   * (then its fields are null with `process-exited`).
   */
  describeProcesses(pids: Iterable<number>): Promise<Map<number, ProcessInfo>>;
  /**
   * Lists every process with its parent and start time (for `--tree`); cheap fields only.
   * Optional: a backend without it cannot serve `--tree`.
   */
  listProcesses?(): Promise<ProcessSummary[]>;
  /**
   * Which of these processes hide their sockets from this user: the backend finds owners through
   * each process's open files, and theirs may not be read (access denied), so their sockets are
   * listed without an owner, or not at all when the listing selects processes. Optional: a
   * backend whose tables name every socket's owner (Windows) has no such processes.
   */
  hiddenOwners?(pids: Iterable<number>): Promise<number[]>;
  /**
   * Why the last listing's TCP sockets have no counters (`not-supported`) when the backend knows,
   * e.g. Linux tables read from `/proc/net`; null when it read them where counters are kept.
   * Optional.
   */
  countersUnavailable?(): string | null;
  /**
   * The process each of `ids` that is a thread belongs to, so that a thread id given as a pid
   * can be explained (Linux: `/proc/<tid>` exists for every thread; Windows: process and thread
   * ids come from one pool). An id that is a process, or does not run, is not in the map; nothing
   * that cannot be read is an error. Optional.
   *
   * @param ids The ids, typically the selected pids that no running process has.
   */
  processesOfThreads?(ids: readonly number[]): Map<number, number>;
  /**
   * Whether this process runs with an administrator's full rights where root is not the measure
   * (Windows: an elevated token), so that a refusal is not met with advice to run elevated; null
   * when it cannot tell. Optional.
   */
  runsElevated?(): boolean | null;
  /**
   * The network namespaces other than this process's that hold TCP or UDP sockets, which the
   * tables of this namespace do not show (Linux: a container's, an `ip netns` namespace's).
   * Optional: a backend without namespaces has none.
   *
   * @param pids Look at these processes only (default every process).
   */
  otherNetworks?(pids?: Iterable<number>): Promise<OtherNetwork[]>;
  /**
   * Where the running image of a process can be read, for `hash`: the file the process runs,
   * which the file now at its path may not be (deleted or replaced since it started, or another
   * mount namespace's). Optional: without it, or when it gives null, the file at the process's
   * path is hashed.
   *
   * @param pid The process.
   * @param startTime Its start time as described, to tell it from a later process given the same
   *   pid.
   */
  runningImage?(pid: number, startTime: string | null): RunningImage | null;
  /**
   * Ends what the backend keeps running between listings (the Linux fd-scan worker of a source
   * made for repeated listings); a later listing starts it again. Optional: a backend that
   * keeps nothing running has none.
   */
  close?(): void;
}

/** Where a running process's image can be read ({@linkcode SocketSource.runningImage}). */
export interface RunningImage {
  /** A path that opens the image itself (Linux: `/proc/<pid>/exe`). */
  readonly file: string;
  /**
   * Whether the pid still names the process that was described; asked after `file` is opened,
   * so that an image opened from a reused pid is not taken for the described one.
   */
  stillSame(): boolean;
}

/** A network namespace other than procconn's own, and what runs in it. */
export interface OtherNetwork {
  /** The namespace as `/proc/<pid>/ns/net` names it, e.g. `net:[4026532291]`. */
  namespace: string;
  /** The processes looked at that run in it, ascending. */
  pids: number[];
  /** How many TCP and UDP sockets, IPv4 and IPv6, it holds (listening ones included). */
  sockets: number;
}

/** One process in the process table. */
export interface ProcessSummary {
  /** Process id. */
  pid: number;
  /** Parent process id, or null when unknown. */
  parentPid: number | null;
  /** Executable name, or null when unknown. */
  name: string | null;
  /** Start time (ISO 8601 UTC), or null when unknown; used to reject stale parent links. */
  startTime: string | null;
}

/** Raised when procconn has no backend for the running OS. */
export class UnsupportedPlatformError extends Error {
  /**
   * Names the platform in the message.
   *
   * @param platform The OS that has no backend.
   */
  constructor(platform: string) {
    super(`Unsupported platform "${platform}": procconn reads sockets on Windows and Linux only`);
    this.name = "UnsupportedPlatformError";
  }
}
