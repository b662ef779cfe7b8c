/**
 * Pure parsers for the procfs text the Linux backend reads: the socket tables under
 * `/proc/net/`, `/proc/net/if_inet6`, and the per-process files `/proc/<pid>/stat`, `status`,
 * `cmdline` and `cgroup`. No I/O happens here, so every parser is tested on literal text.
 *
 * @module
 */
import { formatIPv6, isScopedIPv6 } from "../../core/address.ts";
import type { SocketEndpoint } from "../../core/filter.ts";
import type { Family, Protocol, TcpState } from "../../core/record.ts";
import { ipv4Text } from "./_ipv4_text.ts";
import { TCP_STATE_BY_CODE } from "./_tcp_states.ts";

/** The socket tables under `/proc/net/` that procconn reads. */
export type ProcNetTable = "tcp" | "tcp6" | "udp" | "udp6";

/**
 * One row of a `/proc/net/{tcp,tcp6,udp,udp6}` table: its endpoint (a link-local address carries
 * `%scope` when its interface is known), and its inode.
 */
export interface ProcNetSocket extends SocketEndpoint {
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

const TABLE_KIND: Readonly<Record<ProcNetTable, readonly [Protocol, Family]>> = {
  tcp: ["TCP", "IPv4"],
  tcp6: ["TCP", "IPv6"],
  udp: ["UDP", "IPv4"],
  udp6: ["UDP", "IPv6"],
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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
  const digits = family === "IPv4" ? 8 : 32;
  const localBytes = new Uint8Array(digits / 2);
  const remoteBytes = new Uint8Array(digits / 2);
  // Where the first ten whitespace-separated fields of a line start and end.
  const starts = new Int32Array(10);
  const ends = new Int32Array(10);
  const rows: ProcNetSocket[] = [];
  let lineNumber = 0;
  for (let at = 0; at < text.length;) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    const lineStart = at;
    at = end + 1;
    lineNumber++;
    let count = 0;
    for (let i = lineStart; count < 10;) {
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (i >= end) break;
      starts[count] = i;
      while (i < end && !isSpace(text.charCodeAt(i))) i++;
      ends[count++] = i;
    }
    if (count === 0 || (ends[0] - starts[0] === 2 && text.startsWith("sl", starts[0]))) continue;
    const bad = (problem: string) =>
      new ProcfsFormatError(file, lineNumber, text.slice(lineStart, end), problem);
    if (count < 10 || !isSlot(text, starts[0], ends[0])) throw bad("too few fields");
    const localPort = readEndpoint(text, starts[1], ends[1], digits, little, localBytes);
    if (localPort < 0) throw bad("bad local address");
    const remotePortRaw = readEndpoint(text, starts[2], ends[2], digits, little, remoteBytes);
    if (remotePortRaw < 0) throw bad("bad remote address");
    const stateCode = ends[3] - starts[3] === 2 ? readHex(text, starts[3], ends[3]) : -1;
    if (stateCode < 0) throw bad("bad state");
    const inode = readDecimal(text, starts[9], ends[9]);
    if (inode < 0) throw bad("bad inode");

    let state: TcpState | null = null;
    if (protocol === "TCP") {
      // A state a newer kernel adds is kept as UNKNOWN rather than failing the whole table.
      state = TCP_STATE_BY_CODE[stateCode] ?? "UNKNOWN";
    }
    const localScope = scopeOf(localBytes, options.scopes);
    const unconnected = remotePortRaw === 0 && remoteBytes.every((b) => b === 0);
    const hasRemote = state !== "LISTEN" && !unconnected;
    rows.push({
      protocol,
      family,
      localAddress: formatAddress(localBytes, localScope),
      localPort,
      remoteAddress: hasRemote
        ? formatAddress(remoteBytes, localScope && isScopedIPv6(remoteBytes) ? localScope : 0)
        : null,
      remotePort: hasRemote ? remotePortRaw : null,
      state,
      inode,
    });
  }
  return rows;
}

/** The whitespace `\s+` splits /proc/net lines on (ASCII: tab to carriage return, space). */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** The slot number that starts a line: digits, then a colon. */
function isSlot(text: string, start: number, end: number): boolean {
  if (end - start < 2 || text.charCodeAt(end - 1) !== 0x3a) return false;
  return readDecimal(text, start, end - 1) >= 0;
}

