// The engine's control flow (which tables it asks for, the grow-and-retry loop, handle hygiene,
// how an unreadable process is classified) against fake DLL functions. Real DLLs are exercised
// under Wine; these cases cover the failures a live system rarely produces on demand.
// Deno.test: the fakes hand out Deno pointer objects as handles.
import assert from "node:assert/strict";
import { createWindowsSource } from "../../../ffi/windows/engine.ts";
import {
  fakeIphlpapi,
  fakeKernel32,
  fakeNtdll,
  type FakeProcess,
  sourceWith,
  table,
  Y2K,
} from "./_fakes.ts";

/** An owner-module TCP table with LISTEN rows 127.0.0.1:<port> owned by <pid>. */
function listenTable(rows: [port: number, pid: number][]): Uint8Array {
  return table(
    "tcp4",
    "module",
    rows.map(([localPort, pid]) => ({ state: 2, local: [127, 0, 0, 1], localPort, pid })),
  );
}

/** An owner-module UDP IPv6 table with one row [::]:<port> owned by <pid>. */
function udp6Table(port: number, pid: number): Uint8Array {
  return table("udp6", "module", [{ local: new Array(16).fill(0), localPort: port, pid }]);
}

const NO_PROCESSES = fakeKernel32([]).symbols;

Deno.test("listSockets reads only the tables asked for, with the owner-module classes", async () => {
  const ip = fakeIphlpapi((call) =>
    call.fn === "tcp" ? listenTable([[80, 10]]) : udp6Table(53, 11)
  );
  const { source, counts } = sourceWith(ip.symbols, NO_PROCESSES);
  const udp = await source.listSockets({ protocols: ["UDP"], families: ["IPv6"] });
  assert.deepEqual(udp.map((s) => [s.protocol, s.family, s.localAddress, s.localPort, s.pids]), [
    ["UDP", "IPv6", "::", 53, [11]],
  ]);
  assert.deepEqual(ip.calls.map((c) => [c.fn, c.af, c.tableClass]), [
    ["udp", 23, 2],
    ["udp", 23, 2],
  ]);

  ip.calls.length = 0;
  const tcp = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.deepEqual(tcp.map((s) => [s.state, s.localAddress, s.localPort, s.remoteAddress]), [
    ["LISTEN", "127.0.0.1", 80, null],
  ]);
  assert.deepEqual(ip.calls.map((c) => [c.fn, c.af, c.tableClass]), [["tcp", 2, 8], ["tcp", 2, 8]]);
  assert.deepEqual(counts(), { opened: 2, closed: 2 });
});

Deno.test("listSockets asks for the size with a NULL buffer first, then passes the buffer's size", async () => {
  const ip = fakeIphlpapi(() => listenTable([[1, 1], [2, 2]]));
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.equal(ip.calls.length, 2);
  assert.deepEqual([ip.calls[0].withBuffer, ip.calls[0].size], [false, 0]);
  assert.equal(ip.calls[1].withBuffer, true);
  assert.ok(ip.calls[1].size >= 8 + 2 * 160);
});

