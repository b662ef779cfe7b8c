/**
 * Socket tables from the kernel over netlink sock_diag, the interface `ss` uses: one dump per
 * protocol and family, decoded by `sock_diag.ts`. Faster than formatting and parsing the
 * `/proc/net` text, and the only way to reach the TCP counters of `tcp_info`.
 *
 * @module
 */
import type { Family, Protocol, TcpState } from "../../core/record.ts";
import { type Libc, loadLibc, MSG_TRUNC, SOCK_CLOEXEC, SOCK_RAW } from "./_libc.ts";
import {
  AF_NETLINK,
  decodeSockDiag,
  encodeSockDiagRequest,
  kernelAddress,
  NETLINK_SOCK_DIAG,
  SockDiagError,
  type SockDiagSocket,
} from "./sock_diag.ts";

export type { SockDiagSocket } from "./sock_diag.ts";

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
}

/** An open netlink sock_diag socket. */
export interface SockDiagSession {
  /**
   * Dumps every socket of one protocol and family. A socket that the kernel reports twice
   * (its tables changed during the dump) is kept once.
   *
   * @param protocol The protocol.
   * @param family The address family.
   * @param options Counters and link-local scopes.
   * @returns The sockets.
   * @throws {SockDiagError} When the kernel refuses the dump.
   * @throws {Error} When a system call fails.
   */
  dump(protocol: Protocol, family: Family, options?: DumpOptions): SockDiagSocket[];
  /**
   * Like {@linkcode SockDiagSession.dump}, but hands each socket to `visit` as soon as its
   * buffer is decoded, so a large table is never held twice. A socket the kernel reports twice
   * is handed over twice: the result says so, and the caller drops the repeats
   * ({@linkcode dropRepeats}). Checking at the end, by sorting the cookies, costs a fraction of
   * looking each one up as it comes.
   *
   * @param protocol The protocol.
   * @param family The address family.
   * @param options Counters and link-local scopes.
   * @param visit Called once per answer, in the kernel's order.
   * @returns True when some socket was handed over more than once.
   * @throws {SockDiagError} When the kernel refuses the dump.
   * @throws {Error} When a system call fails.
   */
  scan(
    protocol: Protocol,
    family: Family,
    options: DumpOptions,
    visit: (socket: SockDiagSocket) => void,
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

  // The cookies of the sockets of the dump under way; kept for the next dump of the session.
  let cookies = new Float64Array(1024);

  const dumpOnce = (
    protocol: Protocol,
    family: Family,
    options: DumpOptions,
    what: string,
    visit: (socket: SockDiagSocket) => void,
  ): boolean => {
    sequence = (sequence + 1) >>> 0;
    const request = encodeSockDiagRequest({
      protocol,
      family,
      stats: options.stats,
      tcpStates: options.tcpStates,
      sequence,
    });
    const sent = Number(
      c.sendto(fd, request, BigInt(request.length), 0, kernel, kernel.length),
    );
    if (sent !== request.length) {
      throw new Error(`Cannot send ${what} request: sendto() returned ${sent}`);
    }
    let count = 0;
    for (;;) {
      const got = Number(c.recv(fd, buffer, BUFFER_LENGTH, MSG_TRUNC));
      if (got < 0) throw new Error(`Cannot read ${what}: recv() returned ${got}`);
      if (got > buffer.length) {
        throw new Error(`Cannot read ${what}: a ${got}-byte answer exceeds ${buffer.length}`);
      }
      const batch = decodeSockDiag(buffer.subarray(0, got), protocol, {
        sequence,
        stats: options.stats,
        scopes: options.scopes,
        only: options.only,
      });
      for (const socket of batch.sockets) {
        if (count === cookies.length) {
          const more = new Float64Array(cookies.length * 2);
          more.set(cookies);
          cookies = more;
        }
        cookies[count++] = socket.cookie;
        visit(socket);
      }
      if (batch.done) {
        // A typed array's own sort orders numbers; equal neighbours are a repeat.
        const sorted = cookies.subarray(0, count).sort();
        for (let i = 1; i < count; i++) if (sorted[i] === sorted[i - 1]) return true;
        return false;
      }
    }
  };

  const scan = (
    protocol: Protocol,
    family: Family,
    options: DumpOptions,
    visit: (socket: SockDiagSocket) => void,
  ): boolean => {
    if (fd < 0) throw new Error("Cannot dump sockets: the sock_diag session is closed");
    const what = `the ${protocol}/${family} sock_diag dump`;
    try {
      return dumpOnce(protocol, family, options, what, visit);
    } catch (err) {
      // What is left of the dump would be read as the answer to the next request.
      closeSocket();
      if (err instanceof SockDiagError) throw new SockDiagError(err.errno, what);
      throw err;
    }
  };

  return {
    dump(protocol, family, options = {}) {
      const sockets: SockDiagSocket[] = [];
      if (scan(protocol, family, options, (socket) => sockets.push(socket))) {
        dropRepeats(sockets, 0, []);
      }
      return sockets;
    },
    scan,
    close: closeSocket,
  };
}

/**
 * Drops the sockets a dump handed over more than once, keeping each one's first answer, from
 * `sockets[from]` on; the same entries go from `alongside`, an array kept in step with it.
 *
 * @param sockets The sockets collected, the dump's from `from` on.
 * @param from Where the dump's sockets start.
 * @param alongside Kept in step with `sockets` (from index 0), or empty.
 *
 * @example
 * ```ts
 * import { dropRepeats } from "./netlink.ts";
 * const rows = [{ cookie: 1 }, { cookie: 2 }, { cookie: 1 }] as never[];
 * const inodes = [10, 20, 10];
 * dropRepeats(rows, 0, inodes);
 * inodes; // [10, 20]
 * ```
 */
export function dropRepeats<T>(
  sockets: SockDiagSocket[],
  from: number,
  alongside: T[],
): void {
  const seen = new Set<number>();
  let kept = from;
  for (let i = from; i < sockets.length; i++) {
    if (seen.has(sockets[i].cookie)) continue;
    seen.add(sockets[i].cookie);
    sockets[kept] = sockets[i];
    if (alongside.length) alongside[kept] = alongside[i];
    kept++;
  }
  sockets.length = kept;
  if (alongside.length) alongside.length = kept;
}
