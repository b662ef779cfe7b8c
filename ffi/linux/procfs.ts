/**
 * Pure parsers for the procfs text the Linux backend reads: the socket tables under
 * `/proc/net/`, `/proc/net/if_inet6`, and the per-process files `/proc/<pid>/stat`, `status`,
 * `cmdline` and `cgroup`. No I/O happens here, so every parser is tested on literal text.
 *
 * @module
 */
import { formatIPv4, formatIPv6 } from "../../core/address.ts";
import type { Family, Protocol, TcpState } from "../../core/record.ts";

/** The socket tables under `/proc/net/` that procconn reads. */
export type ProcNetTable = "tcp" | "tcp6" | "udp" | "udp6";

/** One row of a `/proc/net/{tcp,tcp6,udp,udp6}` table. */
export interface ProcNetSocket {
  /** Transport protocol. */
  protocol: Protocol;
  /** Address family. */
  family: Family;
  /** Formatted local address, with `%scope` for a link-local address whose interface is known. */
  localAddress: string;
  /** Local port. */
  localPort: number;
  /** Formatted remote address; null for listening sockets and unconnected UDP sockets. */
  remoteAddress: string | null;
  /** Remote port; null when remoteAddress is null. */
  remotePort: number | null;
  /** TCP state; null for UDP. */
  state: TcpState | null;
  /** The socket's inode number; 0 when no file refers to it (TIME_WAIT, not yet accepted). */
  inode: number;
}

/** Options of {@linkcode parseProcNet}. */
export interface ParseProcNetOptions {
  /** The file name used in error messages; defaults to `/proc/net/<table>`. */
  file?: string;
  /**
   * Byte order of the machine that wrote the text. The kernel prints addresses as 32-bit words
   * read in host order; defaults to this machine's order.
   */
  littleEndian?: boolean;
  /** Link-local IPv6 address text -> interface index, as {@linkcode parseIfInet6} returns. */
  scopes?: ReadonlyMap<string, number>;
}

/** Raised when a procfs file does not have the expected layout. */
export class ProcfsFormatError extends Error {
  /** The file that was being parsed. */
  readonly file: string;
  /** The 1-based line number of the offending line. */
  readonly line: number;
  /** The offending line. */
  readonly text: string;

  /**
   * @param file The file that was being parsed.
   * @param line The 1-based line number.
   * @param text The offending line.
   * @param problem What is wrong with it.
   */
  constructor(file: string, line: number, text: string, problem: string) {
    super(`Malformed line ${line} of ${file}: ${problem} in ${JSON.stringify(text)}`);
    this.name = "ProcfsFormatError";
    this.file = file;
    this.line = line;
    this.text = text;
  }
}

/** `/proc/net/tcp` state numbers (include/net/tcp_states.h). */
const TCP_STATE_BY_CODE: Readonly<Record<number, TcpState>> = {
  0x01: "ESTABLISHED",
  0x02: "SYN_SENT",
  0x03: "SYN_RCVD",
  0x04: "FIN_WAIT1",
  0x05: "FIN_WAIT2",
  0x06: "TIME_WAIT",
  0x07: "CLOSED",
  0x08: "CLOSE_WAIT",
  0x09: "LAST_ACK",
  0x0a: "LISTEN",
  0x0b: "CLOSING",
  // TCP_NEW_SYN_RECV is a request socket; TCP_BOUND_INACTIVE (Linux 6.8) is bound, not in use.
  0x0c: "SYN_RCVD",
  0x0d: "BOUND",
};

