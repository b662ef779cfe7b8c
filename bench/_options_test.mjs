import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readOptions } from "./_options.mjs";

const read = (/** @type {string[]} */ args) => readOptions(args, ["speed"], { runs: 1, procs: 2 });

describe("readOptions", () => {
  it("reads switches and numbers in both spellings", () => {
    const got = read(["--runs", "7", "--speed", "--procs=3"]);
    assert.deepEqual(got?.switches, new Set(["speed"]));
    assert.deepEqual(got?.numbers, new Map([["runs", 7], ["procs", 3]]));
    assert.deepEqual(read([])?.numbers, new Map());
  });

  it("returns null for -h or --help wherever it stands", () => {
    assert.equal(read(["--runs", "2", "-h"]), null);
    assert.equal(read(["--help", "--bogus"]), null);
  });

  it("refuses what it cannot read with one message that quotes it", () => {
    const cases = [
      [["--fast"], /^RangeError: Unknown option "--fast"$/],
      [["-x"], /^RangeError: Unknown option "-x"$/],
      [["5"], /^RangeError: Unexpected argument "5": every option starts with --$/],
      [["--speed=yes"], /^RangeError: Invalid --speed=yes: it takes no value$/],
      [["--runs"], /^RangeError: Missing value for --runs: expected an integer of at least 1$/],
      [["--runs", "0"], /Invalid --runs "0": expected an integer of at least 1$/],
      [["--runs=1e3"], /Invalid --runs "1e3": expected an integer of at least 1$/],
      [["--runs", "-4"], /Invalid --runs "-4": expected an integer of at least 1$/],
      [["--runs", "--speed"], /Invalid --runs "--speed": expected an integer of at least 1$/],
      [["--procs", "1"], /Invalid --procs "1": expected an integer of at least 2$/],
      [["--procs", "99999999999999999999"], /Invalid --procs "99999999999999999999"/],
    ];
    for (const [args, error] of cases) {
      assert.throws(() => read(/** @type {string[]} */ (args)), /** @type {RegExp} */ (error));
    }
  });
});
