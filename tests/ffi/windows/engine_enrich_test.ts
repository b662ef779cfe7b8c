// The engine's enrichment paths against fake DLL functions: services from the owner-module
// functions, TCP counters from EStats, the command line from ntdll and the user from advapi32.
// Each reason a field can be null for is produced here on demand; the real DLLs are exercised
// under Wine, which implements only some of these calls.
// Deno.test: the fakes hand out Deno pointer objects and write real buffer addresses.
import assert from "node:assert/strict";
import type { IphlpapiSymbols } from "../../../ffi/windows/engine.ts";
import {
  bytesOf,
  type FakeAccount,
  fakeAdvapi32,
  fakeIphlpapi,
  fakeKernel32,
  fakeNtdll,
  fakeOwnerModule,
  type FakeProcess,
  type Kernel32Fake,
  type ModuleAnswer,
  type ModuleCall,
  realMemset,
  sourceWith,
  table,
  v6,
  viewOf,
  Y2K,
} from "./_fakes.ts";

const NO_PROCESSES = fakeKernel32([]).symbols;
const LOOPBACK4 = [127, 0, 0, 1];
const ANY4 = [0, 0, 0, 0];
const SVCHOST = "C:\\Windows\\System32\\svchost.exe";

/** The pid of a MIB_TCPROW_OWNER_MODULE (dwOwningPid at 20). */
function pidOfRow(row: Uint8Array): number {
  assert.equal(row.length, 160);
  return new DataView(row.buffer, row.byteOffset, row.byteLength).getUint32(20, true);
}

// ---------------------------------------------------------------------------------------------
// Services

Deno.test("services: a svchost-hosted service, the image itself, and failures per row", async () => {
  const answers: Record<number, ModuleAnswer> = {
    900: { name: "Dnscache", path: SVCHOST },
    901: { name: "WEB.exe", path: "C:\\Program Files\\Web\\web.exe" },
    902: 1168, // ERROR_NOT_FOUND
    903: 299, // ERROR_PARTIAL_COPY
    904: { name: "", path: "" }, // a protected process, not elevated
    905: 5, // ERROR_ACCESS_DENIED
    906: 31, // anything else
    // What Windows answers for a service's socket: its name twice. The tag is in the row.
    907: { name: "Dnscache", path: "Dnscache" },
    // System: the kernel's own sockets have no module, and its image name has no folder.
    4: { name: "System", path: "System" },
  };
  // A second row of System, whose module cannot be read (ERROR_PARTIAL_COPY).
  const answer = (row: Uint8Array) =>
    pidOfRow(row) === 4 && row[32] === 1 ? 299 : answers[pidOfRow(row)];
  const calls: ModuleCall[] = [];
  const ip = fakeIphlpapi(
    (call) =>
      call.af === 2
        ? table(
          "tcp4",
          "module",
          [900, 901, 902, 903, 904, 905, 906, 907, 4, 4, 0].map((pid, i) => ({
            state: 2,
            local: ANY4,
            localPort: 1000 + i,
            pid,
            module: pid === 4 ? i - 8 : pid & 0xff,
          })),
        )
        : table("tcp6", "module", []),
    { GetOwnerModuleFromTcpEntry: fakeOwnerModule(answer, calls) },
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES, {
    ntdll: { NtQuerySystemInformation: null, NtQueryInformationProcess: null, memset: realMemset },
  });
  const rows = await source.listSockets({ protocols: ["TCP"], families: ["IPv4", "IPv6"] });
  const got = rows.map((r) => [r.pids[0], r.services, r.unavailable?.services]);
  assert.deepEqual(got, [
    [900, ["Dnscache"], undefined],
    [901, [], undefined],
    [902, null, "not-found"],
    [903, null, "access-denied"],
    [904, null, "access-denied"],
    [905, null, "access-denied"],
    [906, null, "not-found"],
    [907, ["Dnscache"], undefined],
    [4, [], undefined],
    [4, null, "system-process"],
    [0, null, "system-process"],
  ]);
  assert.equal(calls.length, 10, "pid 0 is not asked for");
  for (const call of calls) {
    assert.equal(call.infoClass, 0, "TCPIP_OWNER_MODULE_INFO_BASIC");
    assert.equal(call.row.length, 160, "the whole MIB_TCPROW_OWNER_MODULE is passed");
  }
  // The row passed is the table's row: state, address, port, pid, module info.
  const first = new DataView(calls[0].row.buffer);
  assert.equal(first.getUint32(0, true), 2);
  assert.equal(first.getUint16(8, false), 1000);
  assert.equal(first.getUint32(20, true), 900);
  assert.equal(calls[0].row[32], 900 & 0xff);
});

