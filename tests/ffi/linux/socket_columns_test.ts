import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { TCP_STATES } from "../../../core/fields.ts";
import type { Reason } from "../../../core/record.ts";
import type { SocketStats } from "../../../core/source.ts";
import { type SockDiagSocket, SocketColumns } from "../../../ffi/linux/socket_columns.ts";

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** What a test adds to the columns and then expects to read back. */
interface Expected extends SockDiagSocket {
  stats?: SocketStats | null;
}

/** Random sockets with owners, reasons and counters set the way the engine sets them. */
function fill(columns: SocketColumns, count: number, seed: number): Expected[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  const shared = Object.freeze([7]);
  const expected: Expected[] = [];
  for (let n = 0; n < count; n++) {
    const tcp = next() < 0.6;
    const family = pick(["IPv4", "IPv6"] as const);
    const state = tcp ? pick(TCP_STATES) : null;
    const connected = next() < 0.5;
    const remoteAddress = connected ? pick(["10.0.0.9", "2001:db8::1", "fe80::2%3"]) : null;
    const remotePort = Math.floor(next() * 65536);
    const inode = next() < 0.1 ? 0 : 1 + Math.floor(next() * 2 ** 32 - 1);
    const cookie = Math.floor(next() * 2 ** 52);
    const localAddress = pick(["127.0.0.1", "0.0.0.0", "::1", "::"]);
    const localPort = Math.floor(next() * 65536);
    const row = columns.add(
      tcp ? "TCP" : "UDP",
      family,
      state,
      localAddress,
      localPort,
      remoteAddress,
      remotePort,
      inode,
      cookie,
    );
    assert.equal(row, n);
    const socket: Expected = {
      protocol: tcp ? "TCP" : "UDP",
      family,
      localAddress,
      localPort,
      remoteAddress,
      remotePort: remoteAddress === null ? null : remotePort,
      state,
      pids: [],
      ownerReason: inode === 0 ? "no-owner" : undefined,
      unavailable: {},
      inode,
      cookie,
    };
    if (inode !== 0) {
      const owned = next();
      if (owned < 0.5) {
        const pids = next() < 0.5 ? shared : [1 + Math.floor(next() * 4_000_000)];
        columns.setOwners(row, pids);
        socket.pids = pids;
      } else if (owned < 0.7) {
        const reason = pick<Reason>(["access-denied", "no-owner"]);
        columns.setOwnerReason(row, reason);
        socket.ownerReason = reason;
      }
    }
    if (tcp && next() < 0.5) {
      const counted = next();
      if (counted < 0.6) {
        const stats = {
          bytesIn: Math.floor(next() * 2 ** 50),
          bytesOut: Math.floor(next() * 2 ** 50),
          segmentsIn: Math.floor(next() * 2 ** 32),
          segmentsOut: Math.floor(next() * 2 ** 32),
        };
        columns.setStats(row, stats);
        socket.stats = stats;
      } else {
        const reason = counted < 0.8 ? "not-applicable" : "not-supported";
        columns.setStatsReason(row, reason);
        socket.stats = null;
        socket.statsReason = reason;
        socket.unavailable = { stats: reason };
      }
    }
    expected.push(socket);
  }
  return expected;
}

/** A view's fields, read one by one (a view has no own fields to compare). */
function read(socket: SockDiagSocket): Expected {
  const out: Expected = {
    protocol: socket.protocol,
    family: socket.family,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    state: socket.state,
    pids: socket.pids,
    ownerReason: socket.ownerReason,
    unavailable: socket.unavailable,
    inode: socket.inode,
    cookie: socket.cookie,
  };
  if (socket.stats !== undefined) out.stats = socket.stats;
  if (socket.statsReason !== undefined) out.statsReason = socket.statsReason;
  return out;
}

