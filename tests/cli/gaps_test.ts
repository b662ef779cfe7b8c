import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { GapCounter } from "../../cli/_gaps.ts";
import type { Connection } from "../../core/record.ts";
import { connection } from "../_record.ts";

function record(over: Partial<Connection>): Connection {
  return connection({ localPort: 80, state: "LISTEN", ...over });
}

function said(rows: Connection[], root: boolean): string[] {
  const gaps = new GapCounter();
  for (const row of rows) gaps.add(row);
  const lines: string[] = [];
  gaps.report((line) => lines.push(line), root);
  return lines;
}

describe("GapCounter", () => {
  const denied = record({
    pid: 7,
    processPath: null,
    unavailable: { processPath: "access-denied" },
  });
  const alsoDenied = record({ pid: 7, localPort: 81, unavailable: { userName: "access-denied" } });
  const ownerUnknown = record({ pid: null, unavailable: { pid: "access-denied" } });
  const noOwner = record({ pid: null, unavailable: { pid: "no-owner" } });
  const exited = record({ pid: 9, unavailable: { processPath: "process-exited" } });

  it("says nothing when nothing was refused", () => {
    assert.deepEqual(said([noOwner, exited], false), []);
  });

  it("counts processes once, however many of their rows were refused", () => {
    assert.deepEqual(said([denied, alsoDenied, exited], false), [
      "procconn: 1 process could not be fully read (access denied): " +
      "run elevated for paths, command lines and users",
    ]);
  });

  it("counts endpoints whose owner could not be identified, and both in one line", () => {
    assert.deepEqual(said([ownerUnknown, ownerUnknown, denied], false), [
      "procconn: the owner of 2 endpoints could not be identified and 1 process could not be " +
      "fully read (access denied): run elevated for owners, paths, command lines and users",
    ]);
  });

  it("gives root no advice to elevate", () => {
    assert.deepEqual(said([ownerUnknown, denied], true), [
      "procconn: the owner of 1 endpoint could not be identified and 1 process could not be " +
      "fully read (access denied)",
    ]);
  });
});
