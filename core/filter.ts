/**
 * Filters over sockets and records. Socket-level filters run before any process is looked up,
 * so a narrow query never pays for process details it does not show.
 *
 * @module
 */
import { isScopedIPv6, mappedIPv4, parseAddress, type ParsedAddress } from "./address.ts";
import type { Family, Protocol, TcpState } from "./fields.ts";
import type { RawSocket } from "./source.ts";

/** The fields of a socket that the socket-level filters look at. */
export type SocketEndpoint = Pick<
  RawSocket,
  "protocol" | "family" | "localAddress" | "localPort" | "remoteAddress" | "remotePort" | "state"
>;

/** An inclusive range of ports: `{ from: 8000, to: 8999 }` keeps ports 8000 to 8999. */
export interface PortRange {
  /** The first port of the range, from 0 to 65535. */
  from: number;
  /** The last port of the range, from `from` to 65535. */
  to: number;
}

/** A port, or an inclusive range of ports. */
export type PortSpec = number | PortRange;

/**
 * What to keep. Every filter given must match (AND); the values of one filter are alternatives
 * (OR): `localPort: [80, 443]` keeps rows on either port, `localPort: [22, { from: 8000, to: 8999 }]`
 * rows on port 22 or on one from 8000 to 8999.
 */
export interface FilterOptions {
  /** Keep these protocols (default both). */
  protocols?: readonly Protocol[];
  /** Keep these families (default both). */
  families?: readonly Family[];
  /** Keep TCP rows in these states (UDP rows have no state and are dropped when this is set). */
  states?: readonly TcpState[];
  /** Keep rows owned by these process ids. */
  pids?: readonly number[];
  /**
   * Keep rows whose process name matches this wildcard pattern (`*`, `?`), or one of these,
   * case-insensitive; a trailing `.exe` on either side is optional, so `notepad++` matches
   * `notepad++.exe`.
   */
  name?: string | readonly string[];
  /** Keep rows whose local or remote port is this port or in this range (or one of these). */
  port?: PortSpec | readonly PortSpec[];
  /** Keep rows whose local port is this port or in this range (or one of these). */
  localPort?: PortSpec | readonly PortSpec[];
  /** Keep rows whose remote port is this port or in this range (or one of these). */
  remotePort?: PortSpec | readonly PortSpec[];
  /** Keep rows whose local address is this address or lies in this CIDR block (or one of these). */
  local?: string | readonly string[];
  /** Keep rows whose remote address is this address or lies in this CIDR block (or one of these). */
  remote?: string | readonly string[];
  /** Keep only listening endpoints: TCP in LISTEN and UDP sockets without a remote peer. */
  listening?: boolean;
}

/** A parsed address block. */
export interface Cidr {
  /** 4 or 6. */
  version: 4 | 6;
  /** Network bytes. */
  bytes: Uint8Array;
  /** Prefix length in bits. */
  prefix: number;
  /**
   * The interface index a scoped IPv6 address must carry (`fe80::1%4` → 4; 0 matches addresses
   * shown without one); absent when the text gave no zone, so that any interface matches.
   */
  zone?: number;
}

/**
 * Parses an address or CIDR block (`10.0.0.0/8`, `fe80::/10`, `192.168.1.5`). An IPv6 address may
 * be in brackets as the table prints it (`[::1]`, `[fe80::1%4]/64`), and a link-local or
 * interface/link-local multicast address may name its interface by index as the listing shows it
 * (`fe80::1%4`, `fe80::%4/64`).
 *
 * @param text The address or block.
 * @returns The parsed block; a plain address is a full-length prefix.
 * @throws {RangeError} When the text is not an address, the prefix is out of range, or the zone
 *   is not an interface index on a scoped IPv6 address.
 * @throws {TypeError} When it is not a string.
 *
 * @example
 * ```ts
 * import { parseCidr } from "./filter.ts";
 * parseCidr("10.0.0.0/8").prefix; // 8
 * parseCidr("[fe80::1%4]").zone; // 4
 * ```
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== "string") {
    throw new TypeError(
      `Invalid address ${JSON.stringify(text) ?? String(text)}: expected a string`,
    );
  }
  const trimmed = text.trim();
  const bracketed = /^\[([^[\]/]*)\](\/.*)?$/.exec(trimmed);
  const body = bracketed ? bracketed[1] + (bracketed[2] ?? "") : trimmed;
  const [addrText, prefixText, extra] = body.split("/");
  const percent = addrText.indexOf("%");
  const zoneText = percent < 0 ? null : addrText.slice(percent + 1);
  const addr = parseAddress(percent < 0 ? addrText : addrText.slice(0, percent));
  if (!addr || extra !== undefined || (bracketed && addr.version !== 6)) {
    throw new RangeError(
      `Invalid address "${text}": expected an IPv4 or IPv6 address or CIDR block`,
    );
  }
  const block: Cidr = { ...addr, prefix: addr.version === 4 ? 32 : 128 };
  if (zoneText !== null) block.zone = parseZone(text, zoneText, addr);
  if (prefixText === undefined) return block;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= block.prefix)) {
    throw new RangeError(`Invalid prefix length in "${text}": expected 0 to ${block.prefix}`);
  }
  return { ...block, prefix };
}

/** The interface index of a `%zone`; only scoped IPv6 addresses have one, and only numeric. */
function parseZone(text: string, zone: string, addr: ParsedAddress): number {
  if (addr.version === 4 || !isScopedIPv6(addr.bytes)) {
    throw new RangeError(
      `Invalid zone in "${text}": only link-local IPv6 addresses (fe80::/10, ff01::/16, ` +
        `ff02::/16) have one`,
    );
  }
  const index = /^\d{1,10}$/.test(zone) ? Number(zone) : NaN;
  if (!(index <= 0xffffffff)) {
    throw new RangeError(
      `Invalid zone "%${zone}" in "${text}": expected an interface index as the listing prints ` +
        `it, e.g. fe80::1%4`,
    );
  }
  return index;
}

