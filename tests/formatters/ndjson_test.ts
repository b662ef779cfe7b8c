import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createNdjsonFormatter } from "../../formatters/ndjson.ts";
import { CONNECTION_FIELDS } from "../../core/record.ts";
import { IPV6_FORMULA, ROWS, run, UDP_NO_OWNER } from "./_fixtures.ts";

describe("createNdjsonFormatter", () => {
  it("writes one compact object per line", () => {
    const text = run(createNdjsonFormatter({ fields: ["localAddress", "remoteAddress", "pid"] }), [
      IPV6_FORMULA,
      UDP_NO_OWNER,
    ]);
    assert.equal(
      text,
      '{"localAddress":"::1","remoteAddress":"::1","pid":4242}\n' +
        '{"localAddress":"fe80::1%12","remoteAddress":null,"pid":null}\n',
    );
  });

  it("writes lines that each parse back to a record", () => {
    const text = run(createNdjsonFormatter({ fields: CONNECTION_FIELDS }), ROWS);
    assert.ok(text.endsWith("\n"));
    const lines = text.slice(0, -1).split("\n");
    assert.equal(lines.length, ROWS.length);
    assert.deepEqual(lines.map((l) => JSON.parse(l)), ROWS);
  });

  it("keeps a record with a line break in a value on one line", () => {
    const text = run(createNdjsonFormatter({ fields: ["commandLine"] }), [{
      commandLine: "sh -c 'a\nb'",
    }]);
    assert.equal(text, '{"commandLine":"sh -c \'a\\nb\'"}\n');
  });

  it("writes a field the row lacks as null", () => {
    assert.equal(
      run(createNdjsonFormatter({ fields: ["hostName", "pid"] }), [{ pid: 3 }]),
      '{"hostName":null,"pid":3}\n',
    );
  });

  it("writes nothing for zero rows", () => {
    const f = createNdjsonFormatter({ fields: ["pid"] });
    assert.equal(f.begin(), "");
    assert.equal(f.end(), "");
    assert.equal(run(createNdjsonFormatter({ fields: ["pid"] }), []), "");
  });
});
