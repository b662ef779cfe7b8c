/** Writes schema/connection.schema.json from the zod schema: `deno task schema`. */
import { connectionJsonSchemaText } from "../core/json_schema.ts";

const target = new URL("../schema/connection.schema.json", import.meta.url);
Deno.writeTextFileSync(target, connectionJsonSchemaText());
console.log(`wrote ${target.pathname}`);
