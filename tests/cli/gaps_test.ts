import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { GapCounter, otherNetworksLine, reportOtherNetworks } from "../../cli/_gaps.ts";
import type { OtherNetwork, SocketSource } from "../../core/source.ts";
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

describe("other network namespaces", () => {
  const net = (n: number, pids: number[], sockets: number): OtherNetwork => ({
    namespace: `net:[40265322${n}]`,
    pids,
    sockets,
  });

  it("names one namespace by its first pid, in the singular for one socket", () => {
    assert.equal(
      otherNetworksLine([net(1, [812, 900], 1)]),
      "procconn: 1 socket in another network namespace (pid 812) is not listed: " +
        "run procconn inside it, e.g. nsenter -t 812 -n procconn",
    );
  });

  it("adds up several namespaces and shows at most five pids", () => {
    const nets = [1, 2, 3, 4, 5, 6].map((n) => net(n, [100 * n], n));
    assert.equal(
      otherNetworksLine(nets),
      "procconn: 21 sockets in 6 other network namespaces (pids 100, 200, 300, 400, 500, ...) " +
        "are not listed: run procconn inside each, e.g. nsenter -t 100 -n procconn",
    );
    assert.equal(otherNetworksLine([]), null);
  });

  it("asks the backend about the selected pids, and stays quiet when it cannot answer", async () => {
    const asked: (number[] | undefined)[] = [];
    const source = (answer: () => Promise<OtherNetwork[]>): SocketSource => ({
      name: "fake",
      listSockets: () => Promise.resolve([]),
      describeProcesses: () => Promise.resolve(new Map()),
      otherNetworks: (pids) => (asked.push(pids && [...pids]), answer()),
    });
    const lines: string[] = [];
    const write = (line: string) => lines.push(line);
    await reportOtherNetworks(source(() => Promise.resolve([net(1, [7], 2)])), [7, 8], write);
    await reportOtherNetworks(source(() => Promise.resolve([])), undefined, write);
    await reportOtherNetworks(source(() => Promise.reject(new Error("EACCES"))), [9], write);
    const plain: SocketSource = { ...source(() => Promise.resolve([])), otherNetworks: undefined };
    await reportOtherNetworks(plain, undefined, write);
    assert.deepEqual(asked, [[7, 8], undefined, [9]]);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^procconn: 2 sockets in another network namespace \(pid 7\)/);
  });
});
