/**
 * `--group-by process`: one block per owning process with its endpoints and a count per state,
 * as a text view or as JSON.
 *
 * @module
 */
import type { Connection, Reason } from "../core/record.ts";
import { TCP_STATES } from "../core/fields.ts";
import { checkFields, jsonReplacer, plural, projectRow } from "./_cell.ts";
import { cut, sanitize } from "./_width.ts";
import { createTableFormatter } from "./table.ts";

/** Options of {@linkcode formatGroups}. */
export interface GroupFormatOptions {
  /** `table`: text blocks; `json`: an array of groups. */
  format: "table" | "json";
  /** Fields of each endpoint: columns of the text view, keys of the JSON records. */
  fields: readonly string[];
  /** Text only: the terminal width to fit (0 or absent: no limit). */
  width?: number;
  /** Text only: whether ANSI colour (bold titles) is allowed. */
  color?: boolean;
}

/** The endpoints of one process, or of sockets that have no known owner. */
export interface ProcessGroup {
  /** Process id; null for the sockets without an owner. */
  pid: number | null;
  /** Executable name of the process. */
  processName: string | null;
  /** Full path of its image. */
  processPath: string | null;
  /** Its parent process id. */
  parentPid: number | null;
  /** Its start time (ISO 8601, UTC). */
  processStartTime: string | null;
  /** For the sockets without an owner: why there is none (`no-owner`, `access-denied`); else null. */
  reason: Reason | null;
  /** Endpoints per TCP state, UDP endpoints under `UDP`; states in netstat's order. */
  counts: Record<string, number>;
  /** The endpoints, in listing order. */
  connections: Connection[];
}

/** Fields that describe the process: shown once in the block title, not on every line. */
const PROCESS_FIELDS = new Set([
  "pid",
  "processName",
  "processPath",
  "parentPid",
  "processStartTime",
]);

const INDENT = "    ";
const BOLD = "\x1b[1m";
const BOLD_OFF = "\x1b[22m";
const COUNT_ORDER = [...TCP_STATES, "UDP"];

/**
 * Groups records by owning process. A process is its pid and start time, so a reused pid makes a
 * second group. Rows without an owner form one group per reason. Groups are ordered by process
 * name (case-insensitive), pid and start time; the ownerless groups come last.
 *
 * @param rows The records.
 * @returns The groups with their counts.
 *
 * @example
 * ```ts
 * import { groupByProcess } from "./group.ts";
 * groupByProcess([]); // []
 * ```
 */
export function groupByProcess(rows: readonly Connection[]): ProcessGroup[] {
  const groups = new Map<string, ProcessGroup>();
  for (const row of rows) {
    const reason = row.pid === null ? row.unavailable.pid ?? "no-owner" : null;
    const key = JSON.stringify([row.pid, row.processStartTime, reason]);
    let group = groups.get(key);
    if (!group) {
      const owned = row.pid !== null;
      group = {
        pid: row.pid,
        processName: owned ? row.processName : null,
        processPath: owned ? row.processPath : null,
        parentPid: owned ? row.parentPid : null,
        processStartTime: owned ? row.processStartTime : null,
        reason,
        counts: {},
        connections: [],
      };
      groups.set(key, group);
    }
    group.connections.push(row);
    const bucket = row.state ?? "UDP";
    group.counts[bucket] = (group.counts[bucket] ?? 0) + 1;
  }
  const sorted = [...groups.values()].sort(compareGroups);
  for (const group of sorted) group.counts = orderedCounts(group.counts);
  return sorted;
}

function compareGroups(a: ProcessGroup, b: ProcessGroup): number {
  if ((a.pid === null) !== (b.pid === null)) return a.pid === null ? 1 : -1;
  if (a.pid === null || b.pid === null) return (a.reason ?? "").localeCompare(b.reason ?? "");
  const an = a.processName?.toLowerCase(), bn = b.processName?.toLowerCase();
  if (an !== bn) {
    if (an === undefined) return 1;
    if (bn === undefined) return -1;
    return an < bn ? -1 : 1;
  }
  return (a.pid - b.pid) ||
    (a.processStartTime ?? "").localeCompare(b.processStartTime ?? "");
}

function orderedCounts(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of COUNT_ORDER) if (counts[key]) out[key] = counts[key];
  return out;
}

