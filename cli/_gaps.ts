/**
 * What a listing could not see, said in one line on stderr each: what it was refused, the
 * selected processes that do not run, and the network namespaces it cannot reach from its own.
 *
 * @module
 */
import { sanitize } from "../formatters/_width.ts";
import { type FilterOptions, nameMatcher } from "../core/filter.ts";
import type { Connection } from "../core/record.ts";
import type { OtherNetwork, ProcessSummary, SocketSource } from "../core/source.ts";
import { runsAsRoot, writeError } from "./_io.ts";

/**
 * Counts what could not be seen for lack of rights, for one line on stderr, so an unelevated run
 * says what it missed (the rows themselves carry the reasons): processes known by pid whose
 * details could not be read (Windows' protected processes, another user's process on Linux), and
 * endpoints whose owner could not be identified at all (Linux: another user's /proc/<pid>/fd).
 */
export class GapCounter {
  readonly #denied = new Set<number>();
  #unknownOwners = 0;

  /** Notes a row whose process could not be read or identified. */
  add(row: Connection): void {
    if (row.pid === null) {
      if (row.unavailable.pid === "access-denied") this.#unknownOwners++;
      return;
    }
    if (this.#denied.has(row.pid)) return;
    for (const field in row.unavailable) {
      if (row.unavailable[field as keyof Connection["unavailable"]] === "access-denied") {
        this.#denied.add(row.pid);
        return;
      }
    }
  }

  /**
   * The line to write on stderr, or null when nothing was refused.
   *
   * @param root This process already runs as root, so the line gives no advice to elevate.
   * @returns The line.
   */
  line(root: boolean = runsAsRoot()): string | null {
    const n = this.#denied.size, m = this.#unknownOwners;
    const parts = [];
    if (m > 0) {
      parts.push(`the owner of ${m} endpoint${m === 1 ? "" : "s"} could not be identified`);
    }
    if (n > 0) parts.push(`${n} process${n === 1 ? "" : "es"} could not be fully read`);
    if (parts.length === 0) return null;
    // Root that is still refused (a sandbox, another PID namespace's init) gains nothing by being
    // told to run elevated.
    const advice = root
      ? ""
      : `: run elevated for ${m > 0 ? "owners, " : ""}paths, command lines and users`;
    return `procconn: ${parts.join(" and ")} (access denied)${advice}`;
  }
}

/**
 * Everything a listing says on stderr after its output, one line each: what it was refused
 * ({@linkcode GapCounter}), endpoints in a TCP state this version does not know
 * ({@linkcode unknownStateLine}), connections whose TCP counters are switched off
 * ({@linkcode statsOffLine}), a selection that named no running process
 * ({@linkcode SelectionCheck}), and other network namespaces holding sockets
 * ({@linkcode otherNetworksNote}).
 */
export class ListingNotes {
  readonly #gaps = new GapCounter();
  #statsOff = 0;
  #statsUnsupported = 0;
  #unknownStates = 0;
  readonly #selection: SelectionCheck;
  readonly #pids: readonly number[] | undefined;
  readonly #narrowed: boolean;

  /**
   * @param filters The listing's filters.
   */
  constructor(filters: FilterOptions) {
    this.#selection = new SelectionCheck(filters);
    this.#pids = filters.pids;
    // Filters on the sockets themselves or on names: another namespace's count does not heed them.
    const { protocols, families, states, name, port, localPort, remotePort, local, remote } =
      filters;
    this.#narrowed = filters.listening === true ||
      [protocols, families, states, name, port, localPort, remotePort, local, remote]
        .some((value) => value !== undefined);
  }

  /** Notes a row of the listing. */
  add(row: Connection): void {
    this.#gaps.add(row);
    this.#selection.add(row);
    if (row.state === "UNKNOWN") this.#unknownStates++;
    if (row.unavailable.bytesIn === "not-enabled") this.#statsOff++;
    else if (row.unavailable.bytesIn === "not-supported") this.#statsUnsupported++;
  }

