/**
 * NDJSON output: one compact JSON object per line.
 *
 * @module
 */
import { checkFields, projectRow, toJson } from "./_cell.ts";
import type { FormatOptions, Formatter } from "./formatter.ts";

/**
 * Creates an NDJSON formatter: each row becomes one JSON object on one line, ending in a newline.
 * Each object holds exactly the chosen fields, in order; a field the row lacks is null. There is
 * nothing before the first row or after the last.
 *
 * @param options The fields to write (width and colour are ignored).
 * @returns A streaming formatter.
 * @throws {RangeError} When the field list is empty.
 *
 * @example
 * ```ts
 * import { createNdjsonFormatter } from "./ndjson.ts";
 * const f = createNdjsonFormatter({ fields: ["protocol", "pid"] });
 * f.record({ protocol: "UDP", pid: null }); // '{"protocol":"UDP","pid":null}\n'
 * ```
 */
export function createNdjsonFormatter(options: FormatOptions): Formatter {
  const fields = checkFields(options.fields);
  return {
    begin: () => "",
    record: (row) => toJson(projectRow(row, fields)) + "\n",
    end: () => "",
  };
}
