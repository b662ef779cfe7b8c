/**
 * The names of the output formats, apart from the formatters themselves, so that the command
 * line can check `--format` without loading them.
 *
 * @module
 */

/** The output formats procconn writes. */
export const FORMATS = ["table", "json", "ndjson", "csv"] as const;

/** An output format. */
export type Format = typeof FORMATS[number];