Deno.test("services: each table calls its own owner-module function with its own row", async () => {
  const seen: Record<string, number[]> = { tcp4: [], tcp6: [], udp4: [], udp6: [] };
  const fn = (name: string): NonNullable<IphlpapiSymbols["GetOwnerModuleFromTcpEntry"]> =>
    fakeOwnerModule((row) => {
      seen[name].push(row.length);
      return { name: `svc-${name}`, path: SVCHOST };
    }, []);
  const ip = fakeIphlpapi((call) => {
    const v4 = call.af === 2;
    if (call.fn === "tcp") {
      return v4
        ? table("tcp4", "module", [{ state: 2, local: ANY4, localPort: 1, pid: 10 }])
        : table("tcp6", "module", [{ state: 2, local: v6(0), localPort: 2, pid: 11 }]);
    }
    return v4
      ? table("udp4", "module", [{ local: ANY4, localPort: 3, pid: 12 }])
      : table("udp6", "module", [{ local: v6(0), localPort: 4, pid: 13 }]);
  }, {
    GetOwnerModuleFromTcpEntry: fn("tcp4"),
    GetOwnerModuleFromTcp6Entry: fn("tcp6"),
    GetOwnerModuleFromUdpEntry: fn("udp4"),
    GetOwnerModuleFromUdp6Entry: fn("udp6"),
  });
  const { source } = sourceWith(ip.symbols, NO_PROCESSES, {
    ntdll: { NtQuerySystemInformation: null, NtQueryInformationProcess: null, memset: realMemset },
  });
  const rows = await source.listSockets({ protocols: ["TCP", "UDP"], families: ["IPv4", "IPv6"] });
  assert.deepEqual(rows.map((r) => [r.localPort, r.services]), [
    [1, ["svc-tcp4"]],
    [2, ["svc-tcp6"]],
    [3, ["svc-udp4"]],
    [4, ["svc-udp6"]],
  ]);
  assert.deepEqual(seen, { tcp4: [160], tcp6: [192], udp4: [160], udp6: [176] });
});

Deno.test("services: a too-small buffer is grown to the size the call asks for", async () => {
  const calls: ModuleCall[] = [];
  const longPath = "C:\\" + "d\\".repeat(400) + "svchost.exe";
  const ip = fakeIphlpapi(
    (call) =>
      call.af === 2
        ? table("tcp4", "module", [{ state: 2, local: ANY4, localPort: 1, pid: 10 }])
        : table("tcp6", "module", []),
    {
      GetOwnerModuleFromTcpEntry: fakeOwnerModule(
        () => ({ name: "LongPathSvc", path: longPath }),
        calls,
      ),
    },
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES, {
    ntdll: { NtQuerySystemInformation: null, NtQueryInformationProcess: null, memset: realMemset },
  });
  const [row] = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.deepEqual(row.services, ["LongPathSvc"]);
  assert.equal(calls.length, 2);
  assert.ok(calls[1].capacity > calls[0].capacity);
  assert.equal(calls[1].capacity, 16 + 2 * 12 + 2 * (longPath.length + 1));
});

Deno.test("services: rows of one process with the same module info are asked for once", async () => {
  const calls: ModuleCall[] = [];
  const ip = fakeIphlpapi(
    (call) =>
      call.af === 2
        ? table("tcp4", "module", [
          { state: 2, local: ANY4, localPort: 1, pid: 10, module: 7 },
          { state: 2, local: ANY4, localPort: 2, pid: 10, module: 7 },
          { state: 2, local: ANY4, localPort: 3, pid: 10, module: 8 },
          { state: 2, local: ANY4, localPort: 4, pid: 11, module: 7 },
        ])
        : table("tcp6", "module", []),
    {
      GetOwnerModuleFromTcpEntry: fakeOwnerModule(
        (row) => ({ name: `m${row[32]}-p${pidOfRow(row)}`, path: SVCHOST }),
        calls,
      ),
    },
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES, {
    ntdll: { NtQuerySystemInformation: null, NtQueryInformationProcess: null, memset: realMemset },
  });
  const rows = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.deepEqual(rows.map((r) => r.services), [["m7-p10"], ["m7-p10"], ["m8-p10"], ["m7-p11"]]);
  assert.equal(calls.length, 3);
});

