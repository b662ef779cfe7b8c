/**
 * Pure decoders for the byte buffers the Windows APIs fill: the IP Helper owner-pid and
 * owner-module socket tables, PROCESSENTRY32W and FILETIME. No FFI here, so they run (and are
 * tested) on any OS.
 *
 * Layouts are x64 (see the MIB_*ROW_OWNER_PID and MIB_*ROW_OWNER_MODULE pages on
 * learn.microsoft.com): each table is a DWORD `dwNumEntries` followed by the rows, at offset 4
 * for the owner-pid tables and at offset 8 for the owner-module tables, whose rows hold 8-byte
 * fields and so are 8-byte aligned.
 *
 * @module
 */
import { formatIPv4, formatIPv6 } from "../../core/address.ts";
import { TCP_STATES, type TcpState } from "../../core/fields.ts";
import type { RawSocket } from "../../core/source.ts";

/** Bytes of MIB_TCPROW_OWNER_PID. */
export const TCP4_ROW_SIZE = 24;
/** Bytes of MIB_TCP6ROW_OWNER_PID. */
export const TCP6_ROW_SIZE = 56;
/** Bytes of MIB_UDPROW_OWNER_PID. */
export const UDP4_ROW_SIZE = 12;
/** Bytes of MIB_UDP6ROW_OWNER_PID. */
export const UDP6_ROW_SIZE = 28;
/** Offset of `table[0]` in the owner-pid tables (no padding after the DWORD count). */
export const OWNER_PID_TABLE_HEADER = 4;
/** Bytes of MIB_TCPROW_OWNER_MODULE. */
export const TCP4_MODULE_ROW_SIZE = 160;
/** Bytes of MIB_TCP6ROW_OWNER_MODULE. */
export const TCP6_MODULE_ROW_SIZE = 192;
/** Bytes of MIB_UDPROW_OWNER_MODULE. */
export const UDP4_MODULE_ROW_SIZE = 160;
/** Bytes of MIB_UDP6ROW_OWNER_MODULE. */
export const UDP6_MODULE_ROW_SIZE = 176;
/** Offset of `table[0]` in the owner-module tables (the DWORD count, then 4 bytes of padding). */
export const OWNER_MODULE_TABLE_HEADER = 8;
/** Bytes of `OwningModuleInfo` (TCPIP_OWNING_MODULE_SIZE ULONGLONGs) in an owner-module row. */
export const OWNING_MODULE_INFO_SIZE = 128;
/** Bytes of PROCESSENTRY32W; also the value its `dwSize` must hold. */
export const PROCESSENTRY32W_SIZE = 568;

const MIB_TCP_STATE_LISTEN = 2;
/** MIB_TCP_STATE_RESERVED, which Get-NetTCPConnection and `netstat -q` call Bound. */
const MIB_TCP_STATE_BOUND = 100;
/** FILETIME of 1970-01-01T00:00:00Z. */
export const UNIX_EPOCH_AS_FILETIME = 116444736000000000n;
const MAX_ISO_MS = 253402300799999; // 9999-12-31T23:59:59.999Z
const utf16 = new TextDecoder("utf-16le");

/**
 * Maps a MIB_TCP_STATE number to its netstat name.
 *
 * @param value The `dwState` value: 1 to 12, or 100 (Bound).
 * @returns The state name; `UNKNOWN` for any other number (a state a newer Windows may add), so
 *   that the endpoint is still listed.
 *
 * @example
 * ```ts
 * import { tcpStateName } from "./decode.ts";
 * tcpStateName(5); // "ESTABLISHED"
 * ```
 */
export function tcpStateName(value: number): TcpState {
  if (Number.isInteger(value) && value >= 1 && value <= 12) return TCP_STATES[value - 1];
  if (value === MIB_TCP_STATE_BOUND) return "BOUND";
  return "UNKNOWN";
}

/**
 * Decodes a MIB_TCPTABLE_OWNER_PID (IPv4 TCP table, class TCP_TABLE_OWNER_PID_*).
 *
 * @param bytes The buffer GetExtendedTcpTable filled.
 * @returns One socket per row; listening sockets have no remote end.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeTcp4Table } from "./decode.ts";
 * decodeTcp4Table(new Uint8Array(4)); // [] (zero rows)
 * ```
 */
