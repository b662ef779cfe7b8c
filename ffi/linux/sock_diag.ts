/**
 * The netlink sock_diag protocol (NETLINK_SOCK_DIAG), as `ss` speaks it: the dump request for
 * one protocol and family (`inet_diag_req_v2`) or for TCP over both families (the older
 * `inet_diag_req`), and a decoder of the kernel's answers
 * (`inet_diag_msg`, with `tcp_info` when counters were asked for). Pure functions over bytes:
 * the socket I/O lives in `netlink.ts`, so everything here is tested on saved buffers.
 *
 * Layouts come from the kernel's user-space headers (`linux/netlink.h`, `linux/sock_diag.h`,
 * `linux/inet_diag.h`, `linux/tcp.h`) of linux-libc-dev 6.1.187 (Debian 12), printed with
 * `offsetof`/`sizeof` by gcc 12.2 on x86_64. Every field is fixed-width, so the offsets are the
 * same on every 64-bit architecture; multi-byte fields are in host byte order except the ports
 * and addresses (network order).
 *
 * @module
 */
import { formatIPv6, isScopedIPv6 } from "../../core/address.ts";
import type { Family, Protocol, TcpState } from "../../core/record.ts";
import { ipv4Text } from "./_ipv4_text.ts";
import { TCP_STATE_BY_CODE } from "./_tcp_states.ts";
import { type SockDiagSocket, SocketColumns } from "./socket_columns.ts";

/** `NETLINK_SOCK_DIAG` (linux/netlink.h): the netlink protocol of socket dumps. */
export const NETLINK_SOCK_DIAG = 4;
/** `AF_NETLINK` (linux/socket.h). */
export const AF_NETLINK = 16;
/** `AF_INET` (linux/socket.h). */
export const AF_INET = 2;
/** `AF_INET6` (linux/socket.h). */
export const AF_INET6 = 10;
/** `IPPROTO_TCP` (linux/in.h). */
export const IPPROTO_TCP = 6;
/** `IPPROTO_UDP` (linux/in.h). */
export const IPPROTO_UDP = 17;

/** `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h): the request and answer message type. */
export const SOCK_DIAG_BY_FAMILY = 20;
/**
 * `TCPDIAG_GETSOCK` (linux/inet_diag.h): the older request and answer message type for TCP,
 * whose dump covers both address families in one walk of the kernel's tables.
 */
export const TCPDIAG_GETSOCK = 18;
/** `NLMSG_ERROR` (linux/netlink.h). */
export const NLMSG_ERROR = 2;
/** `NLMSG_DONE` (linux/netlink.h): the end of a dump. */
export const NLMSG_DONE = 3;
/** `NLM_F_REQUEST` (linux/netlink.h). */
export const NLM_F_REQUEST = 0x1;
/** `NLM_F_DUMP` = `NLM_F_ROOT | NLM_F_MATCH` (linux/netlink.h). */
export const NLM_F_DUMP = 0x300;
/** `NLM_F_DUMP_INTR` (linux/netlink.h): the tables changed while the dump ran. */
export const NLM_F_DUMP_INTR = 0x10;
/** `INET_DIAG_INFO` (linux/inet_diag.h): the attribute that carries `struct tcp_info`. */
export const INET_DIAG_INFO = 2;

/**
 * `sizeof(struct nlmsghdr)`: `nlmsg_len` u32 @0, `nlmsg_type` u16 @4, `nlmsg_flags` u16 @6,
 * `nlmsg_seq` u32 @8, `nlmsg_pid` u32 @12.
 */
export const NLMSG_HEADER_SIZE = 16;
/**
 * `sizeof(struct inet_diag_req_v2)`: family u8 @0, protocol u8 @1, ext u8 @2, states u32 @4,
 * id @8.
 */
export const INET_DIAG_REQ_V2_SIZE = 56;
/**
 * `sizeof(struct inet_diag_req)`, the request of `TCPDIAG_GETSOCK`: family u8 @0, src_len u8 @1,
 * dst_len u8 @2, ext u8 @3, id @4, states u32 @52, dbs u32 @56.
 */
export const INET_DIAG_REQ_SIZE = 60;
/** `sizeof(struct inet_diag_msg)`. */
export const INET_DIAG_MSG_SIZE = 72;
/** `sizeof(struct sockaddr_nl)`: family u16 @0, pad u16 @2, pid u32 @4, groups u32 @8. */
export const SOCKADDR_NL_SIZE = 12;

