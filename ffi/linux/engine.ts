/**
 * The Linux backend. Socket tables come from netlink sock_diag (the kernel's binary dump, as
 * `ss` reads it, with TCP counters on request) when native calls are available, else from the
 * text of `/proc/net/{tcp,tcp6,udp,udp6}`; both give the same rows. Sockets are joined to their
 * owners through their inodes: as root, a BPF task-file iterator writes every socket fd's inode
 * and pid in one read (`bpf_owners.ts`); otherwise the links behind `/proc/<pid>/fd/*` are read.
 * Processes are described from `/proc/<pid>/*`.
 *
 * Native calls (libc through Deno FFI) are used by default under Deno when `--allow-ffi` is
 * granted; under Node, or when they fail, everything is read through plain file calls.
 *
 * @module
 */
import { files } from "../_files.ts";
import type { Family, Protocol } from "../../core/record.ts";
import type {
  OtherNetwork,
  ProcessInfo,
  ProcessSummary,
  RawSocket,
  RunningImage,
  SocketQuery,
  SocketRows,
  SocketSource,
} from "../../core/source.ts";
import { type Libc, loadLibc, nativeCallsUnavailable } from "./_libc.ts";
import { openSockDiag, type SockDiagSession } from "./netlink.ts";
import { MAX_FILTER_PORTS, SockDiagError } from "./sock_diag.ts";
import { SocketColumns } from "./socket_columns.ts";
import {
  parseIfInet6,
  parseProcNet,
  parseSockstat,
  type ProcNetSocket,
  type ProcNetTable,
} from "./procfs.ts";
import {
  type BpfOwnerState,
  bpfOwnersUnavailable,
  describeProcesses,
  listProcesses,
  otherNetworkNamespaces,
  type OwnerScan,
  type ProcfsOptions,
  runningImage,
  ScanWorker,
  type SocketOwners,
  startBpfOwnerScan,
  startSocketOwnerScan,
  threadGroupOf,
  unreadableFdDirs,
} from "./processes.ts";

export type { ProcfsOptions } from "./processes.ts";

/** Options of {@linkcode createLinuxSource}. */
export interface LinuxSourceOptions extends ProcfsOptions {
  /**
   * Read the socket tables through netlink sock_diag instead of `/proc/net`. By default on when
   * native calls are available (Deno with the FFI permission) and `procRoot` is `/proc`, with
   * `/proc/net` as the fallback for a table whose dump fails. `true` insists: a failure is an
   * error (and works under Node too, through koffi); `false` never uses netlink.
   */
  netlink?: boolean;
  /**
   * Scan `/proc/<pid>/fd` with `getdents64` and `readlinkat` through libc instead of plain file calls.
   * Same default as `netlink` (whatever `procRoot` is); `true` insists, `false` never.
   */
  nativeScan?: boolean;
  /**
   * With the native scan on Deno, let a worker thread share the fd scan while the socket tables
   * are read: by default when the system has at least 20,000 open files (below that, starting
   * the thread costs more than it saves), `true` always, `false` never.
   */
  parallelScan?: boolean;
  /**
   * Keep the fd-scan worker running between listings, for a caller that lists again and again
   * (`watch`): starting a worker costs 35-40 ms of the main thread on a slow machine. The
   * worker keeps the process alive, so call the source's `close()` when done.
   */
  keepScanWorker?: boolean;
  /**
   * Read the owners of a whole listing's sockets through a BPF iterator (the kernel walks every
   * process's file table and writes each socket fd's inode and pid) instead of scanning
   * `/proc/<pid>/fd`. By default on when it can work: Deno with the native scan, procfs at
   * `/proc`, CAP_BPF and CAP_PERFMON (root), the initial pid namespace, and a kernel with BTF;
   * a kernel that refuses the program gets the fd scan instead, for this and later listings.
   * `true` insists (a listing that cannot use it fails); `false` never uses it. A selection of
   * processes (`pids`) is always scanned through its fd directories.
   */
  bpfOwners?: boolean;
}

/** How the last listing found the sockets' owners. */
export interface OwnerScanUse {
  /** `bpf` (the kernel's task-file iterator) or `fd-scan` (`/proc/<pid>/fd`). */
  method: "bpf" | "fd-scan";
  /** Why the BPF iterator was not used, or null when it was. */
  bpfUnused: string | null;
}

/** The Linux socket source, which also says how its last listing found the owners. */
export interface LinuxSocketSource extends SocketSource {
  /** How the last listing found the owners; null before the first listing. */
  readonly ownerScan: OwnerScanUse | null;
  /** Why the last listing read its TCP tables from `/proc/net` (no counters), or null. */
  countersUnavailable(): string | null;
}

