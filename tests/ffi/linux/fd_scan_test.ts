import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import {
  failureOf,
  type FdCalls,
  type FdFiles,
  FdScanner,
  PidClaims,
} from "../../../ffi/linux/fd_scan.ts";

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

/** `linux_dirent64` records for `names`, as getdents64 writes them (8-byte aligned). */
function dirents(names: string[]): Uint8Array {
  const parts = names.map((name) => {
    const reclen = (19 + name.length + 1 + 7) & ~7;
    const rec = new Uint8Array(reclen);
    new DataView(rec.buffer).setUint16(16, reclen, true);
    rec.set(new TextEncoder().encode(name), 19);
    return rec;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const refused = (path: string) =>
  Object.assign(new Error(`EACCES: permission denied, readlink '${path}'`), { code: "EACCES" });
const gone = (path: string) =>
  Object.assign(new Error(`ENOENT: no such file, readlink '${path}'`), { code: "ENOENT" });

describe("FdScanner", () => {
  // Stand-ins: the kernel's answers are scripted, so refusals come on cue (as root they cannot).
  const links: Record<string, string | Error> = {
    "/p/9/fd/0": gone("/p/9/fd/0"), // closed between the directory read and the link read
    "/p/9/fd/1": "socket:[11]",
    "/p/9/fd/2": refused("/p/9/fd/2"),
    "/p/9/fd/3": refused("/p/9/fd/3"),
    "/p/9/fd/4": "socket:[44]",
  };
  const plainFiles = (asked: string[]): FdFiles => ({
    readDir: () => ["0", "1", "2", "3", "4"],
    readLink(path) {
      asked.push(path);
      const target = links[path];
      if (target instanceof Error) throw target;
      return target;
    },
  });
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  it("stops reading a process's links at the first refusal, and reports it", () => {
    const asked: string[] = [];
    const found: number[] = [];
    const complete = new FdScanner(plainFiles(asked)).scan("/p/9/fd", 9, (i) => found.push(i));
    assert.equal(complete, false);
    assert.deepEqual(found, [11]);
    // fd 0 vanished (no failure), fd 2 was refused, so fds 3 and 4 were never asked for.
    assert.deepEqual(asked, ["/p/9/fd/0", "/p/9/fd/1", "/p/9/fd/2"]);
  });

  it("does the same with getdents64 and readlinkat, asking the file calls only for errors", {
    skip: !littleEndian && "the hand-made dirents are little-endian",
  }, () => {
    const asked: string[] = [];
    const native: string[] = [];
    let listed = false;
    const calls: FdCalls = {
      open: () => 7,
      close: () => 0,
      getdents64(_fd, buffer) {
        if (listed) return 0;
        listed = true;
        const records = dirents([".", "..", "0", "1", "2", "3", "4"]);
        buffer.set(records);
        return records.length;
      },
      readlinkat(_dirFd, path, buffer) {
        const name = new TextDecoder().decode(path.subarray(0, path.indexOf(0)));
        native.push(name);
        const target = links[`/p/9/fd/${name}`];
        if (target instanceof Error) return -1;
        return BigInt(new TextEncoder().encodeInto(target, buffer).written);
      },
    };
    const found: number[] = [];
    const scanner = new FdScanner(plainFiles(asked), calls);
    assert.equal(scanner.scan("/p/9/fd", 9, (i) => found.push(i)), false);
    assert.deepEqual(found, [11]);
    assert.deepEqual(native, ["0", "1", "2"]);
    assert.deepEqual(asked, ["/p/9/fd/0", "/p/9/fd/2"]);
  });
});
