import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCsvFormatter } from "../../formatters/csv.ts";
import { ACCESS_DENIED, IPV6_FORMULA, run, SSHD_LISTEN, UDP_NO_OWNER } from "./_fixtures.ts";

/** One data line (without the header) for a single value. */
function cell(value: unknown): string {
  const text = run(createCsvFormatter({ fields: ["v"] }), [{ v: value }]);
  assert.ok(text.startsWith("v\r\n"), JSON.stringify(text));
  return text.slice("v\r\n".length);
}

describe("createCsvFormatter", () => {
  it("writes a header of the field names, then one CRLF-terminated record per row", () => {
    const fields = ["protocol", "localPort", "remotePort", "pid", "processName", "processPath"];
    const text = run(createCsvFormatter({ fields }), [SSHD_LISTEN, IPV6_FORMULA, ACCESS_DENIED]);
    assert.equal(
      text,
      "protocol,localPort,remotePort,pid,processName,processPath\r\n" +
        "TCP,22,,812,sshd,/usr/sbin/sshd\r\n" +
        `TCP,22,51514,4242,'=cmd|' /C calc'!A0,"C:\\Tools\\a,b""c.exe"\r\n` +
        "TCP,50000,443,640,'@svc-host,\r\n",
    );
  });

  it("quotes a value with a comma and a quote as RFC 4180 says", () => {
    assert.equal(cell('a,b"c'), '"a,b""c"\r\n');
  });

  it("quotes values holding a line break or a lone CR", () => {
    assert.equal(cell("a\nb"), '"a\nb"\r\n');
    assert.equal(cell("a\r\nb"), '"a\r\nb"\r\n');
    assert.equal(cell("a\rb"), '"a\rb"\r\n');
  });

  it("writes lists joined by ; and objects as key=value pairs joined by ;", () => {
    const text = run(createCsvFormatter({ fields: ["services", "unavailable"] }), [
      IPV6_FORMULA,
      UDP_NO_OWNER,
    ]);
    assert.equal(
      text,
      "services,unavailable\r\n" +
        "Dnscache;LanmanWorkstation,\r\n" +
        ",pid=no-owner;processName=no-owner;processPath=no-owner;parentPid=no-owner\r\n",
    );
  });

  it("writes null and missing values as empty cells, booleans and numbers as text", () => {
    const text = run(createCsvFormatter({ fields: ["a", "b", "c", "d", "e"] }), [{
      a: null,
      c: true,
      d: false,
      e: 1.5,
    }]);
    assert.equal(text, "a,b,c,d,e\r\n,,true,false,1.5\r\n");
  });

  it("writes dates as ISO 8601 text", () => {
    assert.equal(cell(new Date(Date.UTC(2026, 10, 22, 1, 2, 3))), "2026-11-22T01:02:03.000Z\r\n");
  });

  it("puts a ' before text a spreadsheet would run as a formula", () => {
    for (const text of ["=1+2", "+1", "-1", "@SUM(A1)"]) assert.equal(cell(text), `'${text}\r\n`);
    assert.equal(cell("\tx"), "'\tx\r\n");
    assert.equal(cell("\rx"), `"'\rx"\r\n`);
    assert.equal(cell(["=a", "b"]), "'=a;b\r\n");
  });

  it("leaves numbers alone, negative ones included", () => {
    assert.equal(cell(-5), "-5\r\n");
    assert.equal(cell(-5n), "-5\r\n");
    assert.equal(cell("1-2"), "1-2\r\n");
  });

  it("guards header names like values", () => {
    assert.equal(createCsvFormatter({ fields: ["pid", "=x"] }).begin(), "pid,'=x\r\n");
  });

  it("writes only the header for zero rows", () => {
    assert.equal(
      run(createCsvFormatter({ fields: ["pid", "processName"] }), []),
      "pid,processName\r\n",
    );
  });

  it("rejects an empty field list", () => {
    assert.throws(() => createCsvFormatter({ fields: [] }), RangeError);
  });
});