/**
 * Writes the listing grouped by process.
 *
 * Text: one column header, then for each group a title line (`name (pid)  path  N endpoints:
 * LISTEN 2, ESTABLISHED 1`, or `(no owner)  reason: no-owner ...`) and its endpoints, indented,
 * in columns shared by every group; the process fields are left out of the columns since the
 * title shows them. The last line counts endpoints and processes.
 *
 * JSON: an array of groups, `{pid, processName, processPath, parentPid, processStartTime, reason,
 * counts, connections}`, each connection holding the chosen fields, one connection per line.
 *
 * @param rows The records, as the listing returns them.
 * @param options The format, the endpoint fields, and for text the width and colour.
 * @returns The text, ending in a newline.
 * @throws {RangeError} When the field list is empty or the format is not `table` or `json`.
 *
 * @example
 * ```ts
 * import { formatGroups } from "./group.ts";
 * formatGroups([], { format: "json", fields: ["localPort"] }); // "[]\n"
 * ```
 */
export function formatGroups(rows: readonly Connection[], options: GroupFormatOptions): string {
  const fields = checkFields(options.fields);
  const groups = groupByProcess(rows);
  if (options.format === "json") return groupsJson(groups, fields);
  if (options.format !== "table") {
    throw new RangeError(
      `Invalid group format "${String(options.format)}": expected table or json`,
    );
  }
  return groupsText(groups, fields, options.width ?? 0, options.color ?? false);
}

function groupsJson(groups: readonly ProcessGroup[], fields: readonly string[]): string {
  if (groups.length === 0) return "[]\n";
  const blocks = groups.map((g) => {
    const { connections, ...head } = g;
    const headText = JSON.stringify(head, jsonReplacer);
    const lines = connections.map((c) =>
      "  " + JSON.stringify(projectRow(c, fields), jsonReplacer)
    );
    return `${headText.slice(0, -1)},"connections":[\n${lines.join(",\n")}\n]}`;
  });
  return `[\n${blocks.join(",\n")}\n]\n`;
}

function groupsText(
  groups: readonly ProcessGroup[],
  fields: readonly string[],
  width: number,
  color: boolean,
): string {
  const total = groups.reduce((n, g) => n + g.connections.length, 0);
  const processes = groups.filter((g) => g.pid !== null).length;
  const footer = `${plural(total, "endpoint")} in ${plural(processes, "process", "processes")}`;
  if (total === 0) return footer + "\n";

  const columns = fields.filter((f) => !PROCESS_FIELDS.has(f));
  const table = createTableFormatter({
    fields: columns.length ? columns : fields,
    width: width > 0 ? Math.max(1, width - INDENT.length) : 0,
    color,
  });
  table.begin();
  for (const group of groups) for (const row of group.connections) table.record(row);
  // The table writes a header, a rule, one line per row in order, and a footer.
  const lines = table.end().replace(/\n$/, "").split("\n");
  if (lines.length !== total + 3) {
    throw new Error(`Unexpected table layout: ${lines.length} lines for ${total} rows`);
  }
  const out = [INDENT + lines[0], INDENT + lines[1]];
  let next = 2;
  for (const group of groups) {
    let title = sanitize(groupTitle(group));
    if (width > 0) title = cut(title, width, "end");
    out.push(color ? BOLD + title + BOLD_OFF : title);
    for (let i = 0; i < group.connections.length; i++) out.push(INDENT + lines[next++]);
  }
  out.push(footer);
  return out.join("\n") + "\n";
}

function groupTitle(group: ProcessGroup): string {
  const counts = Object.entries(group.counts).map(([k, n]) => `${k} ${n}`).join(", ");
  const summary = `${plural(group.connections.length, "endpoint")}: ${counts}`;
  if (group.pid === null) return `(no owner)  reason: ${group.reason}  ${summary}`;
  const first = group.connections[0];
  const name = group.processName ?? reasonText(first, "processName");
  const path = group.processPath ?? reasonText(first, "processPath");
  return `${name} (${group.pid})  ${path}  ${summary}`;
}

function reasonText(row: Connection, field: "processName" | "processPath"): string {
  const reason = row.unavailable[field];
  return reason ? `<${reason}>` : "-";
}
