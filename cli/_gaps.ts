/**
 * What a listing could not see, said in one line on stderr each: what it was refused, and the
 * network namespaces it cannot reach from its own.
 *
 * @module
 */
import type { Connection } from "../core/record.ts";
import type { OtherNetwork, SocketSource } from "../core/source.ts";
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
   * Writes the line, when there is something to say.
   *
   * @param write Where the line goes (default: standard error).
   * @param root This process already runs as root, so the line gives no advice to elevate.
   */
  report(write: (line: string) => void = writeError, root: boolean = runsAsRoot()): void {
    const line = this.line(root);
    if (line !== null) write(line);
  }

  /**
   * The line {@linkcode GapCounter.report} writes, or null when nothing was refused.
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
 * {@linkcode GapCounter} over a whole list of rows.
 *
 * @param rows The listing.
 */
export function reportGaps(rows: readonly Connection[]): void {
  const gaps = new GapCounter();
  for (const row of rows) gaps.add(row);
  gaps.report();
}

/**
 * Says on stderr which other network namespaces hold sockets the listing could not show, and how
 * to list them (`nsenter -t <pid> -n procconn`). A selection of pids looks at those processes
 * only, so `--pid` of a container's process explains its empty listing; a whole listing looks at
 * every process.
 *
 * @param source The backend the listing read (nothing is said when it has no namespaces).
 * @param pids The `--pid` selection, if any.
 * @param write Where the line goes (default: standard error).
 */
export async function reportOtherNetworks(
  source: SocketSource,
  pids: readonly number[] | undefined,
  write: (line: string) => void = writeError,
): Promise<void> {
  const line = await otherNetworksNote(source, pids);
  if (line !== null) write(line);
}

/**
 * The line {@linkcode reportOtherNetworks} writes, or null when there is nothing to say (also when
 * the backend has no namespaces or cannot read them).
 *
 * @param source The backend the listing read.
 * @param pids The `--pid` selection, if any.
 * @returns The line.
 */
export async function otherNetworksNote(
  source: SocketSource,
  pids: readonly number[] | undefined,
): Promise<string | null> {
  if (!source.otherNetworks) return null;
  let networks: OtherNetwork[];
  try {
    networks = await source.otherNetworks(pids);
  } catch {
    return null; // Only a note: a namespace that cannot be read is not the listing's failure.
  }
  return otherNetworksLine(networks);
}

/**
 * The line {@linkcode reportOtherNetworks} writes, or null when there is nothing to say.
 *
 * @param networks The other namespaces that hold sockets.
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
export function otherNetworksLine(networks: readonly OtherNetwork[]): string | null {
  if (networks.length === 0) return null;
  const sockets = networks.reduce((n, net) => n + net.sockets, 0);
  const firsts = networks.map((net) => net.pids[0]);
  const shown = firsts.slice(0, 5).join(", ") + (firsts.length > 5 ? ", ..." : "");
  const where = networks.length === 1
    ? `another network namespace (pid ${shown})`
    : `${networks.length} other network namespaces (pids ${shown})`;
  return `procconn: ${sockets} socket${sockets === 1 ? "" : "s"} in ${where} ` +
    `${sockets === 1 ? "is" : "are"} not listed: run procconn inside ${
      networks.length === 1 ? "it" : "each"
    }, e.g. nsenter -t ${firsts[0]} -n procconn`;
}
