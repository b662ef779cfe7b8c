/**
 * The check a listing runs on every record, without loading zod: the connection schema as zod
 * compiled it when the packages were installed (`gen/connection_check.js`, written by
 * `scripts/bundle_zod.mjs`). zod itself is about 250 KB of code, and loading it cost a listing
 * 13-18 ms of its start on a slow machine; it is loaded only to name the fields of a record that
 * fails, and to compile the schema where the install could not.
 *
 * A failing record is named in full at once when `record.ts` (and so zod) is loaded, as it is
 * for every program that imports `mod.ts`. Otherwise the check throws an
 * {@linkcode InvalidConnectionError}, and {@linkcode explainInvalid} loads zod to name the fields;
 * `listConnections` and the command line do that before they report it.
 *
 * @module
 */
// @ts-types="./_connection_check.d.ts"
import { checkConnection } from "../gen/connection_check.js";
import type { Connection } from "./record.ts";

/** A record that failed the compiled check; {@linkcode explainInvalid} names its bad fields. */
export class InvalidConnectionError extends TypeError {
  /** The record that failed. */
  readonly record: unknown;

  /**
   * @param record The record that failed.
   * @param message What is wrong, as far as is known.
   */
  constructor(
    record: unknown,
    message = "Invalid connection record (explainInvalid() names the fields)",
  ) {
    super(message);
    this.name = "InvalidConnectionError";
    this.record = record;
  }
}

/** The schema's own check (`validateConnection`): returns the record or throws naming fields. */
type SchemaCheck = (record: unknown) => Connection;

let schemaCheck: SchemaCheck | undefined;

/**
 * Hands over the schema's own check; `record.ts` calls it as it loads. From then on
 * {@linkcode checkListed} runs that check, which names the fields of a failing record itself.
 *
 * @param check `validateConnection`.
 */
export function useSchemaCheck(check: SchemaCheck): void {
  schemaCheck = check;
}

/**
 * Makes {@linkcode checkListed} ready: loads the schema where the install compiled no check (it
 * had no esbuild), and does nothing otherwise.
 *
 * @returns Once records can be checked.
 */
export async function prepareCheck(): Promise<void> {
  if (checkConnection === null && schemaCheck === undefined) await import("./record.ts");
}

/**
 * Checks one record as a listing makes it.
 *
 * @param record The record.
 * @returns The record itself, typed (it is checked in place, not copied).
 * @throws {TypeError} When the record does not satisfy the schema: an
 *   {@linkcode InvalidConnectionError} when zod is not loaded, else the schema's own error.
 *
 * @example
 * ```ts
 * import { checkListed, explainInvalid, InvalidConnectionError } from "./check.ts";
 * try {
 *   checkListed({ protocol: "SCTP" });
 * } catch (err) {
 *   const why = err instanceof InvalidConnectionError ? await explainInvalid(err) : err;
 *   console.log((why as Error).message); // Invalid connection record: protocol: ...
 * }
 * ```
 */
export function checkListed(record: unknown): Connection {
  if (schemaCheck !== undefined) return schemaCheck(record);
  if (checkConnection === null) {
    throw new Error("The connection schema is not loaded: await prepareCheck() before a listing");
  }
  if (checkConnection(record)) return record as Connection;
  throw new InvalidConnectionError(record);
}

/**
 * Loads the schema and says what is wrong with the record of an
 * {@linkcode InvalidConnectionError}.
 *
 * @param error The error {@linkcode checkListed} threw.
 * @returns The schema's error, which names every bad field; or, when the schema accepts the record
 *   after all, an error saying that the compiled check is out of date.
 */
export async function explainInvalid(error: InvalidConnectionError): Promise<Error> {
  const { validateConnection } = await import("./record.ts");
  try {
    validateConnection(error.record);
  } catch (err) {
    return err instanceof Error ? err : new TypeError(String(err));
  }
  return new Error(
    "gen/connection_check.js rejects a record that core/schema.ts accepts: it was compiled " +
      "from another schema; run `npm ci` (or `node scripts/bundle_zod.mjs`) to write it again",
  );
}

/**
 * The error to report for `err`: for an {@linkcode InvalidConnectionError}, the schema's error
 * that names the record's bad fields ({@linkcode explainInvalid}); any other error as it is.
 *
 * @param err What was thrown.
 * @returns What to throw or report instead.
 */
export async function explained(err: unknown): Promise<unknown> {
  return err instanceof InvalidConnectionError ? await explainInvalid(err) : err;
}