// struct inet_diag_msg: family u8 @0, state u8 @1, timer u8 @2, retrans u8 @3, then
// struct inet_diag_sockid @4 (sport be16 @0, dport be16 @2, src [16] @4, dst [16] @20,
// if u32 @36, cookie u32[2] @40), expires @52, rqueue @56, wqueue @60, uid @64, inode @68.
const MSG_FAMILY = 0;
const MSG_STATE = 1;
const MSG_SPORT = 4;
const MSG_DPORT = 6;
const MSG_SRC = 8;
const MSG_DST = 24;
const MSG_IF = 40;
const MSG_COOKIE = 44;
const MSG_INODE = 68;

/** `sizeof(struct rtattr)`: `rta_len` u16 @0, `rta_type` u16 @2; payloads 4-byte aligned. */
const RTATTR_HEADER_SIZE = 4;
/** `NLA_TYPE_MASK` (linux/netlink.h): the type without the nested / byte-order flags. */
const NLA_TYPE_MASK = 0x3fff;

// struct tcp_info (linux/tcp.h), 232 bytes in the 6.1 headers; older kernels send a shorter
// one, newer a longer one. tcpi_bytes_acked u64 @120 (Linux 4.1), tcpi_bytes_received u64
// @128 (4.1), tcpi_segs_out u32 @136 (4.2), tcpi_segs_in u32 @140 (4.2).
const TCPI_BYTES_ACKED = 120;
const TCPI_BYTES_RECEIVED = 128;
const TCPI_SEGS_OUT = 136;
const TCPI_SEGS_IN = 140;
const TCPI_NEEDED = TCPI_SEGS_IN + 4;

/**
 * The TCP states asked for: every state from ESTABLISHED (1) to NEW_SYN_RECV (12), the sockets
 * `/proc/net/tcp` lists. Bound-only sockets (TCP_BOUND_INACTIVE, 13) are left out as they are
 * there.
 */
export const TCP_STATES_MASK = 0x1ffe;
/** UDP sockets carry TCP_CLOSE (unconnected) or TCP_ESTABLISHED (connected): ask for all. */
export const UDP_STATES_MASK = 0xffffffff;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What to ask the kernel for. */
export interface SockDiagRequest {
  /** The protocol to dump. */
  protocol: Protocol;
  /**
   * The address family to dump, or null for both (TCP only): the request is then the older
   * `TCPDIAG_GETSOCK`, whose dump walks the kernel's TCP tables once for both families, where
   * one request per family walks them twice (the IPv6 dump of a machine with 40,000 IPv4
   * sockets and no IPv6 ones takes about 11 ms to find nothing).
   */
  family: Family | null;
  /** Ask for `tcp_info` (TCP only: byte and segment counters). */
  stats?: boolean;
  /**
   * TCP only: ask for the sockets in these states alone (the kernel then skips the others). By
   * default every state `/proc/net/tcp` shows.
   */
  tcpStates?: readonly TcpState[];
  /**
   * Ask for the sockets with one of these local ports alone: a filter the kernel runs on each
   * socket before it writes an answer ({@linkcode localPortFilter}). By default every port.
   */
  localPorts?: readonly number[];
  /** The sequence number that the answers echo. */
  sequence: number;
  /** Byte order of the host the request is for; defaults to this machine's. */
  littleEndian?: boolean;
}

/**
 * Encodes one dump request: a `nlmsghdr` of type `SOCK_DIAG_BY_FAMILY` with
 * `NLM_F_REQUEST | NLM_F_DUMP`, followed by an `inet_diag_req_v2` that selects the protocol,
 * the family and every state `/proc/net` shows, and sets the `INET_DIAG_INFO` extension bit when
 * counters are wanted. For TCP over both families (`family: null`), a `nlmsghdr` of type
 * `TCPDIAG_GETSOCK` followed by an `inet_diag_req` with the same states and extension bit.
 *
 * @param request Protocol, family, counters and sequence number.
 * @returns The 72 bytes (76 for both families) to send to the kernel.
 * @throws {RangeError} When both families are asked for UDP, which has no such request.
 *
 * @example
 * ```ts
 * import { encodeSockDiagRequest } from "./sock_diag.ts";
 * const bytes = encodeSockDiagRequest({ protocol: "TCP", family: "IPv4", sequence: 1 });
 * bytes.length; // 72
 * encodeSockDiagRequest({ protocol: "TCP", family: null, sequence: 2 }).length; // 76
 * ```
 */