export function decodeTcp4Table(bytes: Uint8Array): RawSocket[] {
  const view = viewOf(bytes);
  const table = "MIB_TCPTABLE_OWNER_PID";
  return rows(view, table, OWNER_PID_TABLE_HEADER, TCP4_ROW_SIZE, (at) => tcp4Row(bytes, view, at));
}

/**
 * Decodes a MIB_TCP6TABLE_OWNER_PID (IPv6 TCP table). Link-local addresses keep their scope id
 * (`fe80::1%12`); other addresses are written without one.
 *
 * @param bytes The buffer GetExtendedTcpTable filled.
 * @returns One socket per row; listening sockets have no remote end.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeTcp6Table } from "./decode.ts";
 * decodeTcp6Table(new Uint8Array(4)); // []
 * ```
 */
export function decodeTcp6Table(bytes: Uint8Array): RawSocket[] {
  const view = viewOf(bytes);
  const table = "MIB_TCP6TABLE_OWNER_PID";
  return rows(view, table, OWNER_PID_TABLE_HEADER, TCP6_ROW_SIZE, (at) => tcp6Row(bytes, view, at));
}

/**
 * Decodes a MIB_UDPTABLE_OWNER_PID (IPv4 UDP table, class UDP_TABLE_OWNER_PID).
 *
 * @param bytes The buffer GetExtendedUdpTable filled.
 * @returns One endpoint per row, without remote end or state.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeUdp4Table } from "./decode.ts";
 * decodeUdp4Table(new Uint8Array(4)); // []
 * ```
 */
export function decodeUdp4Table(bytes: Uint8Array): RawSocket[] {
  const view = viewOf(bytes);
  const table = "MIB_UDPTABLE_OWNER_PID";
  return rows(view, table, OWNER_PID_TABLE_HEADER, UDP4_ROW_SIZE, (at) => udp4Row(bytes, view, at));
}

/**
 * Decodes a MIB_UDP6TABLE_OWNER_PID (IPv6 UDP table). Link-local addresses keep their scope id.
 *
 * @param bytes The buffer GetExtendedUdpTable filled.
 * @returns One endpoint per row, without remote end or state.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeUdp6Table } from "./decode.ts";
 * decodeUdp6Table(new Uint8Array(4)); // []
 * ```
 */
export function decodeUdp6Table(bytes: Uint8Array): RawSocket[] {
  const view = viewOf(bytes);
  const table = "MIB_UDP6TABLE_OWNER_PID";
  return rows(view, table, OWNER_PID_TABLE_HEADER, UDP6_ROW_SIZE, (at) => udp6Row(bytes, view, at));
}

/** One row of an owner-module table: the socket, and the bytes the owner-module calls take. */
export interface OwnerModuleRow {
  /**
   * The socket, with `created` from `liCreateTimestamp` (null, with the reason in
   * `unavailable`, when the OS left it zero or it is not a valid FILETIME).
   */
  socket: RawSocket;
  /** The whole row, as GetOwnerModuleFrom*Entry takes it (a view into the table buffer). */
  row: Uint8Array;
  /** `OwningModuleInfo`: 128 opaque bytes identifying the owning module (a view). */
  owningModuleInfo: Uint8Array;
  /** UDP only: `SpecificPortBind`, set when the last bind named a specific port. */
  specificPortBind?: boolean;
}

/**
 * Decodes a MIB_TCPTABLE_OWNER_MODULE (IPv4 TCP table, class TCP_TABLE_OWNER_MODULE_*): the
 * owner-pid row's fields, then `liCreateTimestamp` at 24 and `OwningModuleInfo` at 32.
 *
 * @param bytes The buffer GetExtendedTcpTable filled.
 * @returns One entry per row.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeTcp4ModuleTable } from "./decode.ts";
 * decodeTcp4ModuleTable(new Uint8Array(8)); // []
 * ```
 */
