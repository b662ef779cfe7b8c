import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createFormatter, type Format, FORMATS, loadFormatter } from "../../formatters/mod.ts";
import { run, SSHD_LISTEN } from "./_fixtures.ts";

describe("createFormatter", () => {
  it("lists the four formats", () => {
    assert.deepEqual([...FORMATS], ["table", "json", "ndjson", "csv"]);
  });

  it("returns the formatter of each format", () => {
    const fields = ["protocol", "pid"];
    const out = (format: Format) => run(createFormatter(format, { fields }), [SSHD_LISTEN]);
    assert.equal(out("json"), '[\n{"protocol":"TCP","pid":812}\n]\n');
    assert.equal(out("ndjson"), '{"protocol":"TCP","pid":812}\n');
    assert.equal(out("csv"), "protocol,pid\r\nTCP,812\r\n");
    assert.equal(out("table"), "Proto  PID\n-----  ---\nTCP    812\n1 endpoint\n");
  });

  it("writes an empty output of each format for zero rows", () => {
    const out = (format: Format) => run(createFormatter(format, { fields: ["pid"] }), []);
    assert.equal(out("json"), "[]\n");
    assert.equal(out("ndjson"), "");
    assert.equal(out("csv"), "pid\r\n");
    assert.equal(out("table"), "PID\n---\n0 endpoints\n");
  });

  it("rejects an unknown format, naming it", () => {
    assert.throws(
      () => createFormatter("xml" as Format, { fields: ["pid"] }),
      (err: Error) => err instanceof RangeError && err.message.startsWith('Unknown format "xml"'),
    );
  });

  it("rejects an empty field list and an empty field name in every format", () => {
    for (const format of FORMATS) {
      assert.throws(() => createFormatter(format, { fields: [] }), RangeError, format);
      assert.throws(() => createFormatter(format, { fields: ["pid", ""] }), RangeError, format);
    }
  });

  it("writes a repeated field once in every format", () => {
    for (const format of FORMATS) {
      const once = run(createFormatter(format, { fields: ["pid"] }), [SSHD_LISTEN]);
      const twice = run(createFormatter(format, { fields: ["pid", "pid"] }), [SSHD_LISTEN]);
      assert.equal(twice, once, format);
    }
  });
});

describe("loadFormatter", () => {
  it("makes the same formatter as createFormatter in every format", async () => {
    const fields = ["protocol", "localPort", "pid", "processName"];
    for (const format of FORMATS) {
      const loaded = run(await loadFormatter(format, { fields, width: 60 }), [SSHD_LISTEN]);
      assert.equal(loaded, run(createFormatter(format, { fields, width: 60 }), [SSHD_LISTEN]));
    }
  });

  it("rejects what createFormatter rejects", async () => {
    await assert.rejects(
      loadFormatter("xml" as Format, { fields: ["pid"] }),
      (err: Error) => err instanceof RangeError && err.message.startsWith('Unknown format "xml"'),
    );
    for (const format of FORMATS) {
      await assert.rejects(loadFormatter(format, { fields: [] }), RangeError, format);
    }
  });
});
