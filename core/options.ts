/**
 * The library's options checked when a listing starts, so that a caller from JavaScript (no type
 * checker) who writes `ports` for `port` or `"Established"` for `"ESTABLISHED"` gets an error
 * instead of a listing that silently ignores the filter or keeps nothing.
 *
 * @module
 */
import { parseAddress } from "./address.ts";
import { FAMILIES, PROTOCOLS, TCP_STATES } from "./fields.ts";

/** Every option {@linkcode checkListOptions} accepts, in the order the errors list them. */
const KEYS = [
  "protocols",
  "families",
  "states",
  "pids",
  "name",
  "port",
  "localPort",
  "remotePort",
  "local",
  "remote",
  "listening",
  "tree",
  "hash",
  "stats",
  "enableStats",
  "resolve",
  "source",
  "cache",
] as const;

const RESOLVE_KEYS = ["timeoutMs", "concurrency", "servers", "hostsFile"];

/**
 * Checks the options of a listing (`listConnections`, `openListing`). An option set to
 * `undefined` counts as absent.
 *
 * @param options The options as the caller gave them.
 * @throws {TypeError} For an unknown option or a value of the wrong type.
 * @throws {RangeError} For a value outside what the option allows (a state, a port, a pid...),
 *   an empty list, or options that together keep nothing (`states` with only UDP, `states`
 *   without LISTEN with `listening`), or `tree` without `pids` or `name`.
 *
 * @example
 * ```ts
 * import { checkListOptions } from "./options.ts";
 * try {
 *   checkListOptions({ ports: [80] });
 * } catch (err) {
 *   (err as Error).message; // 'Unknown option "ports": expected one of protocols, ...'
 * }
 * ```
 */