export function encodeSockDiagRequest(request: SockDiagRequest): Uint8Array {
  const little = request.littleEndian ?? HOST_LITTLE_ENDIAN;
  const tcp = request.protocol === "TCP";
  const filter = request.localPorts === undefined
    ? null
    : localPortFilter(request.localPorts, little);
  /**
   * A dump request of `type` with `size` bytes after its header, and the filter (an
   * `INET_DIAG_REQ_BYTECODE` attribute) after those.
   */
  const message = (type: number, size: number) => {
    const attribute = filter === null ? 0 : RTATTR_HEADER_SIZE + filter.length;
    const bytes = new Uint8Array(NLMSG_HEADER_SIZE + size + attribute);
    if (filter !== null) {
      const at = NLMSG_HEADER_SIZE + size;
      new DataView(bytes.buffer).setUint16(at, attribute, little);
      new DataView(bytes.buffer).setUint16(at + 2, INET_DIAG_REQ_BYTECODE, little);
      bytes.set(filter, at + RTATTR_HEADER_SIZE);
    }
    const view = new DataView(bytes.buffer);
    view.setUint32(0, bytes.length, little);
    view.setUint16(4, type, little);
    view.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, little);
    view.setUint32(8, request.sequence >>> 0, little);
    return { bytes, view };
  };
  const req = NLMSG_HEADER_SIZE;
  if (request.family === null) {
    if (!tcp) throw new RangeError("Only TCP is dumped for both families in one request");
    const { bytes, view } = message(TCPDIAG_GETSOCK, INET_DIAG_REQ_SIZE);
    // The family byte is not read: the kernel dumps this request for every family.
    bytes[req + 3] = request.stats ? 1 << (INET_DIAG_INFO - 1) : 0;
    view.setUint32(req + 52, tcpStatesMask(request.tcpStates), little);
    return bytes;
  }
  const { bytes, view } = message(SOCK_DIAG_BY_FAMILY, INET_DIAG_REQ_V2_SIZE);
  bytes[req] = request.family === "IPv4" ? AF_INET : AF_INET6;
  bytes[req + 1] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  bytes[req + 2] = tcp && request.stats ? 1 << (INET_DIAG_INFO - 1) : 0;
  view.setUint32(req + 4, tcp ? tcpStatesMask(request.tcpStates) : UDP_STATES_MASK, little);
  return bytes;
}

/** `INET_DIAG_REQ_BYTECODE` (linux/inet_diag.h): the request attribute that carries a filter. */
export const INET_DIAG_REQ_BYTECODE = 1;
// enum of linux/inet_diag.h: the filter's operations used here. Each is a `struct
// inet_diag_bc_op` (code u8 @0, yes u8 @1, no u16 @2, host order); a port comparison is followed
// by a second one whose `no` holds the port.
const BC_JMP = 1;
const BC_S_GE = 2;
const BC_S_LE = 3;
/** Bytes of the filter for one port: `sport >= p` and `sport <= p`, each with its port. */
const BC_PORT_BYTES = 16;
/** Bytes of the jump between two ports' tests. */
const BC_JMP_BYTES = 4;
/**
 * The most ports one filter tests: a jump's `no` is a u16, and the whole filter must fit in a
 * netlink attribute (whose length is a u16 too).
 */
export const MAX_FILTER_PORTS = 1024;

/**
 * The sock_diag filter (`inet_diag_bc_op` bytecode, as `ss` builds for `sport = :p or ...`) that
 * passes a socket whose local port is one of `ports`. The kernel runs it from the first
 * operation: a test that holds goes on by its `yes` bytes, one that fails jumps by its `no`
 * bytes; landing exactly on the end passes the socket, landing 4 bytes past it drops it. Each
 * port is `sport >= p` then `sport <= p` (the `S_EQ` operation needs Linux 4.17); between two
 * ports a jump sends a match to the end and a failure on to the next port's test.
 *
 * @param ports The local ports, each 0 to 65535; repeats are tested once.
 * @param littleEndian Byte order of the host the filter is for; defaults to this machine's.
 * @returns The bytecode.
 * @throws {RangeError} When there is no port, a port is not 0 to 65535, or there are more than
 *   {@linkcode MAX_FILTER_PORTS} different ports.
 *
 * @example
 * ```ts
 * import { localPortFilter } from "./sock_diag.ts";
 * localPortFilter([22]).length; // 16
 * localPortFilter([22, 443]).length; // 36: two tests and the jump between them
 * ```
 */