Deno.test("services: without a way to learn the buffer address they are not supported", async () => {
  const calls: ModuleCall[] = [];
  const ip = fakeIphlpapi(
    (call) =>
      call.af === 2
        ? table("tcp4", "module", [{ state: 2, local: ANY4, localPort: 1, pid: 10 }])
        : table("tcp6", "module", []),
    { GetOwnerModuleFromTcpEntry: fakeOwnerModule(() => ({ name: "x", path: SVCHOST }), calls) },
  );
  for (
    const ntdll of [undefined, {
      NtQuerySystemInformation: null,
      NtQueryInformationProcess: null,
      memset: null,
    }]
  ) {
    const { source } = sourceWith(ip.symbols, NO_PROCESSES, { ntdll });
    const [row] = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
    assert.equal(row.services, null);
    assert.equal(row.unavailable?.services, "not-supported");
  }
});

Deno.test("services: a pointer outside the buffer is not followed", async () => {
  const ip = fakeIphlpapi(
    (call) =>
      call.af === 2
        ? table("tcp4", "module", [{ state: 2, local: ANY4, localPort: 1, pid: 10 }])
        : table("tcp6", "module", []),
    {
      GetOwnerModuleFromTcpEntry: (_row, _cls, buffer) => {
        viewOf(buffer).setBigUint64(0, 0x10n, true); // pModuleName -> far below the buffer
        viewOf(buffer).setBigUint64(8, 0n, true);
        return 0;
      },
    },
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES, {
    ntdll: { NtQuerySystemInformation: null, NtQueryInformationProcess: null, memset: realMemset },
  });
  const [row] = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.equal(row.services, null);
  assert.equal(row.unavailable?.services, "not-supported");
});

// ---------------------------------------------------------------------------------------------
// TCP counters (EStats)

interface EstatsCall {
  fn: "set4" | "get4" | "set6" | "get6";
  row: Uint8Array;
  args: number[];
}

/** TCP_ESTATS_DATA_ROD_v0 with DataBytesOut 0, DataSegsOut 8, DataBytesIn 16, DataSegsIn 24,
 * SegsOut 32, SegsIn 40 set from `n`. */
function writeRod(rod: AllowSharedBufferSource | null, n: number): void {
  const view = viewOf(rod);
  view.setBigUint64(0, BigInt(n * 1000 + 1), true);
  view.setBigUint64(8, BigInt(n * 1000 + 2), true);
  view.setBigUint64(16, BigInt(n * 1000 + 3), true);
  view.setBigUint64(24, BigInt(n * 1000 + 4), true);
  view.setBigUint64(32, BigInt(n * 1000 + 5), true);
  view.setBigUint64(40, BigInt(n * 1000 + 6), true);
}

/** The local port of a MIB_TCPROW (20 bytes) or MIB_TCP6ROW (52 bytes). */
function rowPort(row: Uint8Array): number {
  return new DataView(row.buffer, row.byteOffset).getUint16(row.length === 20 ? 8 : 24, false);
}

/**
 * EStats functions over a kernel that collects for the local ports in `on` (a successful Set
 * adds the row's port). `enable` and `read` give each call's result code.
 */
