import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { explainInvalid, InvalidConnectionError } from "../../core/check.ts";
import { listConnections, openListing, recordOrder } from "../../core/list.ts";
import type {
  ProcessInfo,
  RawSocket,
  SocketQuery,
  SocketRows,
  SocketSource,
} from "../../core/source.ts";

const PROCS: Record<number, ProcessInfo> = {
  10: {
    pid: 10,
    name: "nginx",
    path: "/usr/sbin/nginx",
    parentPid: 1,
    startTime: "2026-11-01T10:00:00.000Z",
    unavailable: {},
  },
  11: {
    pid: 11,
    name: "nginx",
    path: null,
    parentPid: 10,
    startTime: "2026-11-01T10:00:01.000Z",
    unavailable: { path: "access-denied" },
  },
  20: {
    pid: 20,
    name: "Notepad++.exe",
    path: "C:\\Program Files\\Notepad++\\notepad++.exe",
    parentPid: 4,
    startTime: "2026-11-01T10:00:02.000Z",
    unavailable: {},
  },
};

const SOCKETS: RawSocket[] = [
  {
    protocol: "UDP",
    family: "IPv6",
    localAddress: "::",
    localPort: 5353,
    remoteAddress: null,
    remotePort: null,
    state: null,
    pids: [20],
  },
  {
    protocol: "TCP",
    family: "IPv4",
    localAddress: "0.0.0.0",
    localPort: 80,
    remoteAddress: null,
    remotePort: null,
    state: "LISTEN",
    pids: [10, 11],
  },
  {
    protocol: "TCP",
    family: "IPv4",
    localAddress: "10.0.0.2",
    localPort: 51000,
    remoteAddress: "93.184.216.34",
    remotePort: 443,
    state: "TIME_WAIT",
    pids: [],
    ownerReason: "no-owner",
  },
  {
    protocol: "TCP",
    family: "IPv4",
    localAddress: "10.0.0.2",
    localPort: 51001,
    remoteAddress: "10.0.0.9",
    remotePort: 22,
    state: "ESTABLISHED",
    pids: [99],
  },
];

function fakeSource(): SocketSource & { queries: SocketQuery[]; described: number[][] } {
  const queries: SocketQuery[] = [];
  const described: number[][] = [];
  return {
    name: "fake",
    queries,
    described,
    listSockets(query) {
      queries.push(query);
      return Promise.resolve(structuredClone(SOCKETS));
    },
    describeProcesses(pids) {
      const list = [...pids];
      described.push(list);
      const out = new Map<number, ProcessInfo>();
      for (const pid of list) if (PROCS[pid]) out.set(pid, PROCS[pid]);
      return Promise.resolve(out);
    },
  };
}

