import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCompareArgs } from "./compare.mjs";

describe("parseCompareArgs", () => {
  it("runs all four parts when no part is named, with the issue's loads", () => {
    const o = parseCompareArgs([]);
    assert.ok(o);
    assert.deepEqual([o.speed, o.rss, o.cold, o.watch], [true, true, true, true]);
    assert.deepEqual([o.connections, o.processes, o.rssConnections, o.watchConnections], [
      20000,
      50,
      50000,
      5000,
    ]);
    assert.equal(o.write, false);
  });

  it("runs only the parts named, and takes numbers in both spellings", () => {
    const o = parseCompareArgs(["--watch", "--watch-runs", "5", "--watch-connections=2500"]);
    assert.ok(o);
    assert.deepEqual([o.speed, o.rss, o.cold, o.watch], [false, false, false, true]);
    assert.equal(o.watchRuns, 5);
    assert.equal(o.watchConnections, 2500);
    assert.equal(parseCompareArgs(["--write"])?.watch, true, "--write alone names no part");
  });

  it("refuses an unknown option or a bad number, naming it", () => {
    assert.throws(() => parseCompareArgs(["--fast"]), /^RangeError: Unknown option "--fast"$/);
    assert.throws(
      () => parseCompareArgs(["--watch-runs", "0"]),
      /Invalid --watch-runs "0": expected an integer of at least 1/,
    );
    assert.throws(
      () => parseCompareArgs(["--processes=1"]),
      /Invalid --processes "1": expected an integer of at least 2/,
    );
  });

  it("returns null for help", () => {
    assert.equal(parseCompareArgs(["--speed", "-h"]), null);
  });
});
