import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { descendantsOf } from "../../core/tree.ts";

describe("descendantsOf", () => {
  it("walks every generation", () => {
    const t = [
      { pid: 1, parentPid: 0, name: "a", startTime: null },
      { pid: 2, parentPid: 1, name: "b", startTime: null },
      { pid: 3, parentPid: 2, name: "c", startTime: null },
      { pid: 4, parentPid: 1, name: "d", startTime: null },
      { pid: 5, parentPid: 9, name: "e", startTime: null },
    ];
    assert.deepEqual([...descendantsOf(t, [2])].sort(), [2, 3]);
    assert.deepEqual([...descendantsOf(t, [1])].sort(), [1, 2, 3, 4]);
  });
  it("ignores a parent link to a pid reused by a newer process", () => {
    const t = [
      { pid: 50, parentPid: 1, name: "new-owner-of-50", startTime: "2026-11-01T12:00:00.000Z" },
      { pid: 60, parentPid: 50, name: "orphan", startTime: "2026-11-01T11:00:00.000Z" },
    ];
    assert.deepEqual([...descendantsOf(t, [50])], [50]);
  });
  it("survives cycles and self-parents (Windows PID 0)", () => {
    const t = [
      { pid: 0, parentPid: 0, name: "System Idle Process", startTime: null },
      { pid: 7, parentPid: 8, name: "x", startTime: null },
      { pid: 8, parentPid: 7, name: "y", startTime: null },
    ];
    assert.deepEqual([...descendantsOf(t, [0])], [0]);
    assert.deepEqual([...descendantsOf(t, [7])].sort(), [7, 8]);
  });
});
