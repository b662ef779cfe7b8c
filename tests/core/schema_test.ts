import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connectionJsonSchemaText } from "../../core/json_schema.ts";
import { CONNECTION_FIELDS, validateConnection } from "../../core/record.ts";
import { VERSION } from "../../version.ts";

const root = new URL("../../", import.meta.url);

describe("schema", () => {
  it("the committed JSON Schema is the one generated from the zod schema (run `deno task schema`)", () => {
    const committed = readFileSync(new URL("schema/connection.schema.json", root), "utf8");
    assert.equal(committed, connectionJsonSchemaText());
  });
  it("lists every record field as required", () => {
    const schema = JSON.parse(connectionJsonSchemaText());
    assert.deepEqual(schema.required, [...CONNECTION_FIELDS]);
    assert.equal(schema.additionalProperties, false);
  });
  it("rejects records that break it, naming the field", () => {
    assert.throws(() => validateConnection({ protocol: "SCTP" }), /protocol/);
    assert.throws(
      () =>
        validateConnection({
          protocol: "TCP",
          family: "IPv4",
          localAddress: "1.2.3.4",
          localPort: 1,
          remoteAddress: null,
          remotePort: null,
          state: "LISTEN",
          pid: 1,
          processName: "x",
          processPath: null,
          parentPid: null,
          processStartTime: "yesterday",
          unavailable: { processPath: "because" },
        }),
      /processStartTime.*unavailable\.processPath|unavailable\.processPath.*processStartTime/,
    );
  });
});

describe("version", () => {
  it("is the same in version.ts, deno.json and package.json", () => {
    for (const file of ["deno.json", "package.json"]) {
      assert.equal(JSON.parse(readFileSync(new URL(file, root), "utf8")).version, VERSION, file);
    }
  });
});