function estats(
  enable: (row: Uint8Array) => number,
  read: (row: Uint8Array) => number,
  calls: EstatsCall[],
  on: Set<number> = new Set(),
): Partial<IphlpapiSymbols> {
  const set = (fn: "set4" | "set6") =>
  (
    row: AllowSharedBufferSource | null,
    type: number,
    rw: AllowSharedBufferSource | null,
    version: number,
    size: number,
    offset: number,
  ) => {
    const r = bytesOf(row).slice();
    calls.push({ fn, row: r, args: [type, version, size, offset, ...bytesOf(rw)] });
    const code = enable(r);
    if (code === 0) on.add(rowPort(r));
    return code;
  };
  const get = (fn: "get4" | "get6") =>
  (
    row: AllowSharedBufferSource | null,
    type: number,
    rw: AllowSharedBufferSource | null,
    rwVersion: number,
    rwSize: number,
    ros: AllowSharedBufferSource | null,
    rosVersion: number,
    rosSize: number,
    rod: AllowSharedBufferSource | null,
    rodVersion: number,
    rodSize: number,
  ) => {
    const r = bytesOf(row).slice();
    assert.equal(ros, null);
    calls.push({
      fn,
      row: r,
      args: [type, rwVersion, rwSize, rosVersion, rosSize, rodVersion, rodSize],
    });
    // TCP_ESTATS_DATA_RW_v0 { BOOLEAN EnableCollection }, and numbers whatever the switch says,
    // as the real call does.
    bytesOf(rw)[0] = on.has(rowPort(r)) ? 1 : 0;
    writeRod(rod, rowPort(r));
    return read(r);
  };
  return {
    SetPerTcpConnectionEStats: set("set4"),
    GetPerTcpConnectionEStats: get("get4"),
    SetPerTcp6ConnectionEStats: set("set6"),
    GetPerTcp6ConnectionEStats: get("get6"),
  };
}

const CONNECTED_V4 = table("tcp4", "module", [
  { state: 5, local: LOOPBACK4, localPort: 5000, remote: LOOPBACK4, remotePort: 6000, pid: 10 },
  { state: 2, local: ANY4, localPort: 5001, pid: 10 },
  { state: 11, local: LOOPBACK4, localPort: 5002, remote: LOOPBACK4, remotePort: 6002, pid: 0 },
  { state: 8, local: LOOPBACK4, localPort: 5003, remote: LOOPBACK4, remotePort: 6003, pid: 10 },
]);
const CONNECTED_V6 = table("tcp6", "module", [{
  state: 5,
  local: v6(0xfe80, 0, 0, 0, 0, 0, 0, 1),
  localScope: 12,
  localPort: 7000,
  remote: v6(0xfe80, 0, 0, 0, 0, 0, 0, 2),
  remoteScope: 13,
  remotePort: 7001,
  pid: 10,
}]);

function statsSource(extra: Partial<IphlpapiSymbols>) {
  const ip = fakeIphlpapi((call) => call.af === 2 ? CONNECTED_V4 : CONNECTED_V6, extra);
  return sourceWith(ip.symbols, NO_PROCESSES).source;
}

const BOTH_TCP = { protocols: ["TCP"], families: ["IPv4", "IPv6"] } as const;
const counters = (port: number) => ({
  bytesIn: port * 1000 + 3,
  bytesOut: port * 1000 + 1,
  segmentsIn: port * 1000 + 6,
  segmentsOut: port * 1000 + 5,
});

Deno.test("stats: counters of the connections collecting already; the others are not-enabled, and nothing is switched on", async () => {
  const calls: EstatsCall[] = [];
  const source = statsSource(estats(() => 0, () => 0, calls, new Set([5003, 7000])));
  const rows = await source.listSockets({ ...BOTH_TCP, stats: true });
  assert.deepEqual(rows.map((r) => [r.localPort, r.state, r.stats, r.unavailable?.stats]), [
    [5000, "ESTABLISHED", null, "not-enabled"],
    [5001, "LISTEN", null, "not-applicable"],
    [5002, "TIME_WAIT", null, "not-applicable"],
    [5003, "CLOSE_WAIT", counters(5003), undefined],
    [7000, "ESTABLISHED", counters(7000), undefined],
  ]);
  assert.deepEqual(calls.map((c) => c.fn), ["get4", "get4", "get6"], "Set is never called");
  // Get: TcpConnectionEstatsData, Rw version 0 of 1 byte, no Ros, Rod version 0 of 96 bytes.
  assert.deepEqual(calls[0].args, [1, 0, 1, 0, 0, 0, 96]);
  // MIB_TCPROW: the table row's first 20 bytes.
  assert.equal(calls[0].row.length, 20);
  assert.deepEqual(calls[0].row, CONNECTED_V4.subarray(8, 28));
  // MIB_TCP6ROW: State 0, LocalAddr 4, dwLocalScopeId 20, dwLocalPort 24, RemoteAddr 28,
  // dwRemoteScopeId 44, dwRemotePort 48.
  const row6 = calls[2].row;
  const view6 = new DataView(row6.buffer);
  assert.equal(row6.length, 52);
  assert.equal(view6.getUint32(0, true), 5);
  assert.deepEqual([...row6.subarray(4, 6)], [0xfe, 0x80]);
  assert.equal(row6[19], 1);
  assert.equal(view6.getUint32(20, true), 12);
  assert.equal(view6.getUint16(24, false), 7000);
  assert.equal(row6[28 + 15], 2);
  assert.equal(view6.getUint32(44, true), 13);
  assert.equal(view6.getUint16(48, false), 7001);
});

