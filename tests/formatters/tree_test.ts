import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderTree, renderTreeJson } from "../../formatters/tree.ts";
import type { Connection } from "../../core/record.ts";
import type { ProcessNode } from "../../core/tree.ts";
import { NO_ENRICHMENT } from "../_record.ts";

const conn = (over: Partial<Connection>): Connection => ({
  protocol: "TCP",
  family: "IPv4",
  localAddress: "10.0.0.2",
  localPort: 51000,
  remoteAddress: "93.184.216.34",
  remotePort: 443,
  state: "ESTABLISHED",
  pid: 11,
  processName: "gup.exe",
  processPath: "C:\\Program Files\\Notepad++\\updater\\gup.exe",
  parentPid: 10,
  processStartTime: null,
  ...NO_ENRICHMENT,
  unavailable: {},
  ...over,
});

const roots: ProcessNode<Connection>[] = [{
  pid: 10,
  name: "notepad++.exe",
  connections: [],
  children: [
    { pid: 11, name: "gup.exe", connections: [conn({})], children: [] },
    {
      pid: 12,
      name: "helper.exe",
      connections: [
        conn({
          pid: 12,
          processPath: null,
          family: "IPv6",
          localAddress: "::1",
          localPort: 8080,
          remoteAddress: null,
          remotePort: null,
          state: "LISTEN",
        }),
      ],
      children: [],
    },
  ],
}];

describe("renderTree", () => {
  it("draws processes, branches and endpoints", () => {
    assert.equal(
      renderTree(roots),
      [
        "notepad++.exe (10)",
        "├─ gup.exe (11)  C:\\Program Files\\Notepad++\\updater\\gup.exe",
        "│       TCP  10.0.0.2:51000 -> 93.184.216.34:443  ESTABLISHED",
        "└─ helper.exe (12)",
        "        TCP  [::1]:8080  LISTEN",
        "2 endpoints in 2 processes",
        "",
      ].join("\n"),
    );
  });
  it("says why a process has no path, as the table does", () => {
    const node = {
      pid: 14,
      name: "locked.exe",
      connections: [
        conn({ pid: 14, processPath: null, unavailable: { processPath: "access-denied" } }),
      ],
      children: [],
    };
    assert.equal(renderTree([node]).split("\n")[0], "locked.exe (14)  <access-denied>");
  });
  it("says so when nothing was selected", () => {
    assert.equal(renderTree([]), "0 endpoints in 0 processes\n");
  });
  it("counts one endpoint and one process in the singular", () => {
    const one = { ...roots[0], children: [roots[0].children[1]] };
    assert.match(renderTree([one]), /\n1 endpoint in 1 process\n$/);
  });
  it("keeps each process on one line whatever its name or path holds", () => {
    // A process picks its own name (prctl, argv): a line break must not forge a tree line, and
    // an escape sequence must not reach the terminal.
    const node = {
      pid: 13,
      name: "evil\n└─ sshd (1)\x1b[2J",
      connections: [conn({ pid: 13, processPath: "/tmp/a\rb\u202etxt.exe" })],
      children: [],
    };
    assert.equal(
      renderTree([node]).split("\n")[0],
      "evil └─ sshd (1)?[2J (13)  /tmp/a b?txt.exe",
    );
    assert.equal(JSON.parse(renderTreeJson([node]))[0].name, node.name);
  });
  it("JSON nests children", () => {
    const parsed = JSON.parse(renderTreeJson(roots));
    assert.equal(parsed[0].children[1].connections[0].localPort, 8080);
    assert.equal(parsed.length, 1);
  });
});

describe("endpoints without a known owner", () => {
  const ownerless = [
    conn({
      pid: null,
      processName: null,
      processPath: null,
      parentPid: null,
      localAddress: "0.0.0.0",
      localPort: 22,
      remoteAddress: null,
      remotePort: null,
      state: "LISTEN",
      unavailable: { pid: "access-denied" },
    }),
    conn({ pid: null, processName: null, state: "TIME_WAIT", unavailable: { pid: "no-owner" } }),
  ];
  it("follow the tree under (no owner), each with its reason, and are counted", () => {
    assert.equal(
      renderTree([roots[0].children[0]], ownerless),
      [
        "gup.exe (11)  C:\\Program Files\\Notepad++\\updater\\gup.exe",
        "     TCP  10.0.0.2:51000 -> 93.184.216.34:443  ESTABLISHED",
        "(no owner)",
        "     TCP  0.0.0.0:22  LISTEN  <access-denied>",
        "     TCP  10.0.0.2:51000 -> 93.184.216.34:443  TIME_WAIT  <no-owner>",
        "3 endpoints in 1 process",
        "",
      ].join("\n"),
    );
    assert.match(renderTree([], ownerless), /^\(no owner\)\n.*\n.*\n2 endpoints in 0 processes\n$/);
  });
  it("JSON: one last node whose pid and name are null", () => {
    const parsed = JSON.parse(renderTreeJson(roots, ownerless));
    assert.equal(parsed.length, 2);
    assert.deepEqual(
      { ...parsed[1], connections: parsed[1].connections.map((c: Connection) => c.localPort) },
      { pid: null, name: null, connections: [22, 51000], children: [] },
    );
  });
});
