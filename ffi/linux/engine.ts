/**
 * The Linux backend: sockets from `/proc/net/{tcp,tcp6,udp,udp6}`, joined to their owners
 * through the socket inodes behind `/proc/<pid>/fd/*`, and processes described from
 * `/proc/<pid>/*`. Plain file reads through `node:fs`, so it runs on Deno and Node alike.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { Family, Protocol } from "../../core/record.ts";
import type {
  ProcessInfo,
  ProcessSummary,
  RawSocket,
  SocketQuery,
  SocketSource,
} from "../../core/source.ts";
import { parseIfInet6, parseProcNet, type ProcNetTable } from "./procfs.ts";
import {
  describeProcesses,
  listProcesses,
  type ProcfsOptions,
  scanSocketOwners,
} from "./processes.ts";

export type { ProcfsOptions } from "./processes.ts";

const TABLES: readonly (readonly [ProcNetTable, Protocol, Family])[] = [
  ["tcp", "TCP", "IPv4"],
  ["tcp6", "TCP", "IPv6"],
  ["udp", "UDP", "IPv4"],
  ["udp6", "UDP", "IPv6"],
];

/** Reads a procfs file; a file that does not exist (IPv6 disabled) reads as null. */
function readOptional(file: string): string | null {
  try {
    return readFileSync(file, "latin1");
  } catch (err) {
    if ((err as { code?: unknown })?.code === "ENOENT") return null;
    throw new Error(`Cannot read ${JSON.stringify(file)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function listSockets(query: SocketQuery, options: ProcfsOptions): RawSocket[] {
  const root = options.procRoot ?? "/proc";
  const tables = TABLES.filter(([, protocol, family]) =>
    query.protocols.includes(protocol) && query.families.includes(family)
  );
  let scopes: Map<string, number> | undefined;
  if (tables.some(([, , family]) => family === "IPv6")) {
    const file = `${root}/net/if_inet6`;
    const text = readOptional(file);
    if (text !== null) scopes = parseIfInet6(text, file);
  }

  const sockets: RawSocket[] = [];
  const seen = new Set<string>();
  const owned: { socket: RawSocket; inode: number }[] = [];
  for (const [table, protocol] of tables) {
    const file = `${root}/net/${table}`;
    const text = readOptional(file);
    if (text === null) continue;
    for (const row of parseProcNet(text, table, { file, scopes })) {
      // A table that changes while it is read can repeat a line across read boundaries.
      const key = `${table} ${row.localAddress} ${row.localPort} ${row.remoteAddress} ` +
        `${row.remotePort} ${row.state} ${row.inode}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const { inode, ...endpoint } = row;
      const socket: RawSocket = {
        ...endpoint,
        pids: [],
        // procfs does not say when a socket was created.
        created: null,
        unavailable: { created: "not-supported" },
      };
      // Per-connection byte counters live in netlink sock_diag (tcp_info), not in procfs.
      if (query.stats && protocol === "TCP") {
        socket.stats = null;
        socket.unavailable!.stats = "not-supported";
      }
      if (inode === 0) socket.ownerReason = "no-owner";
      else owned.push({ socket, inode });
      sockets.push(socket);
    }
  }

  // The fd scan comes after the tables, so the sockets listed are the ones whose fds it sees.
  if (owned.length) {
    const owners = scanSocketOwners(options);
    for (const { socket, inode } of owned) {
      const pids = owners.byInode.get(inode);
      if (pids) socket.pids = [...pids];
      else socket.ownerReason = owners.incomplete ? "access-denied" : "no-owner";
    }
  }
  return sockets;
}

/** Runs synchronous work as a promise, so a throw becomes a rejection. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

/**
 * Creates the Linux socket source (`linux-procfs`). Each `listSockets` call reads only the
 * tables the query asks for (a table that does not exist, such as `/proc/net/tcp6` with IPv6
 * disabled, gives no rows) and scans the processes' fds once to find every socket's owners.
 * A socket without an inode (TIME_WAIT) has no owner (`no-owner`); an inode no readable fd
 * refers to is `access-denied` when some fd directory could not be read, else `no-owner`.
 *
 * @param options Where procfs and the user database are; defaults to `/proc` and
 *   `/etc/passwd`.
 * @returns The backend.
 *
 * @example
 * ```ts
 * import { createLinuxSource } from "./engine.ts";
 * const source = createLinuxSource();
 * const listening = (await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] }))
 *   .filter((s) => s.state === "LISTEN");
 * const owners = await source.describeProcesses(listening.flatMap((s) => s.pids));
 * console.log(listening.length, owners.size);
 * ```
 */
export function createLinuxSource(options: ProcfsOptions = {}): SocketSource {
  return {
    name: "linux-procfs",
    listSockets: (query: SocketQuery): Promise<RawSocket[]> =>
      settle(() => listSockets(query, options)),
    describeProcesses: (pids: Iterable<number>): Promise<Map<number, ProcessInfo>> =>
      settle(() => describeProcesses(pids, options)),
    listProcesses: (): Promise<ProcessSummary[]> => settle(() => listProcesses(options)),
  };
}
