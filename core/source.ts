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
  /** Formatted remote address; null for UDP and for listening sockets. */
  remoteAddress: string | null;
  /** Remote port; null when remoteAddress is null. */
  remotePort: number | null;
  /** TCP state; null for UDP. */
  state: TcpState | null;
  /**
   * Every process that holds the socket (after fork several may). Empty when no owner is known;
   * then `ownerReason` says why.
   */
  pids: number[];
  /** Why `pids` is empty. */
  ownerReason?: Reason;
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
  /** Why a null field is null. */
  unavailable: Partial<Record<"name" | "path" | "parentPid" | "startTime", Reason>>;
}

/** Which parts of the socket tables to read; a backend may skip tables that are not asked for. */
export interface SocketQuery {
  /** Protocols to read. */
  protocols: readonly Protocol[];
  /** Families to read. */
  families: readonly Family[];
}

/** A platform backend. Each OS module exports one with the same shape. */
export interface SocketSource {
  /** A short name of the backend, e.g. `linux-procfs` or `windows-iphlpapi`. */
  readonly name: string;
  /** Reads the socket tables. */
  listSockets(query: SocketQuery): Promise<RawSocket[]>;
  /**
   * Describes the given processes. Every requested pid gets an entry, even one that exited
   * (then its fields are null with `process-exited`).
   */
  describeProcesses(pids: Iterable<number>): Promise<Map<number, ProcessInfo>>;
}

/** Raised when procconn has no backend for the running OS. */
export class UnsupportedPlatformError extends Error {
  /**
   * @param platform The OS that has no backend.
   */
  constructor(platform: string) {
    super(`Unsupported platform "${platform}": procconn reads sockets on Windows and Linux only`);
    this.name = "UnsupportedPlatformError";
  }
}