describe("listConnections", () => {
  it("keeps every owner of a shared socket and every ownerless row", async () => {
    const rows = await listConnections({ source: fakeSource() });
    assert.equal(rows.length, 5);
    const http = rows.filter((r) => r.localPort === 80);
    assert.deepEqual(http.map((r) => r.pid), [10, 11]);
    const tw = rows.find((r) => r.state === "TIME_WAIT")!;
    assert.equal(tw.pid, null);
    assert.deepEqual(tw.unavailable, {
      pid: "no-owner",
      processName: "no-owner",
      processPath: "no-owner",
      parentPid: "no-owner",
      processStartTime: "no-owner",
      commandLine: "no-owner",
      userName: "no-owner",
      services: "no-owner",
    });
  });
  it("--resolve: a row without a remote end has no host name, as not-applicable", async () => {
    // A resolver nobody answers: only the rows without a remote end are looked at here.
    const resolve = { servers: ["127.0.0.1:9"], timeoutMs: 100 };
    const rows = await listConnections({ source: fakeSource(), resolve });
    const unconnected = rows.filter((r) => r.remoteAddress === null);
    assert.ok(unconnected.length > 0);
    for (const row of unconnected) {
      assert.equal(row.remoteHostName, null);
      assert.equal(row.unavailable.remoteHostName, "not-applicable");
    }
  });
  it("says why fields are missing: access denied, process exited", async () => {
    const rows = await listConnections({ source: fakeSource() });
    const child = rows.find((r) => r.pid === 11)!;
    assert.equal(child.processPath, null);
    assert.deepEqual(child.unavailable, { processPath: "access-denied" });
    const gone = rows.find((r) => r.pid === 99)!;
    assert.equal(gone.processName, null);
    assert.equal(gone.unavailable.processName, "process-exited");
    assert.equal(gone.unavailable.pid, undefined);
  });
  it("orders TCP before UDP, IPv4 before IPv6, then by port", async () => {
    const rows = await listConnections({ source: fakeSource() });
    assert.deepEqual(rows.map((r) => r.localPort), [80, 80, 51000, 51001, 5353]);
  });
  it("asks the backend only for the tables needed", async () => {
    const source = fakeSource();
    await listConnections({ source, protocols: ["UDP"], families: ["IPv6"] });
    assert.deepEqual(source.queries, [{
      protocols: ["UDP"],
      families: ["IPv6"],
      stats: undefined,
      enableStats: undefined,
    }]);
  });
  it("asks only for the TCP states the filters keep, and no UDP for a state filter", async () => {
    const source = fakeSource();
    await listConnections({ source, listening: true });
    await listConnections({ source, states: ["ESTABLISHED", "LISTEN"] });
    await listConnections({ source, states: ["ESTABLISHED", "LISTEN"], listening: true });
    // Filters that together keep nothing are refused before the backend is asked anything.
    await assert.rejects(
      listConnections({ source, states: ["ESTABLISHED"], listening: true }),
      RangeError,
    );
    await assert.rejects(
      listConnections({ source, protocols: ["UDP"], states: ["LISTEN"] }),
      RangeError,
    );
    assert.deepEqual(source.queries.map((q) => [q.protocols, q.tcpStates]), [
      [["TCP", "UDP"], ["LISTEN"]], // --listening keeps unconnected UDP too
      [["TCP"], ["ESTABLISHED", "LISTEN"]],
      [["TCP"], ["LISTEN"]],
    ]);
  });
  it("describes only the processes of rows that survive the socket filters", async () => {
    const source = fakeSource();
    const rows = await listConnections({ source, localPort: 80 });
    assert.equal(rows.length, 2);
    assert.deepEqual(source.described, [[10, 11]]);
  });
  it("filters by pid without describing other processes", async () => {
    const source = fakeSource();
    const rows = await listConnections({ source, pids: [11] });
    assert.deepEqual(rows.map((r) => r.pid), [11]);
    assert.deepEqual(source.described, [[11]]);
  });
  it("tells the backend which pids are wanted, and none when all are", async () => {
    const source = fakeSource();
    await listConnections({ source, pids: [11, 20, 11] });
    await listConnections({ source, name: "nginx" }); // no process table to look the name up in
    await listConnections({ source });
    assert.deepEqual(source.queries.map((q) => q.pids), [[11, 20], undefined, undefined]);
  });
  it("turns a name into the pids that have it now, and still keeps rows by described name", async () => {
    const table = [
      { pid: 10, parentPid: 1, name: "nginx", startTime: null },
      { pid: 11, parentPid: 10, name: "nginx", startTime: null },
      { pid: 20, parentPid: 1, name: "notepad++.exe", startTime: null },
      { pid: 99, parentPid: 1, name: "nginx", startTime: null },
    ];
    const source = { ...fakeSource(), listProcesses: () => Promise.resolve(table) };
    const rows = await listConnections({ source, name: "NGINX" });
    assert.deepEqual(source.queries.map((q) => q.pids), [[10, 11, 99]]);
    // 99 has exited by the time it is described: its row has no name, so the filter drops it.
    assert.deepEqual(rows.map((r) => r.pid), [10, 11]);
    await listConnections({ source, name: "nobody-has-this-name" });
    assert.deepEqual(source.queries[1].pids, []);
  });
  it("filters by process name, any case, .exe optional", async () => {
    const rows = await listConnections({ source: fakeSource(), name: "notepad++" });
    assert.deepEqual(rows.map((r) => r.pid), [20]);
  });
  it("validates records: a backend producing a bad port fails loudly", async () => {
    const source = fakeSource();
    source.listSockets = () => Promise.resolve([{ ...SOCKETS[1], localPort: 70000 }]);
    await assert.rejects(listConnections({ source }), /localPort/);
  });
});

