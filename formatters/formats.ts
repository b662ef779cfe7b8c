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

/**
 * Checks a format name given at run time.
 *
 * @param format The name.
 * @throws {RangeError} When it is not one of {@linkcode FORMATS}, naming it and the allowed ones.
 */
export function checkFormat(format: string): asserts format is Format {
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new RangeError(`Unknown format "${format}": expected one of ${FORMATS.join(", ")}`);
  }
}