Deno.test("listSockets retries while the table grows between calls", async () => {
  // The table doubles on each of the first calls (more than the slack), then settles.
  const rowsAt = (n: number) => 100 * 2 ** Math.min(n, 3);
  const ip = fakeIphlpapi((_call, n) =>
    listenTable(Array.from({ length: rowsAt(n) }, (_, i) => [i, 7]))
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  const rows = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.equal(rows.length, 800);
  assert.equal(ip.calls.length, 5);
  const sizes = ip.calls.map((c) => c.size);
  assert.ok(sizes.every((size, i) => i === 0 || size > sizes[i - 1]), `growing: ${sizes}`);
});

Deno.test("listSockets gives up after 8 attempts per table form when the table never fits", async () => {
  // Always one row more than the buffer could hold, in either form.
  const ip = fakeIphlpapi((call) =>
    call.tableClass === 8
      ? listenTable(Array.from({ length: Math.floor(call.size / 160) + 1 }, () => [1, 1]))
      : table("tcp6", "pid", [
        ...Array.from({ length: Math.floor(call.size / 56) + 1 }, () => ({
          local: new Array(16).fill(0),
          localPort: 1,
          pid: 1,
        })),
      ])
  );
  const { source, counts } = sourceWith(ip.symbols, NO_PROCESSES);
  await assert.rejects(source.listSockets({ protocols: ["TCP"], families: ["IPv6"] }), {
    message:
      /^GetExtendedTcpTable \(IPv6\) failed: the table kept outgrowing the buffer after 8 attempts \(last size \d+ bytes, \d+ bytes needed\)$/,
  });
  assert.deepEqual(ip.calls.map((c) => c.tableClass), [...Array(8).fill(8), ...Array(8).fill(5)]);
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("listSockets reports any other return code of the owner-pid call with the function's name", async () => {
  const ip = fakeIphlpapi((call) => call.fn === "udp" ? 87 : listenTable([]));
  const { source, counts } = sourceWith(ip.symbols, NO_PROCESSES);
  await assert.rejects(source.listSockets({ protocols: ["TCP", "UDP"], families: ["IPv4"] }), {
    message: "GetExtendedUdpTable (IPv4) failed: error code 87",
  });
  assert.deepEqual(
    ip.calls.filter((c) => c.fn === "udp").map((c) => c.tableClass),
    [2, 1],
    "the owner-module form first, then the owner-pid form",
  );
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("listSockets falls back to the owner-pid classes when the owner-module call fails", async () => {
  const ip = fakeIphlpapi((call) => {
    if (call.tableClass === 8 || call.tableClass === 2) return 87;
    return call.fn === "tcp"
      ? table("tcp4", "pid", [{ state: 2, local: [0, 0, 0, 0], localPort: 135, pid: 900 }])
      : table("udp4", "pid", [{ local: [127, 0, 0, 1], localPort: 53, pid: 901 }]);
  });
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  const rows = await source.listSockets({ protocols: ["TCP", "UDP"], families: ["IPv4"] });
  assert.deepEqual(rows, [
    {
      protocol: "TCP",
      family: "IPv4",
      localAddress: "0.0.0.0",
      localPort: 135,
      remoteAddress: null,
      remotePort: null,
      state: "LISTEN",
      pids: [900],
      created: null,
      services: null,
      unavailable: { created: "not-supported", services: "not-supported" },
    },
    {
      protocol: "UDP",
      family: "IPv4",
      localAddress: "127.0.0.1",
      localPort: 53,
      remoteAddress: null,
      remotePort: null,
      state: null,
      pids: [901],
      created: null,
      services: null,
      unavailable: { created: "not-supported", services: "not-supported" },
    },
  ]);
  assert.deepEqual(ip.calls.map((c) => [c.fn, c.tableClass]), [
    ["tcp", 8],
    ["tcp", 5],
    ["tcp", 5],
    ["udp", 2],
    ["udp", 1],
    ["udp", 1],
  ]);
});

Deno.test("listSockets reports the creation time of owner-module rows, and zero as not supported", async () => {
  const ip = fakeIphlpapi(() =>
    table("tcp4", "module", [
      { state: 2, local: [0, 0, 0, 0], localPort: 80, pid: 10, created: Y2K + 15_000_000n },
      { state: 2, local: [0, 0, 0, 0], localPort: 81, pid: 10, created: 0n },
    ])
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  const [a, b] = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.equal(a.created, "2000-01-01T00:00:01.500Z");
  assert.equal(a.unavailable?.created, undefined);
  assert.equal(b.created, null);
  assert.equal(b.unavailable?.created, "not-supported");
});

Deno.test("listSockets without the owner-module functions (Wine 10) reports services as not supported", async () => {
  const empty = table("tcp4", "module", []);
  const ip = fakeIphlpapi((call) =>
    call.fn === "tcp"
      ? (call.af === 2 ? listenTable([[80, 10]]) : empty)
      : (call.af === 23 ? udp6Table(53, 11) : empty)
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  const rows = await source.listSockets({ protocols: ["TCP", "UDP"], families: ["IPv4", "IPv6"] });
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.services, null);
    assert.equal(row.unavailable?.services, "not-supported");
  }
});

Deno.test("listSockets without the EStats functions reports TCP counters as not supported", async () => {
  const ip = fakeIphlpapi((call) =>
    call.fn === "tcp"
      ? table("tcp4", "module", [{
        state: 5,
        local: [127, 0, 0, 1],
        localPort: 5000,
        remote: [127, 0, 0, 1],
        remotePort: 5001,
        pid: 10,
      }])
      : udp6Table(53, 11)
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  const rows = await source.listSockets({
    protocols: ["TCP", "UDP"],
    families: ["IPv4"],
    stats: true,
  });
  const tcp = rows.find((r) => r.protocol === "TCP")!;
  assert.equal(tcp.stats, null);
  assert.equal(tcp.unavailable?.stats, "not-supported");
  const udp = rows.find((r) => r.protocol === "UDP")!;
  assert.equal(udp.stats, undefined, "UDP rows are left to the core (not-applicable)");
});

const PROCESSES: FakeProcess[] = [
  { pid: 0, parent: 0, exe: "[System Process]", path: null },
  { pid: 4, parent: 0, exe: "System", path: null },
  { pid: 612, parent: 4, exe: "smss.exe", path: null },
  {
    pid: 7000,
    parent: 612,
    exe: "web.exe",
    path: "C:\\Program Files\\Web\\web.exe",
    created: Y2K + 15_000_000n,
    session: 1,
  },
];

Deno.test("describeProcesses reads name, parent, path, start time and session (no advapi32, ntdll)", async () => {
  const k32 = fakeKernel32(PROCESSES);
  const { source, counts } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const info = await source.describeProcesses([7000]);
  assert.deepEqual(info.get(7000), {
    pid: 7000,
    name: "web.exe",
    path: "C:\\Program Files\\Web\\web.exe",
    parentPid: 612,
    startTime: "2000-01-01T00:00:01.500Z",
    commandLine: null,
    userName: null,
    sessionId: 1,
    unavailable: { commandLine: "not-supported", userName: "not-supported" },
  });
  assert.equal(k32.snapshots, 1);
  assert.deepEqual([...k32.open], [], "every handle closed");
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("describeProcesses tells a process that exited before it was opened from a denied one", async () => {
  const web = PROCESSES[3];
  const k32 = fakeKernel32([
    ...PROCESSES,
    { ...web, pid: 7100, exitsOnOpen: true },
    { ...web, pid: 7200, exitsOnOpen: { ...web, pid: 7200, exe: "other.exe" } },
    { ...web, pid: 7300, exitsOnOpen: { ...web, pid: 7300, parent: 4 } },
  ]);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const info = await source.describeProcesses([612, 7000, 7100, 7200, 7300]);
  assert.equal(k32.snapshots, 2, "a second snapshot, as some process could not be opened");
  assert.equal(info.get(612)!.unavailable.path, "access-denied", "still there: denied");
  assert.deepEqual(info.get(7000)!.unavailable, {
    commandLine: "not-supported",
    userName: "not-supported",
  });
  for (const pid of [7100, 7200, 7300]) {
    const gone = info.get(pid)!;
    // What the first snapshot said while it ran is kept; the rest is null because it exited.
    assert.deepEqual([gone.name, gone.parentPid, gone.path, gone.startTime], [
      "web.exe",
      612,
      null,
      null,
    ]);
    assert.deepEqual(gone.unavailable, {
      path: "process-exited",
      startTime: "process-exited",
      commandLine: "process-exited",
      userName: "process-exited",
      ...(gone.sessionId === null ? { sessionId: "process-exited" } : {}),
    });
  }
  assert.deepEqual([...k32.open], [], "every handle closed");
});

Deno.test("describeProcesses, elevated: System opens, without an image or a command line", async () => {
  const system = { pid: 4, parent: 0, exe: "System", path: "", created: Y2K, session: 0 };
  const k32 = fakeKernel32([PROCESSES[0], system]);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const info = await source.describeProcesses([4]);
  assert.deepEqual(info.get(4), {
    pid: 4,
    name: "System",
    path: null,
    parentPid: 0,
    startTime: "2000-01-01T00:00:00.000Z",
    commandLine: null,
    userName: null,
    sessionId: 0,
    unavailable: {
      path: "system-process",
      commandLine: "system-process",
      userName: "not-supported",
    },
  });
  assert.equal(k32.snapshots, 1, "nothing was denied: no second snapshot");
  assert.deepEqual([...k32.open], [], "every handle closed");
});

Deno.test("describeProcesses classifies processes it cannot read", async () => {
  const k32 = fakeKernel32(PROCESSES);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const info = await source.describeProcesses([0, 4, 612, 7000, 99999, 612]);
  assert.equal(k32.snapshots, 2, "a second snapshot to tell denied from exited");
  assert.equal(info.size, 5);
  assert.deepEqual(info.get(0), {
    pid: 0,
    name: "System Idle Process",
    path: null,
    parentPid: null,
    startTime: null,
    commandLine: null,
    userName: null,
    sessionId: null,
    unavailable: {
      path: "system-process",
      parentPid: "system-process",
      startTime: "system-process",
      commandLine: "system-process",
      userName: "system-process",
      sessionId: "system-process",
    },
  });
  assert.deepEqual(info.get(4), {
    pid: 4,
    name: "System",
    path: null,
    parentPid: 0,
    startTime: null,
    commandLine: null,
    userName: null,
    sessionId: null,
    unavailable: {
      // Not elevated, System cannot be opened; elevated, it has still no image or command line.
      path: "system-process",
      startTime: "access-denied",
      commandLine: "system-process",
      userName: "access-denied",
      sessionId: "access-denied",
    },
  });
  const smss = info.get(612)!;
  assert.deepEqual([smss.name, smss.parentPid, smss.path], ["smss.exe", 4, null]);
  assert.equal(smss.unavailable.path, "access-denied");
  assert.deepEqual(info.get(99999), {
    pid: 99999,
    name: null,
    path: null,
    parentPid: null,
    startTime: null,
    commandLine: null,
    userName: null,
    sessionId: null,
    unavailable: {
      name: "process-exited",
      path: "process-exited",
      parentPid: "process-exited",
      startTime: "process-exited",
      commandLine: "process-exited",
      userName: "process-exited",
      sessionId: "process-exited",
    },
  });
  assert.ok(!k32.opened.includes(0), "PID 0 is never opened");
  assert.ok(!k32.opened.includes(99999), "a pid missing from the snapshot is never opened");
  assert.deepEqual([...k32.open], []);
});

Deno.test("describeProcesses reports the session id as not supported without the optional symbol", async () => {
  const k32 = fakeKernel32(PROCESSES, { noSessionSymbol: true });
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const web = (await source.describeProcesses([7000])).get(7000)!;
  assert.equal(web.path, "C:\\Program Files\\Web\\web.exe");
  assert.equal(web.sessionId, null);
  assert.equal(web.unavailable.sessionId, "not-supported");
});

Deno.test("describeProcesses closes every handle and the libraries when a call throws", async () => {
  const k32 = fakeKernel32(PROCESSES, { queryThrows: true });
  const { source, counts } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  await assert.rejects(source.describeProcesses([7000]), { message: "boom" });
  assert.deepEqual([...k32.open], []);
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("describeProcesses fails clearly when no snapshot can be taken", async () => {
  const k32 = fakeKernel32(PROCESSES, { snapshotFails: true });
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  await assert.rejects(source.describeProcesses([7000]), /^Error: CreateToolhelp32Snapshot failed/);
});

Deno.test("describeProcesses fails clearly when the snapshot has no entries", async () => {
  const k32 = fakeKernel32([]);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  await assert.rejects(source.describeProcesses([7000]), /Process32FirstW failed/);
  assert.deepEqual([...k32.open], []);
});

Deno.test("describeProcesses with no pids takes no snapshot", async () => {
  const k32 = fakeKernel32(PROCESSES);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  assert.equal((await source.describeProcesses([])).size, 0);
  assert.equal(k32.snapshots, 0);
});

Deno.test("listProcesses lists every process with parent and start time", async () => {
  const k32 = fakeKernel32(PROCESSES);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  assert.deepEqual(await source.listProcesses!(), [
    { pid: 0, parentPid: null, name: "System Idle Process", startTime: null },
    { pid: 4, parentPid: 0, name: "System", startTime: null },
    { pid: 612, parentPid: 4, name: "smss.exe", startTime: null },
    { pid: 7000, parentPid: 612, name: "web.exe", startTime: "2000-01-01T00:00:01.500Z" },
  ]);
  assert.deepEqual([...k32.open], []);
});

Deno.test("listProcesses takes start times from the system's process list, opening only the processes it does not vouch for", async () => {
  const listed: FakeProcess[] = [
    ...PROCESSES,
    // A process this account may not open: its start time only the list has.
    { pid: 650, parent: 612, exe: "csrss.exe", path: null, created: Y2K + 5_000_000n },
    { pid: 7600, parent: 7000, exe: "tool.exe", path: "C:\\tool.exe", created: Y2K + 70_000_000n },
  ];
  const k32 = fakeKernel32(listed);
  // The list was taken after pid 7600 was reused under another parent: it does not vouch for
  // the snapshot's 7600, which is opened instead.
  const later = fakeKernel32(
    listed.map((p) => p.pid === 7600 ? { ...p, parent: 9000, created: Y2K + 80_000_000n } : p),
  );
  const nt = fakeNtdll(later, { systemProcesses: true });
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, {
    ntdll: nt.symbols,
  });
  assert.deepEqual(await source.listProcesses!(), [
    { pid: 0, parentPid: null, name: "System Idle Process", startTime: null },
    { pid: 4, parentPid: 0, name: "System", startTime: null },
    { pid: 612, parentPid: 4, name: "smss.exe", startTime: null },
    { pid: 7000, parentPid: 612, name: "web.exe", startTime: "2000-01-01T00:00:01.500Z" },
    { pid: 650, parentPid: 612, name: "csrss.exe", startTime: "2000-01-01T00:00:00.500Z" },
    { pid: 7600, parentPid: 7000, name: "tool.exe", startTime: "2000-01-01T00:00:07.000Z" },
  ]);
  assert.equal(nt.systemCalls.length, 1, "one list for every process");
  // No creation time listed for 4 and 612 (0, as for the Idle process): they are opened too.
  assert.deepEqual(k32.opened, [4, 612, 7600]);
  assert.deepEqual([...k32.open], []);
});

Deno.test("a creation time beyond the year 9999 is out-of-range, and the listing goes on", async () => {
  // What Wine 10 answers for a child process still being created.
  const k32 = fakeKernel32([
    ...PROCESSES,
    {
      pid: 7100,
      parent: 7000,
      exe: "child.exe",
      path: "C:\\child.exe",
      created: 0x5555555555555555n,
    },
  ]);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const child = (await source.describeProcesses([7100, 7000])).get(7100)!;
  assert.equal(child.startTime, null);
  assert.equal(child.unavailable.startTime, "out-of-range");
  assert.equal(child.path, "C:\\child.exe", "the rest is read");
  const listed = await source.listProcesses!();
  assert.deepEqual(listed.find((p) => p.pid === 7100), {
    pid: 7100,
    parentPid: 7000,
    name: "child.exe",
    startTime: null,
  });
  assert.equal(listed.find((p) => p.pid === 7000)?.startTime, "2000-01-01T00:00:01.500Z");
  assert.deepEqual([...k32.open], []);
});

Deno.test("processesOfThreads names the process each thread id runs in, opening the DLLs once", () => {
  const k32 = fakeKernel32(PROCESSES, { threads: { 7004: 7000, 7008: 7000 } });
  const { source, counts } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  // A process id is no thread's, and nothing runs with 9999.
  assert.deepEqual(
    source.processesOfThreads!([7004, 7000, 9999, 7008]),
    new Map([[7004, 7000], [7008, 7000]]),
  );
  assert.deepEqual(counts(), { opened: 1, closed: 1 }, "one opening for every id");
  assert.deepEqual([...k32.open], [], "every thread handle closed");
  assert.deepEqual(source.processesOfThreads!([]), new Map());
  assert.deepEqual(counts(), { opened: 1, closed: 1 }, "nothing to look up opens nothing");
  const old = fakeKernel32(PROCESSES, { threads: { 7004: 7000 }, noThreadSymbols: true });
  assert.deepEqual(
    sourceWith(fakeIphlpapi(() => 0).symbols, old.symbols).source.processesOfThreads!([7004]),
    new Map(),
  );
  const broken = createWindowsSource({
    openLibraries: () => {
      throw new Error("kernel32.dll cannot be loaded");
    },
  });
  assert.deepEqual(broken.processesOfThreads!([7004]), new Map(), "only a note: never a failure");
});

Deno.test("a library that cannot be opened rejects the call instead of throwing", async () => {
  const source = createWindowsSource({
    openLibraries() {
      throw new Error('Cannot load the native library "C:\\Windows\\System32\\iphlpapi.dll"');
    },
  });
  const pending = source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  await assert.rejects(pending, /iphlpapi\.dll/);
});

Deno.test("listSockets keeps a row whose state number a newer Windows may add, as UNKNOWN", async () => {
  const connected = (state: number, localPort: number, pid: number) => ({
    state,
    local: [10, 0, 0, 1],
    localPort,
    remote: [10, 0, 0, 2],
    remotePort: 443,
    pid,
  });
  const specs = [connected(5, 50000, 10), connected(13, 50001, 11)];
  const ip = fakeIphlpapi((call) =>
    table(
      "tcp4",
      "module",
      call.fn === "tcp"
        ? [...specs, { state: 2, local: [0, 0, 0, 0], localPort: 80, pid: 12 }]
        : [],
    )
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  const rows = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.deepEqual(rows.map((s) => [s.state, s.localPort, s.remotePort, s.pids]), [
    ["ESTABLISHED", 50000, 443, [10]],
    ["UNKNOWN", 50001, 443, [11]],
    ["LISTEN", 80, null, [12]],
  ]);
});

Deno.test("describeProcesses with creation times: a start time for a denied process, and a pid reused by the same program is an exit", async () => {
  const web = PROCESSES[3];
  const denied = {
    ...web,
    pid: 7400,
    path: null,
    created: Y2K + 20_000_000n,
    session: 3,
    sessionDenied: true,
  } satisfies FakeProcess;
  const reused = {
    ...web,
    pid: 7500,
    path: null,
    created: Y2K + 30_000_000n,
    // The same program under the same parent takes the pid: only the creation time differs.
    exitsOnOpen: { ...web, pid: 7500, path: null, created: Y2K + 40_000_000n },
  } satisfies FakeProcess;
  const k32 = fakeKernel32([...PROCESSES, denied, reused]);
  const nt = fakeNtdll(k32, { systemProcesses: true });
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, {
    ntdll: nt.symbols,
  });
  const info = await source.describeProcesses([7400, 7500]);
  assert.equal(k32.snapshots, 1, "the creation times tell, without a second snapshot");
  assert.equal(nt.systemCalls.length, 2, "read before the processes are opened, and after");
  const stillThere = info.get(7400)!;
  assert.equal(stillThere.startTime, "2000-01-01T00:00:02.000Z");
  assert.equal(stillThere.sessionId, 3, "the session from the same list");
  assert.deepEqual(stillThere.unavailable, {
    path: "access-denied",
    commandLine: "access-denied",
    userName: "access-denied",
  });
  const gone = info.get(7500)!;
  assert.equal(gone.startTime, "2000-01-01T00:00:03.000Z", "the first process's own start");
  assert.equal(gone.unavailable.path, "process-exited");
  assert.equal(gone.unavailable.commandLine, "process-exited");
  assert.deepEqual([...k32.open], [], "every handle closed");
});

Deno.test("describeProcesses without an answer from NtQuerySystemInformation falls back to the second snapshot", async () => {
  const web = PROCESSES[3];
  const k32 = fakeKernel32([
    ...PROCESSES,
    { ...web, pid: 7400, path: null, created: Y2K, sessionDenied: true },
  ]);
  const nt = fakeNtdll(k32, { systemProcesses: 0xc0000022 | 0 });
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, {
    ntdll: nt.symbols,
  });
  const info = (await source.describeProcesses([7400])).get(7400)!;
  assert.equal(nt.systemCalls.length, 1, "not asked again after it failed");
  assert.equal(k32.snapshots, 2);
  assert.equal(info.startTime, null);
  assert.equal(info.unavailable.startTime, "access-denied");
  assert.equal(info.unavailable.sessionId, "access-denied");
  assert.equal(info.unavailable.path, "access-denied");
});