describe("openListing", () => {
  it("hands out the same records, in the same order, as listConnections", async () => {
    const listing = await openListing({ source: fakeSource() });
    assert.equal(listing.size, 5);
    const rows = await listConnections({ source: fakeSource() });
    assert.deepEqual([...listing], rows);
    // Iterating again builds the records again, equal and new.
    const again = [...listing];
    assert.deepEqual(again, rows);
    assert.notEqual(again[0], [...listing][0]);
  });

  it("builds each record when it is reached, so a bad one fails there, not before", async () => {
    const source = fakeSource();
    source.listSockets = () =>
      Promise.resolve([SOCKETS[1], { ...SOCKETS[3], localPort: 70000, pids: [10] }]);
    const listing = await openListing({ source });
    const iterator = listing[Symbol.iterator]();
    assert.equal(iterator.next().value?.pid, 10);
    assert.equal(iterator.next().value?.pid, 11);
    let error: unknown;
    assert.throws(() => iterator.next(), (err) => (error = err, err instanceof TypeError));
    // Named at once where zod is loaded; else the listing's check throws without the fields.
    const why = error instanceof InvalidConnectionError ? await explainInvalid(error) : error;
    assert.match((why as Error).message, /^Invalid connection record: localPort: /);
  });

  it("orders by pid across sockets with the same endpoints (SO_REUSEPORT listeners)", async () => {
    const source = fakeSource();
    const listener = { ...SOCKETS[1], localPort: 8080 };
    source.listSockets = () =>
      Promise.resolve([{ ...listener, pids: [11, 99] }, { ...listener, pids: [10, 20] }]);
    const rows = await listConnections({ source });
    assert.deepEqual(rows.map((r) => r.pid), [10, 11, 20, 99]);
  });

  it("orders addresses as the en-US collation does: ':' before '.', case only as a tie-break", async () => {
    const source = fakeSource();
    const listener = { ...SOCKETS[0], localPort: 9000, pids: [10] };
    const addresses = ["fe80::1%eth1", "::ffff:1.2.3.4", "fe80::1%Eth0", "::1", "::ffff:1:2"];
    source.listSockets = () =>
      Promise.resolve(addresses.map((localAddress) => ({ ...listener, localAddress })));
    const local = await listConnections({ source });
    const expected = ["::1", "::ffff:1:2", "::ffff:1.2.3.4", "fe80::1%Eth0", "fe80::1%eth1"];
    assert.deepEqual(local.map((r) => r.localAddress), expected);

    const peer = { ...SOCKETS[0], protocol: "TCP" as const, state: "ESTABLISHED" as const };
    source.listSockets = () =>
      Promise.resolve([
        ...addresses.map((remoteAddress) => ({ ...peer, remoteAddress, remotePort: 443 })),
        { ...peer, remoteAddress: "::2", remotePort: 80 },
      ]);
    const remote = await listConnections({ source });
    assert.deepEqual(remote.map((r) => r.remoteAddress), ["::2", ...expected]);
  });
});

