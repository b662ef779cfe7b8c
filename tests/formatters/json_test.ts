import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createJsonFormatter } from "../../formatters/json.ts";
import { createFormatter } from "../../formatters/mod.ts";
import { CONNECTION_FIELDS } from "../../core/record.ts";
import { ACCESS_DENIED, ROWS, run, SSHD_LISTEN, UDP_NO_OWNER } from "./_fixtures.ts";

describe("createJsonFormatter", () => {
  it("writes one array with one record per line", () => {
    const text = run(createJsonFormatter({ fields: ["protocol", "localPort", "pid"] }), [
      SSHD_LISTEN,
      UDP_NO_OWNER,
    ]);
    assert.equal(
      text,
      '[\n{"protocol":"TCP","localPort":22,"pid":812},\n{"protocol":"UDP","localPort":5353,"pid":null}\n]\n',
    );
  });

  it("parses back to the same records when every field is chosen", () => {
    const text = run(createJsonFormatter({ fields: CONNECTION_FIELDS }), ROWS);
    const parsed = JSON.parse(text);
    assert.deepEqual(parsed, ROWS);
    for (const record of parsed) assert.deepEqual(Object.keys(record), [...CONNECTION_FIELDS]);
  });

  it("keeps only the chosen fields, in the order given", () => {
    const parsed = JSON.parse(
      run(createJsonFormatter({ fields: ["unavailable", "processPath", "pid"] }), [ACCESS_DENIED]),
    );
    assert.deepEqual(parsed, [{
      unavailable: { processPath: "access-denied", processStartTime: "access-denied" },
      processPath: null,
      pid: 640,
    }]);
    assert.deepEqual(Object.keys(parsed[0]), ["unavailable", "processPath", "pid"]);
  });

  it("writes a field the row lacks as null and a repeated field once", () => {
    const text = run(createJsonFormatter({ fields: ["pid", "snapshotTime", "pid"] }), [{ pid: 1 }]);
    assert.equal(text, '[\n{"pid":1,"snapshotTime":null}\n]\n');
  });

  it("writes the same text whether a row already has exactly the fields or must be projected", () => {
    const fields = ["pid", "processName", "state"];
    const exact = { pid: 7, processName: "web", state: "LISTEN" };
    const reordered = { state: "LISTEN", processName: "web", pid: 7 };
    const extra = { pid: 7, processName: "web", state: "LISTEN", userName: "root" };
    const inherited = Object.assign(Object.create({ userName: "root" }), exact);
    const expected = '[\n{"pid":7,"processName":"web","state":"LISTEN"}\n]\n';
    for (const row of [exact, reordered, extra, inherited]) {
      assert.equal(run(createJsonFormatter({ fields }), [row]), expected);
    }
    // An undefined value is written as null, not left out.
    assert.equal(
      run(createJsonFormatter({ fields }), [{ pid: 7, processName: undefined, state: "LISTEN" }]),
      '[\n{"pid":7,"processName":null,"state":"LISTEN"}\n]\n',
    );
  });

  it("keeps strings intact, including quotes, backslashes and line breaks", () => {
    const name = 'a "b"\\c\nd';
    const parsed = JSON.parse(run(createJsonFormatter({ fields: ["processName"] }), [{
      processName: name,
    }]));
    assert.equal(parsed[0].processName, name);
  });

  it("writes bigints as numbers when exact, else as strings", () => {
    const text = run(createJsonFormatter({ fields: ["a", "b"] }), [{ a: 5n, b: 2n ** 64n }]);
    assert.deepEqual(JSON.parse(text), [{ a: 5, b: "18446744073709551616" }]);
  });

  it("writes [] and a newline for zero rows", () => {
    assert.equal(run(createJsonFormatter({ fields: ["pid"] }), []), "[]\n");
  });

  it("streams: begin opens the array, record returns its own line, end closes it", () => {
    const f = createJsonFormatter({ fields: ["pid"] });
    assert.equal(f.begin(), "[");
    assert.equal(f.record({ pid: 1 }), '\n{"pid":1}');
    assert.equal(f.record({ pid: 2 }), ',\n{"pid":2}');
    assert.equal(f.end(), "\n]\n");
  });

  it("rejects an empty field list", () => {
    assert.throws(() => createJsonFormatter({ fields: [] }), RangeError);
  });
});

describe("field names", () => {
  it("a field named __proto__ is an ordinary key, in JSON and NDJSON", () => {
    for (const format of ["json", "ndjson"] as const) {
      const f = createFormatter(format, { fields: ["__proto__", "pid"] });
      const row = JSON.parse('{"__proto__": "x", "pid": 1}');
      const text = f.begin() + f.record(row) + f.end();
      const parsed = format === "json" ? JSON.parse(text)[0] : JSON.parse(text);
      assert.deepEqual(Object.keys(parsed), ["__proto__", "pid"]);
      assert.equal(Object.getOwnPropertyDescriptor(parsed, "__proto__")?.value, "x");
    }
  });
});
