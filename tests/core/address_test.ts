import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatIPv4, formatIPv6, mappedIPv4, parseAddress } from "../../core/address.ts";

function v6(...words: number[]): Uint8Array {
  const b = new Uint8Array(16);
  words.forEach((w, i) => {
    b[2 * i] = w >> 8;
    b[2 * i + 1] = w & 0xff;
  });
  return b;
}

describe("formatIPv4", () => {
  it("reads four bytes at an offset", () => {
    assert.equal(formatIPv4(new Uint8Array([9, 192, 168, 1, 20]), 1), "192.168.1.20");
  });
});

describe("formatIPv6", () => {
  it("compresses the longest zero run (RFC 5952)", () => {
    assert.equal(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), "2001:db8::1:0:0:1");
    assert.equal(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), "2001:db8::1");
  });
  it("writes loopback and unspecified", () => {
    assert.equal(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 1)), "::1");
    assert.equal(formatIPv6(new Uint8Array(16)), "::");
  });
  it("does not compress a single zero word", () => {
    assert.equal(formatIPv6(v6(1, 0, 2, 3, 4, 5, 6, 7)), "1:0:2:3:4:5:6:7");
  });
  it("keeps the scope id", () => {
    assert.equal(formatIPv6(v6(0xfe80, 0, 0, 0, 0, 0, 0, 1), 0, 12), "fe80::1%12");
  });
  it("writes IPv4-mapped addresses with a dotted tail", () => {
    assert.equal(formatIPv6(v6(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1)), "::ffff:127.0.0.1");
  });
});

describe("parseAddress", () => {
  it("round-trips with formatIPv6", () => {
    for (
      const text of ["::1", "fe80::1", "2001:db8::1:0:0:1", "::ffff:10.1.2.3", "1:2:3:4:5:6:7:8"]
    ) {
      const parsed = parseAddress(text);
      assert.ok(parsed, text);
      assert.equal(formatIPv6(parsed.bytes), text);
    }
  });
  it("ignores a scope suffix and parses IPv4", () => {
    assert.equal(parseAddress("fe80::1%eth0")?.version, 6);
    assert.deepEqual(parseAddress("10.0.0.255")?.bytes, new Uint8Array([10, 0, 0, 255]));
  });
  it("rejects what is not an address", () => {
    for (
      const bad of ["300.1.1.1", "1.2.3", "1::2::3", "12345::", "hello", "1:2:3:4:5:6:7:8:9", ""]
    ) {
      assert.equal(parseAddress(bad), null, bad);
    }
  });
  it("finds the IPv4 inside a mapped address only", () => {
    assert.deepEqual(
      mappedIPv4(parseAddress("::ffff:1.2.3.4")!.bytes),
      new Uint8Array([1, 2, 3, 4]),
    );
    assert.equal(mappedIPv4(parseAddress("::1.2.3.4")!.bytes), null);
  });
});