export function decodeTcp4ModuleTable(bytes: Uint8Array): OwnerModuleRow[] {
  const view = viewOf(bytes);
  const table = "MIB_TCPTABLE_OWNER_MODULE";
  return rows(view, table, OWNER_MODULE_TABLE_HEADER, TCP4_MODULE_ROW_SIZE, (at) => ({
    socket: withCreated(tcp4Row(bytes, view, at), bytes, at + 24),
    row: bytes.subarray(at, at + TCP4_MODULE_ROW_SIZE),
    owningModuleInfo: bytes.subarray(at + 32, at + 32 + OWNING_MODULE_INFO_SIZE),
  }));
}

/**
 * Decodes a MIB_TCP6TABLE_OWNER_MODULE (IPv6 TCP table): the owner-pid row's fields, then
 * `liCreateTimestamp` at 56 and `OwningModuleInfo` at 64.
 *
 * @param bytes The buffer GetExtendedTcpTable filled.
 * @returns One entry per row.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeTcp6ModuleTable } from "./decode.ts";
 * decodeTcp6ModuleTable(new Uint8Array(8)); // []
 * ```
 */
export function decodeTcp6ModuleTable(bytes: Uint8Array): OwnerModuleRow[] {
  const view = viewOf(bytes);
  const table = "MIB_TCP6TABLE_OWNER_MODULE";
  return rows(view, table, OWNER_MODULE_TABLE_HEADER, TCP6_MODULE_ROW_SIZE, (at) => ({
    socket: withCreated(tcp6Row(bytes, view, at), bytes, at + 56),
    row: bytes.subarray(at, at + TCP6_MODULE_ROW_SIZE),
    owningModuleInfo: bytes.subarray(at + 64, at + 64 + OWNING_MODULE_INFO_SIZE),
  }));
}

/**
 * Decodes a MIB_UDPTABLE_OWNER_MODULE (IPv4 UDP table, class UDP_TABLE_OWNER_MODULE): address,
 * port and pid as in the owner-pid row, 4 bytes of padding, `liCreateTimestamp` at 16, the
 * `SpecificPortBind`/`dwFlags` union at 24 and `OwningModuleInfo` at 32.
 *
 * @param bytes The buffer GetExtendedUdpTable filled.
 * @returns One entry per row.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeUdp4ModuleTable } from "./decode.ts";
 * decodeUdp4ModuleTable(new Uint8Array(8)); // []
 * ```
 */
export function decodeUdp4ModuleTable(bytes: Uint8Array): OwnerModuleRow[] {
  const view = viewOf(bytes);
  const table = "MIB_UDPTABLE_OWNER_MODULE";
  return rows(view, table, OWNER_MODULE_TABLE_HEADER, UDP4_MODULE_ROW_SIZE, (at) => ({
    socket: withCreated(udp4Row(bytes, view, at), bytes, at + 16),
    row: bytes.subarray(at, at + UDP4_MODULE_ROW_SIZE),
    owningModuleInfo: bytes.subarray(at + 32, at + 32 + OWNING_MODULE_INFO_SIZE),
    specificPortBind: (view.getUint32(at + 24, true) & 1) === 1,
  }));
}

/**
 * Decodes a MIB_UDP6TABLE_OWNER_MODULE (IPv6 UDP table): the owner-pid row's fields, 4 bytes of
 * padding, `liCreateTimestamp` at 32, the `SpecificPortBind`/`dwFlags` union at 40 and
 * `OwningModuleInfo` at 48.
 *
 * @param bytes The buffer GetExtendedUdpTable filled.
 * @returns One entry per row.
 * @throws {RangeError} When the buffer is shorter than its row count says.
 *
 * @example
 * ```ts
 * import { decodeUdp6ModuleTable } from "./decode.ts";
 * decodeUdp6ModuleTable(new Uint8Array(8)); // []
 * ```
 */