export function checkListOptions(options: unknown): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`The options must be an object, not ${describe(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`Unknown option "${key}": expected one of ${KEYS.join(", ")}`);
    }
  }
  const value = (key: string) => given[key];
  oneOf("protocols", value("protocols"), PROTOCOLS);
  oneOf("families", value("families"), FAMILIES);
  oneOf(
    "states",
    value("states"),
    TCP_STATES,
    " (parseState turns other spellings such as TimeWait into these)",
  );
  numbers("pids", value("pids"), 0xffffffff);
  for (const key of ["port", "localPort", "remotePort"]) ports(key, value(key));
  for (const key of ["name", "local", "remote"]) strings(key, value(key));
  for (const key of ["listening", "tree", "hash", "stats", "enableStats"]) {
    const v = value(key);
    if (v !== undefined && typeof v !== "boolean") {
      throw new TypeError(`Option "${key}" must be true or false, not ${describe(v)}`);
    }
  }
  checkResolve(value("resolve"));
  checkCombination(given);
  const source = value("source");
  if (
    source !== undefined &&
    (source === null || typeof source !== "object" ||
      typeof (source as Record<string, unknown>).describeProcesses !== "function" ||
      (typeof (source as Record<string, unknown>).listSockets !== "function" &&
        typeof (source as Record<string, unknown>).listSocketRows !== "function"))
  ) {
    throw new TypeError(
      `Option "source" must be a SocketSource (with listSockets and describeProcesses), ` +
        `not ${describe(source)}`,
    );
  }
  const cache = value("cache");
  if (cache !== undefined && (cache === null || typeof cache !== "object")) {
    throw new TypeError(`Option "cache" must be an object (start with {}), not ${describe(cache)}`);
  }
}

/**
 * Options that are each valid but together keep nothing, or ask for what cannot be done: refused
 * as the command line refuses them, rather than giving an empty or unfiltered listing.
 */
function checkCombination(given: Record<string, unknown>): void {
  const states = given.states as readonly string[] | undefined;
  const protocols = given.protocols as readonly string[] | undefined;
  if (given.tree === true && given.pids === undefined && given.name === undefined) {
    throw new RangeError(
      'Option "tree" adds the descendants of the processes "pids" or "name" selects, and ' +
        "neither is given",
    );
  }
  if (states !== undefined && protocols !== undefined && !protocols.includes("TCP")) {
    throw new RangeError(
      `Options "states" (${states.join(", ")}) and "protocols" (${protocols.join(", ")}) keep ` +
        'nothing: only TCP endpoints have a state ("listening" takes in UDP servers)',
    );
  }
  if (states !== undefined && given.listening === true && !states.includes("LISTEN")) {
    throw new RangeError(
      `Options "states" (${states.join(", ")}) and "listening" keep nothing: "listening" keeps ` +
        'LISTEN sockets and UDP servers, and "states" leaves UDP out (use one of the two)',
    );
  }
}

/** An empty list would match no row: most likely a value the caller failed to fill in. */
function notEmpty(key: string, list: readonly unknown[]): void {
  if (list.length === 0) {
    throw new RangeError(
      `Option "${key}" is an empty list, which would keep nothing: leave it out to keep every row`,
    );
  }
}

/** A list whose every value is one of `allowed`. */
function oneOf(key: string, v: unknown, allowed: readonly string[], hint = ""): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) {
    throw new TypeError(`Option "${key}" must be an array, not ${describe(v)}`);
  }
  notEmpty(key, v);
  for (const item of v) {
    if (typeof item !== "string") {
      throw new TypeError(
        `Invalid ${key} value ${describe(item)}: expected a string, one of ${allowed.join(", ")}`,
      );
    }
    if (!allowed.includes(item)) {
      throw new RangeError(
        `Invalid ${key} value ${describe(item)}: expected ${allowed.join(", ")}${hint}`,
      );
    }
  }
}

/** A non-empty list of whole numbers from 0 to `max`. */
function numbers(key: string, v: unknown, max: number): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) {
    throw new TypeError(`Option "${key}" must be an array, not ${describe(v)}`);
  }
  const list: unknown[] = v;
  notEmpty(key, list);
  for (const item of list) {
    if (typeof item !== "number") {
      throw new TypeError(
        `Invalid ${key} value ${describe(item)}: expected a number, a whole one from 0 to ${max}`,
      );
    }
    if (!Number.isInteger(item) || item < 0 || item > max) {
      throw new RangeError(
        `Invalid ${key} value ${describe(item)}: expected a whole number from 0 to ${max}`,
      );
    }
  }
}

/** A port or a range of ports (`{ from, to }`), or a non-empty list of them. */
function ports(key: string, v: unknown): void {
  if (v === undefined) return;
  const list = Array.isArray(v) ? v : [v];
  notEmpty(key, list);
  const usage = "a whole number from 0 to 65535, or a range { from, to } of them";
  const isPort = (n: unknown) =>
    typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 65535;
  for (const item of list) {
    if (typeof item === "number") {
      if (!isPort(item)) {
        throw new RangeError(`Invalid ${key} value ${describe(item)}: expected ${usage}`);
      }
      continue;
    }
    const range = item as Record<string, unknown> | null;
    const keys = typeof range === "object" && range !== null && !Array.isArray(range)
      ? Object.keys(range).sort().join(",")
      : null;
    if (keys !== "from,to") {
      throw new TypeError(`Invalid ${key} value ${describe(item)}: expected ${usage}`);
    }
    const { from, to } = range!;
    const text = `{ from: ${describe(from)}, to: ${describe(to)} }`;
    if (!isPort(from) || !isPort(to)) {
      throw new RangeError(`Invalid ${key} value ${text}: expected ${usage}`);
    }
    if ((from as number) > (to as number)) {
      throw new RangeError(`Invalid ${key} value ${text}: the range ends before it starts`);
    }
  }
}

/** A non-empty string, or a list of them. */
function strings(key: string, v: unknown): void {
  if (v === undefined) return;
  if (Array.isArray(v)) notEmpty(key, v);
  for (const item of Array.isArray(v) ? v : [v]) {
    if (typeof item !== "string" || item.trim() === "") {
      throw new TypeError(
        `Invalid ${key} value ${describe(item)}: expected a non-empty string or a list of them`,
      );
    }
  }
}

function checkResolve(v: unknown): void {
  if (v === undefined || typeof v === "boolean") return;
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new TypeError(
      `Option "resolve" must be true, false or { timeoutMs, concurrency, servers, hostsFile }, ` +
        `not ${describe(v)}`,
    );
  }
  const given = v as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!RESOLVE_KEYS.includes(key)) {
      throw new TypeError(
        `Unknown option "resolve.${key}": expected one of ${RESOLVE_KEYS.join(", ")}`,
      );
    }
  }
  // Node's resolver takes whole milliseconds up to 2^31 - 1; the command line allows up to an hour.
  wholeNumber("resolve.timeoutMs", given.timeoutMs, 1, 3_600_000);
  wholeNumber("resolve.concurrency", given.concurrency, 1, 1024);
  const hostsFile = given.hostsFile;
  if (hostsFile !== undefined && hostsFile !== null && typeof hostsFile !== "string") {
    throw new TypeError(
      `Option "resolve.hostsFile" must be a path or null (DNS only), not ${describe(hostsFile)}`,
    );
  }
  const servers = given.servers;
  if (servers === undefined) return;
  if (!Array.isArray(servers)) {
    throw new TypeError(
      `Option "resolve.servers" must be a list of "address" or "address:port" strings, not ${
        describe(servers)
      }`,
    );
  }
  for (const server of servers) {
    if (typeof server !== "string") {
      throw new TypeError(
        `Invalid resolve.servers value ${describe(server)}: expected a string such as ` +
          `"192.0.2.53", "192.0.2.53:5353" or "[2001:db8::53]:53"`,
      );
    }
    if (!isServer(server)) {
      throw new RangeError(
        `Invalid resolve.servers value ${describe(server)}: expected an IP address, with an ` +
          `optional port from 1 to 65535 ("192.0.2.53:5353", "[2001:db8::53]:53")`,
      );
    }
  }
}

/** A whole number from `min` to `max`, when given. */
function wholeNumber(key: string, n: unknown, min: number, max: number): void {
  if (n === undefined) return;
  if (typeof n !== "number") {
    throw new TypeError(
      `Invalid ${key} value ${describe(n)}: expected a number, a whole one from ${min} to ${max}`,
    );
  }
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(
      `Invalid ${key} value ${describe(n)}: expected a whole number from ${min} to ${max}`,
    );
  }
}

/** A DNS server as Node's `Resolver.setServers` takes it: `a.b.c.d[:port]`, `v6` or `[v6]:port`. */
function isServer(text: string): boolean {
  const port = (p: string) => /^[0-9]{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
  const bracketed = /^\[([^\]]+)\](?::([^:]*))?$/.exec(text);
  if (bracketed) {
    return parseAddress(bracketed[1])?.version === 6 &&
      (bracketed[2] === undefined || port(bracketed[2]));
  }
  const parsed = parseAddress(text);
  if (parsed) return parsed.version === 6 || !text.includes("%");
  const colon = text.lastIndexOf(":");
  if (colon < 0 || text.indexOf(":") !== colon) return false;
  return parseAddress(text.slice(0, colon))?.version === 4 && port(text.slice(colon + 1));
}

/** A value as it would be written in JavaScript, short. */
function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || typeof v !== "object") return String(v);
  if (Array.isArray(v)) return "an array";
  return "an object";
}