describe("SocketColumns", () => {
  it("reads back every field of thousands of sockets, through views, rows and JSON", () => {
    // Room for one row at first: the columns grow many times, counters included.
    const columns = new SocketColumns(1);
    const expected = fill(columns, 5000, 11);
    assert.equal(columns.size, 5000);
    const views = columns.sockets();
    assert.deepEqual(views.map(read), expected);
    assert.deepEqual(expected.map((_, i) => columns.plain(i)), expected);
    assert.deepEqual(JSON.parse(JSON.stringify(views)), JSON.parse(JSON.stringify(expected)));
    // The row accessors the core reads agree with the views.
    for (let i = 0; i < 5000; i += 97) {
      assert.deepEqual(
        [columns.localAddress(i), columns.remotePort(i), columns.state(i), columns.pids(i)],
        [expected[i].localAddress, expected[i].remotePort, expected[i].state, expected[i].pids],
      );
      assert.equal(columns.services(i), undefined);
      assert.equal(columns.created(i), undefined);
    }
    // So do the endpoint columns the listing orders by (kind: protocol * 3 + family).
    const ends = columns.endpointColumns();
    assert.equal(ends.kind.length, 5000);
    expected.forEach((socket, i) => {
      assert.deepEqual(
        [
          ends.kind[i],
          ends.localPort[i],
          ends.texts[ends.local[i]],
          ends.texts[ends.remote[i]],
          ends.remote[i] === 0 ? null : ends.remotePort[i],
        ],
        [
          ["TCP", "UDP"].indexOf(socket.protocol) * 3 + ["IPv4", "IPv6"].indexOf(socket.family),
          socket.localPort,
          socket.localAddress,
          socket.remoteAddress,
          socket.remotePort,
        ],
      );
    });
  });

  it("shows a view's fields when it is printed", () => {
    const columns = new SocketColumns();
    columns.add("UDP", "IPv6", null, "::1", 53, null, 0, 99, 5);
    const [view] = columns.sockets();
    assert.match(inspect(view), /localAddress: '::1'/);
    assert.match(inspect(view), /inode: 99/);
    const deno = (globalThis as { Deno?: { inspect(value: unknown): string } }).Deno;
    if (deno) assert.match(deno.inspect(view), /localAddress: "::1"/);
  });

  it("drops repeated cookies from a dump's first row on, keeping each first answer in order", () => {
    const columns = new SocketColumns(2);
    const expected = fill(columns, 300, 5);
    // One dump's answers after the earlier rows: cookies 1..6 with repeats, each row distinct.
    const cookies = [1, 2, 1, 3, expected[0].cookie, 2, 2, 4];
    const dump: Expected[] = [];
    for (const [k, cookie] of cookies.entries()) {
      const row = columns.add(
        "TCP",
        "IPv4",
        "ESTABLISHED",
        "10.0.0.1",
        k,
        "10.0.0.2",
        80,
        k,
        cookie,
      );
      columns.setOwners(row, [100 + k]);
      dump.push(columns.plain(row));
    }
    assert.equal(columns.hasRepeats(300), true);
    assert.equal(columns.hasRepeats(0), true);
    columns.dropRepeats(300);
    // The earlier rows are left alone, even the one whose cookie the dump repeats.
    const kept = [0, 1, 3, 4, 7].map((k) => dump[k]);
    assert.deepEqual(columns.sockets().map(read), [...expected, ...kept]);
    assert.equal(columns.hasRepeats(300), false);
    assert.equal(columns.hasRepeats(0), true);
  });

  it("forgets dropped rows: a row added after truncate has no earlier owners or counters", () => {
    const columns = new SocketColumns(4);
    const row = columns.add("TCP", "IPv4", "ESTABLISHED", "10.0.0.1", 1, "10.0.0.2", 2, 3, 4);
    columns.setOwners(row, [42]);
    columns.setStats(row, { bytesIn: 1, bytesOut: 2, segmentsIn: 3, segmentsOut: 4 });
    columns.truncate(0);
    assert.equal(columns.size, 0);
    columns.add("TCP", "IPv4", "LISTEN", "0.0.0.0", 22, null, 0, 8, 9);
    const [view] = columns.sockets();
    assert.deepEqual([view.pids, view.ownerReason, view.stats], [[], undefined, undefined]);
    assert.equal(view.remotePort, null);
  });

  it("refuses a row that is not there", () => {
    const columns = new SocketColumns();
    columns.add("UDP", "IPv4", null, "0.0.0.0", 68, null, 0, 1, 1);
    assert.throws(() => columns.setOwners(1, [1]), /^RangeError: No socket row 1: there are 1$/);
    assert.throws(() => columns.inode(-1), RangeError);
    assert.throws(() => columns.setStatsReason(0.5, "not-supported"), RangeError);
  });
});
