/**
 * Pure helpers for TCP extended statistics (EStats): the connection rows the EStats calls take,
 * built from the rows of the socket tables, and the decoder of TCP_ESTATS_DATA_ROD_v0.
 *
 * Layouts are x64 (tcpmib.h, tcpestats.h).
 *
 * @module
 */
import type { TcpState } from "../../core/record.ts";
import type { SocketStats } from "../../core/source.ts";

/** Bytes of MIB_TCPROW, the IPv4 connection key of the EStats calls. */
export const MIB_TCPROW_SIZE = 20;
/** Bytes of MIB_TCP6ROW, the IPv6 connection key of the EStats calls. */
export const MIB_TCP6ROW_SIZE = 52;
/** Bytes of TCP_ESTATS_DATA_ROD_v0. */
export const TCP_ESTATS_DATA_ROD_V0_SIZE = 96;

/** States without a connection whose data could be counted. */
const NO_COUNTERS: ReadonlySet<TcpState> = new Set([
  "CLOSED",
  "LISTEN",
  "TIME_WAIT",
  "DELETE_TCB",
  "BOUND",
]);

/**
 * Tells whether a TCP state has per-connection counters: a listener, a socket that is only
 * bound, and one in TIME_WAIT or after have none. A state this version does not know is asked
 * for: Windows answers, or the failure is reported, rather than "not applicable" assumed.
 *
 * @param state The row's state.
 * @returns True for SYN_SENT through LAST_ACK, and for UNKNOWN.
 *
 * @example
 * ```ts
 * import { hasConnectionCounters } from "./decode_estats.ts";
 * hasConnectionCounters("ESTABLISHED"); // true
 * hasConnectionCounters("LISTEN"); // false
 * ```
 */
export function hasConnectionCounters(state: TcpState): boolean {
  return !NO_COUNTERS.has(state);
}

/**
 * Builds the MIB_TCPROW that GetPerTcpConnectionEStats takes: the first 20 bytes of an IPv4
 * owner-pid or owner-module row (dwState, addresses and ports) are that struct.
 *
 * @param row The table row (24 or 160 bytes).
 * @returns A 20-byte copy.
 * @throws {RangeError} When the row is shorter than 20 bytes.
 *
 * @example
 * ```ts
 * import { tcp4EstatsRow } from "./decode_estats.ts";
 * tcp4EstatsRow(new Uint8Array(24)).length; // 20
 * ```
 */
export function tcp4EstatsRow(row: Uint8Array): Uint8Array {
  if (row.length < MIB_TCPROW_SIZE) {
    throw new RangeError(
      `Row too short for MIB_TCPROW: need ${MIB_TCPROW_SIZE} bytes, the row has ${row.length}`,
    );
  }
  return row.slice(0, MIB_TCPROW_SIZE);
}

/**
 * Builds the MIB_TCP6ROW that GetPerTcp6ConnectionEStats takes from an IPv6 owner-pid or
 * owner-module row. The fields are the same but in another order: the state comes first
 * (State 0, LocalAddr 4, dwLocalScopeId 20, dwLocalPort 24, RemoteAddr 28, dwRemoteScopeId 44,
 * dwRemotePort 48), where the owner rows put it after the ports (at 48).
 *
 * @param row The table row (56 or 192 bytes).
 * @returns A new 52-byte MIB_TCP6ROW.
 * @throws {RangeError} When the row is shorter than 56 bytes.
 *
 * @example
 * ```ts
 * import { tcp6EstatsRow } from "./decode_estats.ts";
 * tcp6EstatsRow(new Uint8Array(56)).length; // 52
 * ```
 */
export function tcp6EstatsRow(row: Uint8Array): Uint8Array {
  if (row.length < 56) {
    throw new RangeError(
      `Row too short for MIB_TCP6ROW_OWNER_PID: need 56 bytes, the row has ${row.length}`,
    );
  }
  const out = new Uint8Array(MIB_TCP6ROW_SIZE);
  out.set(row.subarray(48, 52), 0); // dwState
  out.set(row.subarray(0, 24), 4); // ucLocalAddr, dwLocalScopeId, dwLocalPort
  out.set(row.subarray(24, 48), 28); // ucRemoteAddr, dwRemoteScopeId, dwRemotePort
  return out;
}

/**
 * Decodes TCP_ESTATS_DATA_ROD_v0 into procconn's counters. Bytes are `DataBytesIn` (offset 16)
 * and `DataBytesOut` (offset 0): payload bytes, retransmissions included, TCP headers not.
 * Segments are `SegsIn` (offset 40) and `SegsOut` (offset 32): every segment, also those
 * without payload, which is what a packet count shows.
 *
 * @param bytes The 96-byte buffer GetPerTcp*ConnectionEStats filled.
 * @returns The counters.
 * @throws {RangeError} When the buffer is shorter than 96 bytes.
 *
 * @example
 * ```ts
 * import { decodeEstatsData } from "./decode_estats.ts";
 * decodeEstatsData(new Uint8Array(96)); // { bytesIn: 0, bytesOut: 0, segmentsIn: 0, segmentsOut: 0 }
 * ```
 */
export function decodeEstatsData(bytes: Uint8Array): SocketStats {
  if (bytes.length < TCP_ESTATS_DATA_ROD_V0_SIZE) {
    throw new RangeError(
      `Buffer too short for TCP_ESTATS_DATA_ROD_v0: need ${TCP_ESTATS_DATA_ROD_V0_SIZE} bytes, the buffer has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  return {
    bytesIn: u64(16),
    bytesOut: u64(0),
    segmentsIn: u64(40),
    segmentsOut: u64(32),
  };
}