describe("joinRecord via listConnections: fields a backend provides or not", () => {
  it("a field the backend never reads is null without a reason; one it failed to read has one", async () => {
    const source = fakeSource();
    source.describeProcesses = (pids) =>
      Promise.resolve(
        new Map([...pids].map((pid) => [pid, {
          ...PROCS[10],
          pid,
          commandLine: null,
          userName: "www-data",
          unavailable: { commandLine: "access-denied" as const },
        }])),
      );
    const [row] = await listConnections({ source, localPort: 80, pids: [10] });
    assert.equal(row.userName, "www-data");
    assert.equal(row.commandLine, null);
    assert.equal(row.sessionId, null);
    assert.deepEqual(row.unavailable, { commandLine: "access-denied" });
  });
  it("socket-level services and creation time come through", async () => {
    const source = fakeSource();
    source.listSockets = () =>
      Promise.resolve([{
        ...SOCKETS[1],
        pids: [10],
        services: ["Dnscache"],
        created: "2026-11-01T10:00:00.000Z",
      }]);
    const [row] = await listConnections({ source });
    assert.deepEqual(row.services, ["Dnscache"]);
    assert.equal(row.connectionCreated, "2026-11-01T10:00:00.000Z");
  });
  it("gives each record its own services list, even records of one process", async () => {
    const source = fakeSource();
    const withService = { ...PROCS[10], services: ["nginx.service"] };
    source.describeProcesses = () => Promise.resolve(new Map([[10, withService]]));
    source.listSockets = () =>
      Promise.resolve([SOCKETS[1], { ...SOCKETS[3], services: ["TermService"] }, SOCKETS[3]]
        .map((s) => ({ ...s, pids: [10] })));
    const rows = await listConnections({ source });
    assert.equal(rows.length, 3);
    rows[0].services!.push("changed");
    rows[1].services!.push("changed");
    assert.deepEqual(rows.map((r) => r.services), [
      ["nginx.service", "changed"],
      ["TermService", "changed"],
      ["nginx.service"],
    ]);
    assert.deepEqual(withService.services, ["nginx.service"], "the backend's list is untouched");
  });
  it("a socket made before its pid's process started keeps the pid, not that process", async () => {
    // Windows: the socket's maker exited (a child kept the socket), and pid 10 went to a later
    // process, nginx, started at 10:00:00.
    const made = (localPort: number, created: string | null) => ({
      ...SOCKETS[1],
      localPort,
      pids: [10],
      created,
      ...(created === null ? { unavailable: { created: "not-supported" as const } } : {}),
    });
    const source = fakeSource();
    source.listSockets = () =>
      Promise.resolve([
        made(1, "2026-11-01T09:59:59.999Z"),
        made(2, "2026-11-01T10:00:00.000Z"),
        made(3, null),
      ]);
    const rows = await listConnections({ source });
    const byPort = new Map(rows.map((r) => [r.localPort, r]));
    const before = byPort.get(1)!;
    assert.equal(before.pid, 10);
    assert.equal(before.processName, null);
    assert.equal(before.processStartTime, null);
    assert.equal(before.unavailable.processName, "process-exited");
    assert.equal(before.unavailable.processPath, "process-exited");
    assert.equal(before.unavailable.pid, undefined);
    assert.equal(before.connectionCreated, "2026-11-01T09:59:59.999Z");
    // Made the same millisecond, or with no known time: the process that has the pid is the owner.
    for (const port of [2, 3]) assert.equal(byPort.get(port)!.processName, "nginx", `${port}`);
    // --name goes by the owner, so the newcomer's name does not take in the older socket.
    const named = await listConnections({ source, name: "nginx" });
    assert.deepEqual(named.map((r) => r.localPort), [2, 3]);
  });
  it("--stats: counters for TCP, not-applicable for UDP", async () => {
    const source = fakeSource();
    source.listSockets = (q) =>
      Promise.resolve([
        {
          ...SOCKETS[1],
          pids: [10],
          stats: q.stats ? { bytesIn: 5, bytesOut: 7, segmentsIn: 1, segmentsOut: 2 } : undefined,
        },
        SOCKETS[0],
      ]);
    const rows = await listConnections({ source, stats: true });
    const tcp = rows.find((r) => r.protocol === "TCP")!;
    assert.deepEqual([tcp.bytesIn, tcp.bytesOut, tcp.segmentsIn, tcp.segmentsOut], [5, 7, 1, 2]);
    const udp = rows.find((r) => r.protocol === "UDP")!;
    assert.equal(udp.bytesIn, null);
    assert.equal(udp.unavailable.bytesIn, "not-applicable");
  });
  it("--stats: a counter beyond 2^53 - 1 is null, out-of-range, and the row stays", async () => {
    const source = fakeSource();
    const huge = 2 ** 64 - 2 ** 11; // what a 64-bit count near its top reads as
    source.listSockets = () =>
      Promise.resolve([{
        ...SOCKETS[1],
        pids: [10],
        stats: { bytesIn: huge, bytesOut: 2 ** 53 - 1, segmentsIn: 2 ** 53, segmentsOut: 3 },
      }]);
    const [row] = await listConnections({ source, stats: true });
    assert.deepEqual(
      [row.bytesIn, row.bytesOut, row.segmentsIn, row.segmentsOut],
      [null, 2 ** 53 - 1, null, 3],
    );
    assert.equal(row.unavailable.bytesIn, "out-of-range");
    assert.equal(row.unavailable.segmentsIn, "out-of-range");
    assert.equal(row.unavailable.bytesOut, undefined);
    assert.equal(row.pid, 10);
  });
  it("enableStats asks the backend to switch counters on, and reads them (stats implied)", async () => {
    const source = fakeSource();
    const rows = await listConnections({ source, enableStats: true, protocols: ["UDP"] });
    assert.deepEqual(source.queries.map((q) => [q.stats, q.enableStats]), [[true, true]]);
    assert.ok(rows.every((r) => r.unavailable.bytesIn === "not-applicable"));
    await listConnections({ source, stats: true });
    assert.deepEqual(source.queries[1].enableStats, undefined, "--stats alone changes nothing");
  });
});