Deno.test("stats: enableStats switches collection on where it is off, then reads the counters", async () => {
  const calls: EstatsCall[] = [];
  const source = statsSource(estats(() => 0, () => 0, calls, new Set([5003])));
  const rows = await source.listSockets({ ...BOTH_TCP, stats: true, enableStats: true });
  assert.deepEqual(rows.map((r) => [r.localPort, r.stats, r.unavailable?.stats]), [
    [5000, counters(5000), undefined],
    [5001, null, "not-applicable"],
    [5002, null, "not-applicable"],
    [5003, counters(5003), undefined],
    [7000, counters(7000), undefined],
  ]);
  // 5003 was on already: read once. The others: read (off), switch on, read again.
  assert.deepEqual(calls.map((c) => `${c.fn}:${rowPort(c.row)}`), [
    "get4:5000",
    "set4:5000",
    "get4:5000",
    "get4:5003",
    "get6:7000",
    "set6:7000",
    "get6:7000",
  ]);
  // Set: TcpConnectionEstatsData, RwVersion 0, RwSize 1, Offset 0, Rw { EnableCollection = 1 }.
  assert.deepEqual(calls[1].args, [1, 0, 1, 0, 1]);
  assert.deepEqual(calls[1].row, calls[0].row, "Set is asked about the same row");
});

Deno.test("stats: when switching on is denied, those rows are access-denied and it is not tried again", async () => {
  for (const code of [5, 317]) {
    const calls: EstatsCall[] = [];
    const source = statsSource(estats(() => code, () => 0, calls, new Set([7000])));
    const rows = await source.listSockets({ ...BOTH_TCP, stats: true, enableStats: true });
    assert.deepEqual(
      rows.filter((r) => r.state !== "LISTEN" && r.state !== "TIME_WAIT").map((r) => [
        r.localPort,
        r.stats && r.stats.bytesIn,
        r.unavailable?.stats,
      ]),
      [[5000, null, "access-denied"], [5003, null, "access-denied"], [7000, 7000003, undefined]],
      `code ${code}: a connection already collecting is still read`,
    );
    assert.deepEqual(calls.map((c) => c.fn), ["get4", "set4", "get4", "get6"], `code ${code}`);
  }
});

Deno.test("stats: not implemented (Wine 10) or not supported is not-supported, per family", async () => {
  for (const code of [120, 50]) {
    const calls: EstatsCall[] = [];
    const source = statsSource(estats(() => 0, (row) => row.length === 20 ? code : 0, calls));
    const rows = await source.listSockets({ ...BOTH_TCP, stats: true, enableStats: true });
    const v4 = rows.filter((r) => r.family === "IPv4" && r.state === "ESTABLISHED");
    assert.deepEqual(v4.map((r) => [r.stats, r.unavailable?.stats]), [[null, "not-supported"]]);
    const closeWait = rows.find((r) => r.state === "CLOSE_WAIT")!;
    assert.equal(closeWait.unavailable?.stats, "not-supported");
    const v6row = rows.find((r) => r.family === "IPv6")!;
    assert.notEqual(v6row.stats, null, `code ${code}: IPv6 has its own functions`);
    assert.deepEqual(calls.map((c) => c.fn), ["get4", "get6", "set6", "get6"], `code ${code}`);
  }
  // Reading works but switching on is not supported: not tried again either.
  const calls: EstatsCall[] = [];
  const source = statsSource(estats(() => 50, () => 0, calls));
  const rows = await source.listSockets({ ...BOTH_TCP, stats: true, enableStats: true });
  assert.ok(rows.every((r) =>
    r.state === "LISTEN" || r.state === "TIME_WAIT" ||
    r.unavailable?.stats === "not-supported"
  ));
  assert.deepEqual(calls.map((c) => c.fn), ["get4", "set4", "get4", "get6"]);
});

