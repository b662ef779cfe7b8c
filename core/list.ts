/**
 * The listing pipeline: read sockets, filter them, look up only the owning processes that are
 * still needed, join, validate.
 *
 * @module
 */
import { type FilterOptions, nameMatcher, socketPredicate } from "./filter.ts";
import {
  type Connection,
  EXPLAINABLE_FIELDS,
  FAMILIES,
  PROTOCOLS,
  type Reason,
  validateConnection,
} from "./record.ts";
import type { ProcessInfo, RawSocket, SocketSource } from "./source.ts";

/** Options of {@linkcode listConnections}: the filters, and the backend to read from. */
export interface ListOptions extends FilterOptions {
  /** The socket backend; defaults to the one for this OS. */
  source?: SocketSource;
}

const PROTOCOL_ORDER = new Map(PROTOCOLS.map((p, i) => [p, i]));
const FAMILY_ORDER = new Map(FAMILIES.map((f, i) => [f, i]));

function compareRows(a: Connection, b: Connection): number {
  return (PROTOCOL_ORDER.get(a.protocol)! - PROTOCOL_ORDER.get(b.protocol)!) ||
    (FAMILY_ORDER.get(a.family)! - FAMILY_ORDER.get(b.family)!) ||
    (a.localPort - b.localPort) ||
    a.localAddress.localeCompare(b.localAddress) ||
    ((a.remotePort ?? -1) - (b.remotePort ?? -1)) ||
    (a.remoteAddress ?? "").localeCompare(b.remoteAddress ?? "") ||
    ((a.pid ?? -1) - (b.pid ?? -1));
}

/**
 * Joins one socket with one of its owners (or with none) into a connection record.
 *
 * @param socket The socket as the OS reported it.
 * @param pid One owning pid, or null when the socket has no known owner.
 * @param info What is known of that process (absent when it was not looked up).
 * @returns The record (not yet validated).
 */
export function joinRecord(
  socket: RawSocket,
  pid: number | null,
  info: ProcessInfo | undefined,
): Connection {
  const unavailable: Connection["unavailable"] = {};
  const base = {
    protocol: socket.protocol,
    family: socket.family,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remoteAddress === null ? null : socket.remotePort,
    state: socket.state,
  };
  if (pid === null || !info) {
    const reason: Reason = pid === null ? socket.ownerReason ?? "no-owner" : "process-exited";
    for (const field of EXPLAINABLE_FIELDS) {
      if (field !== "pid" || pid === null) unavailable[field] = reason;
    }
    return {
      ...base,
      pid,
      processName: null,
      processPath: null,
      parentPid: null,
      processStartTime: null,
      unavailable,
    };
  }
  const why = info.unavailable;
  if (info.name === null) unavailable.processName = why.name ?? "not-supported";
  if (info.path === null) unavailable.processPath = why.path ?? "not-supported";
  if (info.parentPid === null) unavailable.parentPid = why.parentPid ?? "not-supported";
  if (info.startTime === null) unavailable.processStartTime = why.startTime ?? "not-supported";
  return {
    ...base,
    pid,
    processName: info.name,
    processPath: info.path,
    parentPid: info.parentPid,
    processStartTime: info.startTime,
    unavailable,
  };
}

/**
 * Lists every TCP and UDP endpoint (IPv4 and IPv6) with the process behind it, filtered.
 * A socket held by several processes yields one record per process; a socket without a known
 * owner is kept with `pid: null` and the reason in `unavailable`.
 *
 * @param options Filters, and optionally the backend to read from.
 * @returns The records, validated against the schema, in a stable order.
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
  const source = options.source ?? (await import("../ffi/mod.ts")).defaultSource();
  const sockets = (await source.listSockets({
    protocols: options.protocols ?? PROTOCOLS,
    families: options.families ?? FAMILIES,
  })).filter(socketPredicate(options));

  const wantedPids = options.pids ? new Set(options.pids) : null;
  const pairs: [RawSocket, number | null][] = [];
  for (const socket of sockets) {
    if (socket.pids.length === 0) {
      if (!wantedPids) pairs.push([socket, null]);
      continue;
    }
    for (const pid of socket.pids) if (!wantedPids || wantedPids.has(pid)) pairs.push([socket, pid]);
  }

  const pids = new Set<number>();
  for (const [, pid] of pairs) if (pid !== null) pids.add(pid);
  const processes = pids.size ? await source.describeProcesses(pids) : new Map();
  const nameOk = options.name === undefined ? null : nameMatcher(options.name);

  const rows: Connection[] = [];
  for (const [socket, pid] of pairs) {
    const info = pid === null ? undefined : processes.get(pid);
    if (nameOk && !nameOk(info?.name ?? null)) continue;
    rows.push(validateConnection(joinRecord(socket, pid, info)));
  }
  return rows.sort(compareRows);
}
