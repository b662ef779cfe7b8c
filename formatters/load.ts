/**
 * The formatter factory the command line uses: like {@linkcode createFormatter}, but the CSV
 * writer (and the csv-stringify package under it) is loaded only when CSV is asked for, so the
 * other formats start without it.
 *
 * @module
 */
import type { FormatOptions, Formatter } from "./formatter.ts";
import { checkFormat, type Format } from "./formats.ts";
import { createJsonFormatter } from "./json.ts";
import { createNdjsonFormatter } from "./ndjson.ts";
import { createTableFormatter } from "./table.ts";

/**
 * Creates a formatter for one output format, loading the CSV writer on demand.
 *
 * @param format The format, one of the names `FORMATS` lists.
 * @param options The fields to write and, for the table, the width and colour.
 * @returns A fresh formatter; use one per output.
 * @throws {RangeError} As {@linkcode createFormatter} does: an unknown format, an empty field
 *   list, a width that is not a whole number of columns.
 *
 * @example
 * ```ts
 * import { loadFormatter } from "./load.ts";
 * const f = await loadFormatter("csv", { fields: ["protocol", "localPort"] });
 * f.begin() + f.record({ protocol: "TCP", localPort: 22 }); // "protocol,localPort\r\nTCP,22\r\n"
 * ```
 */
export async function loadFormatter(format: Format, options: FormatOptions): Promise<Formatter> {
  checkFormat(format);
  if (format === "csv") return (await import("./csv.ts")).createCsvFormatter(options);
  return createLoadedFormatter(format, options);
}

/**
 * Creates a formatter of one of the formats whose code this module loads (all but CSV).
 *
 * @param format The format.
 * @param options The fields to write and, for the table, the width and colour.
 * @returns A fresh formatter.
 */
export function createLoadedFormatter(
  format: Exclude<Format, "csv">,
  options: FormatOptions,
): Formatter {
  if (format === "table") return createTableFormatter(options);
  return format === "json" ? createJsonFormatter(options) : createNdjsonFormatter(options);
}
