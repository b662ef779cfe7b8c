import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { failureOf, PidClaims } from "../../../ffi/linux/fd_scan.ts";

describe("PidClaims", () => {
  it("hands out each pid once, then null, through every copy of the shared memory", () => {
    const mine = PidClaims.create([7, 8, 9]);
    const theirs = new PidClaims(mine.buffer);
    assert.equal(mine.next(), 7);
    assert.equal(theirs.next(), 8);
    assert.equal(mine.next(), 9);
    assert.equal(theirs.next(), null);
    assert.equal(mine.next(), null);
  });

  it("an empty list has nothing to hand out", () => {
    assert.equal(PidClaims.create([]).next(), null);
  });

  it("a helper that has started cannot be cancelled, and a cancelled one cannot start", () => {
    const started = PidClaims.create([1]);
    assert.equal(started.start(), true);
    assert.equal(new PidClaims(started.buffer).cancel(), false);

    const cancelled = PidClaims.create([1]);
    assert.equal(cancelled.cancel(), true);
    assert.equal(new PidClaims(cancelled.buffer).start(), false);
    assert.equal(cancelled.cancel(), false);
  });
});

describe("failureOf", () => {
  it("reads the error codes of node:fs and of Deno's own file calls alike", () => {
    assert.equal(failureOf(Object.assign(new Error("x"), { code: "ENOENT" })), "process-exited");
    assert.equal(failureOf(Object.assign(new Error("x"), { code: "ESRCH" })), "process-exited");
    assert.equal(failureOf(Object.assign(new Error("x"), { code: "EACCES" })), "access-denied");
    assert.equal(failureOf(Object.assign(new Error("x"), { code: "EPERM" })), "access-denied");
    assert.equal(failureOf(new Error("no code")), null);
    const missing = "/nonexistent-procconn-path";
    const reads: (() => unknown)[] = [() => readlinkSync(missing)];
    // deno-lint-ignore no-explicit-any
    const deno = (globalThis as any).Deno as typeof Deno | undefined;
    if (deno) reads.push(() => deno.readLinkSync(missing));
    for (const read of reads) {
      assert.throws(read, (err) => failureOf(err) === "process-exited");
    }
  });
});
