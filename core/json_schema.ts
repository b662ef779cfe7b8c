/**
 * The JSON Schema of a connection record, generated from the zod schema and the rules between
 * fields (`rules.ts`).
 *
 * @module
 */
import { z } from "./_zod.ts";
import { connectionSchema } from "./schema.ts";
import { rulesJsonSchema } from "./rules.ts";

/**
 * Renders the JSON Schema (draft 2020-12) of a connection record as the text shipped in
 * `schema/connection.schema.json`.
 *
 * @returns Pretty-printed JSON text ending in a newline.
 *
 * @example
 * ```ts
 * import { connectionJsonSchemaText } from "./json_schema.ts";
 * JSON.parse(connectionJsonSchemaText()).title; // "procconn connection record"
 * ```
 */
export function connectionJsonSchemaText(): string {
  const schema = {
    title: "procconn connection record",
    description: "One TCP or UDP endpoint and the process behind it, as procconn outputs it " +
      "(one element of --format json, one line of --format ndjson).",
    ...z.toJSONSchema(connectionSchema()),
    // zod writes each field's own type; the rules between fields follow as if/then pairs.
    allOf: rulesJsonSchema(),
  };
  return JSON.stringify(schema, null, 2) + "\n";
}
