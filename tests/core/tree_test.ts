import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildProcessTree, descendantsOf, type ProcessNode } from "../../core/tree.ts";

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

describe("buildProcessTree", () => {
  const table = [
    { pid: 1, parentPid: 0, name: "init", startTime: "2026-11-01T09:00:00.000Z" },
    { pid: 10, parentPid: 1, name: "notepad++.exe", startTime: "2026-11-01T10:00:00.000Z" },
    { pid: 11, parentPid: 10, name: "gup.exe", startTime: "2026-11-01T10:00:01.000Z" },
    { pid: 12, parentPid: 10, name: "idle-child", startTime: "2026-11-01T10:00:02.000Z" },
    { pid: 30, parentPid: 1, name: "sshd", startTime: "2026-11-01T09:30:00.000Z" },
    { pid: 40, parentPid: 99, name: "orphan", startTime: "2026-11-01T09:40:00.000Z" },
  ];
  const rows = [
    { pid: 11, port: 443 },
    { pid: 30, port: 22 },
    { pid: 40, port: 9 },
    { pid: null, port: 80 },
  ];
  it("nests endpoints under their process and processes under their parents", () => {
    const roots = buildProcessTree(table, rows);
    assert.deepEqual(roots.map((r) => r.pid), [1, 40]);
    const init = roots[0];
    assert.deepEqual(init.children.map((c) => c.pid), [10, 30]);
    const npp = init.children[0];
    assert.deepEqual(npp.connections, []);
    assert.deepEqual(npp.children.map((c) => [c.pid, c.name, c.connections]), [
      [11, "gup.exe", [{ pid: 11, port: 443 }]],
    ]);
  });
  it("prunes branches without endpoints and keeps ownerless rows out", () => {
    const roots = buildProcessTree(table, rows);
    const all: number[] = [];
    const walk = (n: { pid: number; children: { pid: number; children: [] }[] }) => {
      all.push(n.pid);
      n.children.forEach((c) => walk(c as never));
    };
    roots.forEach((r) => walk(r as never));
    assert.equal(all.includes(12), false);
    assert.deepEqual(all.sort((a, b) => a - b), [1, 10, 11, 30, 40]);
  });
  it("keeps every endpoint when parent ids form a loop that start times cannot break", () => {
    // Windows keeps a parent id after that parent exits, so a reused pid can point back; without
    // start times (a process that cannot be opened) nothing tells the loop apart.
    const loop = [
      { pid: 100, parentPid: 200, name: "a.exe", startTime: null },
      { pid: 200, parentPid: 300, name: "b.exe", startTime: null },
      { pid: 300, parentPid: 100, name: "c.exe", startTime: null },
    ];
    const count = (nodes: ProcessNode<{ pid: number | null }>[]): number =>
      nodes.reduce((n, node) => n + node.connections.length + count(node.children), 0);
    const one = buildProcessTree(loop, [{ pid: 100, port: 80 }]);
    assert.deepEqual(one.map((r) => [r.pid, r.children.map((c) => c.pid)]), [[300, [200]]]);
    assert.equal(count(one), 1);
    const all = buildProcessTree(loop, [{ pid: 100, port: 80 }, { pid: 300, port: 81 }]);
    assert.equal(count(all), 2);
    assert.equal(all.length, 1);
    // A process that names itself as its parent is a root.
    const self = buildProcessTree([{ pid: 5, parentPid: 5, name: "x", startTime: null }], [
      { pid: 5, port: 1 },
    ]);
    assert.deepEqual(self.map((r) => [r.pid, r.connections.length]), [[5, 1]]);
  });
});
