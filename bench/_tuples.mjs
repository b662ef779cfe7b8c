// @ts-check
/**
 * Endpoint tuples: the output of `ss`, psutil and procconn turned into comparable
 * (protocol, local address:port, remote address:port, pid) tuples, and the set comparisons the
 * benchmark reports. Pure functions only; the processes are run elsewhere.
 *
 * Address text is canonicalised the same way for every tool (the WHATWG URL serialiser for IPv6,
 * so none of procconn's own formatting is reused), and a `%scope` or `%device` suffix is dropped
 * on every side: `ss` prints the interface name, `/proc/net/tcp6` has no scope at all.
 *
 * @module
 */

/**
 * One endpoint with one owning process, as a tool reports it.
 *
 * @typedef {object} Tuple
 * @property {"TCP" | "UDP"} protocol Transport protocol.
 * @property {string} local Canonical local address.
 * @property {number} localPort Local port.
 * @property {string | null} remote Canonical remote address; null when not connected.
 * @property {number | null} remotePort Remote port; null when not connected.
 * @property {number | null} pid Owning process id; null when the socket has no owner.
 */

/**
 * The result of one set comparison.
 *
 * @typedef {object} Comparison
 * @property {boolean} ok True when nothing differs outside the churn.
 * @property {number} compared How many tuples (or sockets) both sides were held to.
 * @property {number} churn How many tuples changed between the two `ss` snapshots and were
 *   therefore not held against either side.
 * @property {string[]} onlyProcconn Keys procconn reports that the peer does not.
 * @property {string[]} onlyPeer Keys the peer reports that procconn does not.
 * @property {string[]} pidMismatch Sockets whose owner differs (psutil comparison only).
 * @property {string[]} ownerUnseenByPeer Keys procconn reports with an owner the peer cannot
 *   see (a process whose main thread had ended) and the peer reports without one: accepted.
 */

/**
 * Canonical text of an IPv4 or IPv6 address as one of the tools printed it: brackets and a
 * `%scope` suffix are removed, `*` (how `ss` prints a dual-stack `::`) becomes `::`, and IPv6 is
 * written in RFC 5952 form with an IPv4-mapped tail in dotted form.
 *
 * @param {string} text The address text.
 * @returns {string} The canonical address.
 * @throws {TypeError} When the text is not an address.
 *
 * @example
 * ```js
 * import { canonicalAddress } from "./_tuples.mjs";
 * canonicalAddress("[::FFFF:127.0.0.1]"); // "::ffff:127.0.0.1"
 * canonicalAddress("[fe80::0:1]%eth0"); // "fe80::1"
 * ```
 */
export function canonicalAddress(text) {
  let address = text;
  const percent = address.indexOf("%");
  if (percent >= 0) address = address.slice(0, percent);
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  if (address === "*") return "::";
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) {
    const parts = address.split(".").map(Number);
    if (parts.every((n) => n <= 255)) return parts.join(".");
  } else if (address.includes(":") && /^[0-9a-fA-F:.]+$/.test(address)) {
    let host;
    try {
      host = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    } catch {
      host = null;
    }
    if (host !== null) {
      const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
      if (!mapped) return host;
      const hi = parseInt(mapped[1], 16), lo = parseInt(mapped[2], 16);
      return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
  }
  throw new TypeError(`Invalid address "${text}"`);
}

/**
 * Whether an address is the unspecified address (`0.0.0.0` or `::`).
 *
 * @param {string} canonical A canonical address from {@linkcode canonicalAddress}.
 * @returns {boolean} True for the unspecified address.
 */
function isUnspecified(canonical) {
  return canonical === "0.0.0.0" || canonical === "::";
}

/**
 * Builds a tuple, turning an unconnected remote end (`*`, or the unspecified address with port
 * 0) into nulls. UDP tuples never carry a remote end: procconn's record leaves it null for UDP.
 *
 * @param {"TCP" | "UDP"} protocol Transport protocol.
 * @param {string} local Local address text.
 * @param {number} localPort Local port.
 * @param {string | null} remote Remote address text, or null.
 * @param {number | null} remotePort Remote port, or null.
 * @param {number | null} pid Owning process id, or null.
 * @returns {Tuple} The normalised tuple.
 */
export function makeTuple(protocol, local, localPort, remote, remotePort, pid) {
  let r = remote === null ? null : canonicalAddress(remote);
  let rp = remotePort;
  if (protocol === "UDP" || r === null || rp === null || (rp === 0 && isUnspecified(r))) {
    r = null;
    rp = null;
  }
  return { protocol, local: canonicalAddress(local), localPort, remote: r, remotePort: rp, pid };
}

