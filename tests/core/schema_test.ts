import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connectionJsonSchemaText } from "../../core/json_schema.ts";
import { CONNECTION_FIELDS, validateConnection } from "../../core/record.ts";
import { connectionSchema } from "../../core/schema.ts";
import { ownedConnection } from "../_record.ts";
import { VERSION } from "../../version.ts";

const ConnectionSchema = connectionSchema();

const root = new URL("../../", import.meta.url);

describe("schema", () => {
  it("the committed JSON Schema is the one generated from the zod schema (run `deno task schema`)", () => {
    const committed = readFileSync(new URL("schema/connection.schema.json", root), "utf8");
    assert.equal(committed, connectionJsonSchemaText());
  });
  it("the field list of core/fields.ts is the schema's keys, in order", () => {
    assert.deepEqual(Object.keys(ConnectionSchema.shape), [...CONNECTION_FIELDS]);
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
  it("the compiled check rejects every break the schema rejects, and accepts the record as it is", () => {
    const good = ownedConnection({ localPort: 443 });
    assert.equal(validateConnection(good), good, "checked in place, not copied");
    const breaks: Record<string, unknown>[] = [
      { protocol: "tcp" },
      { localAddress: "" },
      { localPort: 65536 },
      { localPort: 1.5 },
      { remotePort: -1 },
      { state: "established" },
      { pid: 2 ** 32 },
      { processName: 7 },
      { processStartTime: "2026-11-28 10:00" },
      { services: "sshd.service" },
      { services: [1] },
      { imageSha256: "ABC" },
      { bytesIn: -5 },
      { unavailable: { processPath: "because" } },
      { unavailable: { notAField: "access-denied" } },
      { extra: true },
    ];
    for (const change of breaks) {
      const bad = { ...good, ...change };
      assert.equal(ConnectionSchema.safeParse(bad).success, false, JSON.stringify(change));
      assert.throws(() => validateConnection(bad), TypeError, JSON.stringify(change));
    }
    const { pid: _, ...missing } = good;
    assert.throws(() => validateConnection(missing), /pid/);
  });
});

describe("version", () => {
  it("is the same in version.ts, deno.json and package.json", () => {
    for (const file of ["deno.json", "package.json"]) {
      assert.equal(JSON.parse(readFileSync(new URL(file, root), "utf8")).version, VERSION, file);
    }
  });
});