/**
 * Tells whether an address lies in a block. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`)
 * matches IPv4 blocks, since it is that IPv4 peer; and an IPv4 address matches a block within
 * `::ffff:0:0/96` (`::ffff:10.0.0.0/104` is 10.0.0.0/8), but not a wider one such as `::/0`.
 *
 * @param address Address text; its `%zone` counts only when the block names one.
 * @param cidr The block.
 * @returns True when the address is inside the block.
 *
 * @example
 * ```ts
 * import { cidrContains, parseCidr } from "./filter.ts";
 * cidrContains("::ffff:10.9.8.7", parseCidr("10.0.0.0/8")); // true
 * ```
 */
export function cidrContains(address: string, cidr: Cidr): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  if (cidr.zone !== undefined) {
    const percent = address.indexOf("%");
    if ((percent < 0 ? 0 : Number(address.slice(percent + 1))) !== cidr.zone) return false;
  }
  let bytes = parsed.bytes;
  let prefix = cidr.prefix;
  let block = cidr.bytes;
  if (parsed.version !== cidr.version) {
    if (parsed.version === 6) {
      const v4 = mappedIPv4(parsed.bytes);
      if (!v4) return false;
      bytes = v4;
    } else {
      const v4 = cidr.prefix >= 96 ? mappedIPv4(cidr.bytes) : null;
      if (!v4) return false;
      [block, prefix] = [v4, cidr.prefix - 96];
    }
  }
  const full = prefix >> 3, rest = prefix & 7;
  for (let i = 0; i < full; i++) if (bytes[i] !== block[i]) return false;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full] & mask) === (block[full] & mask);
}

/**
 * Builds a case-insensitive matcher for process-name wildcard patterns.
 *
 * @param pattern Pattern with `*` and `?`, or several (a name matching any of them matches);
 *   `.exe` on either side is optional.
 * @returns A predicate over process names.
 * @throws {TypeError} When a pattern is not a string.
 *
 * @example
 * ```ts
 * import { nameMatcher } from "./filter.ts";
 * nameMatcher("notepad++")("Notepad++.exe"); // true
 * nameMatcher(["sshd", "nginx*"])("nginx-worker"); // true
 * ```
 */
export function nameMatcher(pattern: string | readonly string[]): (name: string | null) => boolean {
  for (const p of asList(pattern)) {
    if (typeof p !== "string") {
      throw new TypeError(
        `Invalid name pattern ${JSON.stringify(p) ?? String(p)}: expected a string`,
      );
    }
  }
  const stripExe = (s: string) => s.replace(/\.exe$/i, "");
  const body = (p: string) =>
    stripExe(p).split("").map((c) =>
      c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")
    ).join("");
  // `s`: a name may hold any character, a line break too (Linux lets a process name itself so),
  // and `*` and `?` match it; `u`: `?` is one character, also beyond the 16-bit range.
  const re = new RegExp(`^(?:${asList(pattern).map(body).join("|")})$`, "isu");
  return (name) => name !== null && (re.test(name) || re.test(stripExe(name)));
}

function asList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? value : [value as T];
}

/** One byte per port, 1 for the ports given (a range of 60,000 costs what one port does). */
function portSet(value: PortSpec | readonly PortSpec[] | undefined): Uint8Array | null {
  if (value === undefined) return null;
  const set = new Uint8Array(65536);
  for (const spec of asList(value)) {
    if (typeof spec === "number") set[spec] = 1;
    else set.fill(1, spec.from, spec.to + 1);
  }
  return set;
}

/** A predicate over an address, for a list of addresses or blocks; null when none are given. */
function addressMatcher(
  value: string | readonly string[] | undefined,
): ((address: string | null) => boolean) | null {
  if (value === undefined) return null;
  const blocks = asList(value).map(parseCidr);
  return (address) => address !== null && blocks.some((b) => cidrContains(address, b));
}

/**
 * Builds the predicate over raw sockets for the socket-level part of the filters (everything but
 * pids and names).
 *
 * @param options The filters.
 * @returns A predicate over sockets; its `keepsAll` is true when no filter applies, so that a
 *   caller may skip it.
 */
export function socketPredicate(
  options: FilterOptions,
): ((s: SocketEndpoint) => boolean) & { keepsAll: boolean } {
  const { protocols, families, states, listening } = options;
  const port = portSet(options.port);
  const localPort = portSet(options.localPort);
  const remotePort = portSet(options.remotePort);
  const local = addressMatcher(options.local);
  const remote = addressMatcher(options.remote);
  const keepsAll = !protocols && !families && !states && !port && !localPort && !remotePort &&
    !local && !remote && !listening;
  return Object.assign((s: SocketEndpoint) => {
    if (protocols && !protocols.includes(s.protocol)) return false;
    if (families && !families.includes(s.family)) return false;
    if (states && (s.state === null || !states.includes(s.state))) return false;
    if (port && port[s.localPort] === 0 && (s.remotePort === null || port[s.remotePort] === 0)) {
      return false;
    }
    if (localPort && localPort[s.localPort] === 0) return false;
    if (remotePort && (s.remotePort === null || remotePort[s.remotePort] === 0)) return false;
    if (local && !local(s.localAddress)) return false;
    if (remote && !remote(s.remoteAddress)) return false;
    if (listening) {
      const isListening = s.protocol === "TCP" ? s.state === "LISTEN" : s.remoteAddress === null;
      if (!isListening) return false;
    }
    return true;
  }, { keepsAll });
}
