/**
 * The connection record: one zod schema (`schema.ts`) that every output is validated against,
 * and from which the shipped JSON Schema (`schema/connection.schema.json`) is generated.
 *
 * @module
 */
import { z } from "./_zod.ts";
// @ts-types="./_connection_check.d.ts"
import { checkConnection } from "../gen/connection_check.js";
import { buildFieldSchema, connectionSchema, type ConnectionSchemaType } from "./schema.ts";
import { followsRules } from "./rules.ts";
import { useSchemaCheck } from "./check.ts";

export {
  CONNECTION_FIELDS,
  EXPLAINABLE_FIELDS,
  type ExplainableField,
  FAMILIES,
  type Family,
  type Protocol,
  PROTOCOLS,
  type Reason,
  REASONS,
  TCP_STATES,
  type TcpState,
} from "./fields.ts";

/** One endpoint and the process behind it. */
export type Connection = z.infer<ConnectionSchemaType>;

/**
 * The check every record goes through: the schema of the fields compiled by zod (`z.compile`) when
 * the packages were installed, so that a listing neither builds the schema nor compiles it (about
 * 30 ms on a slow machine), then the rules between fields (`followsRules`). It returns false for
 * a record the schema may reject; the schema itself then decides, and names what is wrong. Where
 * the install could not compile it (no esbuild), the schema is compiled on first use instead. A
 * listing that has not loaded this module runs the compiled check alone (`check.ts`), and loads
 * this module only for a record that fails it.
 */
let check: ((record: unknown) => boolean) | undefined;

function compiledCheck(): (record: unknown) => boolean {
  if (checkConnection) return checkConnection;
  const compiled = z.compile(buildFieldSchema());
  return (record) => compiled.validate(record) && followsRules(record as Connection);
}

/**
 * Validates one record against the schema.
 *
 * @param record The record to check.
 * @returns The record itself, typed (it is checked in place, not copied).
 * @throws {TypeError} When the record does not satisfy the schema; the message names the fields.
 *
 * @example
 * ```ts
 * import { validateConnection } from "./record.ts";
 * try {
 *   validateConnection({ protocol: "SCTP" });
 * } catch (err) {
 *   console.log((err as Error).message); // Invalid connection record: protocol: ...
 * }
 * ```
 */
export function validateConnection(record: unknown): Connection {
  check ??= compiledCheck();
  if (check(record)) return record as Connection;
  // The full parse only for a bad record: it names every field that is wrong.
  const result = connectionSchema().safeParse(record);
  if (result.success) return record as Connection;
  const where = result.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`);
  throw new TypeError(`Invalid connection record: ${where.join("; ")}`);
}

// From now on a listing's check names the fields of a bad record at once (check.ts).
useSchemaCheck(validateConnection);
