/**
 * The formatter contract shared by every output format, and the factory that picks one.
 *
 * @module
 */
import { createCsvFormatter } from "./csv.ts";
import { checkFormat, type Format } from "./formats.ts";
import { createLoadedFormatter } from "./load.ts";

export { type Format, FORMATS } from "./formats.ts";

/** What to write and how. */
export interface FormatOptions {
  /**
   * The fields to write, in order: columns of the table and the CSV, keys of the JSON objects.
   * A name given twice is written once.
   */
  fields: readonly string[];
  /** Table only: the terminal width to fit (default 120; 0 means no limit). */
  width?: number;
  /** Table only: whether ANSI colour is allowed (default false). */
  color?: boolean;
}

/**
 * A streaming writer of rows: write `begin()`, then `record(row)` for each row, then `end()`.
 * Each call returns the text to write next (possibly empty).
 */
export interface Formatter {
  /** Returns the text that opens the output (a header, an opening bracket). */
  begin(): string;
  /** Returns the text for one row. */
  record(row: Record<string, unknown>): string;
  /** Returns the text that closes the output. */
  end(): string;
}

/**
 * Creates a formatter for one output format.
 *
 * @param format One of {@linkcode FORMATS}.
 * @param options The fields to write and, for the table, the width and colour.
 * @returns A fresh formatter; use one per output.
 * @throws {RangeError} When the format is unknown, the field list is empty or the width is not a
 * whole number of columns.
 *
 * @example
 * ```ts
 * import { createFormatter } from "./formatter.ts";
 * const f = createFormatter("ndjson", { fields: ["protocol", "localPort"] });
 * const text = f.begin() + f.record({ protocol: "TCP", localPort: 22, pid: 1 }) + f.end();
 * // text === '{"protocol":"TCP","localPort":22}\n'
 * ```
 */
export function createFormatter(format: Format, options: FormatOptions): Formatter {
  checkFormat(format);
  return format === "csv" ? createCsvFormatter(options) : createLoadedFormatter(format, options);
}