/** The value of a hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Hex digits as a number (at most 8 digits), or -1 when one is not a hex digit. */
function readHex(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = hexValue(text.charCodeAt(i));
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

/** Decimal digits as a number, or -1 when there are none or one is not a digit. */
function readDecimal(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

/**
 * Reads `<address>:<port>`: the address as 8 or 32 hex digits of host-order 32-bit words, which
 * it writes into `bytes` in network order, and the port as 4 hex digits.
 *
 * @returns The port, or -1 when the field does not have that layout.
 */
function readEndpoint(
  text: string,
  start: number,
  end: number,
  digits: number,
  littleEndian: boolean,
  bytes: Uint8Array,
): number {
  if (end - start !== digits + 5 || text.charCodeAt(start + digits) !== 0x3a) return -1;
  for (let w = 0; w < digits / 8; w++) {
    const word = readHex(text, start + 8 * w, start + 8 * w + 8);
    if (word < 0) return -1;
    for (let b = 0; b < 4; b++) {
      bytes[4 * w + (littleEndian ? b : 3 - b)] = (word >>> (8 * b)) & 0xff;
    }
  }
  return readHex(text, start + digits + 1, end);
}

function formatAddress(bytes: Uint8Array, scopeId: number): string {
  return bytes.length === 4 ? ipv4Text(bytes, 0) : formatIPv6(bytes, 0, scopeId);
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
 * Reads the socket counts of `/proc/net/sockstat` or `sockstat6`: the `inuse` count of each
 * protocol line (`TCP`, `UDP`, `TCP6`, `UDP6`, ...), the TIME_WAIT sockets of both families as
 * `TCP:tw`, and every socket in use, of any kind, as `sockets`. A hint of how many rows the socket tables hold, not an exact count (the tables
 * change while they are read).
 *
 * @param text The file's content.
 * @returns Protocol label -> count; lines without counts are left out.
 *
 * @example
 * ```ts
 * import { parseSockstat } from "./procfs.ts";
 * parseSockstat("sockets: used 9\nTCP: inuse 5 orphan 0 tw 2 alloc 6 mem 1\nUDP: inuse 3 mem 0\n");
 * // Map { "sockets" => 9, "TCP" => 5, "TCP:tw" => 2, "UDP" => 3 }
 * ```
 */
export function parseSockstat(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [label, ...fields] = line.trim().split(/\s+/);
    if (!label?.endsWith(":")) continue;
    const name = label.slice(0, -1);
    for (let k = 0; k + 1 < fields.length; k += 2) {
      const value = Number(fields[k + 1]);
      if (!/^\d+$/.test(fields[k + 1]) || !Number.isSafeInteger(value)) continue;
      if (fields[k] === "inuse" || fields[k] === "used") counts.set(name, value);
      else if (fields[k] === "tw") counts.set(`${name}:tw`, value);
    }
  }
  return counts;
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
 * `PF_EXITING` in the `flags` field of `/proc/<pid>/stat`: the task has begun to exit. Its
 * memory (command line, image) may already be gone while its state still reads as running: a
 * process with a large heap spends hundreds of milliseconds like this.
 */
export const PF_EXITING = 0x00000004;

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
 * Reads the thread group id from `/proc/<id>/status` (the `Tgid:` line): the process that the
 * thread `<id>` belongs to, which is `<id>` itself for a process.
 *
 * @param text The file's content.
 * @param file The file name used in error messages.
 * @returns The thread group id.
 * @throws {ProcfsFormatError} When there is no well-formed `Tgid:` line.
 *
 * @example
 * ```ts
 * import { parseThreadGroup } from "./procfs.ts";
 * parseThreadGroup("Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4852\n"); // 4852
 * ```
 */
export function parseThreadGroup(text: string, file = "/proc/<id>/status"): number {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("Tgid:")) continue;
    const m = /^Tgid:\s+(\d+)\s*$/.exec(lines[i]);
    if (!m) throw new ProcfsFormatError(file, i + 1, lines[i], "bad Tgid line");
    return Number(m[1]);
  }
  throw new ProcfsFormatError(file, lines.length, "", "no Tgid line");
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