/**
 * Writes `address:port` with IPv6 in brackets.
 *
 * @param {string | null} address A canonical address, or null.
 * @param {number | null} port A port, or null.
 * @returns {string} The endpoint text; `*` when the address is null.
 */
function endpoint(address, port) {
  if (address === null) return "*";
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The key of a socket: protocol, local end and remote end (no pid).
 *
 * @param {Tuple} t The tuple.
 * @returns {string} Text such as `TCP 127.0.0.1:80 -> 127.0.0.1:41000`.
 */
export function socketKey(t) {
  return `${t.protocol} ${endpoint(t.local, t.localPort)} -> ${endpoint(t.remote, t.remotePort)}`;
}

/**
 * The key of a tuple: the socket key and the pid (`-` when there is no owner).
 *
 * @param {Tuple} t The tuple.
 * @returns {string} Text such as `TCP 127.0.0.1:80 -> * pid=42`.
 */
export function tupleKey(t) {
  return `${socketKey(t)} pid=${t.pid ?? "-"}`;
}

/**
 * Splits an `ss` endpoint column (`127.0.0.1:80`, `[::1]:80`, `*:80`, `[fe80::1]%eth0:123`,
 * `0.0.0.0:*`) into address text and port.
 *
 * @param {string} text The column.
 * @returns {{ address: string, port: number | null }} The parts; port null for `*`.
 */
function splitSsEndpoint(text) {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) throw new TypeError(`Invalid endpoint "${text}": no port`);
  const portText = text.slice(colon + 1);
  if (portText !== "*" && !/^\d{1,5}$/.test(portText)) {
    throw new TypeError(`Invalid endpoint "${text}": bad port "${portText}"`);
  }
  return { address: text.slice(0, colon), port: portText === "*" ? null : Number(portText) };
}

const SS_STATES = new Set([
  "ESTAB",
  "LISTEN",
  "UNCONN",
  "SYN-SENT",
  "SYN-RECV",
  "FIN-WAIT-1",
  "FIN-WAIT-2",
  "TIME-WAIT",
  "CLOSE",
  "CLOSE-WAIT",
  "LAST-ACK",
  "CLOSING",
  "UNKNOWN",
]);

/** Where ss's process column starts. */
const USERS_OPEN = "users:(";
/*
 * ss takes a process's name from /proc/PID/stat up to the first ")", so a name never holds ")"
 * but may hold quotes, commas, spaces and line breaks, all printed raw. The ")" therefore ends
 * each entry without doubt, and a name's own `",pid=` text cannot be taken for the real one.
 */
const USER_ENTRY = /\("[^)]*",pid=(\d+),fd=\d+\)/g;
const USERS_COLUMN = /^users:\(\("[^)]*",pid=\d+,fd=\d+\)(?:,\("[^)]*",pid=\d+,fd=\d+\))*\)$/;
/**
 * How many more lines one socket's users column may take before it is called unreadable: a
 * name is at most 15 bytes, so this allows many processes with broken names, and a column that
 * never closes is reported at its own line rather than swallowing the rest of the output.
 */
const MAX_NAME_LINE_BREAKS = 1000;

/**
 * Parses the output of `ss -tanp`, `ss -uanp` or `ss -tuanp` (with or without the header and
 * the Netid column). A socket held by several processes gives one tuple per distinct pid, as
 * listed in `users:(("name",pid=N,fd=M),...)`; a socket without `users:` gives one tuple with
 * a null pid.
 *
 * @param {string} text The output of ss.
 * @param {{ protocol?: "TCP" | "UDP" }} [options] The protocol of every row when there is no
 *   Netid column (default TCP).
 * @returns {Tuple[]} The tuples.
 * @throws {TypeError} On a line that is not an ss socket line; the message names the line.
 *
 * @example
 * ```js
 * import { parseSs } from "./_tuples.mjs";
 * parseSs('ESTAB 0 0 127.0.0.1:80 127.0.0.1:41000 users:(("node",pid=7,fd=3))');
 * // [{ protocol: "TCP", local: "127.0.0.1", localPort: 80, remote: "127.0.0.1",
 * //    remotePort: 41000, pid: 7 }]
 * ```
 */