export function localPortFilter(
  ports: readonly number[],
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const unique = [...new Set(ports)];
  if (unique.length === 0) throw new RangeError("A port filter needs at least one port");
  if (unique.length > MAX_FILTER_PORTS) {
    throw new RangeError(
      `Too many ports for one filter: ${unique.length} (at most ${MAX_FILTER_PORTS})`,
    );
  }
  for (const port of unique) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
      throw new RangeError(`Invalid port ${port}: expected 0 to 65535`);
    }
  }
  const length = unique.length * BC_PORT_BYTES + (unique.length - 1) * BC_JMP_BYTES;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  const op = (at: number, code: number, yes: number, no: number) => {
    bytes[at] = code;
    bytes[at + 1] = yes;
    view.setUint16(at + 2, no, littleEndian);
  };
  let at = 0;
  for (let i = 0; i < unique.length; i++) {
    const port = unique[i];
    // Where this port's tests end: the jump to the next port, or the end of the filter.
    const end = at + BC_PORT_BYTES;
    // A failed test goes past the jump, to the next port's test (or 4 bytes past the end).
    const fail = end + BC_JMP_BYTES;
    op(at, BC_S_GE, 8, fail - at);
    op(at + 4, 0, 0, port);
    op(at + 8, BC_S_LE, 8, fail - (at + 8));
    op(at + 12, 0, 0, port);
    if (i < unique.length - 1) {
      // A match runs into the jump, which always takes its `no`: to the end of the filter. Its
      // `yes` leads into the next port's test, the path the kernel follows to check the filter.
      op(end, BC_JMP, BC_JMP_BYTES, length - end);
    }
    at = fail;
  }
  return bytes;
}

/**
 * The `idiag_states` bits of the kernel's TCP state numbers whose names are in `states`, within
 * {@linkcode TCP_STATES_MASK}; every bit of that mask when `states` is undefined.
 *
 * @param states The states wanted.
 * @returns The mask.
 *
 * @example
 * ```ts
 * import { tcpStatesMask } from "./sock_diag.ts";
 * tcpStatesMask(["LISTEN"]).toString(16); // "400": TCP_LISTEN is state 10
 * ```
 */
export function tcpStatesMask(states?: readonly TcpState[]): number {
  if (states === undefined) return TCP_STATES_MASK;
  let mask = 0;
  for (let code = 0; code < 32; code++) {
    const bit = (1 << code) >>> 0;
    if ((TCP_STATES_MASK & bit) !== 0 && states.includes(TCP_STATE_BY_CODE[code])) mask |= bit;
  }
  return mask >>> 0;
}

/**
 * Encodes the `struct sockaddr_nl` of the kernel (port id 0), the destination of requests.
 *
 * @param littleEndian Byte order of the host; defaults to this machine's.
 * @returns The 12 bytes of the address.
 *
 * @example
 * ```ts
 * import { kernelAddress } from "./sock_diag.ts";
 * kernelAddress(true); // Uint8Array [16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
 * ```
 */
export function kernelAddress(littleEndian = HOST_LITTLE_ENDIAN): Uint8Array {
  const bytes = new Uint8Array(SOCKADDR_NL_SIZE);
  new DataView(bytes.buffer).setUint16(0, AF_NETLINK, littleEndian);
  return bytes;
}

export { type SockDiagSocket, SocketColumns };

/** Options of {@linkcode decodeSockDiag}. */
export interface DecodeSockDiagOptions {
  /** Messages with another sequence number (left over from an earlier request) are skipped. */
  sequence?: number;
  /** Decode `INET_DIAG_INFO` into `stats` (TCP). */
  stats?: boolean;
  /**
   * Link-local IPv6 address text -> interface index (`parseIfInet6`), for link-local sockets
   * the kernel reports without a bound interface.
   */
  scopes?: ReadonlyMap<string, number>;
  /** Byte order of the host that produced the bytes; defaults to this machine's. */
  littleEndian?: boolean;
  /**
   * Decode only the sockets with these inodes (those of a selection of processes); the others
   * are skipped before their addresses are read.
   */
  only?: ReadonlySet<number>;
}

