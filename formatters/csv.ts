/**
 * CSV output (RFC 4180), written with csv-stringify.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import { checkFields, plainText } from "./_cell.ts";
import type { FormatOptions, Formatter } from "./formatter.ts";

const CSV_OPTIONS = {
  // RFC 4180 ends records with CRLF.
  record_delimiter: "windows",
  // Without this, csv-stringify quotes only the configured delimiter, so a lone LF or CR inside
  // a value would be left bare once the delimiter is CRLF.
  quote_record_delimiter: true,
  // OWASP's advice against formula injection: a text cell starting with = + - @ tab or CR gets
  // a leading apostrophe; cells passed as numbers are left alone.
  escape_formulas: true,
} as const;

/**
 * Creates a CSV formatter: a header row of the field names, then one record per row, every line
 * ending in CRLF (RFC 4180). Quoting is csv-stringify's. Null and missing values are empty cells,
 * numbers and booleans are written as text, a list as its items joined by `;`, an object (such as
 * `unavailable`) as `key=value` pairs joined by `;`. A text cell that a spreadsheet would run as a
 * formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`; numbers are never
 * changed, so `-1` stays a number.
 *
 * @param options The fields to write (width and colour are ignored).
 * @returns A streaming formatter.
 * @throws {RangeError} When the field list is empty.
 *
 * @example
 * ```ts
 * import { createCsvFormatter } from "./csv.ts";
 * const f = createCsvFormatter({ fields: ["pid", "processPath"] });
 * const text = f.begin() + f.record({ pid: 7, processPath: 'C:\\a,b"c.exe' }) + f.end();
 * // text === 'pid,processPath\r\n7,"C:\\a,b""c.exe"\r\n'
 * ```
 */
export function createCsvFormatter(options: FormatOptions): Formatter {
  const fields = checkFields(options.fields);
  return {
    begin: () => stringify([fields], CSV_OPTIONS),
    record: (row) => stringify([fields.map((f) => csvCell(row[f]))], CSV_OPTIONS),
    end: () => "",
  };
}

/** Numbers go to csv-stringify as numbers (so they escape the formula guard), the rest as text. */
function csvCell(value: unknown): string | number | bigint {
  if (typeof value === "number" || typeof value === "bigint") return value;
  return plainText(value, ";");
}