export function parseSs(text, options = {}) {
  /** @type {Tuple[]} */
  const out = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    let raw = lines[i];
    const line = raw.trim();
    if (line === "" || line.startsWith("State ") || line.startsWith("Netid ")) continue;
    const fail = (/** @type {string} */ why) =>
      new TypeError(`Invalid ss line ${first + 1} "${raw.trim()}": ${why}`);
    // A process name may hold a line break, which ss prints raw: the users column then goes on
    // over the next lines until it closes.
    const usersAt = raw.indexOf(USERS_OPEN);
    if (usersAt >= 0) {
      while (!USERS_COLUMN.test(raw.slice(usersAt).trimEnd()) && i + 1 < lines.length) {
        if (i - first >= MAX_NAME_LINE_BREAKS) break;
        raw += "\n" + lines[++i];
      }
    }
    const head = usersAt >= 0 ? raw.slice(0, usersAt) : raw;
    const tokens = head.trim().split(/\s+/);
    /** @type {"TCP" | "UDP"} */
    let protocol = options.protocol ?? "TCP";
    if (tokens[0] === "tcp" || tokens[0] === "udp") {
      protocol = tokens[0] === "tcp" ? "TCP" : "UDP";
      tokens.shift();
    } else if (/^[a-z_]+$/.test(tokens[0])) {
      // Another Netid (raw, sctp, ...) when ss was asked for more than TCP and UDP.
      continue;
    }
    if (tokens.length < 5) throw fail("expected state, queues, local and peer columns");
    if (!SS_STATES.has(tokens[0])) throw fail(`unknown state "${tokens[0]}"`);
    if (tokens.length > 5) throw fail(`unexpected column "${tokens[5]}"`);
    let local, peer;
    try {
      local = splitSsEndpoint(tokens[3]);
      peer = splitSsEndpoint(tokens[4]);
    } catch (err) {
      throw fail(/** @type {Error} */ (err).message);
    }
    if (local.port === null) throw fail("the local port is *");
    const pids = new Set();
    if (usersAt >= 0) {
      const users = raw.slice(usersAt).trimEnd();
      if (!USERS_COLUMN.test(users)) throw fail("unreadable users:(...) column");
      for (const m of users.matchAll(USER_ENTRY)) pids.add(Number(m[1]));
    }
    const remote = peer.port === null ? null : peer.address;
    try {
      if (pids.size === 0) {
        out.push(makeTuple(protocol, local.address, local.port, remote, peer.port, null));
      }
      for (const pid of pids) {
        out.push(makeTuple(protocol, local.address, local.port, remote, peer.port, pid));
      }
    } catch (err) {
      throw fail(/** @type {Error} */ (err).message);
    }
  }
  return out;
}

/**
 * Turns procconn's JSON output (an array of connection records) into tuples.
 *
 * @param {string | unknown[]} json The JSON text, or the parsed array.
 * @returns {Tuple[]} The tuples, one per record.
 * @throws {TypeError} When the text is not an array of records; the message names the record.
 *
 * @example
 * ```js
 * import { parseProcconn } from "./_tuples.mjs";
 * parseProcconn('[{"protocol":"TCP","localAddress":"::","localPort":22,' +
 *   '"remoteAddress":null,"remotePort":null,"pid":1}]');
 * ```
 */
export function parseProcconn(json) {
  const records = typeof json === "string" ? JSON.parse(json) : json;
  if (!Array.isArray(records)) throw new TypeError("Invalid procconn output: not a JSON array");
  return records.map((r, i) => {
    const ok = r && (r.protocol === "TCP" || r.protocol === "UDP") &&
      typeof r.localAddress === "string" && Number.isInteger(r.localPort) &&
      (r.pid === null || Number.isInteger(r.pid));
    if (!ok) {
      throw new TypeError(`Invalid procconn record ${i} "${JSON.stringify(r).slice(0, 200)}"`);
    }
    return makeTuple(
      r.protocol,
      r.localAddress,
      r.localPort,
      r.remoteAddress ?? null,
      r.remotePort ?? null,
      r.pid,
    );
  });
}

/**
 * The Python program that prints psutil's view as JSON:
 * `[[kind, local ip, local port, remote ip|null, remote port|null, pid|null], ...]`.
 */
export const PSUTIL_DUMP = [
  "import json, socket, psutil",
  "rows = []",
  "for c in psutil.net_connections('inet'):",
  "    kind = 'tcp' if c.type == socket.SOCK_STREAM else 'udp'",
  "    r = c.raddr if c.raddr else (None, None)",
  "    rows.append([kind, c.laddr[0], c.laddr[1], r[0], r[1], c.pid])",
  "print(json.dumps(rows))",
].join("\n");