/** What one buffer of a dump held. */
export interface SockDiagBatch {
  /** The sockets, in the kernel's order. */
  sockets: SockDiagSocket[];
  /** True when the buffer ended the dump (`NLMSG_DONE`). */
  done: boolean;
  /**
   * True when the kernel flagged the dump as interrupted (`NLM_F_DUMP_INTR`): the tables changed
   * while it ran, so a socket may be missing or repeated, as in a `/proc/net` read.
   */
  interrupted: boolean;
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  16: "EBUSY",
  22: "EINVAL",
  93: "EPROTONOSUPPORT",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  105: "ENOBUFS",
};

/** Raised when the kernel answers a sock_diag request with an error. */
export class SockDiagError extends Error {
  /** The positive errno value the kernel returned. */
  readonly errno: number;

  /**
   * @param errno The positive errno value.
   * @param context What was asked, e.g. `the TCP/IPv6 dump`.
   */
  constructor(errno: number, context = "the sock_diag dump") {
    const name = ERRNO_NAMES[errno];
    super(`The kernel refused ${context}: error ${errno}${name ? ` (${name})` : ""}`);
    this.name = "SockDiagError";
    this.errno = errno;
  }
}

/** Raised when bytes from the kernel do not have the netlink layout. */
export class SockDiagFormatError extends Error {
  /** Byte offset of the offending message in the buffer. */
  readonly offset: number;

  /**
   * @param offset Byte offset of the offending message.
   * @param problem What is wrong with it.
   */
  constructor(offset: number, problem: string) {
    super(`Malformed sock_diag answer at byte ${offset}: ${problem}`);
    this.name = "SockDiagFormatError";
    this.offset = offset;
  }
}

/**
 * Decodes one buffer the kernel returned for a dump request: a run of netlink messages, each
 * a `SOCK_DIAG_BY_FAMILY` answer (one socket), the closing `NLMSG_DONE`, or an `NLMSG_ERROR`.
 * Rows come out as `/proc/net` describes the same sockets: a listening TCP socket and an
 * unconnected UDP socket have a null remote, a link-local address carries the interface the
 * socket is bound to (else the one `scopes` names), and the inode is 0 for sockets no file
 * refers to (TIME_WAIT, requests not yet accepted; their `ownerReason` is `no-owner`). Each row
 * is already the core's socket, with no owners yet and no creation time.
 *
 * With `stats`, each TCP socket gets `tcpi_bytes_received` as `bytesIn`, `tcpi_bytes_acked`
 * (sent and acknowledged) as `bytesOut`, and `tcpi_segs_in` / `tcpi_segs_out`. TIME_WAIT and
 * request sockets have no `tcp_info`, and a listener's counts nothing (all `not-applicable`); a
 * kernel older than 4.2 sends one without the segment counters (`not-supported`).
 *
 * @param bytes The received bytes (exactly what `recv` returned).
 * @param protocol The protocol the dump was for (the answers do not repeat it).
 * @param options Sequence number to accept, counters, link-local scopes, byte order.
 * @returns The sockets, and whether the dump is complete.
 * @throws {SockDiagError} When the kernel answered with an error (e.g. `ENOENT` when the
 *   protocol's diag module is not available).
 * @throws {SockDiagFormatError} When a message is cut short or has an unknown family or state.
 *
 * @example
 * ```ts
 * import { decodeSockDiag } from "./sock_diag.ts";
 * // NLMSG_DONE with status 0: the end of an empty dump.
 * const done = new Uint8Array([20, 0, 0, 0, 3, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
 * decodeSockDiag(done, "TCP", { littleEndian: true });
 * // { sockets: [], done: true, interrupted: false }
 * ```
 */
export function decodeSockDiag(
  bytes: Uint8Array,
  protocol: Protocol,
  options: DecodeSockDiagOptions = {},
): SockDiagBatch {
  const columns = new SocketColumns(16);
  const { done, interrupted } = decodeSockDiagInto(bytes, protocol, options, columns);
  const sockets: SockDiagSocket[] = [];
  for (let i = 0; i < columns.size; i++) sockets.push(columns.plain(i));
  return { sockets, done, interrupted };
}