describe("a backend that hands over rows (listSocketRows)", () => {
  /** The sockets behind row accessors, as a backend that keeps columns offers them. */
  function rowsOf(sockets: RawSocket[]): SocketRows {
    // Every field some socket has (each field of RawSocket is in the sockets below).
    const fields = new Set(sockets.flatMap((s) => Object.keys(s) as (keyof RawSocket)[]));
    const rows: Record<string, unknown> = { size: sockets.length };
    for (const field of fields) rows[field] = (i: number) => sockets[i][field];
    return rows as unknown as SocketRows;
  }

  const SOCKETS_WITH_EXTRAS: RawSocket[] = [
    ...SOCKETS,
    {
      protocol: "TCP",
      family: "IPv6",
      localAddress: "::1",
      localPort: 3389,
      remoteAddress: "::1",
      remotePort: 50000,
      state: "ESTABLISHED",
      pids: [10],
      services: ["TermService"],
      created: "2026-11-01T10:00:03.000Z",
      stats: { bytesIn: 1, bytesOut: 2, segmentsIn: 3, segmentsOut: 4 },
    },
    {
      protocol: "TCP",
      family: "IPv6",
      localAddress: "::1",
      localPort: 3390,
      remoteAddress: null,
      remotePort: null,
      state: "LISTEN",
      pids: [11],
      services: null,
      created: null,
      stats: null,
      unavailable: { services: "access-denied", created: "not-supported", stats: "timeout" },
    },
    {
      // Made before pid 20's process started: its maker has exited.
      protocol: "UDP",
      family: "IPv4",
      localAddress: "0.0.0.0",
      localPort: 5355,
      remoteAddress: null,
      remotePort: null,
      state: null,
      pids: [20],
      created: "2026-11-01T10:00:01.000Z",
    },
  ];

  for (
    const [what, filters] of [
      ["no filter", {}],
      ["a port", { port: [80, 443] }],
      ["a pid", { pids: [10] }],
      ["a state", { states: ["LISTEN" as const] }],
      ["a name", { name: "nginx" }],
      ["counters", { stats: true }],
      ["an address", { remote: "10.0.0.0/8" }],
    ] as const
  ) {
    it(`gives the records the same sockets as objects give: ${what}`, async () => {
      const objects = fakeSource();
      objects.listSockets = (query) => {
        objects.queries.push(query);
        return Promise.resolve(structuredClone(SOCKETS_WITH_EXTRAS));
      };
      const rows = fakeSource();
      rows.listSockets = () => Promise.reject(new Error("the rows should be read"));
      rows.listSocketRows = (query) => {
        rows.queries.push(query);
        return Promise.resolve(rowsOf(structuredClone(SOCKETS_WITH_EXTRAS)));
      };
      const expected = await listConnections({ ...filters, source: objects });
      assert.ok(expected.length > 0);
      assert.deepEqual(await listConnections({ ...filters, source: rows }), expected);
      assert.deepEqual(rows.queries, objects.queries);
      assert.deepEqual(rows.described, objects.described);
    });
  }
});