Deno.test("stats: a connection that is gone is not-found; a failed read reports no counters", async () => {
  const calls: EstatsCall[] = [];
  const source = statsSource(
    estats(
      (row) => rowPort(row) === 5000 ? 1168 : 0,
      (row) => row.length === 20 && rowPort(row) === 5003 ? 1168 : row.length === 20 ? 0 : 87,
      calls,
    ),
  );
  const rows = await source.listSockets({ ...BOTH_TCP, stats: true, enableStats: true });
  assert.deepEqual(
    rows.filter((r) => !["LISTEN", "TIME_WAIT"].includes(r.state!)).map((r) => [
      r.localPort,
      r.stats,
      r.unavailable?.stats,
    ]),
    [[5000, null, "not-found"], [5003, null, "not-found"], [7000, null, "not-supported"]],
  );
  // A connection gone while being switched on says nothing about the others.
  assert.deepEqual(calls.map((c) => `${c.fn}:${rowPort(c.row)}`), [
    "get4:5000",
    "set4:5000",
    "get4:5003",
    "get6:7000",
  ]);
});

Deno.test("stats: without the IPv6 functions only IPv6 rows are not supported", async () => {
  const calls: EstatsCall[] = [];
  const source = statsSource({
    ...estats(() => 0, () => 0, calls),
    SetPerTcp6ConnectionEStats: null,
    GetPerTcp6ConnectionEStats: null,
  });
  const rows = await source.listSockets({ ...BOTH_TCP, stats: true, enableStats: true });
  assert.equal(rows.find((r) => r.localPort === 5000)!.stats?.bytesOut, 5000001);
  assert.equal(rows.find((r) => r.localPort === 7000)!.unavailable?.stats, "not-supported");
});

