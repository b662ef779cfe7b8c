/**
 * What a listing could not see for lack of rights, said in one line on stderr.
 *
 * @module
 */
import type { Connection } from "../core/record.ts";
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
    const n = this.#denied.size, m = this.#unknownOwners;
    const parts = [];
    if (m > 0) {
      parts.push(`the owner of ${m} endpoint${m === 1 ? "" : "s"} could not be identified`);
    }
    if (n > 0) parts.push(`${n} process${n === 1 ? "" : "es"} could not be fully read`);
    if (parts.length === 0) return;
    // Root that is still refused (a sandbox, another PID namespace's init) gains nothing by being
    // told to run elevated.
    const advice = root
      ? ""
      : `: run elevated for ${m > 0 ? "owners, " : ""}paths, command lines and users`;
    write(`procconn: ${parts.join(" and ")} (access denied)${advice}`);
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