export function decodeUdp6ModuleTable(bytes: Uint8Array): OwnerModuleRow[] {
  const view = viewOf(bytes);
  const table = "MIB_UDP6TABLE_OWNER_MODULE";
  return rows(view, table, OWNER_MODULE_TABLE_HEADER, UDP6_MODULE_ROW_SIZE, (at) => ({
    socket: withCreated(udp6Row(bytes, view, at), bytes, at + 32),
    row: bytes.subarray(at, at + UDP6_MODULE_ROW_SIZE),
    owningModuleInfo: bytes.subarray(at + 48, at + 48 + OWNING_MODULE_INFO_SIZE),
    specificPortBind: (view.getUint32(at + 40, true) & 1) === 1,
  }));
}

/** MIB_TCPROW_OWNER_PID fields; also the first 24 bytes of MIB_TCPROW_OWNER_MODULE. */
function tcp4Row(bytes: Uint8Array, view: DataView, at: number): RawSocket {
  const state = view.getUint32(at, true);
  const listening = state === MIB_TCP_STATE_LISTEN;
  return {
    protocol: "TCP",
    family: "IPv4",
    localAddress: formatIPv4(bytes, at + 4),
    localPort: port(bytes, at + 8),
    remoteAddress: listening ? null : formatIPv4(bytes, at + 12),
    remotePort: listening ? null : port(bytes, at + 16),
    state: tcpStateName(state),
    pids: [view.getUint32(at + 20, true)],
  };
}

/** MIB_TCP6ROW_OWNER_PID fields; also the first 56 bytes of MIB_TCP6ROW_OWNER_MODULE. */
function tcp6Row(bytes: Uint8Array, view: DataView, at: number): RawSocket {
  const state = view.getUint32(at + 48, true);
  const listening = state === MIB_TCP_STATE_LISTEN;
  return {
    protocol: "TCP",
    family: "IPv6",
    localAddress: formatIPv6(bytes, at, scopeId(bytes, view, at, at + 16)),
    localPort: port(bytes, at + 20),
    remoteAddress: listening
      ? null
      : formatIPv6(bytes, at + 24, scopeId(bytes, view, at + 24, at + 40)),
    remotePort: listening ? null : port(bytes, at + 44),
    state: tcpStateName(state),
    pids: [view.getUint32(at + 52, true)],
  };
}

/** MIB_UDPROW_OWNER_PID fields; also the first 12 bytes of MIB_UDPROW_OWNER_MODULE. */
function udp4Row(bytes: Uint8Array, view: DataView, at: number): RawSocket {
  return {
    protocol: "UDP",
    family: "IPv4",
    localAddress: formatIPv4(bytes, at),
    localPort: port(bytes, at + 4),
    remoteAddress: null,
    remotePort: null,
    state: null,
    pids: [view.getUint32(at + 8, true)],
  };
}

/** MIB_UDP6ROW_OWNER_PID fields; also the first 28 bytes of MIB_UDP6ROW_OWNER_MODULE. */
function udp6Row(bytes: Uint8Array, view: DataView, at: number): RawSocket {
  return {
    protocol: "UDP",
    family: "IPv6",
    localAddress: formatIPv6(bytes, at, scopeId(bytes, view, at, at + 16)),
    localPort: port(bytes, at + 20),
    remoteAddress: null,
    remotePort: null,
    state: null,
    pids: [view.getUint32(at + 24, true)],
  };
}

/**
 * Sets `created` from a row's `liCreateTimestamp`. The type is LARGE_INTEGER but the Learn page
 * calls it a SYSTEMTIME, which does not fit in 8 bytes; it is read as a FILETIME (100 ns since
 * 1601 UTC), as other readers of these tables do. Zero (what Wine 10 writes) or a value that is
 * no FILETIME up to the year 9999 (a negative LARGE_INTEGER reads as one far beyond) means the
 * OS does not say.
 */
function withCreated(socket: RawSocket, bytes: Uint8Array, at: number): RawSocket {
  const view = viewOf(bytes);
  if (view.getUint32(at, true) !== 0 || view.getUint32(at + 4, true) !== 0) {
    try {
      return { ...socket, created: decodeFiletime(bytes, at) };
    } catch {
      // Not a FILETIME procconn can write: reported like zero.
    }
  }
  return { ...socket, created: null, unavailable: { created: "not-supported" } };
}