Deno.test("stats: not asked for, the EStats functions are not called", async () => {
  const calls: EstatsCall[] = [];
  const source = statsSource(estats(() => 0, () => 0, calls));
  const rows = await source.listSockets({ ...BOTH_TCP, enableStats: true });
  assert.ok(rows.every((r) => r.stats === undefined));
  assert.equal(calls.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Command line and user name

// S-1-5-21-1-2-3-1001 and S-1-5-18, laid out as Revision, SubAuthorityCount,
// IdentifierAuthority (6 bytes, big-endian), SubAuthority[] (little-endian DWORDs).
const ALICE_SID = [
  1,
  5,
  0,
  0,
  0,
  0,
  0,
  5,
  21,
  0,
  0,
  0,
  1,
  0,
  0,
  0,
  2,
  0,
  0,
  0,
  3,
  0,
  0,
  0,
  0xe9,
  3,
  0,
  0,
];
const SYSTEM_SID = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
const GHOST_SID = [1, 2, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x39, 0x30, 0, 0];
const ACCOUNTS: FakeAccount[] = [
  { sid: ALICE_SID, domain: "CORP", name: "alice" },
  { sid: SYSTEM_SID, domain: "NT AUTHORITY", name: "SYSTEM" },
];

function processes(): FakeProcess[] {
  return [
    { pid: 4, parent: 0, exe: "System", path: null },
    {
      pid: 7000,
      parent: 4,
      exe: "web.exe",
      path: "C:\\Web\\web.exe",
      created: Y2K,
      session: 1,
      commandLine: '"C:\\Web\\web.exe" --port 80\0--verbose',
      sid: ALICE_SID,
    },
    {
      pid: 7001,
      parent: 4,
      exe: "worker.exe",
      path: "C:\\Web\\worker.exe",
      created: Y2K,
      session: 1,
      commandLine: "worker.exe",
      sid: ALICE_SID,
    },
    {
      pid: 7002,
      parent: 4,
      exe: "svc.exe",
      path: "C:\\svc.exe",
      created: Y2K,
      session: 0,
      commandLine: 0xc0000022 | 0, // STATUS_ACCESS_DENIED
      sid: "deny",
    },
    {
      pid: 7003,
      parent: 4,
      exe: "old.exe",
      path: "C:\\old.exe",
      created: Y2K,
      session: 1,
      commandLine: 0xc0000003 | 0, // STATUS_INVALID_INFO_CLASS (Wine 10)
      sid: GHOST_SID,
    },
    {
      pid: 7004,
      parent: 4,
      exe: "Registry",
      path: "Registry",
      created: Y2K,
      session: 0,
      commandLine: "",
      sid: SYSTEM_SID,
    },
  ];
}

Deno.test("process details: command line and DOMAIN\\user, every handle closed", async () => {
  const k32 = fakeKernel32(processes());
  const nt = fakeNtdll(k32);
  const adv = fakeAdvapi32(k32, ACCOUNTS);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, {
    ntdll: nt.symbols,
    advapi32: adv.symbols,
  });
  const info = await source.describeProcesses([7000, 7001, 7002, 7003, 7004, 4]);
  const web = info.get(7000)!;
  assert.equal(web.commandLine, '"C:\\Web\\web.exe" --port 80 --verbose', "NUL -> space");
  assert.equal(web.userName, "CORP\\alice");
  assert.deepEqual(web.unavailable, {});
  assert.equal(info.get(7001)!.commandLine, "worker.exe");
  assert.equal(info.get(7001)!.userName, "CORP\\alice");
  const svc = info.get(7002)!;
  assert.deepEqual([svc.commandLine, svc.userName], [null, null]);
  assert.deepEqual(svc.unavailable, { commandLine: "access-denied", userName: "access-denied" });
  const old = info.get(7003)!;
  assert.equal(old.commandLine, null);
  assert.equal(old.unavailable.commandLine, "not-supported");
  assert.equal(old.userName, "S-1-5-21-12345", "an unmapped SID is shown as the SID");
  const registry = info.get(7004)!;
  assert.equal(registry.commandLine, null);
  assert.equal(registry.unavailable.commandLine, "not-found");
  assert.equal(registry.userName, "NT AUTHORITY\\SYSTEM");
  const system = info.get(4)!;
  assert.equal(system.unavailable.commandLine, "system-process", "the kernel's: none to read");
  assert.equal(system.unavailable.userName, "access-denied");

  assert.deepEqual([...k32.open], [], "process, snapshot and token handles all closed");
  // The size is asked for first (NULL, 0), then the buffer of that size is passed.
  const forWeb = nt.calls.filter((c) => c.pid === 7000);
  assert.deepEqual(forWeb.map((c) => c.withBuffer), [false, true]);
  assert.equal(forWeb[0].length, 0);
  assert.equal(forWeb[1].length, 16 + 2 * 36 + 2);
  // One lookup per SID within the call.
  assert.equal(adv.lookups.filter((k) => k.startsWith("0105")).length, 1);
  assert.deepEqual(adv.tokenInfoCalls.slice(0, 2), [
    { length: 0, withBuffer: false },
    { length: 16 + 28, withBuffer: true },
  ]);
});

Deno.test("process details: a name longer than the first guess is looked up again", async () => {
  const long = "x".repeat(300);
  const k32 = fakeKernel32(processes());
  const adv = fakeAdvapi32(k32, [{ sid: ALICE_SID, domain: "D".repeat(280), name: long }]);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, {
    ntdll: fakeNtdll(k32).symbols,
    advapi32: adv.symbols,
  });
  const web = (await source.describeProcesses([7000])).get(7000)!;
  assert.equal(web.userName, `${"D".repeat(280)}\\${long}`);
  assert.equal(adv.lookups.length, 2);
});

Deno.test("process details: missing functions or libraries are not-supported", async () => {
  type Libs = NonNullable<Parameters<typeof sourceWith>[2]>;
  const cases: {
    name: string;
    libs: (k32: Kernel32Fake) => Libs;
    noCloseHandleValue?: boolean;
    commandLine: "read" | "not-supported";
    userName: "read" | "not-supported";
  }[] = [
    {
      name: "no ntdll, no advapi32",
      libs: () => ({}),
      commandLine: "not-supported",
      userName: "not-supported",
    },
    {
      name: "no NtQueryInformationProcess",
      libs: (k32) => ({
        ntdll: fakeNtdll(k32, { noQuery: true }).symbols,
        advapi32: fakeAdvapi32(k32, ACCOUNTS).symbols,
      }),
      commandLine: "not-supported",
      userName: "read",
    },
    {
      name: "no memset",
      libs: (k32) => ({
        ntdll: fakeNtdll(k32, { noMemset: true }).symbols,
        advapi32: fakeAdvapi32(k32, ACCOUNTS).symbols,
      }),
      commandLine: "not-supported",
      userName: "not-supported",
    },
    {
      name: "no advapi32 functions",
      libs: (k32) => ({
        ntdll: fakeNtdll(k32).symbols,
        advapi32: { OpenProcessToken: null, GetTokenInformation: null, LookupAccountSidW: null },
      }),
      commandLine: "read",
      userName: "not-supported",
    },
    {
      name: "no CloseHandle by value",
      libs: (k32) => ({
        ntdll: fakeNtdll(k32).symbols,
        advapi32: fakeAdvapi32(k32, ACCOUNTS).symbols,
      }),
      noCloseHandleValue: true,
      commandLine: "read",
      userName: "not-supported",
    },
  ];
  for (const c of cases) {
    const k32 = fakeKernel32(processes(), { noCloseHandleValue: c.noCloseHandleValue });
    const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, c.libs(k32));
    const web = (await source.describeProcesses([7000])).get(7000)!;
    assert.equal(web.path, "C:\\Web\\web.exe", c.name);
    if (c.userName === "read") {
      assert.equal(web.userName, "CORP\\alice", c.name);
    } else {
      assert.equal(web.userName, null, c.name);
      assert.equal(web.unavailable.userName, "not-supported", c.name);
    }
    if (c.commandLine === "read") {
      assert.equal(web.commandLine, '"C:\\Web\\web.exe" --port 80 --verbose', c.name);
    } else {
      assert.equal(web.commandLine, null, c.name);
      assert.equal(web.unavailable.commandLine, "not-supported", c.name);
    }
    assert.deepEqual([...k32.open], [], c.name);
  }
});