/**
 * Like {@linkcode decodeSockDiag}, but adds the sockets to `into` (a dump's columns) instead of
 * making an object of each.
 *
 * @param bytes The received bytes (exactly what `recv` returned).
 * @param protocol The protocol the dump was for.
 * @param options Sequence number to accept, counters, link-local scopes, byte order.
 * @param into Where the sockets go.
 * @returns Whether the dump is complete or was interrupted.
 * @throws {SockDiagError} When the kernel answered with an error.
 * @throws {SockDiagFormatError} When a message is cut short or has an unknown family or state;
 *   the sockets before it are already in `into`.
 */
export function decodeSockDiagInto(
  bytes: Uint8Array,
  protocol: Protocol,
  options: DecodeSockDiagOptions,
  into: SocketColumns,
): Omit<SockDiagBatch, "sockets"> {
  const little = options.littleEndian ?? HOST_LITTLE_ENDIAN;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tcp = protocol === "TCP";
  const wantStats = tcp && options.stats === true;
  let done = false;
  let interrupted = false;
  let off = 0;
  while (off + NLMSG_HEADER_SIZE <= bytes.length) {
    const len = view.getUint32(off, little);
    const type = view.getUint16(off + 4, little);
    const flags = view.getUint16(off + 6, little);
    const seq = view.getUint32(off + 8, little);
    if (len < NLMSG_HEADER_SIZE || off + len > bytes.length) {
      throw new SockDiagFormatError(
        off,
        `message length ${len} does not fit the ${bytes.length - off} bytes left`,
      );
    }
    const next = off + ((len + 3) & ~3);
    if (options.sequence !== undefined && seq !== options.sequence >>> 0) {
      off = next;
      continue;
    }
    if ((flags & NLM_F_DUMP_INTR) !== 0) interrupted = true;
    // An answer has the type of its request.
    if (type === SOCK_DIAG_BY_FAMILY || type === TCPDIAG_GETSOCK) {
      if (len < NLMSG_HEADER_SIZE + INET_DIAG_MSG_SIZE) {
        throw new SockDiagFormatError(off, `socket message of ${len} bytes is too short`);
      }
      const skip = options.only !== undefined &&
        !options.only.has(view.getUint32(off + NLMSG_HEADER_SIZE + MSG_INODE, little));
      if (!skip) {
        const row = addSocket(bytes, view, off, tcp, little, options.scopes, into);
        if (wantStats) readStats(view, off, len, little, into, row);
      }
    } else if (type === NLMSG_DONE) {
      // A dump's NLMSG_DONE carries its status as an int; negative is -errno.
      if (len >= NLMSG_HEADER_SIZE + 4) {
        const status = view.getInt32(off + NLMSG_HEADER_SIZE, little);
        if (status < 0) throw new SockDiagError(-status);
      }
      done = true;
      break;
    } else if (type === NLMSG_ERROR) {
      if (len < NLMSG_HEADER_SIZE + 4) {
        throw new SockDiagFormatError(off, `error message of ${len} bytes is too short`);
      }
      const error = view.getInt32(off + NLMSG_HEADER_SIZE, little);
      // Error 0 is an acknowledgement, not a failure.
      if (error !== 0) throw new SockDiagError(-error);
    }
    off = next;
  }
  return { done, interrupted };
}

