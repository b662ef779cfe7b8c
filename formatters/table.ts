/**
 * The console table: aligned columns under a header, fitted to the terminal width.
 *
 * @module
 */
import { checkFields, plainText } from "./_cell.ts";
import { fieldTitle, shortFieldTitle } from "./_title.ts";
import { cut, type CutSide, displayWidth, padEnd, sanitize } from "./_width.ts";
import type { FormatOptions, Formatter } from "./formatter.ts";

const DEFAULT_WIDTH = 120;
const GAP = "  ";
const HARD_MIN = 5;
const BOLD = "\x1b[1m";
const BOLD_OFF = "\x1b[22m";

/**
 * How a column gives way when the table is too wide. First rank by rank, the widest column of a
 * rank shrinks down to its `floor`; when that is not enough, rank by rank again down to `min`.
 */
interface Shrink {
  rank: number;
  floor: number;
  min: number;
  side: CutSide;
}

// Paths keep their file name, addresses their port, host names their domain. Each column first
// gives way to its floor, in rank order, and only then below it, in the same order: addresses, the
// point of the table, give way last in each round.
const PATH: Shrink = { rank: 0, floor: 16, min: HARD_MIN, side: "start" };
const LONG_TEXT: Shrink = { rank: 0, floor: 16, min: HARD_MIN, side: "end" };
const NAME: Shrink = { rank: 1, floor: 10, min: HARD_MIN, side: "end" };
const TEXT: Shrink = { rank: 2, floor: 12, min: HARD_MIN, side: "end" };
const HOST: Shrink = { rank: 2, floor: 12, min: HARD_MIN, side: "start" };
const ADDRESS: Shrink = { rank: 3, floor: 21, min: HARD_MIN, side: "middle" };
/** Rank of the fixed-form columns, which give way only where a `<reason>` is wider than values. */
const FIXED_RANK = 4;

// Short fixed-form values: cutting them would make them wrong rather than shorter.
const FIXED = new Set([
  "protocol",
  "family",
  "state",
  "localPort",
  "remotePort",
  "pid",
  "parentPid",
  "sessionId",
  "processStartTime",
  "connectionCreated",
  "snapshotTime",
  "bytesIn",
  "bytesOut",
  "segmentsIn",
  "segmentsOut",
]);

const SHRINK: ReadonlyMap<string, Shrink> = new Map([
  ["processPath", PATH],
  ["commandLine", LONG_TEXT],
  ["imageSha256", LONG_TEXT],
  ["processName", NAME],
  ["remoteHostName", HOST],
  ["localAddress", ADDRESS],
  ["remoteAddress", ADDRESS],
]);

interface Column {
  title: string;
  /** A shorter title, shown when the column is too narrow for the whole one. */
  short?: string;
  /** The field shown, for a one-field column; undefined for an `addr:port` column. */
  field?: string;
  /** How the column shrinks; null for a fixed-form column. */
  shrink: Shrink | null;
  cell(row: Record<string, unknown>): Cell;
}

interface Cell {
  text: string;
  /** Whether the text is a `<reason>` standing in for a null value. */
  reason: boolean;
}

/**
 * Creates the console-table formatter. The table needs every row to size its columns, so
 * `begin()` and `record()` return nothing and `end()` returns the whole table: a header, a rule,
 * one line per row and a footer with the row count (`12 endpoints`).
 *
 * When both `localAddress` and `localPort` are among the fields they share one `Local Address`
 * column written `addr:port` (IPv6 in brackets, `[::1]:22`); the same goes for the remote pair,
 * where a missing remote end shows as `*:*` as in netstat. A null value whose reason is in the
 * row's `unavailable` object shows that reason in angle brackets (`<access-denied>`); other nulls
 * show `-`. Control characters are replaced so a process name cannot drive the terminal.
 *
 * To fit `width`, a title wider than every value of its column gives way first (to its short
 * form, `PPID` for `Parent`, or cut with `…` when it has none), then text columns are cut with
 * `…`: the path first, then the process name, then the addresses; columns and rows are never
 * dropped, so a table of many fixed-width columns can stay wider than asked.
 *
 * @param options The fields (columns in order), the width to fit (default 120, 0 for no limit)
 * and whether the header may be bold (default false).
 * @returns A buffering formatter.
 * @throws {RangeError} When the field list is empty or the width is not a whole number >= 0.
 *
 * @example
 * ```ts
 * import { createTableFormatter } from "./table.ts";
 * const f = createTableFormatter({ fields: ["protocol", "localAddress", "localPort", "pid"] });
 * f.begin();
 * f.record({ protocol: "TCP", localAddress: "::1", localPort: 22, pid: 812 });
 * const text = f.end();
 * // Proto  Local Address  PID
 * // -----  -------------  ---
 * // TCP    [::1]:22       812
 * // 1 endpoint
 * ```
 */
export function createTableFormatter(options: FormatOptions): Formatter {
  const fields = checkFields(options.fields);
  const width = options.width ?? DEFAULT_WIDTH;
  if (!Number.isInteger(width) || width < 0) {
    throw new RangeError(
      `Invalid width "${width}": expected a whole number of columns, 0 for no limit`,
    );
  }
  const color = options.color ?? false;
  const columns = buildColumns(fields);
  const rows: string[][] = [];
  // Widest cell of each column that is a value rather than a `<reason>`, and whether a column
  // of unknown meaning has held anything but numbers (a numbers-only column is fixed-form).
  const valueWidths = columns.map((c) => displayWidth(c.short ?? c.title));
  const numeric = columns.map(() => true);
  return {
    begin: () => "",
    record(row) {
      rows.push(columns.map((c, i) => {
        const { text, reason } = c.cell(row);
        if (!reason) valueWidths[i] = Math.max(valueWidths[i], displayWidth(text));
        const v = c.field === undefined ? undefined : row[c.field];
        if (v !== null && v !== undefined && typeof v !== "number" && typeof v !== "bigint") {
          numeric[i] = false;
        }
        return text;
      }));
      return "";
    },
    end() {
      const shrink = columns.map((c, i): Shrink => {
        if (c.shrink !== null && !(c.shrink === TEXT && numeric[i])) return c.shrink;
        return { rank: FIXED_RANK, floor: valueWidths[i], min: valueWidths[i], side: "end" };
      });
      return render(columns, rows, shrink, width, color);
    },
  };
}