/**
 * Parses the output of {@linkcode PSUTIL_DUMP}.
 *
 * @param {string} text The JSON text.
 * @returns {Tuple[]} The tuples (psutil keeps one pid per socket).
 * @throws {TypeError} When a row has the wrong shape; the message names the row.
 */
export function parsePsutil(text) {
  const rows = JSON.parse(text);
  if (!Array.isArray(rows)) throw new TypeError("Invalid psutil output: not a JSON array");
  return rows.map((row, i) => {
    if (!Array.isArray(row) || row.length !== 6 || (row[0] !== "tcp" && row[0] !== "udp")) {
      throw new TypeError(`Invalid psutil row ${i} "${JSON.stringify(row)}"`);
    }
    const [kind, la, lp, ra, rp, pid] = row;
    return makeTuple(kind === "tcp" ? "TCP" : "UDP", la, lp, ra, rp, pid);
  });
}

/**
 * Keeps the tuples of one protocol.
 *
 * @param {Tuple[]} tuples The tuples.
 * @param {"TCP" | "UDP"} protocol The protocol to keep.
 * @returns {Tuple[]} The tuples of that protocol.
 */
export function onlyProtocol(tuples, protocol) {
  return tuples.filter((t) => t.protocol === protocol);
}

/**
 * The keys that are in exactly one of two sets.
 *
 * @param {Set<string>} a One set.
 * @param {Set<string>} b The other set.
 * @returns {Set<string>} The symmetric difference.
 */
function symmetricDifference(a, b) {
  const out = new Set();
  for (const k of a) if (!b.has(k)) out.add(k);
  for (const k of b) if (!a.has(k)) out.add(k);
  return out;
}

/**
 * Compares procconn's tuples with `ss`, which ran once before and once after procconn. A tuple
 * in both ss snapshots must be in procconn's; a tuple in neither must not be; a tuple in only
 * one snapshot appeared or went away while the tools ran and is counted as churn.
 *
 * A process whose main thread has ended (pthread_exit) runs on, but its `/proc/<pid>/fd` is
 * empty: ss and psutil list its sockets without an owner, and procconn, which reads them through
 * a thread that still runs, names it. Such a tuple is accepted when `headless` holds its pid
 * and the peer has the same socket (without an owner, or with only the owners it can see).
 *
 * @param {Tuple[]} procconn procconn's tuples.
 * @param {Tuple[]} ssBefore The tuples of the first ss run.
 * @param {Tuple[]} ssAfter The tuples of the second ss run.
 * @param {ReadonlySet<number>} [headless] Processes whose main thread had ended.
 * @returns {Comparison} The differences, sorted.
 *
 * @example
 * ```js
 * import { compareWithSs, makeTuple } from "./_tuples.mjs";
 * const t = makeTuple("TCP", "127.0.0.1", 80, null, null, 7);
 * compareWithSs([t], [t], [t]).ok; // true
 * ```
 */
export function compareWithSs(procconn, ssBefore, ssAfter, headless = new Set()) {
  const before = new Set(ssBefore.map(tupleKey));
  const after = new Set(ssAfter.map(tupleKey));
  const churn = symmetricDifference(before, after);
  const ours = new Set();
  /** The peer's ownerless keys that procconn named a headless owner for. */
  const named = new Set();
  const ownerUnseenByPeer = [];
  const socketsBefore = new Set(ssBefore.map(socketKey));
  const socketsAfter = new Set(ssAfter.map(socketKey));
  for (const t of procconn) {
    const key = tupleKey(t);
    const socket = socketKey(t);
    if (
      t.pid !== null && headless.has(t.pid) && socketsBefore.has(socket) && socketsAfter.has(socket)
    ) {
      // The peer has the socket: without an owner, or with only the owners it can see.
      named.add(tupleKey({ ...t, pid: null }));
      ownerUnseenByPeer.push(key);
      continue;
    }
    ours.add(key);
  }
  const onlyPeer = [...before].filter((k) => after.has(k) && !ours.has(k) && !named.has(k))
    .sort();
  const onlyProcconn = [...ours].filter((k) => !before.has(k) && !after.has(k)).sort();
  return {
    ok: onlyPeer.length === 0 && onlyProcconn.length === 0,
    compared: before.size - [...before].filter((k) => churn.has(k)).length,
    churn: churn.size,
    onlyProcconn,
    onlyPeer,
    pidMismatch: [],
    ownerUnseenByPeer: ownerUnseenByPeer.sort(),
  };
}

