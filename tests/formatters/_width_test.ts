import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cut, displayWidth, padEnd, sanitize } from "../../formatters/_width.ts";

describe("displayWidth", () => {
  it("counts ASCII by length, wide characters as two and combining marks as none", () => {
    assert.equal(displayWidth("svchost.exe"), 11);
    assert.equal(displayWidth("进程"), 4);
    assert.equal(displayWidth("ｆｕｌｌ"), 8);
    assert.equal(displayWidth("e\u0301"), 1);
    assert.equal(displayWidth("ü…"), 2);
    assert.equal(displayWidth("🔥x"), 3);
  });
});

describe("padEnd", () => {
  it("pads to a display width", () => {
    assert.equal(padEnd("进", 4), "进  ");
    assert.equal(padEnd("abc", 2), "abc");
  });
});

describe("cut", () => {
  it("returns text that fits unchanged", () => {
    assert.equal(cut("abc", 3, "end"), "abc");
  });

  it("cuts at the end, the start or the middle with …", () => {
    assert.equal(cut("abcdefgh", 5, "end"), "abcd…");
    assert.equal(cut("abcdefgh", 5, "start"), "…efgh");
    assert.equal(cut("abcdefgh", 5, "middle"), "ab…gh");
    assert.equal(cut("abcdefgh", 6, "middle"), "abc…gh");
  });

  it("never splits a wide character or a combining sequence", () => {
    assert.equal(cut("进程进程", 4, "end"), "进…");
    assert.equal(cut("ae\u0301e\u0301e\u0301", 3, "end"), "ae\u0301…");
  });

  it("handles widths below two", () => {
    assert.equal(cut("abc", 1, "end"), "…");
    assert.equal(cut("abc", 0, "start"), "");
  });
});

describe("sanitize", () => {
  it("turns whitespace controls into spaces and other controls into ?", () => {
    assert.equal(sanitize("a\tb\nc\rd\u2028e"), "a b c d e");
    assert.equal(sanitize("a\vb\fc\u0085d\u2029e"), "a b c d e", "the other Unicode line breaks");
    assert.equal(sanitize("\x1b[31mred\x07\x7f\x9b"), "?[31mred???");
    assert.equal(sanitize("gpj\u202eexe.scr"), "gpj?exe.scr");
  });
});