const TABLES: readonly (readonly [ProcNetTable, Protocol, Family])[] = [
  ["tcp", "TCP", "IPv4"],
  ["tcp6", "TCP", "IPv6"],
  ["udp", "UDP", "IPv4"],
  ["udp6", "UDP", "IPv6"],
];

/** Reads a procfs file; a file that does not exist (IPv6 disabled) reads as null. */
function readOptional(file: string): string | null {
  try {
    return files.readText(file, "latin1");
  } catch (err) {
    if ((err as { code?: unknown })?.code === "ENOENT") return null;
    throw new Error(`Cannot read ${JSON.stringify(file)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** One `/proc/net` table, duplicates (a line repeated across read boundaries) dropped. */
function readProcNet(root: string, table: ProcNetTable, scopes?: Map<string, number>) {
  const file = `${root}/net/${table}`;
  const text = readOptional(file);
  if (text === null) return [];
  const rows: ProcNetSocket[] = [];
  const inodes = new Set<number>();
  const ownerless = new Set<string>();
  for (const row of parseProcNet(text, table, { file, scopes })) {
    // An inode names one socket; only inode-less rows (TIME_WAIT) need the whole tuple.
    if (row.inode !== 0) {
      if (inodes.has(row.inode)) continue;
      inodes.add(row.inode);
    } else {
      const key = `${row.localAddress} ${row.localPort} ${row.remoteAddress} ` +
        `${row.remotePort} ${row.state}`;
      if (ownerless.has(key)) continue;
      ownerless.add(key);
    }
    rows.push(row);
  }
  return rows;
}

/**
 * The counts of `/proc/net/sockstat{,6}` (`parseSockstat`): `sockets` (every socket in use, of
 * every kind), and per table. Empty when they cannot be read.
 */
function readSockstat(root: string): Map<string, number> {
  try {
    return new Map([
      ...parseSockstat(readOptional(`${root}/net/sockstat`) ?? ""),
      ...parseSockstat(readOptional(`${root}/net/sockstat6`) ?? ""),
    ]);
  } catch {
    return new Map();
  }
}

/**
 * About how many sockets the tables hold, from the sockstat counts, with some room for sockets
 * opened meanwhile; 1024 when the counts are unknown.
 */
function socketCountHint(counts: ReadonlyMap<string, number>, tables: typeof TABLES): number {
  const label = { tcp: "TCP", tcp6: "TCP6", udp: "UDP", udp6: "UDP6" } as const;
  let total = tables.some(([, protocol]) => protocol === "TCP") ? counts.get("TCP:tw") ?? 0 : 0;
  for (const [table] of tables) total += counts.get(label[table]) ?? 0;
  return Math.max(1024, Math.ceil(total * 1.1) + 256);
}

/** How one `listSockets` call reads: the C library, and whether to use netlink and the scan. */
interface Plan {
  libc: Libc | null;
  netlink: boolean;
  netlinkRequired: boolean;
  nativeScan: boolean;
  /** Why the tables are not read through netlink, or null when they are. */
  netlinkUnused: string | null;
}

function plan(options: LinuxSourceOptions): Plan {
  const liveProc = options.procRoot === undefined || options.procRoot === "/proc";
  const unavailable = options.netlink === undefined || options.nativeScan === undefined
    ? nativeCallsUnavailable()
    : "native calls are turned off";
  const granted = unavailable === null;
  const netlink = options.netlink ?? (granted && liveProc);
  const nativeScan = options.nativeScan ?? granted;
  let netlinkUnused = options.netlink === false
    ? "netlink is turned off"
    : !liveProc
    ? `procfs is read from ${options.procRoot}, not from this kernel`
    : unavailable;
  let libc: Libc | null = null;
  if (netlink || nativeScan) {
    try {
      libc = loadLibc();
    } catch (err) {
      if (options.netlink === true || options.nativeScan === true) throw err;
      netlinkUnused ??= err instanceof Error ? err.message : String(err);
    }
  }
  return {
    libc,
    netlink: netlink && libc !== null,
    netlinkRequired: options.netlink === true,
    nativeScan: nativeScan && libc !== null,
    netlinkUnused: netlink && libc !== null ? null : netlinkUnused,
  };
}

/** What a source records about its last listing. */
interface Used {
  netlink: boolean;
  /** Why some table was read from /proc/net instead of netlink, or null when none was. */
  procNetWhy: string | null;
  owners: OwnerScanUse | null;
  bpf: BpfOwnerState;
}

/** Why a listing does not read its owners through BPF, or null when it tries. */
function bpfUnused(
  query: SocketQuery,
  options: LinuxSourceOptions,
  how: Plan,
  state: BpfOwnerState,
): string | null {
  if (options.bpfOwners === false) return "turned off";
  if (query.pids) return "a selection of processes is scanned through its fd directories";
  const libc = how.nativeScan ? how.libc! : undefined;
  return bpfOwnersUnavailable(options.procRoot ?? "/proc", libc, state);
}

async function listSockets(
  query: SocketQuery,
  options: LinuxSourceOptions,
  used: Used,
  worker: ScanWorker | undefined,
): Promise<SocketColumns> {
  const root = options.procRoot ?? "/proc";
  const how = plan(options);
  const unused = bpfUnused(query, options, how, used.bpf);
  used.bpf.used = false;
  if (unused !== null && options.bpfOwners === true && !query.pids) {
    throw new Error(`Cannot read socket owners through BPF: ${unused}`);
  }
  const counts = readSockstat(root);
  // The owner scan starts first: the kernel runs the BPF iterator on another thread, or a worker
  // thread reads fd links, while this one reads the socket tables.
  // A thread's id selects nothing: its fds are its process's, which owns the sockets.
  const pids = query.pids?.filter((pid) => threadGroupOf(options, pid) === null);
  const scan = unused === null
    ? startBpfOwnerScan(options, how.libc!, used.bpf, counts.get("sockets") ?? 0)
    : startSocketOwnerScan(
      { ...options, pids, parallel: options.parallelScan, worker },
      how.nativeScan ? how.libc! : undefined,
    );
  let sockets: SocketColumns;
  try {
    sockets = await readAndJoin(query, used, how, root, scan, counts);
  } catch (err) {
    scan.cancel();
    throw err;
  }
  used.owners = unused === null && used.bpf.used
    ? { method: "bpf", bpfUnused: null }
    : { method: "fd-scan", bpfUnused: unused ?? used.bpf.failure ?? "no socket had an inode" };
  if (options.bpfOwners === true && unused === null && used.bpf.failure !== null) {
    throw new Error(`Cannot read socket owners through BPF: ${used.bpf.failure}`);
  }
  return sockets;
}

async function readAndJoin(
  query: SocketQuery,
  used: Used,
  how: Plan,
  root: string,
  scan: OwnerScan,
  counts: ReadonlyMap<string, number>,
): Promise<SocketColumns> {
  const tables = TABLES.filter(([, protocol, family]) =>
    query.protocols.includes(protocol) && query.families.includes(family)
  );
  let scopes: Map<string, number> | undefined;
  if (tables.some(([, , family]) => family === "IPv6")) {
    const file = `${root}/net/if_inet6`;
    const text = readOptional(file);
    if (text !== null) scopes = parseIfInet6(text, file);
  }

  // A selection of processes that this thread scans alone is scanned first: its sockets are then
  // the only ones worth decoding, and the rest of the tables is skipped. (A scan shared with a
  // worker goes on beside the table reads, as for a whole listing.)
  let owners: SocketOwners | null = query.pids && !scan.shared ? await scan.finish() : null;
  const only = owners ? new Set(owners.byInode.keys()) : undefined;

  const message = (err: unknown) => err instanceof Error ? err.message : String(err);
  let netlinkFailure = how.netlinkUnused;
  const openSession = (): SockDiagSession | null => {
    if (!how.netlink) return null;
    try {
      return openSockDiag(how.libc!);
    } catch (err) {
      if (how.netlinkRequired) throw err;
      netlinkFailure = message(err);
      return null;
    }
  };
  let session = openSession();
  used.netlink = false;
  used.procNetWhy = null;
  // Every socket goes into columns: a dump's as it is decoded, a /proc/net row (netlink
  // unavailable, or its dump failed) as it is parsed. Sized up front, so that they do not grow
  // step by step through a large table.
  const columns = new SocketColumns(only ? only.size : socketCountHint(counts, tables));
  try {
    // TCP over both families comes in one dump, which walks the kernel's TCP tables once instead
    // of once per family. Should the kernel refuse it, each family is dumped on its own.
    let bothTcp = session !== null &&
      tables.filter(([, protocol]) => protocol === "TCP").length === 2;
    if (bothTcp) {
      const start = columns.size;
      try {
        const options = { stats: query.stats === true, scopes, only, tcpStates: query.tcpStates };
        if (session!.scan("TCP", null, options, columns)) columns.dropRepeats(start);
        used.netlink = true;
      } catch (err) {
        if (how.netlinkRequired && !(err instanceof SockDiagError)) throw err;
        // The failed dump closed its session.
        bothTcp = false;
        session = openSession();
      }
    }
    for (const [table, protocol, family] of tables) {
      if (bothTcp && protocol === "TCP") continue;
      const stats = query.stats === true && protocol === "TCP";
      if (session) {
        const start = columns.size;
        try {
          const options = { stats, scopes, only, tcpStates: query.tcpStates };
          if (session.scan(protocol, family, options, columns)) columns.dropRepeats(start);
          used.netlink = true;
          continue;
        } catch (err) {
          if (how.netlinkRequired) throw err;
          // A failed dump closes the session (and drops its rows): this table and the rest
          // come from /proc/net.
          netlinkFailure = `the netlink dump failed: ${message(err)}`;
          session.close();
          session = null;
        }
      }
      if (protocol === "TCP") used.procNetWhy ??= netlinkFailure ?? "netlink was not used";
      for (const row of readProcNet(root, table, scopes)) {
        if (only && !only.has(row.inode)) continue;
        const i = columns.add(
          row.protocol,
          row.family,
          row.state,
          row.localAddress,
          row.localPort,
          row.remoteAddress,
          row.remotePort ?? 0,
          row.inode,
          // /proc/net has no cookies; the repeats of a table are dropped as it is read.
          0,
        );
        // /proc/net has no counters. A listener and a TIME_WAIT socket keep none anyway, as
        // the netlink dump says too.
        if (stats) {
          const none = row.state === "LISTEN" || row.state === "TIME_WAIT";
          columns.setStatsReason(i, none ? "not-applicable" : "not-supported");
        }
      }
    }
  } finally {
    session?.close();
  }

  let anyInode = false;
  for (let i = 0; i < columns.size && !anyInode; i++) anyInode = columns.inode(i) !== 0;
  if (!owners && !anyInode) {
    scan.cancel();
  } else {
    owners ??= await scan.finish();
    const ownerless: number[] = [];
    for (let i = 0; i < columns.size; i++) {
      const inode = columns.inode(i);
      if (inode === 0) continue;
      const pids = owners.byInode.get(inode);
      if (pids) columns.setOwners(i, pids);
      else ownerless.push(i);
    }
    if (owners.incomplete) {
      labelOwnerless(columns, ownerless, how.netlink ? () => openSockDiag(how.libc!) : null);
    } else {
      for (const i of ownerless) columns.setOwnerReason(i, "no-owner");
    }
  }
  return columns;
}

/**
 * Gives the reason to the sockets whose owner a scan that could not read every process's fds
 * did not find. Such a socket may belong to a process whose fds are hidden (`access-denied`),
 * or its owner may have closed it or exited between the table read and the scan: the sockets
 * that came from netlink (those with a cookie) are asked for again, and the ones the kernel no
 * longer has are `process-exited`. The second dump asks only for their local ports (a filter the
 * kernel runs) and decodes only their inodes, so it costs little; a socket that now has another
 * state is still found. When that dump cannot be made, or for rows from `/proc/net`, the reason
 * stays `access-denied`.
 *
 * @param columns The listing's sockets.
 * @param rows The rows of `columns` without owners.
 * @param open Opens a sock_diag session for the second dump; null when netlink is not used.
 */
export function labelOwnerless(
  columns: SocketColumns,
  rows: readonly number[],
  open: (() => SockDiagSession) | null,
): void {
  const gone = open === null ? new Set<number>() : vanished(columns, rows, open);
  for (const i of rows) columns.setOwnerReason(i, gone.has(i) ? "process-exited" : "access-denied");
}

/** The rows among `rows` (those with a cookie) whose socket a new dump no longer has. */
function vanished(
  columns: SocketColumns,
  rows: readonly number[],
  open: () => SockDiagSession,
): Set<number> {
  const groups = new Map<string, { protocol: Protocol; family: Family; rows: number[] }>();
  for (const i of rows) {
    if (columns.cookie(i) === 0) continue;
    // One dump per protocol and family that has such sockets (the kernel may refuse the dump of
    // TCP over both families, and one family's dump walks fewer sockets).
    const protocol = columns.protocol(i);
    const family = columns.family(i);
    const key = `${protocol}/${family}`;
    let group = groups.get(key);
    if (!group) groups.set(key, group = { protocol, family, rows: [] });
    group.rows.push(i);
  }
  const gone = new Set<number>();
  if (groups.size === 0) return gone;
  let session: SockDiagSession;
  try {
    session = open();
  } catch {
    return gone;
  }
  try {
    for (const { protocol, family, rows } of groups.values()) {
      const ports = [...new Set(rows.map((i) => columns.localPort(i)))];
      const now = new SocketColumns(rows.length);
      session.scan(protocol, family, {
        only: new Set(rows.map((i) => columns.inode(i))),
        localPorts: ports.length <= MAX_FILTER_PORTS ? ports : undefined,
      }, now);
      const present = new Set<number>();
      for (let j = 0; j < now.size; j++) present.add(now.inode(j));
      for (const i of rows) if (!present.has(columns.inode(i))) gone.add(i);
    }
  } catch {
    // Without the second dump nothing is known to have gone.
    return new Set();
  } finally {
    session.close();
  }
  return gone;
}

/** Runs synchronous work as a promise, so a throw becomes a rejection. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

/**
 * Creates the Linux socket source: `linux-netlink` when its last listing read the tables through
 * netlink sock_diag, `linux-procfs` when it read `/proc/net`. Each `listSockets` call reads only
 * the tables the query asks for (a table that does not exist, such as `/proc/net/tcp6` with IPv6
 * disabled, gives no rows) and scans the processes' fds once to find every socket's owners. When
 * the query names `pids`, only their fds are scanned; when they hold few files, that scan comes
 * first and only their sockets are listed. With `tcpStates`, a netlink dump asks the kernel for
 * those TCP states only.
 * A socket without an inode (TIME_WAIT) has no owner (`no-owner`); an inode no readable fd
 * refers to is `no-owner` when every fd directory was read; when some could not be, it is
 * `access-denied`, or `process-exited` when a second netlink dump no longer finds the socket
 * (see {@linkcode labelOwnerless}).
 *
 * With `stats`, TCP sockets carry byte and segment counters when the tables come from
 * netlink; from `/proc/net` they are null (`not-supported`; `not-applicable` for listeners and
 * TIME_WAIT sockets, which keep none).
 *
 * @param options Where procfs and the user database are (defaults `/proc` and `/etc/passwd`),
 *   and whether to use netlink and the native fd scan (see {@linkcode LinuxSourceOptions}).
 * @returns The backend.
 * @throws {RangeError} When `netlink: true` is combined with a `procRoot` other than `/proc`:
 *   netlink reads this system's kernel, which another procfs tree does not describe.
 *
 * @example
 * ```ts
 * import { createLinuxSource } from "./engine.ts";
 * const source = createLinuxSource();
 * const listening = (await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] }))
 *   .filter((s) => s.state === "LISTEN");
 * const owners = await source.describeProcesses(listening.flatMap((s) => s.pids));
 * console.log(source.name, listening.length, owners.size);
 * ```
 */
export function createLinuxSource(options: LinuxSourceOptions = {}): LinuxSocketSource {
  if (options.netlink === true && options.procRoot !== undefined && options.procRoot !== "/proc") {
    throw new RangeError(
      `Invalid procRoot "${options.procRoot}" with netlink: netlink reads the live kernel, ` +
        "so procRoot must be /proc",
    );
  }
  const used: Used = {
    netlink: false,
    procNetWhy: null,
    owners: null,
    bpf: { used: false, failure: null },
  };
  const worker = options.keepScanWorker ? new ScanWorker() : undefined;
  return {
    get name() {
      return used.netlink ? "linux-netlink" : "linux-procfs";
    },
    get ownerScan() {
      return used.owners;
    },
    countersUnavailable: (): string | null =>
      used.procNetWhy === null
        ? null
        : "the TCP tables were read from /proc/net, which has none (they come through netlink " +
          `sock_diag, not used here: ${used.procNetWhy})`,
    listSockets: async (query: SocketQuery): Promise<RawSocket[]> =>
      (await listSockets(query, options, used, worker)).sockets(),
    listSocketRows: (query: SocketQuery): Promise<SocketRows> =>
      listSockets(query, options, used, worker),
    describeProcesses: (pids: Iterable<number>): Promise<Map<number, ProcessInfo>> =>
      settle(() => describeProcesses(pids, options)),
    listProcesses: (): Promise<ProcessSummary[]> => settle(() => listProcesses(options)),
    otherNetworks: (pids?: Iterable<number>): Promise<OtherNetwork[]> =>
      settle(() => otherNetworkNamespaces(options, pids)),
    hiddenOwners: (pids: Iterable<number>): Promise<number[]> =>
      settle(() => unreadableFdDirs(options, pids)),
    processesOfThreads: (ids: readonly number[]): Map<number, number> => {
      const owners = new Map<number, number>();
      for (const id of ids) {
        const owner = threadGroupOf(options, id);
        if (owner !== null) owners.set(id, owner);
      }
      return owners;
    },
    runningImage: (pid: number, startTime: string | null): RunningImage =>
      runningImage(options, pid, startTime),
    close: (): void => worker?.close(),
  };
}
