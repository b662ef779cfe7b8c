/**
 * JSON output: one array, one record per line, written as the rows arrive.
 *
 * @module
 */
import { checkFields, projectRow, toJson } from "./_cell.ts";
import type { FormatOptions, Formatter } from "./formatter.ts";

/**
 * Creates a JSON formatter. The output is one valid JSON array with each record on its own line;
 * with no rows it is `[]` and a newline. Each record holds exactly the chosen fields, in order; a
 * field the row lacks is null.
 *
 * @param options The fields to write (width and colour are ignored).
 * @returns A streaming formatter.
 * @throws {RangeError} When the field list is empty.
 *
 * @example
 * ```ts
 * import { createJsonFormatter } from "./json.ts";
 * const f = createJsonFormatter({ fields: ["pid"] });
 * const text = f.begin() + f.record({ pid: 1 }) + f.record({ pid: 2 }) + f.end();
 * // text === '[\n{"pid":1},\n{"pid":2}\n]\n'
 * ```
 */
export function createJsonFormatter(options: FormatOptions): Formatter {
  const fields = checkFields(options.fields);
  let count = 0;
  return {
    begin: () => "[",
    record(row) {
      const text = toJson(projectRow(row, fields));
      return (count++ === 0 ? "\n" : ",\n") + text;
    },
    end: () => (count === 0 ? "]\n" : "\n]\n"),
  };
}
