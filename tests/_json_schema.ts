// The shipped JSON Schema (schema/connection.schema.json) as a validator, through Ajv: a checker
// we did not write, so that the records procconn prints are held to the file users are given.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const SCHEMA = new URL("../schema/connection.schema.json", import.meta.url);

/** Checks one value against the shipped schema: the errors, empty when it is a valid record. */
export type ShippedCheck = (value: unknown) => string[];

/** Compiles the shipped JSON Schema (draft 2020-12, formats checked). */
export function shippedSchemaCheck(): ShippedCheck {
  // Strict: a keyword Ajv does not know, or one that cannot apply to its type, is an error.
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, "utf8")));
  return (value) =>
    validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || "(record)"} ${e.message}`);
}
