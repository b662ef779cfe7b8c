import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatGroups, groupByProcess } from "../../formatters/group.ts";
import type { Connection } from "../../core/record.ts";
import { NO_ENRICHMENT } from "../_record.ts";

function conn(over: Partial<Connection>): Connection {
  return {
    protocol: "TCP",
    family: "IPv4",
    localAddress: "127.0.0.1",
    localPort: 8080,
    remoteAddress: null,
    remotePort: null,
    state: "LISTEN",
    pid: 20,
    processName: "web",
    processPath: "/usr/bin/web",
    parentPid: 1,
    processStartTime: "2026-01-01T00:00:00.000Z",
    ...NO_ENRICHMENT,
    unavailable: {},
    ...over,
  };
}

const NO_OWNER = {
  pid: null,
  processName: null,
  processPath: null,
  parentPid: null,
  processStartTime: null,
} as const;

const rows: Connection[] = [
  conn({ localPort: 22, pid: 7, processName: "sshd", processPath: "/usr/sbin/sshd" }),
  conn({}),
  conn({
    localPort: 8080,
    remoteAddress: "10.0.0.9",
    remotePort: 51000,
    state: "ESTABLISHED",
  }),
  conn({
    ...NO_OWNER,
    localPort: 40000,
    remoteAddress: "10.0.0.9",
    remotePort: 443,
    state: "TIME_WAIT",
    unavailable: { pid: "no-owner", processName: "no-owner" },
  }),
  conn({
    protocol: "UDP",
    family: "IPv6",
    localAddress: "::",
    localPort: 5353,
    state: null,
  }),
  conn({
    ...NO_OWNER,
    localPort: 2024,
    unavailable: { pid: "access-denied" },
  }),
  // pid 20 reused by another program: a group of its own.
  conn({
    localPort: 9000,
    processName: "Api",
    processStartTime: "2026-01-02T00:00:00.000Z",
  }),
];

describe("groupByProcess", () => {
  it("makes one group per process (pid and start time), ownerless rows last per reason", () => {
    const groups = groupByProcess(rows);
    assert.deepEqual(
      groups.map((g) => [g.processName, g.pid, g.reason, g.connections.map((c) => c.localPort)]),
      [
        ["Api", 20, null, [9000]],
        ["sshd", 7, null, [22]],
        ["web", 20, null, [8080, 8080, 5353]],
        [null, null, "access-denied", [2024]],
        [null, null, "no-owner", [40000]],
      ],
    );
  });

  it("counts endpoints per state in netstat's order, UDP last", () => {
    const web = groupByProcess(rows).find((g) => g.processName === "web")!;
    assert.deepEqual(Object.entries(web.counts), [["LISTEN", 1], ["ESTABLISHED", 1], ["UDP", 1]]);
  });
});

describe("formatGroups", () => {
  it("text: a title per process with its counts, endpoints in shared columns", () => {
    const text = formatGroups(rows, {
      format: "table",
      fields: ["protocol", "localAddress", "localPort", "state", "pid", "processName"],
    });
    assert.equal(
      text,
      [
        "    Proto  Local Address    State",
        "    -----  ---------------  -----------",
        "Api (20)  /usr/bin/web  1 endpoint: LISTEN 1",
        "    TCP    127.0.0.1:9000   LISTEN",
        "sshd (7)  /usr/sbin/sshd  1 endpoint: LISTEN 1",
        "    TCP    127.0.0.1:22     LISTEN",
        "web (20)  /usr/bin/web  3 endpoints: LISTEN 1, ESTABLISHED 1, UDP 1",
        "    TCP    127.0.0.1:8080   LISTEN",
        "    TCP    127.0.0.1:8080   ESTABLISHED",
        "    UDP    [::]:5353        -",
        "(no owner)  reason: access-denied  1 endpoint: LISTEN 1",
        "    TCP    127.0.0.1:2024   LISTEN",
        "(no owner)  reason: no-owner  1 endpoint: TIME_WAIT 1",
        "    TCP    127.0.0.1:40000  TIME_WAIT",
        "7 endpoints in 3 processes",
        "",
      ].join("\n"),
    );
  });

  it("text: an unreadable name and path show the reason (after named processes); control characters are neutralised", () => {
    const text = formatGroups([
      conn({
        pid: 31,
        processName: null,
        processPath: null,
        unavailable: { processName: "access-denied", processPath: "access-denied" },
      }),
      conn({ pid: 32, processName: "evil\x1b[2Jname", processPath: "/tmp/x\ny" }),
    ], { format: "table", fields: ["localPort"] });
    const titles = text.split("\n").filter((l) => !l.startsWith("    "));
    assert.deepEqual(titles, [
      "evil?[2Jname (32)  /tmp/x y  1 endpoint: LISTEN 1",
      "<access-denied> (31)  <access-denied>  1 endpoint: LISTEN 1",
      "2 endpoints in 2 processes",
      "",
    ]);
  });

  it("text: keeps the process columns when nothing else was asked for", () => {
    const text = formatGroups([conn({})], { format: "table", fields: ["pid", "processName"] });
    assert.equal(text.split("\n")[0], "    PID  Process");
    assert.equal(text.split("\n")[3], "    20   web");
  });

  it("text: fits the width, bold titles only with colour", () => {
    const long = conn({ processPath: "/opt/" + "very-long-directory/".repeat(8) + "web" });
    const plain = formatGroups([long], { format: "table", fields: ["localPort"], width: 40 });
    for (const line of plain.split("\n")) assert.ok(line.length <= 40, line);
    assert.equal(plain.includes("\x1b["), false);
    const bold = formatGroups([long], {
      format: "table",
      fields: ["localPort"],
      width: 40,
      color: true,
    });
    assert.ok(bold.includes("\n\x1b[1mweb (20)"), bold);
  });

  it("text: an empty listing is one line", () => {
    assert.equal(
      formatGroups([], { format: "table", fields: ["pid"] }),
      "0 endpoints in 0 processes\n",
    );
  });

  it("json: an array of groups with counts and the chosen fields of each connection", () => {
    const text = formatGroups(rows, { format: "json", fields: ["protocol", "localPort", "state"] });
    const groups = JSON.parse(text);
    assert.deepEqual(groups[2], {
      pid: 20,
      processName: "web",
      processPath: "/usr/bin/web",
      parentPid: 1,
      processStartTime: "2026-01-01T00:00:00.000Z",
      reason: null,
      counts: { LISTEN: 1, ESTABLISHED: 1, UDP: 1 },
      connections: [
        { protocol: "TCP", localPort: 8080, state: "LISTEN" },
        { protocol: "TCP", localPort: 8080, state: "ESTABLISHED" },
        { protocol: "UDP", localPort: 5353, state: null },
      ],
    });
    assert.deepEqual(groups.map((g: { reason: string | null }) => g.reason), [
      null,
      null,
      null,
      "access-denied",
      "no-owner",
    ]);
    assert.equal(groups[4].pid, null);
    // One connection per line.
    assert.equal(text.split("\n").filter((l) => l.startsWith("  {")).length, rows.length);
  });

  it("json: an empty listing is an empty array", () => {
    assert.deepEqual(JSON.parse(formatGroups([], { format: "json", fields: ["pid"] })), []);
  });

  it("rejects another format and an empty field list", () => {
    assert.throws(
      () => formatGroups(rows, { format: "csv" as "json", fields: ["pid"] }),
      /Invalid group format "csv"/,
    );
    assert.throws(() => formatGroups(rows, { format: "json", fields: [] }), RangeError);
  });
});