/** Adds the socket of the message at `off` to `into`; returns its row. */
function addSocket(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  tcp: boolean,
  little: boolean,
  scopes: ReadonlyMap<string, number> | undefined,
  into: SocketColumns,
): number {
  const m = off + NLMSG_HEADER_SIZE;
  const familyCode = bytes[m + MSG_FAMILY];
  if (familyCode !== AF_INET && familyCode !== AF_INET6) {
    throw new SockDiagFormatError(off, `unknown address family ${familyCode}`);
  }
  const v6 = familyCode === AF_INET6;
  let state: TcpState | null = null;
  if (tcp) {
    state = TCP_STATE_BY_CODE[bytes[m + MSG_STATE]] ?? null;
    if (state === null) throw new SockDiagFormatError(off, `unknown TCP state ${bytes[m + 1]}`);
  }
  const localPort = (bytes[m + MSG_SPORT] << 8) | bytes[m + MSG_SPORT + 1];
  const remotePort = (bytes[m + MSG_DPORT] << 8) | bytes[m + MSG_DPORT + 1];
  const src = m + MSG_SRC;
  const dst = m + MSG_DST;
  const width = v6 ? 16 : 4;
  let remoteZero = remotePort === 0;
  for (let i = 0; remoteZero && i < width; i++) remoteZero = bytes[dst + i] === 0;
  const hasRemote = state !== "LISTEN" && !remoteZero;

  let localAddress: string;
  let remoteAddress: string | null = null;
  if (!v6) {
    localAddress = ipv4Text(bytes, src);
    if (hasRemote) remoteAddress = ipv4Text(bytes, dst);
  } else {
    // A socket on a scoped address (link-local, or a link-local multicast group) is bound to its
    // interface; /proc/net does not say which, so that path looks a link-local address up in
    // if_inet6, the fallback here too (if_inet6 has no groups).
    const boundTo = view.getUint32(m + MSG_IF, little);
    let localScope = 0;
    if (isScopedIPv6(bytes, src)) {
      localScope = boundTo || (scopes?.get(formatIPv6(bytes, src)) ?? 0);
    }
    localAddress = formatIPv6(bytes, src, localScope);
    if (hasRemote) {
      remoteAddress = formatIPv6(bytes, dst, isScopedIPv6(bytes, dst) ? boundTo || localScope : 0);
    }
  }

  return into.add(
    tcp ? "TCP" : "UDP",
    v6 ? "IPv6" : "IPv4",
    state,
    localAddress,
    localPort,
    remoteAddress,
    remotePort,
    view.getUint32(m + MSG_INODE, little),
    view.getUint32(m + MSG_COOKIE, little) +
      view.getUint32(m + MSG_COOKIE + 4, little) * 0x1_0000_0000,
  );
}

/** Walks the attributes after the `inet_diag_msg` for `INET_DIAG_INFO`. */
function readStats(
  view: DataView,
  off: number,
  len: number,
  little: boolean,
  into: SocketColumns,
  row: number,
): void {
  // A listener carries a tcp_info, but it counts nothing: its connections are other sockets.
  // Its counters are `not-applicable`, as on Windows.
  if (TCP_STATE_BY_CODE[view.getUint8(off + NLMSG_HEADER_SIZE + MSG_STATE)] === "LISTEN") {
    into.setStatsReason(row, "not-applicable");
    return;
  }
  const end = off + len;
  let at = off + NLMSG_HEADER_SIZE + INET_DIAG_MSG_SIZE;
  while (at + RTATTR_HEADER_SIZE <= end) {
    const rtaLen = view.getUint16(at, little);
    const rtaType = view.getUint16(at + 2, little) & NLA_TYPE_MASK;
    if (rtaLen < RTATTR_HEADER_SIZE || at + rtaLen > end) {
      into.truncate(row);
      throw new SockDiagFormatError(off, `attribute length ${rtaLen} at byte ${at} overruns`);
    }
    if (rtaType === INET_DIAG_INFO) {
      const info = at + RTATTR_HEADER_SIZE;
      if (rtaLen - RTATTR_HEADER_SIZE < TCPI_NEEDED) {
        into.setStatsReason(row, "not-supported");
        return;
      }
      into.setStats(row, {
        bytesIn: u64(view, info + TCPI_BYTES_RECEIVED, little),
        bytesOut: u64(view, info + TCPI_BYTES_ACKED, little),
        segmentsIn: view.getUint32(info + TCPI_SEGS_IN, little),
        segmentsOut: view.getUint32(info + TCPI_SEGS_OUT, little),
      });
      return;
    }
    at += (rtaLen + 3) & ~3;
  }
  // Mini-sockets (TIME_WAIT, SYN_RECV requests) keep no counters, so the kernel sends none.
  into.setStatsReason(row, "not-applicable");
}

/** A u64 as a number: exact below 2^53 bytes, which no counter reaches. */
function u64(view: DataView, at: number, little: boolean): number {
  const lo = view.getUint32(at + (little ? 0 : 4), little);
  const hi = view.getUint32(at + (little ? 4 : 0), little);
  return hi * 0x1_0000_0000 + lo;
}
