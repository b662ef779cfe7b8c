/**
 * Output formatters: the console table, a JSON array, NDJSON and CSV. Every formatter takes plain
 * row objects and an ordered field list, so the same code writes connection records and any row
 * that carries extra columns.
 *
 * @example
 * ```ts
 * import { createFormatter } from "./mod.ts";
 * const rows = [
 *   { protocol: "TCP", localAddress: "0.0.0.0", localPort: 22, remoteAddress: null, pid: 812 },
 *   { protocol: "UDP", localAddress: "::", localPort: 5353, remoteAddress: null, pid: null },
 * ];
 * const f = createFormatter("json", { fields: ["protocol", "localPort", "pid"] });
 * let text = f.begin();
 * for (const row of rows) text += f.record(row);
 * text += f.end();
 * // [
 * // {"protocol":"TCP","localPort":22,"pid":812},
 * // {"protocol":"UDP","localPort":5353,"pid":null}
 * // ]
 * ```
 *
 * @module
 */
export {
  createFormatter,
  type Format,
  type FormatOptions,
  FORMATS,
  type Formatter,
} from "./formatter.ts";
export { createTableFormatter } from "./table.ts";
export { createJsonFormatter } from "./json.ts";
export { createNdjsonFormatter } from "./ndjson.ts";
export { createCsvFormatter } from "./csv.ts";
export { loadFormatter } from "./load.ts";