describe("--tree", () => {
  const table = [
    { pid: 1, parentPid: 0, name: "init", startTime: "2026-11-01T09:00:00.000Z" },
    { pid: 10, parentPid: 1, name: "nginx", startTime: "2026-11-01T10:00:00.000Z" },
    { pid: 11, parentPid: 10, name: "nginx", startTime: "2026-11-01T10:00:01.000Z" },
    { pid: 20, parentPid: 10, name: "Notepad++.exe", startTime: "2026-11-01T10:00:02.000Z" },
  ];
  it("selects the process and its descendants, and asks the backend for those only", async () => {
    const source = { ...fakeSource(), listProcesses: () => Promise.resolve(table) };
    const rows = await listConnections({ source, pids: [10], tree: true });
    assert.deepEqual([...new Set(rows.map((r) => r.pid))].sort(), [10, 11, 20]);
    assert.deepEqual(source.queries.map((q) => [...q.pids!].sort()), [[10, 11, 20]]);
  });
  it("by name: the root matched by name, children whatever their name", async () => {
    const source = {
      ...fakeSource(),
      listProcesses: () =>
        Promise.resolve(table.map((p) => p.pid === 10 ? { ...p, name: "launcher" } : p)),
    };
    const rows = await listConnections({ source, name: "launcher", tree: true });
    assert.deepEqual([...new Set(rows.map((r) => r.pid))].sort(), [10, 11, 20]);
  });
  it("fails clearly when the backend has no process table", async () => {
    await assert.rejects(
      listConnections({ source: fakeSource(), pids: [10], tree: true }),
      /cannot list processes/,
    );
  });
});

/**
 * Socket rows that also hand over their endpoints as columns ({@linkcode SocketRows.endpointColumns}),
 * with the addresses' ids in order of first use from the end of the list, not the start.
 */
function rowsWithColumns(sockets: readonly RawSocket[]): SocketRows {
  const n = sockets.length;
  const texts: (string | null)[] = [null];
  const idOf = (text: string | null) => {
    if (text === null) return 0;
    if (!texts.includes(text)) texts.push(text);
    return texts.indexOf(text);
  };
  const local = new Uint32Array(n);
  const remote = new Uint32Array(n);
  for (let i = n - 1; i >= 0; i--) {
    local[i] = idOf(sockets[i].localAddress);
    remote[i] = idOf(sockets[i].remoteAddress);
  }
  const columns = {
    kind: Uint8Array.from(
      sockets,
      (s) => ["TCP", "UDP"].indexOf(s.protocol) * 3 + ["IPv4", "IPv6"].indexOf(s.family),
    ),
    localPort: Uint16Array.from(sockets, (s) => s.localPort),
    remotePort: Uint16Array.from(sockets, (s) => s.remotePort ?? 7),
    texts,
    local,
    remote,
  };
  // Every other method reads the field of the same name from the socket.
  const fields = [
    "protocol",
    "family",
    "localAddress",
    "localPort",
    "remoteAddress",
    "remotePort",
    "state",
    "pids",
    "ownerReason",
    "services",
    "created",
    "stats",
    "unavailable",
  ] as const;
  const accessors = Object.fromEntries(
    fields.map((field) => [field, (i: number) => sockets[i][field]]),
  ) as unknown as Omit<SocketRows, "size" | "endpointColumns">;
  return { ...accessors, size: n, endpointColumns: () => columns };
}