const TABLE_KIND: Readonly<Record<ProcNetTable, readonly [Protocol, Family]>> = {
  tcp: ["TCP", "IPv4"],
  tcp6: ["TCP", "IPv6"],
  udp: ["UDP", "IPv4"],
  udp6: ["UDP", "IPv6"],
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const ENDPOINT_V4 = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/;
const ENDPOINT_V6 = /^([0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/;

/**
 * Parses one of `/proc/net/tcp`, `tcp6`, `udp`, `udp6`. Each address is hex of the in-memory
 * bytes printed as 32-bit words in host order (one word for IPv4, four for IPv6); ports are
 * big-endian hex. Listening TCP sockets and unconnected UDP sockets get a null remote.
 *
 * `/proc/net/tcp6` does not carry the scope id of a link-local address: it is taken from
 * `options.scopes` (the interface that owns the local address), and a link-local remote shares
 * the local address's interface. A link-local address not found there is written without scope.
 *
 * @param text The file's content.
 * @param table Which table the text comes from.
 * @param options The file name for errors, the byte order, and the link-local scopes.
 * @returns One entry per socket line, in file order.
 * @throws {ProcfsFormatError} On a line that does not have the table's layout.
 *
 * @example
 * ```ts
 * import { parseProcNet } from "./procfs.ts";
 * const text =
 *   "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
 *   "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1\n";
 * parseProcNet(text, "tcp", { littleEndian: true })[0];
 * // { protocol: "TCP", family: "IPv4", localAddress: "127.0.0.1", localPort: 8080,
 * //   remoteAddress: null, remotePort: null, state: "LISTEN", inode: 4242 }
 * ```
 */
export function parseProcNet(
  text: string,
  table: ProcNetTable,
  options: ParseProcNetOptions = {},
): ProcNetSocket[] {
  const [protocol, family] = TABLE_KIND[table];
  const file = options.file ?? `/proc/net/${table}`;
  const little = options.littleEndian ?? HOST_LITTLE_ENDIAN;
  const endpoint = family === "IPv4" ? ENDPOINT_V4 : ENDPOINT_V6;
  const rows: ProcNetSocket[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fields = line.trim().split(/\s+/);
    if (fields[0] === "" || fields[0] === "sl") continue;
    const bad = (problem: string) => new ProcfsFormatError(file, i + 1, line, problem);
    if (fields.length < 10 || !/^\d+:$/.test(fields[0])) throw bad("too few fields");
    const local = endpoint.exec(fields[1]);
    if (!local) throw bad("bad local address");
    const remote = endpoint.exec(fields[2]);
    if (!remote) throw bad("bad remote address");
    if (!/^[0-9A-Fa-f]{2}$/.test(fields[3])) throw bad("bad state");
    if (!/^\d+$/.test(fields[9])) throw bad("bad inode");

    let state: TcpState | null = null;
    if (protocol === "TCP") {
      state = TCP_STATE_BY_CODE[parseInt(fields[3], 16)] ?? null;
      if (state === null) throw bad(`unknown TCP state ${fields[3]}`);
    }
    const localBytes = hostWordsToBytes(local[1], little);
    const remoteBytes = hostWordsToBytes(remote[1], little);
    const localPort = parseInt(local[2], 16);
    const remotePortRaw = parseInt(remote[2], 16);
    const localScope = scopeOf(localBytes, options.scopes);
    const unconnected = remotePortRaw === 0 && remoteBytes.every((b) => b === 0);
    const hasRemote = state !== "LISTEN" && !unconnected;
    rows.push({
      protocol,
      family,
      localAddress: formatAddress(localBytes, localScope),
      localPort,
      remoteAddress: hasRemote
        ? formatAddress(remoteBytes, isLinkLocal(remoteBytes) && localScope ? localScope : 0)
        : null,
      remotePort: hasRemote ? remotePortRaw : null,
      state,
      inode: Number(fields[9]),
    });
  }
  return rows;
}

/** Turns 8 or 32 hex digits of host-order 32-bit words into the address bytes, network order. */
function hostWordsToBytes(hex: string, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  const view = new DataView(bytes.buffer);
  for (let w = 0; w < hex.length / 8; w++) {
    view.setUint32(4 * w, parseInt(hex.slice(8 * w, 8 * w + 8), 16), littleEndian);
  }
  return bytes;
}

function formatAddress(bytes: Uint8Array, scopeId: number): string {
  return bytes.length === 4 ? formatIPv4(bytes) : formatIPv6(bytes, 0, scopeId);
}

/** fe80::/10 */
function isLinkLocal(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80;
}

function scopeOf(bytes: Uint8Array, scopes: ReadonlyMap<string, number> | undefined): number {
  if (!scopes || !isLinkLocal(bytes)) return 0;
  return scopes.get(formatIPv6(bytes)) ?? 0;
}

/**
 * Parses `/proc/net/if_inet6` into the interface index of each link-local address. The file
 * writes addresses as plain network-order hex, then the interface index, prefix length, scope
 * and flags in hex, then the interface name. An address present on several interfaces is
 * ambiguous and left out.
 *
 * @param text The file's content.
 * @param file The file name used in error messages.
 * @returns Link-local address text (no scope) -> interface index.
 * @throws {ProcfsFormatError} On a line that does not have the file's layout.
 *
 * @example
 * ```ts
 * import { parseIfInet6 } from "./procfs.ts";
 * parseIfInet6("fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n");
 * // Map { "fe80::fc:ff:fe00:1" => 4 }
 * ```
 */
export function parseIfInet6(text: string, file = "/proc/net/if_inet6"): Map<string, number> {
  const scopes = new Map<string, number>();
  const ambiguous = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].trim().split(/\s+/);
    if (fields[0] === "") continue;
    if (
      fields.length < 6 || !/^[0-9a-fA-F]{32}$/.test(fields[0]) ||
      !fields.slice(1, 5).every((f) => /^[0-9a-fA-F]+$/.test(f))
    ) {
      throw new ProcfsFormatError(file, i + 1, lines[i], "unexpected layout");
    }
    const bytes = new Uint8Array(16);
    for (let b = 0; b < 16; b++) bytes[b] = parseInt(fields[0].slice(2 * b, 2 * b + 2), 16);
    if (!isLinkLocal(bytes)) continue;
    const address = formatIPv6(bytes);
    const index = parseInt(fields[1], 16);
    if (scopes.has(address) && scopes.get(address) !== index) ambiguous.add(address);
    scopes.set(address, index);
  }
  for (const address of ambiguous) scopes.delete(address);
  return scopes;
}

/** The fields procconn uses from `/proc/<pid>/stat` (proc(5) numbers them from 1). */
export interface ProcStat {
  /** Field 1: the process id. */
  pid: number;
  /** Field 2: the command name (same text as `/proc/<pid>/comm`), without parentheses. */
  comm: string;
  /** Field 3: the state letter (`R`, `S`, `Z`, ...). */
  state: string;
  /** Field 4: the parent process id. */
  parentPid: number;
  /** Field 9: the kernel flags word (`PF_*`). */
  flags: number;
  /** Field 22: the start time in clock ticks since boot. */
  startTicks: number;
}

/** `PF_KTHREAD` in the `flags` field of `/proc/<pid>/stat`: the task is a kernel thread. */
export const PF_KTHREAD = 0x00200000;

/**
 * Parses `/proc/<pid>/stat`. The command name sits in parentheses and may itself contain
 * spaces and parentheses, so it ends at the last `)` of the line.
 *
 * @param text The file's content.
 * @param file The file name used in error messages.
 * @returns The fields procconn uses.
 * @throws {ProcfsFormatError} When the text does not have the file's layout.
 *
 * @example
 * ```ts
 * import { parseProcStat } from "./procfs.ts";
 * const stat = parseProcStat(
 *   "42 (a) b) S 7 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0",
 * );
 * [stat.comm, stat.parentPid, stat.startTicks]; // ["a) b", 7, 12345]
 * ```
 */
export function parseProcStat(text: string, file = "/proc/<pid>/stat"): ProcStat {
  const line = text.replace(/\n$/, "");
  const open = line.indexOf(" (");
  const close = line.lastIndexOf(")");
  const bad = (problem: string) => new ProcfsFormatError(file, 1, line, problem);
  if (open < 0 || close < open) throw bad("no command name in parentheses");
  const pid = line.slice(0, open);
  // Fields from 3 on; rest[k] is field k + 3.
  const rest = line.slice(close + 1).trim().split(/\s+/);
  if (!/^\d+$/.test(pid) || rest.length < 20) throw bad("too few fields");
  const numbers = [rest[1], rest[6], rest[19]];
  if (!numbers.every((n) => /^\d+$/.test(n))) throw bad("non-numeric field");
  return {
    pid: Number(pid),
    comm: line.slice(open + 2, close),
    state: rest[0],
    parentPid: Number(rest[1]),
    flags: Number(rest[6]),
    startTicks: Number(rest[19]),
  };
}

/**
 * Reads the boot time (`btime`, seconds since the Unix epoch) from `/proc/stat`.
 *
 * @param text The file's content.
 * @param file The file name used in error messages.
 * @returns Seconds since the epoch at which the system booted.
 * @throws {ProcfsFormatError} When there is no well-formed `btime` line.
 *
 * @example
 * ```ts
 * import { parseBootTime } from "./procfs.ts";
 * parseBootTime("cpu  1 2 3 4\nbtime 1700000000\nprocesses 99\n"); // 1700000000
 * ```
 */
export function parseBootTime(text: string, file = "/proc/stat"): number {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("btime")) continue;
    const m = /^btime\s+(\d+)\s*$/.exec(lines[i]);
    if (!m) throw new ProcfsFormatError(file, i + 1, lines[i], "bad btime value");
    return Number(m[1]);
  }
  throw new ProcfsFormatError(file, lines.length, "", "no btime line");
}