/**
 * Groups tuples by socket: socket key to the set of pids (null for no owner).
 *
 * @param {Tuple[]} tuples The tuples.
 * @returns {Map<string, Set<number | null>>} The owners of each socket.
 */
function ownersBySocket(tuples) {
  /** @type {Map<string, Set<number | null>>} */
  const out = new Map();
  for (const t of tuples) {
    const key = socketKey(t);
    let owners = out.get(key);
    if (!owners) out.set(key, owners = new Set());
    owners.add(t.pid);
  }
  return out;
}

/**
 * Compares procconn's tuples with psutil's on the sockets psutil reports. psutil keeps one pid
 * per socket (the first process it found holding it), so the check is: the same set of
 * sockets, and psutil's pid is one of procconn's pids for that socket (or both have no owner).
 * Sockets that changed between the two `ss` snapshots taken around both tools are churn.
 *
 * @param {Tuple[]} procconn procconn's tuples.
 * @param {Tuple[]} psutil psutil's tuples.
 * @param {Tuple[]} ssBefore The tuples of the ss run before both tools.
 * @param {Tuple[]} ssAfter The tuples of the ss run after both tools.
 * @param {ReadonlySet<number>} [headless] Processes whose main thread had ended: psutil lists
 *   their sockets without an owner (see {@linkcode compareWithSs}).
 * @returns {Comparison} The differences, sorted.
 */
export function compareWithPsutil(procconn, psutil, ssBefore, ssAfter, headless = new Set()) {
  const churnTuples = symmetricDifference(
    new Set(ssBefore.map(tupleKey)),
    new Set(ssAfter.map(tupleKey)),
  );
  const churn = new Set();
  for (const t of [...ssBefore, ...ssAfter]) {
    if (churnTuples.has(tupleKey(t))) churn.add(socketKey(t));
  }
  const ours = ownersBySocket(procconn);
  const theirs = ownersBySocket(psutil);
  const onlyPeer = [...theirs.keys()].filter((k) => !ours.has(k) && !churn.has(k)).sort();
  const onlyProcconn = [...ours.keys()].filter((k) => !theirs.has(k) && !churn.has(k)).sort();
  const pidMismatch = [];
  const ownerUnseenByPeer = [];
  let compared = 0;
  for (const [key, pids] of theirs) {
    const mine = ours.get(key);
    if (!mine || churn.has(key)) continue;
    compared++;
    for (const pid of pids) {
      if (pid === null && !mine.has(null) && [...mine].some((p) => p !== null && headless.has(p))) {
        ownerUnseenByPeer.push(key);
        continue;
      }
      if (!mine.has(pid)) {
        const list = (/** @type {Set<number | null>} */ s) => [...s].map((p) => p ?? "-").join(",");
        pidMismatch.push(`${key} psutil pid=${list(pids)} procconn pid=${list(mine)}`);
        break;
      }
    }
  }
  pidMismatch.sort();
  return {
    ok: onlyPeer.length === 0 && onlyProcconn.length === 0 && pidMismatch.length === 0,
    compared,
    churn: churn.size,
    onlyProcconn,
    onlyPeer,
    pidMismatch,
    ownerUnseenByPeer: ownerUnseenByPeer.sort(),
  };
}

/**
 * Writes a comparison as readable lines: a verdict, then at most `limit` keys of each kind of
 * difference.
 *
 * @param {string} title What was compared, e.g. `TCP: procconn vs ss -tanp`.
 * @param {Comparison} c The comparison.
 * @param {number} [limit] How many differences of each kind to list (default 20).
 * @returns {string} The text, ending in a newline.
 */
export function describeComparison(title, c, limit = 20) {
  const verdict = c.ok ? "identical" : "DIFFERENT";
  let text = `${title}: ${verdict} (${c.compared} compared, ${c.churn} changed while running)\n`;
  /** @type {[string, string[]][]} */
  const parts = [
    ["only in procconn", c.onlyProcconn],
    ["only in the peer", c.onlyPeer],
    ["owner differs", c.pidMismatch],
    ["owner the peer cannot see (main thread ended), accepted", c.ownerUnseenByPeer],
  ];
  for (const [label, keys] of parts) {
    if (keys.length === 0) continue;
    text += `  ${label} (${keys.length}):\n`;
    for (const k of keys.slice(0, limit)) text += `    ${k}\n`;
    if (keys.length > limit) text += `    ... and ${keys.length - limit} more\n`;
  }
  return text;
}