Deno.test("process details: the token is closed when the lookup throws", async () => {
  const k32 = fakeKernel32(processes());
  const adv = fakeAdvapi32(k32, ACCOUNTS, { lookupThrows: true });
  const { source, counts } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, {
    ntdll: fakeNtdll(k32).symbols,
    advapi32: adv.symbols,
  });
  await assert.rejects(source.describeProcesses([7000]), { message: "lookup exploded" });
  assert.deepEqual([...k32.open], []);
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("runsElevated reads this process's TokenElevation, and closes what it opens", () => {
  const self = (elevated?: boolean): FakeProcess => ({
    pid: 7000,
    parent: 612,
    exe: "procconn.exe",
    path: "C:\\procconn.exe",
    sid: ALICE_SID,
    elevated,
  });
  for (const [elevated, expected] of [[true, true], [false, false], [undefined, null]] as const) {
    const k32 = fakeKernel32([self(elevated)], { selfPid: 7000 });
    const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols, {
      advapi32: fakeAdvapi32(k32, ACCOUNTS).symbols,
    });
    assert.equal(source.runsElevated!(), expected, `TokenIsElevated ${elevated}`);
    assert.deepEqual([...k32.open], [], "process and token handles closed");
  }
  // Without advapi32, or without GetCurrentProcessId, it cannot tell.
  const k32 = fakeKernel32([self(true)], { selfPid: 7000 });
  assert.equal(sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols).source.runsElevated!(), null);
  const old = fakeKernel32([self(true)]);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, old.symbols, {
    advapi32: fakeAdvapi32(old, ACCOUNTS).symbols,
  });
  assert.equal(source.runsElevated!(), null);
});
