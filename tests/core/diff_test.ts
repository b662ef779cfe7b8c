import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connectionKey, createChangeTracker, diffListings, indexListing } from "../../core/diff.ts";
import type { Connection } from "../../core/record.ts";
import { NO_ENRICHMENT } from "../_record.ts";

function conn(over: Partial<Connection>): Connection {
  return {
    protocol: "TCP",
    family: "IPv4",
    localAddress: "10.0.0.2",
    localPort: 50000,
    remoteAddress: "93.184.216.34",
    remotePort: 443,
    state: "ESTABLISHED",
    pid: 100,
    processName: "curl",
    processPath: "/usr/bin/curl",
    parentPid: 1,
    processStartTime: "2026-01-01T00:00:00.000Z",
    ...NO_ENRICHMENT,
    unavailable: {},
    ...over,
  };
}

const summary = (changes: ReturnType<typeof diffListings>) =>
  changes.map((c) =>
    `${c.event} ${c.connection.localPort} ${c.connection.pid} ${c.previousState ?? "-"}>${
      c.connection.state ?? "-"
    }`
  );

const diff = (before: Connection[], after: Connection[]) =>
  summary(diffListings(indexListing(before), indexListing(after)));

describe("connectionKey", () => {
  it("ignores the state and the process's other fields", () => {
    const a = conn({});
    assert.equal(connectionKey(a), connectionKey(conn({ state: "CLOSE_WAIT", processName: "x" })));
  });
  for (
    const [field, value] of [
      ["protocol", "UDP"],
      ["localAddress", "10.0.0.3"],
      ["localPort", 50001],
      ["remoteAddress", "93.184.216.35"],
      ["remotePort", 80],
      ["pid", 101],
      ["processStartTime", "2026-01-01T00:00:01.000Z"],
    ] as const
  ) {
    it(`differs when ${field} differs`, () => {
      assert.notEqual(connectionKey(conn({})), connectionKey(conn({ [field]: value })));
    });
  }
  it("keeps a null remote end apart from any address", () => {
    const listen = conn({ remoteAddress: null, remotePort: null, state: "LISTEN" });
    assert.notEqual(connectionKey(listen), connectionKey(conn({ state: "LISTEN" })));
  });
});

describe("diffListings", () => {
  const listen = conn({ localPort: 8080, remoteAddress: null, remotePort: null, state: "LISTEN" });
  const client = conn({});
  const udp = conn({
    protocol: "UDP",
    localPort: 5353,
    remoteAddress: null,
    remotePort: null,
    state: null,
  });

  it("reports nothing for equal listings, whatever the order", () => {
    assert.deepEqual(diff([listen, client, udp], [udp, client, listen]), []);
  });

  it("reports opened, closed and changed, closed first", () => {
    const fresh = conn({ localPort: 50002 });
    assert.deepEqual(
      diff([listen, client], [{ ...client, state: "CLOSE_WAIT" }, fresh]),
      [
        "closed 8080 100 ->LISTEN",
        "changed 50000 100 ESTABLISHED>CLOSE_WAIT",
        "opened 50002 100 ->ESTABLISHED",
      ],
    );
  });

  it("gives the closed record as it was last seen and the changed record as it is now", () => {
    const after = { ...client, state: "TIME_WAIT" as const, processName: "curl-new" };
    const changes = diffListings(indexListing([listen, client]), indexListing([after]));
    assert.equal(changes[0].connection, listen);
    assert.equal(changes[1].connection, after);
  });

  it("treats a reused pid (other start time) as a close and an open", () => {
    const reused = { ...listen, processStartTime: "2026-01-02T00:00:00.000Z" };
    const changes = diffListings(indexListing([listen]), indexListing([reused]));
    assert.deepEqual(summary(changes), ["closed 8080 100 ->LISTEN", "opened 8080 100 ->LISTEN"]);
    assert.equal(changes[0].connection.processStartTime, "2026-01-01T00:00:00.000Z");
    assert.equal(changes[1].connection.processStartTime, "2026-01-02T00:00:00.000Z");
  });

  it("treats another owner of the same endpoint as a close and an open", () => {
    assert.deepEqual(diff([listen], [{ ...listen, pid: 200 }]), [
      "closed 8080 100 ->LISTEN",
      "opened 8080 200 ->LISTEN",
    ]);
  });

  it("reports everything as opened against an empty listing, and closed the other way", () => {
    assert.deepEqual(diff([], [listen, udp]), ["opened 8080 100 ->LISTEN", "opened 5353 100 ->-"]);
    assert.deepEqual(diff([listen, udp], []), ["closed 8080 100 ->LISTEN", "closed 5353 100 ->-"]);
  });

  it("counts sockets that share one identity (SO_REUSEPORT) one by one", () => {
    const a = conn({ protocol: "UDP", localPort: 53, remoteAddress: null, remotePort: null });
    const twoUdp = [{ ...a, state: null }, { ...a, state: null }];
    assert.deepEqual(diff(twoUdp, twoUdp), []);
    assert.deepEqual(diff(twoUdp, twoUdp.slice(1)), ["closed 53 100 ->-"]);
    assert.deepEqual(diff(twoUdp.slice(1), twoUdp), ["opened 53 100 ->-"]);
  });

  it("pairs shared identities by state before calling the rest changed", () => {
    const l1 = { ...listen }, l2 = { ...listen };
    const syn = { ...listen, state: "SYN_RCVD" as const };
    // [LISTEN, LISTEN] -> [LISTEN, SYN_RCVD, SYN_RCVD]: one change and one open, not two.
    assert.deepEqual(diff([l1, l2], [{ ...listen }, syn, { ...syn }]), [
      "changed 8080 100 LISTEN>SYN_RCVD",
      "opened 8080 100 ->SYN_RCVD",
    ]);
  });
});

describe("createChangeTracker", () => {
  it("opens everything first, then reports only what changed, holding one listing", () => {
    const tracker = createChangeTracker();
    const a = conn({ localPort: 1 }), b = conn({ localPort: 2 }), c = conn({ localPort: 3 });
    assert.deepEqual(summary(tracker.update([a, b])), [
      "opened 1 100 ->ESTABLISHED",
      "opened 2 100 ->ESTABLISHED",
    ]);
    assert.equal(tracker.size, 2);
    assert.deepEqual(summary(tracker.update([a, b])), []);
    assert.deepEqual(summary(tracker.update([b, { ...c, state: "SYN_SENT" }])), [
      "closed 1 100 ->ESTABLISHED",
      "opened 3 100 ->SYN_SENT",
    ]);
    assert.deepEqual(summary(tracker.update([b, c])), ["changed 3 100 SYN_SENT>ESTABLISHED"]);
    assert.deepEqual(summary(tracker.update([])), [
      "closed 2 100 ->ESTABLISHED",
      "closed 3 100 ->ESTABLISHED",
    ]);
    assert.equal(tracker.size, 0);
  });
});