  /** Notes every row of a listing. */
  addAll(rows: Iterable<Connection>): this {
    for (const row of rows) this.add(row);
    return this;
  }

  /**
   * The lines to say, in order.
   *
   * @param source The backend the listing read.
   * @param root This process runs as root (no advice to elevate).
   * @returns The lines, none when there is nothing to say.
   */
  async lines(source: SocketSource, root: boolean = runsAsRoot()): Promise<string[]> {
    let gaps = this.#gaps.line(root);
    // Windows has no root: there an elevated token is what the advice would bring.
    if (gaps !== null && !root && source.runsElevated?.() === true) gaps = this.#gaps.line(true);
    const lines = [
      gaps,
      unknownStateLine(this.#unknownStates, source),
      statsOffLine(this.#statsOff),
      statsUnsupportedLine(this.#statsUnsupported, source),
      ...await this.#selection.lines(source, root),
      await otherNetworksNote(source, this.#pids, this.#narrowed),
    ];
    return lines.filter((line) => line !== null);
  }

  /**
   * Writes the lines.
   *
   * @param source The backend the listing read.
   * @param write Where the lines go (default: standard error).
   */
  async report(source: SocketSource, write: (line: string) => void = writeError): Promise<void> {
    for (const line of await this.lines(source)) write(line);
  }
}

/**
 * Which other network namespaces hold sockets the listing could not show, and how to list them
 * (`nsenter -t <pid> -n procconn`). A selection of pids looks at those processes only, so `--pid`
 * of a container's process explains its empty listing; a whole listing looks at every process.
 * Null when there is nothing to say (also when the backend has no namespaces or cannot read them).
 *
 * @param source The backend the listing read.
 * @param pids The `--pid` selection, if any.
 * @param narrowed Other filters were given, which the namespaces' counts do not heed.
 * @returns The line.
 */
export async function otherNetworksNote(
  source: SocketSource,
  pids: readonly number[] | undefined,
  narrowed = false,
): Promise<string | null> {
  if (!source.otherNetworks) return null;
  let networks: OtherNetwork[];
  try {
    networks = await source.otherNetworks(pids);
  } catch {
    return null; // Only a note: a namespace that cannot be read is not the listing's failure.
  }
  return otherNetworksLine(networks, narrowed);
}

/**
 * The line {@linkcode otherNetworksNote} gives, or null when there is nothing to say.
 *
 * @param networks The other namespaces that hold sockets.
 * @param narrowed Other filters than `--pid` were given: the count is of every socket.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { otherNetworksLine } from "./_gaps.ts";
 * otherNetworksLine([{ namespace: "net:[4026532291]", pids: [812], sockets: 2 }]);
 * // "procconn: 2 sockets in another network namespace (pid 812) are not listed: run procconn
 * // inside it, e.g. nsenter -t 812 -n procconn"
 * ```
 */
export function otherNetworksLine(
  networks: readonly OtherNetwork[],
  narrowed = false,
): string | null {
  if (networks.length === 0) return null;
  const sockets = networks.reduce((n, net) => n + net.sockets, 0);
  const firsts = networks.map((net) => net.pids[0]);
  const shown = firsts.slice(0, 5).join(", ") + (firsts.length > 5 ? ", ..." : "");
  const where = networks.length === 1
    ? `another network namespace (pid ${shown})`
    : `${networks.length} other network namespaces (pids ${shown})`;
  return `procconn: ${sockets} socket${sockets === 1 ? "" : "s"} in ${where} ` +
    `${sockets === 1 ? "is" : "are"} not listed${
      narrowed ? " (counted without the filters)" : ""
    }: run procconn inside ${networks.length === 1 ? "it" : "each"}, e.g. nsenter -t ${
      firsts[0]
    } -n procconn`;
}

/**
 * Notes what a `--pid` or `--name` selection found, to say afterwards when it named no running
 * process: an empty listing then means "not running" (exited, a typo), not "running without
 * sockets". Only the rows are looked at while listing; the process table is read at the end,
 * when a selected pid had no row, or the name kept no row, or (not as root) a name was selected:
 * any process it matches may hide its sockets from this user, also when others it matches have
 * rows.
 */
export class SelectionCheck {
  readonly #pids: readonly number[];
  readonly #name: FilterOptions["name"];
  readonly #seen = new Set<number>();
  #rows = 0;

  /**
   * @param filters The listing's filters (`pids` and `name` are looked at).
   */
  constructor(filters: FilterOptions) {
    this.#pids = filters.pids ?? [];
    this.#name = filters.name;
  }

  /** Notes a row of the listing. */
  add(row: Connection): void {
    this.#rows++;
    if (row.pid !== null && (this.#pids.length || this.#name !== undefined)) {
      this.#seen.add(row.pid);
    }
  }

  /**
   * The lines to write: the selected pids and names that no running process has, and the
   * selected processes that run but hide their sockets from this user (their open files may not
   * be read). None when the selection kept rows for everything it named, or there was none.
   *
   * @param source The backend, whose process table tells what runs.
   * @param root This process runs as root (no advice to elevate).
   * @returns The lines.
   */
  async lines(source: SocketSource, root: boolean = runsAsRoot()): Promise<string[]> {
    const unseen = this.#pids.filter((pid) => !this.#seen.has(pid));
    // With a name alone, every process it matches may hide its sockets from a user, also when
    // another one that matches has rows. (Root is refused by sandboxes only, rarely enough not to
    // read the whole process table again for a listing that found rows.)
    const byName = this.#name !== undefined && this.#pids.length === 0 &&
      (this.#rows === 0 || !root);
    if ((unseen.length === 0 && !byName) || !source.listProcesses) return [];
    let table: ProcessSummary[];
    try {
      table = await source.listProcesses();
    } catch {
      return []; // Only a note: the listing itself succeeded.
    }
    const name = this.#name !== undefined && this.#rows === 0 ? this.#name : undefined;
    // The selected ids no process has may be threads: looked up together, in one call.
    const listed = new Set(table.map((p) => p.pid));
    const owners = source.processesOfThreads?.(unseen.filter((pid) => !listed.has(pid))) ??
      new Map<number, number>();
    const lines = [notRunningLine(unseen, name, table, (id) => owners.get(id) ?? null)];
    if (source.hiddenOwners) {
      const running = new Map(table.map((p) => [p.pid, p]));
      const matches = this.#name === undefined ? () => true : nameMatcher(this.#name);
      // With both --pid and --name, a process is selected when it has both.
      const candidates = this.#pids.length
        ? unseen.filter((pid) => running.has(pid) && matches(running.get(pid)!.name))
        : table.filter((p) => matches(p.name) && !this.#seen.has(p.pid)).map((p) => p.pid);
      if (candidates.length) {
        try {
          lines.push(hiddenOwnersLine(await source.hiddenOwners(candidates), table, root));
        } catch {
          // Only a note, as above.
        }
      }
    }
    return lines.filter((line) => line !== null);
  }
}

/**
 * The line for endpoints whose TCP state number this version of procconn does not know (one a
 * newer Windows or kernel added), or null when there are none. They are listed with the state
 * `UNKNOWN` rather than left out.
 *
 * @param endpoints How many such endpoints the listing holds.
 * @param source The backend the listing read (it names the OS in the line).
 * @returns The line.
 *
 * @example
 * ```ts
 * import { unknownStateLine } from "./_gaps.ts";
 * unknownStateLine(2, { name: "windows-iphlpapi" });
 * // "procconn: 2 TCP endpoints are in a state this version does not know (a newer Windows?):
 * // they are listed with state UNKNOWN"
 * ```
 */
export function unknownStateLine(
  endpoints: number,
  source: Pick<SocketSource, "name">,
): string | null {
  if (endpoints === 0) return null;
  const os = source.name === "windows-iphlpapi" ? "Windows" : "kernel";
  const which = endpoints === 1 ? "1 TCP endpoint is" : `${endpoints} TCP endpoints are`;
  return `procconn: ${which} in a state this version does not know (a newer ${os}?): ` +
    `${endpoints === 1 ? "it is" : "they are"} listed with state UNKNOWN`;
}

/**
 * The line for connections whose TCP counters the OS does not keep because they are switched
 * off (Windows, `--stats` without `--enable-stats`), or null when there are none.
 *
 * @param connections How many such connections the listing holds.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { statsOffLine } from "./_gaps.ts";
 * statsOffLine(3);
 * // "procconn: 3 connections have their TCP statistics switched off, so they have no counters:
 * // --enable-stats switches them on (it asks first)"
 * ```
 */
export function statsOffLine(connections: number): string | null {
  if (connections === 0) return null;
  const which = connections === 1
    ? "1 connection has its TCP statistics"
    : `${connections} connections have their TCP statistics`;
  return `procconn: ${which} switched off, so ${connections === 1 ? "it has" : "they have"} no ` +
    "counters: --enable-stats switches them on (it asks first)";
}

/**
 * The line for connections without TCP counters because the backend cannot read them (Linux
 * tables read from `/proc/net`, a Windows without the extended statistics API), or null when
 * there are none.
 *
 * @param connections How many such connections the listing holds.
 * @param source The backend the listing read.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { statsUnsupportedLine } from "./_gaps.ts";
 * statsUnsupportedLine(2, { name: "windows-iphlpapi" });
 * // "procconn: 2 connections have no TCP counters: this Windows does not answer
 * // GetPerTcpConnectionEStats for them"
 * ```
 */
export function statsUnsupportedLine(
  connections: number,
  source: Pick<SocketSource, "name" | "countersUnavailable">,
): string | null {
  if (connections === 0) return null;
  const which = connections === 1 ? "1 connection has" : `${connections} connections have`;
  const why = source.countersUnavailable?.() ??
    (source.name === "windows-iphlpapi"
      ? "this Windows does not answer GetPerTcpConnectionEStats for them"
      : `the ${source.name} backend cannot read them on this system`);
  return `procconn: ${which} no TCP counters: ${why}`;
}

/**
 * The line for selected processes whose sockets this user cannot see, or null when there are
 * none.
 *
 * @param hidden Their pids.
 * @param table The running processes (for their names).
 * @param root This process runs as root (no advice to elevate).
 * @returns The line.
 *
 * @example
 * ```ts
 * import { hiddenOwnersLine } from "./_gaps.ts";
 * hiddenOwnersLine([812], [{ pid: 812, parentPid: 1, name: "nginx", startTime: null }], false);
 * // "procconn: the open files of pid 812 (nginx) could not be read (access denied), so its
 * // sockets are not listed: run elevated"
 * ```
 */
export function hiddenOwnersLine(
  hidden: readonly number[],
  table: readonly ProcessSummary[],
  root: boolean,
): string | null {
  if (hidden.length === 0) return null;
  const advice = root ? "" : ": run elevated";
  if (hidden.length === 1) {
    const name = table.find((p) => p.pid === hidden[0])?.name;
    const shown = name ? ` (${sanitize(name)})` : "";
    return `procconn: the open files of pid ${hidden[0]}${shown} could not ` +
      `be read (access denied), so its sockets are not listed${advice}`;
  }
  const shown = hidden.slice(0, 5).join(", ") + (hidden.length > 5 ? ", ..." : "");
  return `procconn: the open files of ${hidden.length} processes (pids ${shown}) could not be ` +
    `read (access denied), so their sockets are not listed${advice}`;
}

/**
 * Linux's own name of a process (`comm`, what `ps` and `ss` show) keeps its first 15 bytes, where
 * procconn names a process by its whole image name. A pattern without wildcards of exactly that
 * length that starts the name of a running process was most likely copied from `ps`: the hint
 * says which name it cut, and the pattern that matches it.
 */
function cutNameHint(patterns: readonly string[], table: readonly ProcessSummary[]): string | null {
  for (const pattern of patterns) {
    if (/[*?]/.test(pattern) || new TextEncoder().encode(pattern).length !== 15) continue;
    const lower = pattern.toLowerCase();
    const whole = table.find((p) => p.name?.toLowerCase().startsWith(lower));
    if (whole) {
      return `"${pattern}" is the start of the name "${whole.name}" as ps cuts it ` +
        `(--name "${pattern}*" matches it)`;
    }
  }
  return null;
}

/** How many pids, or processes a thread belongs to, a line names before it counts the rest. */
const SHOWN = 10;

/** `ids` joined, the first {@linkcode SHOWN} of them and the count of the rest. */
function someOf(ids: readonly number[]): string {
  if (ids.length <= SHOWN) return ids.join(", ");
  return `${ids.slice(0, SHOWN).join(", ")} and ${ids.length - SHOWN} more`;
}

/**
 * The line {@linkcode SelectionCheck} writes: the pids that are not in the process table (the
 * first ten, and how many more), the thread ids among them with their processes, and the name
 * patterns that match no process in it.
 *
 * @param pids Selected pids that had no row.
 * @param name The `--name` patterns, when they kept no row.
 * @param table The running processes.
 * @param processOfThread The process a thread id belongs to, or null (see
 *   {@linkcode SocketSource.processesOfThreads}).
 * @returns The line, or null when every pid runs and the name matches a process.
 *
 * @example
 * ```ts
 * import { notRunningLine } from "./_gaps.ts";
 * notRunningLine([4242], "ngnix", [{ pid: 1, parentPid: 0, name: "init", startTime: null }]);
 * // 'procconn: no process runs with pid 4242, and none matches --name "ngnix"'
 * ```
 */
export function notRunningLine(
  pids: readonly number[],
  name: FilterOptions["name"],
  table: readonly ProcessSummary[],
  processOfThread: (id: number) => number | null = () => null,
): string | null {
  const running = new Set(table.map((p) => p.pid));
  const selected = new Set(pids);
  const gone: number[] = [];
  // Thread ids by the process they belong to; a thread of a process that is selected itself says
  // nothing new, as that process's sockets are listed.
  const threads = new Map<number, number[]>();
  for (const pid of selected) {
    if (running.has(pid)) continue;
    const process = processOfThread(pid);
    if (process === null) gone.push(pid);
    else if (!selected.has(process) || !running.has(process)) {
      const ids = threads.get(process);
      if (ids) ids.push(pid);
      else threads.set(process, [pid]);
    }
  }
  const parts: string[] = [];
  if (gone.length) {
    parts.push(`no process runs with pid${gone.length === 1 ? "" : "s"} ${someOf(gone)}`);
  }
  const groups = [...threads];
  for (const [process, ids] of groups.slice(0, SHOWN)) {
    parts.push(
      `${someOf(ids)} ${ids.length === 1 ? "is a thread" : "are threads"} of pid ${process} ` +
        `(--pid ${process} lists its sockets)`,
    );
  }
  if (groups.length > SHOWN) {
    const more = groups.slice(SHOWN).reduce((n, [, ids]) => n + ids.length, 0);
    parts.push(`${more} more are threads of ${groups.length - SHOWN} other processes`);
  }
  if (name !== undefined) {
    const matches = nameMatcher(name);
    if (!table.some((p) => matches(p.name))) {
      const patterns = typeof name === "string" ? [name] : name;
      const names = patterns.map((n) => `"${n}"`).join(", ");
      parts.push(`${parts.length ? "none" : "no process"} matches --name ${names}`);
      const cut = cutNameHint(patterns, table);
      if (cut) parts.push(cut);
    }
  }
  return parts.length ? `procconn: ${parts.join(", and ")}` : null;
}