/**
 * Clock ticks per second of the times in `/proc/<pid>/stat`. This is USER_HZ, which the kernel
 * fixes at 100 on every architecture Linux ships for desktops and servers; reading
 * `sysconf(_SC_CLK_TCK)` would need a native call for a value that does not vary.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Turns a start time in clock ticks since boot into ISO 8601 UTC.
 *
 * @param bootTime The boot time in seconds since the epoch (`btime`).
 * @param startTicks Field 22 of `/proc/<pid>/stat`.
 * @returns The start time, e.g. `2023-11-14T22:13:21.500Z`.
 *
 * @example
 * ```ts
 * import { startTimeIso } from "./procfs.ts";
 * startTimeIso(1700000000, 150); // "2023-11-14T22:13:21.500Z"
 * ```
 */
export function startTimeIso(bootTime: number, startTicks: number): string {
  return new Date(bootTime * 1000 + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND).toISOString();
}

/**
 * Reads the effective user id from `/proc/<pid>/status` (the second number of the `Uid:` line,
 * the one `ps -o user` shows).
 *
 * @param text The file's content.
 * @param file The file name used in error messages.
 * @returns The effective uid.
 * @throws {ProcfsFormatError} When there is no well-formed `Uid:` line.
 *
 * @example
 * ```ts
 * import { parseEffectiveUid } from "./procfs.ts";
 * parseEffectiveUid("Name:\tsshd\nUid:\t0\t1000\t0\t1000\n"); // 1000
 * ```
 */