/** The fields procconn reads from one PROCESSENTRY32W. */
export interface ProcessEntry {
  /** `th32ProcessID`. */
  pid: number;
  /** `th32ParentProcessID`; may be stale when the parent exited and its pid was reused. */
  parentPid: number;
  /** `szExeFile`: the executable's file name, without a folder. */
  exeFile: string;
}

/**
 * Decodes one PROCESSENTRY32W as Process32FirstW/Process32NextW fill it.
 *
 * @param bytes The buffer holding the entry.
 * @param offset Where the entry starts.
 * @returns Its pid, parent pid and executable name.
 * @throws {RangeError} When fewer than 568 bytes follow the offset.
 *
 * @example
 * ```ts
 * import { decodeProcessEntry, PROCESSENTRY32W_SIZE } from "./decode.ts";
 * decodeProcessEntry(new Uint8Array(PROCESSENTRY32W_SIZE)).exeFile; // ""
 * ```
 */
export function decodeProcessEntry(bytes: Uint8Array, offset = 0): ProcessEntry {
  if (bytes.length - offset < PROCESSENTRY32W_SIZE) {
    throw new RangeError(
      `Buffer too short for PROCESSENTRY32W: need ${PROCESSENTRY32W_SIZE} bytes at offset ${offset}, the buffer has ${bytes.length}`,
    );
  }
  const view = viewOf(bytes);
  return {
    pid: view.getUint32(offset + 8, true),
    parentPid: view.getUint32(offset + 32, true),
    exeFile: decodeWideString(bytes, offset + 44, 260),
  };
}

/**
 * Decodes a UTF-16LE string that ends at the first NUL character or after `maxChars`.
 *
 * @param bytes The buffer holding the characters.
 * @param offset Where the first character starts.
 * @param maxChars How many characters at most (the size of the WCHAR array).
 * @returns The text before the NUL.
 *
 * @example
 * ```ts
 * import { decodeWideString } from "./decode.ts";
 * decodeWideString(new Uint8Array([0x68, 0, 0x69, 0, 0, 0]), 0, 3); // "hi"
 * ```
 */
export function decodeWideString(bytes: Uint8Array, offset: number, maxChars: number): string {
  const end = Math.min(offset + 2 * maxChars, bytes.length - ((bytes.length - offset) % 2));
  let at = offset;
  while (at < end && (bytes[at] !== 0 || bytes[at + 1] !== 0)) at += 2;
  return utf16.decode(bytes.subarray(offset, at));
}

/**
 * Decodes a FILETIME (100 ns intervals since 1601-01-01 UTC, low DWORD first) into ISO 8601 UTC.
 *
 * @param bytes The buffer holding the FILETIME.
 * @param offset Where it starts.
 * @returns The time, millisecond precision, e.g. `2026-01-01T00:00:00.000Z`.
 * @throws {RangeError} When the value lies beyond the year 9999.
 *
 * @example
 * ```ts
 * import { decodeFiletime } from "./decode.ts";
 * const b = new Uint8Array(8);
 * new DataView(b.buffer).setBigUint64(0, 116444736000000000n, true);
 * decodeFiletime(b); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function decodeFiletime(bytes: Uint8Array, offset = 0): string {
  return filetimeToIso(viewOf(bytes).getBigUint64(offset, true));
}

/**
 * Converts a FILETIME value (100 ns intervals since 1601-01-01 UTC) to an ISO 8601 string.
 *
 * @param value The FILETIME as a 64-bit number.
 * @returns The time, e.g. `2024-05-01T12:00:00.000Z`.
 * @throws {RangeError} When the value lies beyond the year 9999.
 *
 * @example
 * ```ts
 * import { filetimeToIso } from "./decode.ts";
 * filetimeToIso(116444736000000000n); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function filetimeToIso(value: bigint): string {
  const ms = Number((value - UNIX_EPOCH_AS_FILETIME) / 10000n);
  if (ms > MAX_ISO_MS) throw new RangeError(`Invalid FILETIME "${value}": after the year 9999`);
  return new Date(ms).toISOString();
}

/** Bytes of SYSTEM_PROCESS_INFORMATION (x64) up to its SessionId. */
export const SYSTEM_PROCESS_INFORMATION_MIN = 104;