describe("listing order on many sockets", () => {
  /** A small deterministic generator, so a failure can be replayed. */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  /** The order as the README states it, by comparing the records themselves. */
  function expectedOrder(rows: { [k: string]: unknown }[]): string[] {
    const text = (r: { [k: string]: unknown }) =>
      [r.protocol, r.family, r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.pid]
        .join(" ");
    const collator = new Intl.Collator("en-US");
    const rank = (value: unknown, order: readonly string[]) => order.indexOf(value as string);
    return [...rows].sort((a, b) =>
      (rank(a.protocol, ["TCP", "UDP"]) - rank(b.protocol, ["TCP", "UDP"])) ||
      (rank(a.family, ["IPv4", "IPv6"]) - rank(b.family, ["IPv4", "IPv6"])) ||
      ((a.localPort as number) - (b.localPort as number)) ||
      collator.compare(a.localAddress as string, b.localAddress as string) ||
      ((a.remotePort as number ?? -1) - (b.remotePort as number ?? -1)) ||
      collator.compare((a.remoteAddress ?? "") as string, (b.remoteAddress ?? "") as string) ||
      ((a.pid as number ?? -1) - (b.pid as number ?? -1))
    ).map(text);
  }

  for (
    const [what, remotes] of [
      ["few addresses", 3],
      ["thousands of remote addresses", 5000],
      // Too many for the keys to share a sort word with the position: the listing falls back to
      // two keys and two sorts.
      ["tens of thousands of addresses", 60000],
    ] as const
  ) {
    it(`is protocol, family, local port and address, remote port and address, pid: ${what}`, async () => {
      const next = random(remotes);
      const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
      const many = remotes > 10000;
      const locals4 = ["127.0.0.1", "0.0.0.0", "10.0.0.2"];
      if (many) { for (let n = 0; n < 40; n++) locals4.push(`10.1.${n}.2`); }
      const sockets: RawSocket[] = [];
      for (let i = 0; i < (many ? 20000 : 6000); i++) {
        const family = pick(["IPv4", "IPv6"] as const);
        const tcp = next() < 0.7;
        const connected = tcp && next() < 0.8;
        const remote = Math.floor(next() * remotes);
        const v4 = family === "IPv4";
        sockets.push({
          protocol: tcp ? "TCP" : "UDP",
          family,
          localAddress: pick(v4 ? locals4 : ["::1", "::", "fe80::1%2"]),
          // Few ports, so that many sockets share their endpoints.
          localPort: pick([22, 80, 443, 8080, 50000, 65535]),
          remoteAddress: connected
            ? v4 ? `10.${remote >> 8 & 255}.${remote & 255}.9` : `2001:db8::${remote.toString(16)}`
            : null,
          remotePort: connected ? pick([0, 443, 50001, 65535]) : null,
          state: tcp ? (connected ? "ESTABLISHED" : "LISTEN") : null,
          pids: next() < 0.1
            ? []
            : next() < 0.2
            ? [20, 10, 11].slice(0, 1 + (i % 3))
            : [pick([10, 11, 20])],
        });
      }
      const source = fakeSource();
      source.listSockets = () => Promise.resolve(sockets);
      const rows = await listConnections({ source });
      const text = (r: { [k: string]: unknown }) =>
        [r.protocol, r.family, r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.pid]
          .join(" ");
      assert.deepEqual(rows.map(text), expectedOrder(rows));
      // Rows that hand over their endpoints as columns are listed the same.
      const columnSource = fakeSource();
      columnSource.listSocketRows = () => Promise.resolve(rowsWithColumns(sockets));
      assert.deepEqual(await listConnections({ source: columnSource }), rows);
    });
  }
});

describe("recordOrder", () => {
  it("orders by the two keys, then pid, then index, the same by packed words and by comparison", () => {
    let seed = 99;
    const next = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    // Up to keys of 51 bits: with 5000 records (13 bits of position) they just fit a word. The
    // first two pairs fit one word together (one sort), the last two do not (two sorts).
    for (const [spanA, spanB] of [[10, 10], [2 ** 20, 2 ** 17], [2 ** 30, 2 ** 22], [2 ** 51, 3]]) {
      const n = 5000;
      const keyA = Float64Array.from({ length: n }, () => Math.floor(next() * spanA));
      const keyB = Float64Array.from({ length: n }, () => Math.floor(next() * spanB));
      const pidOf = Float64Array.from({ length: n }, () => Math.floor(next() * 4) - 1);
      const expected = Array.from({ length: n }, (_, i) => i).sort((x, y) =>
        (keyA[x] - keyA[y]) || (keyB[x] - keyB[y]) || (pidOf[x] - pidOf[y]) || (x - y)
      );
      assert.deepEqual([...recordOrder(keyA, keyB, pidOf)], expected, `packed ${spanA} ${spanB}`);
      assert.deepEqual([...recordOrder(keyA, keyB, pidOf, 0)], expected, `compared ${spanA}`);
    }
  });
});