export function parseEffectiveUid(text: string, file = "/proc/<pid>/status"): number {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("Uid:")) continue;
    const m = /^Uid:\s+\d+\s+(\d+)\s/.exec(lines[i] + " ");
    if (!m) throw new ProcfsFormatError(file, i + 1, lines[i], "bad Uid line");
    return Number(m[1]);
  }
  throw new ProcfsFormatError(file, lines.length, "", "no Uid line");
}

/**
 * Parses `/etc/passwd` into user names by uid (the first name wins when a uid repeats).
 * Malformed lines are skipped: the file is not procfs and its comments and NIS markers vary.
 *
 * @param text The file's content.
 * @returns uid -> user name.
 *
 * @example
 * ```ts
 * import { parsePasswd } from "./procfs.ts";
 * parsePasswd("root:x:0:0:root:/root:/bin/bash\n").get(0); // "root"
 * ```
 */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 3 || fields[0] === "" || !/^\d+$/.test(fields[2])) continue;
    const uid = Number(fields[2]);
    if (!names.has(uid)) names.set(uid, fields[0]);
  }
  return names;
}

/**
 * Turns the content of `/proc/<pid>/cmdline` (arguments separated and ended by NUL) into one
 * line, arguments separated by spaces. A process that rewrote its arguments as one string
 * (`nginx: worker process`) comes out as that string.
 *
 * @param raw The file's content.
 * @returns The command line; an empty string for a process without one (kernel threads).
 *
 * @example
 * ```ts
 * import { joinCmdline } from "./procfs.ts";
 * joinCmdline("python3\0-m\0http.server\0"); // "python3 -m http.server"
 * ```
 */
export function joinCmdline(raw: string): string {
  return raw.replace(/\0+$/, "").split("\0").join(" ");
}

/**
 * Finds the systemd service a process runs in from `/proc/<pid>/cgroup`: the first path
 * component ending in `.service` of the unified (`0::`) hierarchy, else of `name=systemd`.
 * For a user's service that is `user@<uid>.service`, the system unit that hosts it.
 *
 * @param text The file's content.
 * @returns The unit name, or null when the process is not in a service.
 *
 * @example
 * ```ts
 * import { parseSystemdUnit } from "./procfs.ts";
 * parseSystemdUnit("0::/system.slice/ssh.service\n"); // "ssh.service"
 * parseSystemdUnit("0::/user.slice/user-1000.slice/session-2.scope\n"); // null
 * ```
 */
export function parseSystemdUnit(text: string): string | null {
  const paths = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) paths.set(m[1], m[2]);
  }
  const path = paths.get("") ?? paths.get("name=systemd");
  if (path === undefined) return null;
  return path.split("/").find((part) => part.endsWith(".service")) ?? null;
}