/** A process's parent, creation time and session, as SystemProcessInformation gives them. */
export interface ProcessCreation {
  parentPid: number;
  /** FILETIME; 0 for the System Idle Process. */
  created: bigint;
  sessionId: number;
}

/**
 * Decodes the SYSTEM_PROCESS_INFORMATION entries NtQuerySystemInformation(SystemProcessInformation)
 * wrote (x64): NextEntryOffset at 0 (0 for the last), CreateTime at 32, UniqueProcessId at 80,
 * InheritedFromUniqueProcessId at 88, SessionId at 100. The image name and the threads are not
 * read.
 *
 * @param bytes The buffer, as long as the call said it filled.
 * @returns Each process's parent, creation time and session, by pid.
 * @throws {RangeError} When an entry runs past the buffer or the entries do not move forward.
 *
 * @example
 * ```ts
 * import { decodeProcessCreations } from "./decode.ts";
 * decodeProcessCreations(new Uint8Array(104)).get(0); // { parentPid: 0, created: 0n, sessionId: 0 }
 * ```
 */
export function decodeProcessCreations(bytes: Uint8Array): Map<number, ProcessCreation> {
  const view = viewOf(bytes);
  const out = new Map<number, ProcessCreation>();
  let at = 0;
  for (;;) {
    if (at + SYSTEM_PROCESS_INFORMATION_MIN > bytes.length) {
      throw new RangeError(
        `Invalid SYSTEM_PROCESS_INFORMATION at byte ${at}: ${SYSTEM_PROCESS_INFORMATION_MIN} ` +
          `bytes needed, ${Math.max(0, bytes.length - at)} left`,
      );
    }
    const pid = Number(view.getBigUint64(at + 80, true));
    out.set(pid, {
      parentPid: Number(view.getBigUint64(at + 88, true)),
      created: view.getBigUint64(at + 32, true),
      sessionId: view.getUint32(at + 100, true),
    });
    const next = view.getUint32(at, true);
    if (next === 0) return out;
    if (next < SYSTEM_PROCESS_INFORMATION_MIN) {
      throw new RangeError(
        `Invalid SYSTEM_PROCESS_INFORMATION at byte ${at}: the next entry is ${next} bytes on`,
      );
    }
    at += next;
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads `dwNumEntries` rows of `size` bytes starting at `header`, after checking the length. */
function rows<T>(
  view: DataView,
  table: string,
  header: number,
  size: number,
  read: (at: number) => T,
): T[] {
  if (view.byteLength < 4) {
    throw new RangeError(
      `Buffer too short for ${table}: need 4 bytes for the row count, the buffer has ${view.byteLength}`,
    );
  }
  const count = view.getUint32(0, true);
  const needed = header + count * size;
  if (view.byteLength < needed) {
    throw new RangeError(
      `Buffer too short for ${table}: ${count} rows need ${needed} bytes, the buffer has ${view.byteLength}`,
    );
  }
  const out: T[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = read(header + i * size);
  return out;
}

/** The port is the low 16 bits in network order; the upper 16 bits may be garbage. */
function port(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

/**
 * The scope id of a link-local address (fe80::/10), 0 for any other address: only there does it
 * name the interface a user must give (`fe80::1%12`); Wine even fills it for `::1`. The docs call
 * the DWORD network order, but implementations copy the host-order `sin6_scope_id` into it
 * unchanged (Wine's iphlpapi; System Informer reads it back the same way), so it is read
 * little-endian.
 */
function scopeId(bytes: Uint8Array, view: DataView, addressAt: number, scopeAt: number): number {
  const linkLocal = bytes[addressAt] === 0xfe && (bytes[addressAt + 1] & 0xc0) === 0x80;
  return linkLocal ? view.getUint32(scopeAt, true) : 0;
}