function buildColumns(fields: readonly string[]): Column[] {
  const columns: Column[] = [];
  const done = new Set<string>();
  for (const field of fields) {
    if (done.has(field)) continue;
    const side = field.match(/^(local|remote)(?:Address|Port)$/)?.[1];
    const address = `${side}Address`, port = `${side}Port`;
    if (side && fields.includes(address) && fields.includes(port)) {
      done.add(address).add(port);
      columns.push({
        title: fieldTitle(address),
        short: shortFieldTitle(address),
        shrink: ADDRESS,
        cell: (row) => ({ text: sanitize(endpoint(row[address], row[port])), reason: false }),
      });
      continue;
    }
    done.add(field);
    columns.push({
      title: sanitize(fieldTitle(field)),
      short: shortFieldTitle(field),
      field,
      shrink: FIXED.has(field) ? null : SHRINK.get(field) ?? TEXT,
      cell: (row) => valueCell(row, field),
    });
  }
  return columns;
}

/** `addr:port`, IPv6 in brackets; an unconnected end (no address) is `*:*`. */
function endpoint(address: unknown, port: unknown): string {
  if (address === null || address === undefined) return "*:*";
  const host = plainText(address, ",");
  const portText = port === null || port === undefined ? "*" : plainText(port, ",");
  return `${host.includes(":") ? `[${host}]` : host}:${portText}`;
}

function valueCell(row: Record<string, unknown>, field: string): Cell {
  const value = row[field];
  // An empty list (a process with no service) is "-", as a value that is not there.
  if (value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0)) {
    return { text: sanitize(plainText(value, ", ")), reason: false };
  }
  const unavailable = row.unavailable;
  if (
    typeof unavailable === "object" && unavailable !== null && Object.hasOwn(unavailable, field)
  ) {
    const reason = (unavailable as Record<string, unknown>)[field];
    if (typeof reason === "string" && reason !== "") {
      return { text: sanitize(`<${reason}>`), reason: true };
    }
  }
  // The remote end of a listener or an unconnected UDP socket, shown on its own as in `*:*`.
  if (field === "remoteAddress" || field === "remotePort") return { text: "*", reason: false };
  return { text: "-", reason: false };
}

function render(
  columns: readonly Column[],
  rows: readonly string[][],
  shrink: readonly Shrink[],
  limit: number,
  color: boolean,
): string {
  const cells = columns.map(() => 0);
  for (const row of rows) {
    row.forEach((text, i) => cells[i] = Math.max(cells[i], displayWidth(text)));
  }
  const widths = columns.map((c, i) => Math.max(cells[i], displayWidth(c.title)));
  // How narrow a title may get: its short form, or HARD_MIN with "…" for one without.
  const titleFloors = columns.map((c, i) =>
    Math.max(cells[i], c.short === undefined ? HARD_MIN : displayWidth(c.short))
  );
  if (limit > 0) fit(widths, titleFloors, shrink, limit);
  const line = (texts: readonly string[]) =>
    texts.map((t, i) => (i === texts.length - 1 ? t : padEnd(t, widths[i]))).join(GAP)
      .replace(/ +$/, "");
  const header = line(columns.map((c, i) => {
    if (displayWidth(c.title) <= widths[i] || c.short === undefined) {
      return cut(c.title, widths[i], "end");
    }
    return cut(c.short, widths[i], "end");
  }));
  const out = [
    color ? BOLD + header + BOLD_OFF : header,
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(r.map((t, i) => cut(t, widths[i], shrink[i].side)))),
    `${rows.length} ${rows.length === 1 ? "endpoint" : "endpoints"}`,
  ];
  return out.join("\n") + "\n";
}

/**
 * Narrows `widths` in place until the table fits `limit` or nothing can give way: first titles
 * wider than every value of their column (a title gives way before any value does: a title with
 * a short form takes it at once, one without is cut, down to `titleFloors`), then values.
 */
function fit(
  widths: number[],
  titleFloors: readonly number[],
  shrink: readonly Shrink[],
  limit: number,
): void {
  let excess = widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1) - limit;
  const narrow = (candidates: readonly number[], floor: (i: number) => number) => {
    while (excess > 0) {
      let pick = -1;
      for (const i of candidates) {
        if (widths[i] <= floor(i)) continue;
        if (pick < 0 || widths[i] > widths[pick]) pick = i;
      }
      if (pick < 0) return;
      widths[pick]--;
      excess--;
    }
  };
  narrow(widths.map((_, i) => i), (i) => titleFloors[i]);
  const ranks = [...new Set(shrink.map((s) => s.rank))].sort((a, b) => a - b);
  const ofRank = (rank: number) => widths.map((_, i) => i).filter((i) => shrink[i].rank === rank);
  for (const rank of ranks) narrow(ofRank(rank), (i) => shrink[i].floor);
  for (const rank of ranks) narrow(ofRank(rank), (i) => shrink[i].min);
}
