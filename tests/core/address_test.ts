import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  compareAddressText,
  formatIPv4,
  formatIPv6,
  isScopedIPv6,
  mappedIPv4,
  parseAddress,
} from "../../core/address.ts";

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

describe("isScopedIPv6", () => {
  it("is true for link-local unicast and interface- or link-local multicast only", () => {
    const bytes = (text: string) => parseAddress(text)!.bytes;
    for (const text of ["fe80::1", "febf::1", "ff02::1", "ff01::1", "ff12::1:2"]) {
      assert.equal(isScopedIPv6(bytes(text)), true, text);
    }
    for (const text of ["fec0::1", "ff05::2", "ff0e::1", "2001:db8::1", "::1", "::"]) {
      assert.equal(isScopedIPv6(bytes(text)), false, text);
    }
    const buffer = new Uint8Array(20);
    buffer.set(bytes("ff02::1"), 4);
    assert.equal(isScopedIPv6(buffer, 4), true);
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

describe("compareAddressText", () => {
  const collator = new Intl.Collator("en-US");
  const sign = (n: number) => Math.sign(n);

  it("orders as the en-US collator does, on random address-like texts", () => {
    // A fixed-seed generator, so a failure names texts that can be tried again.
    let seed = 0x2545f491;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const alphabets = ["0123456789.", "0123456789abcdefABCDEF:", "_-:.@/%+0123456789azAZqQ"];
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const alphabet = alphabets[next(alphabets.length)];
      let text = "";
      for (let k = next(9); k >= 0; k--) text += alphabet[next(alphabet.length)];
      texts.push(text);
      // A neighbour that differs in one place (often only in case) tests the tie-breaks.
      const at = next(text.length);
      const c = text[at];
      const other = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
      texts.push(
        text.slice(0, at) + (other === c ? alphabet[next(alphabet.length)] : other) +
          text.slice(at + 1),
      );
    }
    for (let i = 0; i + 1 < texts.length; i++) {
      for (const [a, b] of [[texts[i], texts[i + 1]], [texts[i], texts[next(texts.length)]]]) {
        assert.equal(sign(compareAddressText(a, b)), sign(collator.compare(a, b)), `${a} vs ${b}`);
      }
    }
  });

  it("orders real addresses as the collator does, and hands other text to it", () => {
    const addresses = [
      "::1",
      "::",
      "::ffff:1.2.3.4",
      "::ffff:1:2",
      "fe80::1%eth1",
      "fe80::1%Eth0",
      "fe80::1%12",
      "127.0.0.1",
      "10.0.0.10",
      "10.0.0.2",
      "0.0.0.0",
      "2001:db8::a",
      "2001:DB8::A",
      "fe80::1%wlp0s20f3",
      "fe80::1%enp0s31f6-ä",
      "",
    ];
    assert.deepEqual(
      [...addresses].sort(compareAddressText),
      [...addresses].sort(collator.compare),
    );
    assert.equal(sign(compareAddressText("fe80::1%Eth0", "fe80::1%eth0")), 1);
    assert.equal(compareAddressText("::1", "::1"), 0);
  });
});
