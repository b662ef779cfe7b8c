/**
 * Socket tables from the kernel over netlink sock_diag, the interface `ss` uses: one dump per
 * protocol and family (or of TCP over both families), decoded by `sock_diag.ts`. Faster than
 * formatting and parsing the `/proc/net` text, and the only way to reach the TCP counters of
 * `tcp_info`.
 *
 * @module
 */
import type { Family, Protocol, TcpState } from "../../core/record.ts";
import { type Libc, loadLibc, MSG_TRUNC, SOCK_CLOEXEC, SOCK_RAW } from "./_libc.ts";
import {
  AF_NETLINK,
  decodeSockDiagInto,
  encodeSockDiagRequest,
  kernelAddress,
  NETLINK_SOCK_DIAG,
  SockDiagError,
  type SockDiagSocket,
  SocketColumns,
} from "./sock_diag.ts";

export { type SockDiagSocket, SocketColumns } from "./sock_diag.ts";

/**
 * Bytes per `recv`. The kernel fills each dump datagram up to 32 KiB (the most it sizes them to
 * from earlier reads); twice that leaves room, and `MSG_TRUNC` catches a longer one.
 */
const RECEIVE_BUFFER_SIZE = 64 * 1024;
const BUFFER_LENGTH = BigInt(RECEIVE_BUFFER_SIZE);

/** Options of {@linkcode SockDiagSession.dump}. */
export interface DumpOptions {
  /** Ask for TCP byte and segment counters (`tcp_info`). */
  stats?: boolean;
  /** Link-local IPv6 address text -> interface index, as `parseIfInet6` returns. */
  scopes?: ReadonlyMap<string, number>;
  /** Only the sockets with these inodes are wanted; the others are skipped undecoded. */
  only?: ReadonlySet<number>;
  /** TCP: ask the kernel for the sockets in these states only. */
  tcpStates?: readonly TcpState[];
  /**
   * Ask the kernel for the sockets with one of these local ports only (at most
   * `MAX_FILTER_PORTS` different ones).
   */
  localPorts?: readonly number[];
}

/** An open netlink sock_diag socket. */
export interface SockDiagSession {
  /**
   * Dumps every socket of one protocol and family. A socket that the kernel reports twice
   * (its tables changed during the dump) is kept once.
   *
   * @param protocol The protocol.
   * @param family The address family, or null for both (TCP only, in one walk of the kernel's
   *   tables; see `SockDiagRequest.family`).
   * @param options Counters and link-local scopes.
   * @returns The sockets: views whose fields are read from the columns of the dump
   *   ({@linkcode SocketColumns.sockets}).
   * @throws {SockDiagError} When the kernel refuses the dump.
   * @throws {Error} When a system call fails.
   */
  dump(protocol: Protocol, family: Family | null, options?: DumpOptions): SockDiagSocket[];
  /**
   * Like {@linkcode SockDiagSession.dump}, but adds the sockets to `into`, in the kernel's order,
   * where a whole listing's sockets are kept in columns. A socket the kernel reports twice is
   * added twice: the result says so, and the caller drops the repeats
   * ({@linkcode SocketColumns.dropRepeats}).
   *
   * @param protocol The protocol.
   * @param family The address family, or null for both (TCP only).
   * @param options Counters and link-local scopes.
   * @param into Where the sockets go. When the dump fails, the rows it added are dropped.
   * @returns True when some socket was added more than once.
   * @throws {SockDiagError} When the kernel refuses the dump.
   * @throws {Error} When a system call fails.
   */
  scan(
    protocol: Protocol,
    family: Family | null,
    options: DumpOptions,
    into: SocketColumns,
  ): boolean;
  /** Closes the socket; further dumps throw. */
  close(): void;
}

/**
 * Opens a netlink socket for sock_diag dumps.
 *
 * @param libc The C library to call; by default the one `loadLibc` opens.
 * @returns The session; close it when done.
 * @throws {Error} When the C library cannot be opened or the socket cannot be created (no
 *   netlink in this kernel, or a sandbox that forbids it).
 *
 * @example
 * ```ts
 * import { openSockDiag } from "./netlink.ts";
 * const session = openSockDiag();
 * try {
 *   const listening = session.dump("TCP", "IPv4").filter((s) => s.state === "LISTEN");
 *   console.log(listening.map((s) => `${s.localAddress}:${s.localPort}`));
 * } finally {
 *   session.close();
 * }
 * ```
 */
export function openSockDiag(libc: Libc = loadLibc()): SockDiagSession {
  const c = libc.symbols;
  let fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    throw new Error(
      `Cannot open a netlink sock_diag socket: socket() returned ${fd} ` +
        "(netlink unavailable or forbidden here)",
    );
  }
  const kernel = kernelAddress();
  const buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);
  let sequence = 0;

  const closeSocket = (): void => {
    if (fd < 0) return;
    c.close(fd);
    fd = -1;
  };

  const dumpOnce = (
    protocol: Protocol,
    family: Family | null,
    options: DumpOptions,
    what: string,
    into: SocketColumns,
  ): boolean => {
    sequence = (sequence + 1) >>> 0;
    const request = encodeSockDiagRequest({
      protocol,
      family,
      stats: options.stats,
      tcpStates: options.tcpStates,
      localPorts: options.localPorts,
      sequence,
    });
    const sent = Number(
      c.sendto(fd, request, BigInt(request.length), 0, kernel, kernel.length),
    );
    if (sent !== request.length) {
      throw new Error(`Cannot send ${what} request: sendto() returned ${sent}`);
    }
    const start = into.size;
    for (;;) {
      const got = Number(c.recv(fd, buffer, BUFFER_LENGTH, MSG_TRUNC));
      if (got < 0) throw new Error(`Cannot read ${what}: recv() returned ${got}`);
      if (got > buffer.length) {
        throw new Error(`Cannot read ${what}: a ${got}-byte answer exceeds ${buffer.length}`);
      }
      const batch = decodeSockDiagInto(buffer.subarray(0, got), protocol, {
        sequence,
        stats: options.stats,
        scopes: options.scopes,
        only: options.only,
      }, into);
      if (batch.done) return into.hasRepeats(start);
    }
  };

  const scan = (
    protocol: Protocol,
    family: Family | null,
    options: DumpOptions,
    into: SocketColumns,
  ): boolean => {
    if (fd < 0) throw new Error("Cannot dump sockets: the sock_diag session is closed");
    const what = `the ${protocol}/${family ?? "IPv4+IPv6"} sock_diag dump`;
    const start = into.size;
    try {
      return dumpOnce(protocol, family, options, what, into);
    } catch (err) {
      into.truncate(start);
      // What is left of the dump would be read as the answer to the next request.
      closeSocket();
      if (err instanceof SockDiagError) throw new SockDiagError(err.errno, what);
      throw err;
    }
  };

  return {
    dump(protocol, family, options = {}) {
      const columns = new SocketColumns();
      if (scan(protocol, family, options, columns)) columns.dropRepeats();
      return columns.sockets();
    },
    scan,
    close: closeSocket,
  };
}
