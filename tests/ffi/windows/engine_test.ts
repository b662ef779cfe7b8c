// The engine's control flow (which tables it asks for, the grow-and-retry loop, handle hygiene,
// how an unreadable process is classified) against fake DLL functions. Real DLLs are exercised
// under Wine; these cases cover the failures a live system rarely produces on demand.
// Deno.test: the fakes hand out Deno pointer objects as handles.
import assert from "node:assert/strict";
import {
  createWindowsSource,
  type IphlpapiSymbols,
  type Kernel32Symbols,
  type WindowsLibraries,
} from "../../../ffi/windows/engine.ts";

function bytesOf(buffer: AllowSharedBufferSource | null): Uint8Array {
  if (buffer === null) throw new Error("unexpected NULL buffer");
  if (!ArrayBuffer.isView(buffer)) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function u32Of(buffer: AllowSharedBufferSource | null): DataView {
  const b = bytesOf(buffer);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A MIB_TCPTABLE_OWNER_PID with LISTEN rows 127.0.0.1:<port> owned by <pid>. */
function listenTable(rows: [port: number, pid: number][]): Uint8Array {
  const bytes = new Uint8Array(4 + 24 * rows.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, rows.length, true);
  rows.forEach(([port, pid], i) => {
    const at = 4 + 24 * i;
    view.setUint32(at, 2, true);
    bytes.set([127, 0, 0, 1], at + 4);
    view.setUint16(at + 8, port, false);
    view.setUint32(at + 20, pid, true);
  });
  return bytes;
}

/** A MIB_UDP6TABLE_OWNER_PID with one row [::]:<port> owned by <pid>. */
function udp6Table(port: number, pid: number): Uint8Array {
  const bytes = new Uint8Array(4 + 28);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 1, true);
  view.setUint16(4 + 20, port, false);
  view.setUint32(4 + 24, pid, true);
  return bytes;
}

interface TableCall {
  fn: "tcp" | "udp";
  af: number;
  tableClass: number;
  size: number;
  withBuffer: boolean;
}

/**
 * A fake iphlpapi: `answer(call, n)` gives the table bytes the n-th call (from 0) would write,
 * or a return code to return instead.
 */
function fakeIphlpapi(
  answer: (call: TableCall, n: number) => Uint8Array | number,
): { symbols: IphlpapiSymbols; calls: TableCall[] } {
  const calls: TableCall[] = [];
  function table(fn: "tcp" | "udp") {
    return (
      buf: AllowSharedBufferSource | null,
      size: AllowSharedBufferSource | null,
      _order: number,
      af: number | bigint,
      tableClass: number,
      reserved: number | bigint,
    ): number => {
      assert.equal(reserved, 0);
      const sizeView = u32Of(size);
      const call = {
        fn,
        af: Number(af),
        tableClass,
        size: sizeView.getUint32(0, true),
        withBuffer: buf !== null,
      };
      const result = answer(call, calls.length);
      calls.push(call);
      if (typeof result === "number") return result;
      if (buf === null || call.size < result.length) {
        sizeView.setUint32(0, result.length, true);
        return 122;
      }
      assert.ok(bytesOf(buf).length >= call.size, "the size argument matches the buffer");
      bytesOf(buf).set(result);
      return 0;
    };
  }
  return {
    symbols: { GetExtendedTcpTable: table("tcp"), GetExtendedUdpTable: table("udp") },
    calls,
  };
}

interface FakeProcess {
  pid: number;
  parent: number;
  exe: string;
  /** Null: OpenProcess fails for it. */
  path: string | null;
  created?: bigint;
  session?: number;
}

interface Kernel32Fake {
  symbols: Kernel32Symbols;
  /** Handles handed out and not yet closed. */
  open: Set<bigint>;
  snapshots: number;
  opened: number[];
}

function fakeKernel32(
  processes: FakeProcess[],
  options: { noSessionSymbol?: boolean; snapshotFails?: boolean; queryThrows?: boolean } = {},
): Kernel32Fake {
  const open = new Set<bigint>();
  const handles = new Map<bigint, { kind: "snapshot"; next: number } | FakeProcess>();
  let nextHandle = 0x100n;
  const fake: Kernel32Fake = { symbols: null!, open, snapshots: 0, opened: [] };
  function handle(value: { kind: "snapshot"; next: number } | FakeProcess): Deno.PointerObject {
    const h = nextHandle;
    nextHandle += 4n;
    open.add(h);
    handles.set(h, value);
    return Deno.UnsafePointer.create(h)!;
  }
  function lookup(h: Deno.PointerValue) {
    const value = h === null ? undefined : handles.get(Deno.UnsafePointer.value(h));
    if (!value || !open.has(Deno.UnsafePointer.value(h!))) throw new Error("invalid handle used");
    return value;
  }
  function nextEntry(h: Deno.PointerValue, entry: AllowSharedBufferSource | null): number {
    const snap = lookup(h);
    if (!("kind" in snap)) throw new Error("not a snapshot handle");
    const view = u32Of(entry);
    if (view.getUint32(0, true) !== 568) return 0; // dwSize must be set by the caller
    const p = processes[snap.next++];
    if (!p) return 0;
    new Uint8Array(view.buffer, view.byteOffset + 4, 564).fill(0xcc);
    view.setUint32(8, p.pid, true);
    view.setUint32(32, p.parent, true);
    for (let i = 0; i < p.exe.length; i++) view.setUint16(44 + 2 * i, p.exe.charCodeAt(i), true);
    view.setUint16(44 + 2 * p.exe.length, 0, true);
    return 1;
  }
  function processOf(h: Deno.PointerValue): FakeProcess {
    const p = lookup(h);
    if ("kind" in p) throw new Error("not a process handle");
    return p;
  }
  fake.symbols = {
    CreateToolhelp32Snapshot(flags, pid) {
      assert.equal(flags, 2);
      assert.equal(pid, 0);
      fake.snapshots++;
      if (options.snapshotFails) return Deno.UnsafePointer.create(0xffff_ffff_ffff_ffffn);
      return handle({ kind: "snapshot", next: 0 });
    },
    Process32FirstW(h, entry) {
      const snap = lookup(h);
      if ("kind" in snap) snap.next = 0;
      return nextEntry(h, entry);
    },
    Process32NextW: nextEntry,
    OpenProcess(access, inherit, pid) {
      assert.equal(access, 0x1000);
      assert.equal(inherit, 0);
      fake.opened.push(pid);
      const p = processes.find((x) => x.pid === pid);
      return p && p.path !== null ? handle(p) : null;
    },
    QueryFullProcessImageNameW(h, flags, name, size) {
      const p = processOf(h);
      assert.equal(flags, 0);
      if (options.queryThrows) throw new Error("boom");
      const chars = u32Of(size);
      const capacity = chars.getUint32(0, true);
      const path = p.path!;
      if (capacity < path.length + 1) return 0;
      const out = u32Of(name);
      for (let i = 0; i < path.length; i++) out.setUint16(2 * i, path.charCodeAt(i), true);
      out.setUint16(2 * path.length, 0, true);
      chars.setUint32(0, path.length, true);
      return 1;
    },
    GetProcessTimes(h, creation, exit, kernel, user) {
      const p = processOf(h);
      for (const b of [exit, kernel, user]) bytesOf(b).fill(0x55);
      if (p.created === undefined) return 0;
      const view = u32Of(creation);
      view.setUint32(0, Number(p.created & 0xffffffffn), true);
      view.setUint32(4, Number(p.created >> 32n), true);
      return 1;
    },
    CloseHandle(h) {
      const value = Deno.UnsafePointer.value(h);
      if (!open.delete(value)) throw new Error(`closing a handle that is not open: ${value}`);
      return 1;
    },
    ProcessIdToSessionId: options.noSessionSymbol ? null : (pid, out) => {
      const p = processes.find((x) => x.pid === pid);
      if (!p || p.session === undefined) return 0;
      u32Of(out).setUint32(0, p.session, true);
      return 1;
    },
  };
  return fake;
}

function sourceWith(iphlpapi: IphlpapiSymbols, kernel32: Kernel32Symbols) {
  let opened = 0;
  let closed = 0;
  const source = createWindowsSource({
    openLibraries(): WindowsLibraries {
      opened++;
      return { iphlpapi, kernel32, close: () => void closed++ };
    },
  });
  return { source, counts: () => ({ opened, closed }) };
}

const NO_PROCESSES = fakeKernel32([]).symbols;
// 2000-01-01T00:00:00Z in FILETIME units.
const Y2K = 125911584000000000n;

Deno.test("listSockets reads only the tables asked for, with the owner-pid classes", async () => {
  const ip = fakeIphlpapi((call) =>
    call.fn === "tcp" ? listenTable([[80, 10]]) : udp6Table(53, 11)
  );
  const { source, counts } = sourceWith(ip.symbols, NO_PROCESSES);
  const udp = await source.listSockets({ protocols: ["UDP"], families: ["IPv6"] });
  assert.deepEqual(udp.map((s) => [s.protocol, s.family, s.localAddress, s.localPort, s.pids]), [
    ["UDP", "IPv6", "::", 53, [11]],
  ]);
  assert.deepEqual(ip.calls.map((c) => [c.fn, c.af, c.tableClass]), [["udp", 23, 1], [
    "udp",
    23,
    1,
  ]]);

  ip.calls.length = 0;
  const tcp = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.deepEqual(tcp.map((s) => [s.state, s.localAddress, s.localPort, s.remoteAddress]), [
    ["LISTEN", "127.0.0.1", 80, null],
  ]);
  assert.deepEqual(ip.calls.map((c) => [c.fn, c.af, c.tableClass]), [["tcp", 2, 5], ["tcp", 2, 5]]);
  assert.deepEqual(counts(), { opened: 2, closed: 2 });
});

Deno.test("listSockets asks for the size with a NULL buffer first, then passes the buffer's size", async () => {
  const ip = fakeIphlpapi(() => listenTable([[1, 1], [2, 2]]));
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  assert.equal(ip.calls.length, 2);
  assert.deepEqual([ip.calls[0].withBuffer, ip.calls[0].size], [false, 0]);
  assert.equal(ip.calls[1].withBuffer, true);
  assert.ok(ip.calls[1].size >= 4 + 2 * 24);
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

Deno.test("listSockets gives up after 8 attempts when the table never fits, naming the sizes", async () => {
  // Always one row more than the buffer could hold.
  const ip = fakeIphlpapi((call) =>
    listenTable(Array.from({ length: Math.floor(call.size / 24) + 1 }, () => [1, 1]))
  );
  const { source, counts } = sourceWith(ip.symbols, NO_PROCESSES);
  await assert.rejects(source.listSockets({ protocols: ["TCP"], families: ["IPv6"] }), {
    message:
      /^GetExtendedTcpTable \(IPv6\) failed: the table kept outgrowing the buffer after 8 attempts \(last size \d+ bytes, \d+ bytes needed\)$/,
  });
  assert.equal(ip.calls.length, 8);
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("listSockets reports any other return code with the function's name", async () => {
  const ip = fakeIphlpapi((call) => call.fn === "udp" ? 87 : listenTable([]));
  const { source, counts } = sourceWith(ip.symbols, NO_PROCESSES);
  await assert.rejects(source.listSockets({ protocols: ["TCP", "UDP"], families: ["IPv4"] }), {
    message: "GetExtendedUdpTable (IPv4) failed: error code 87",
  });
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("listSockets marks TCP counters unavailable when stats are asked for", async () => {
  const empty = new Uint8Array(4);
  const ip = fakeIphlpapi((call) =>
    call.fn === "tcp"
      ? (call.af === 2 ? listenTable([[80, 10]]) : empty)
      : (call.af === 23 ? udp6Table(53, 11) : empty)
  );
  const { source } = sourceWith(ip.symbols, NO_PROCESSES);
  const rows = await source.listSockets({
    protocols: ["TCP", "UDP"],
    families: ["IPv4", "IPv6"],
    stats: true,
  });
  const tcp = rows.find((r) => r.protocol === "TCP")!;
  assert.equal(tcp.stats, null);
  assert.deepEqual(tcp.unavailable, { stats: "not-supported" });
  const udp = rows.find((r) => r.protocol === "UDP")!;
  assert.equal(udp.stats, undefined);
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

Deno.test("describeProcesses reads name, parent, path, start time and session", async () => {
  const k32 = fakeKernel32(PROCESSES);
  const { source, counts } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const info = await source.describeProcesses([7000]);
  assert.deepEqual(info.get(7000), {
    pid: 7000,
    name: "web.exe",
    path: "C:\\Program Files\\Web\\web.exe",
    parentPid: 612,
    startTime: "2000-01-01T00:00:01.500Z",
    sessionId: 1,
    unavailable: {},
  });
  assert.equal(k32.snapshots, 1);
  assert.deepEqual([...k32.open], [], "every handle closed");
  assert.deepEqual(counts(), { opened: 1, closed: 1 });
});

Deno.test("describeProcesses classifies processes it cannot read", async () => {
  const k32 = fakeKernel32(PROCESSES);
  const { source } = sourceWith(fakeIphlpapi(() => 0).symbols, k32.symbols);
  const info = await source.describeProcesses([0, 4, 612, 7000, 99999, 612]);
  assert.equal(k32.snapshots, 1, "one snapshot per call");
  assert.equal(info.size, 5);
  assert.deepEqual(info.get(0), {
    pid: 0,
    name: "System Idle Process",
    path: null,
    parentPid: null,
    startTime: null,
    sessionId: null,
    unavailable: {
      path: "system-process",
      parentPid: "system-process",
      startTime: "system-process",
      sessionId: "system-process",
    },
  });
  assert.deepEqual(info.get(4), {
    pid: 4,
    name: "System",
    path: null,
    parentPid: 0,
    startTime: null,
    sessionId: null,
    unavailable: { path: "access-denied", startTime: "access-denied", sessionId: "access-denied" },
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
    sessionId: null,
    unavailable: {
      name: "process-exited",
      path: "process-exited",
      parentPid: "process-exited",
      startTime: "process-exited",
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
  assert.deepEqual(web.unavailable, { sessionId: "not-supported" });
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

Deno.test("a library that cannot be opened rejects the call instead of throwing", async () => {
  const source = createWindowsSource({
    openLibraries() {
      throw new Error('Cannot load the native library "C:\\Windows\\System32\\iphlpapi.dll"');
    },
  });
  const pending = source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
  await assert.rejects(pending, /iphlpapi\.dll/);
});
