import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeFiletime,
  decodeProcessCreations,
  decodeProcessEntry,
  decodeTcp4ModuleTable,
  decodeTcp4Table,
  decodeTcp6ModuleTable,
  decodeTcp6Table,
  decodeUdp4ModuleTable,
  decodeUdp4Table,
  decodeUdp6ModuleTable,
  decodeUdp6Table,
  decodeWideString,
  tcpStateName,
} from "../../../ffi/windows/decode.ts";

// The buffers below are laid out field by field from the x64 struct tables in win32-facts.md
// (tcpmib.h / udpmib.h / tlhelp32.h), independently of the decoder's own constants.

// 2000-01-01T00:00:00Z in FILETIME units (100 ns since 1601).
const Y2K = 125911584000000000n;

/** Writes a port DWORD: the port in network order in the low 16 bits, garbage above. */
function setPort(view: DataView, at: number, port: number, garbage = 0): void {
  view.setUint8(at, port >> 8);
  view.setUint8(at + 1, port & 0xff);
  view.setUint16(at + 2, garbage, true);
}

function setIPv4(view: DataView, at: number, a: number, b: number, c: number, d: number): void {
  [a, b, c, d].forEach((x, i) => view.setUint8(at + i, x));
}

function setIPv6(view: DataView, at: number, words: number[]): void {
  words.forEach((w, i) => view.setUint16(at + 2 * i, w, false));
}

interface Tcp4Row {
  state: number;
  local: [number, number, number, number];
  localPort: number;
  remote: [number, number, number, number];
  remotePort: number;
  pid: number;
  garbage?: number;
}

/** MIB_TCPTABLE_OWNER_PID: dwNumEntries @0, rows of 24 bytes @4. */
function tcp4Table(rows: Tcp4Row[], count = rows.length, extra = 0): Uint8Array {
  const bytes = new Uint8Array(4 + 24 * rows.length + extra);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, count, true);
  rows.forEach((r, i) => {
    const at = 4 + 24 * i;
    view.setUint32(at + 0, r.state, true); // dwState
    setIPv4(view, at + 4, ...r.local); // dwLocalAddr
    setPort(view, at + 8, r.localPort, r.garbage); // dwLocalPort
    setIPv4(view, at + 12, ...r.remote); // dwRemoteAddr
    setPort(view, at + 16, r.remotePort, r.garbage); // dwRemotePort
    view.setUint32(at + 20, r.pid, true); // dwOwningPid
  });
  return bytes;
}

interface Tcp6Row {
  local: number[];
  localScope: number;
  localPort: number;
  remote: number[];
  remoteScope: number;
  remotePort: number;
  state: number;
  pid: number;
}

/** MIB_TCP6TABLE_OWNER_PID: dwNumEntries @0, rows of 56 bytes @4. */
function tcp6Table(rows: Tcp6Row[]): Uint8Array {
  const bytes = new Uint8Array(4 + 56 * rows.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, rows.length, true);
  rows.forEach((r, i) => {
    const at = 4 + 56 * i;
    setIPv6(view, at + 0, r.local); // ucLocalAddr[16]
    view.setUint32(at + 16, r.localScope, true); // dwLocalScopeId
    setPort(view, at + 20, r.localPort, 0xbeef); // dwLocalPort
    setIPv6(view, at + 24, r.remote); // ucRemoteAddr[16]
    view.setUint32(at + 40, r.remoteScope, true); // dwRemoteScopeId
    setPort(view, at + 44, r.remotePort, 0xbeef); // dwRemotePort
    view.setUint32(at + 48, r.state, true); // dwState
    view.setUint32(at + 52, r.pid, true); // dwOwningPid
  });
  return bytes;
}

describe("decodeTcp4Table", () => {
  const table = tcp4Table([
    {
      state: 5,
      local: [10, 1, 2, 3],
      localPort: 443,
      remote: [192, 168, 0, 9],
      remotePort: 51000,
      pid: 1234,
      garbage: 0xabcd,
    },
    {
      state: 2,
      local: [0, 0, 0, 0],
      localPort: 80,
      remote: [1, 2, 3, 4],
      remotePort: 999,
      pid: 4,
    },
  ]);

  it("reads addresses, ports (upper bits masked), state and pid", () => {
    assert.deepEqual(decodeTcp4Table(table)[0], {
      protocol: "TCP",
      family: "IPv4",
      localAddress: "10.1.2.3",
      localPort: 443,
      remoteAddress: "192.168.0.9",
      remotePort: 51000,
      state: "ESTABLISHED",
      pids: [1234],
    });
  });

  it("gives a listening socket no remote end", () => {
    const row = decodeTcp4Table(table)[1];
    assert.equal(row.state, "LISTEN");
    assert.equal(row.localAddress, "0.0.0.0");
    assert.equal(row.localPort, 80);
    assert.equal(row.remoteAddress, null);
    assert.equal(row.remotePort, null);
    assert.deepEqual(row.pids, [4]);
  });

  it("keeps pid 0 as an owner", () => {
    const rows = decodeTcp4Table(tcp4Table([{
      state: 11,
      local: [127, 0, 0, 1],
      localPort: 5000,
      remote: [127, 0, 0, 1],
      remotePort: 5001,
      pid: 0,
    }]));
    assert.deepEqual(rows[0].pids, [0]);
    assert.equal(rows[0].state, "TIME_WAIT");
  });

  it("reads only dwNumEntries rows of a larger buffer", () => {
    const rows = [
      { state: 5, local: [1, 1, 1, 1], localPort: 1, remote: [2, 2, 2, 2], remotePort: 2, pid: 7 },
      { state: 99, local: [3, 3, 3, 3], localPort: 3, remote: [4, 4, 4, 4], remotePort: 4, pid: 8 },
    ] satisfies Tcp4Row[];
    const decoded = decodeTcp4Table(tcp4Table(rows, 1, 64));
    assert.equal(decoded.length, 1);
    assert.deepEqual(decoded[0].pids, [7]);
  });

  it("decodes an empty table", () => {
    assert.deepEqual(decodeTcp4Table(new Uint8Array(4)), []);
  });

  it("keeps a row whose state it does not know, as UNKNOWN", () => {
    const rows = decodeTcp4Table(tcp4Table([{
      state: 13,
      local: [1, 1, 1, 1],
      localPort: 1,
      remote: [2, 2, 2, 2],
      remotePort: 2,
      pid: 1,
    }]));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].state, "UNKNOWN");
    assert.equal(rows[0].localPort, 1);
    assert.deepEqual(rows[0].pids, [1]);
  });

  it("rejects a buffer shorter than its row count says, naming the sizes", () => {
    const rows = [1, 2].map((pid) => ({
      state: 2,
      local: [0, 0, 0, 0],
      localPort: pid,
      remote: [0, 0, 0, 0],
      remotePort: 0,
      pid,
    })) as Tcp4Row[];
    const short = tcp4Table(rows, 3); // 4 + 2 * 24 = 52 bytes, but claims 3 rows (76 bytes)
    assert.throws(() => decodeTcp4Table(short), {
      name: "RangeError",
      message: /MIB_TCPTABLE_OWNER_PID: 3 rows need 76 bytes, the buffer has 52/,
    });
    assert.throws(() => decodeTcp4Table(new Uint8Array(3)), /the buffer has 3/);
  });
});

describe("decodeTcp6Table", () => {
  const linkLocal = [0xfe80, 0, 0, 0, 0, 0, 0, 1];
  const linkLocal2 = [0xfe80, 0, 0, 0, 0x1c2b, 0, 0, 2];
  const loopback = [0, 0, 0, 0, 0, 0, 0, 1];
  const global = [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10];
  const any = [0, 0, 0, 0, 0, 0, 0, 0];

  it("keeps the scope id of link-local addresses and masks port garbage", () => {
    const [row] = decodeTcp6Table(tcp6Table([{
      local: linkLocal,
      localScope: 12,
      localPort: 3389,
      remote: linkLocal2,
      remoteScope: 12,
      remotePort: 50123,
      state: 5,
      pid: 900,
    }]));
    assert.deepEqual(row, {
      protocol: "TCP",
      family: "IPv6",
      localAddress: "fe80::1%12",
      localPort: 3389,
      remoteAddress: "fe80::1c2b:0:0:2%12",
      remotePort: 50123,
      state: "ESTABLISHED",
      pids: [900],
    });
  });

  it("writes other addresses without a scope, even when the row carries one", () => {
    const [row] = decodeTcp6Table(tcp6Table([{
      local: loopback,
      localScope: 0x1000,
      localPort: 8080,
      remote: global,
      remoteScope: 7,
      remotePort: 443,
      state: 8,
      pid: 77,
    }]));
    assert.equal(row.localAddress, "::1");
    assert.equal(row.remoteAddress, "2001:db8::10");
    assert.equal(row.state, "CLOSE_WAIT");
  });

  it("gives a listening socket no remote end", () => {
    const [row] = decodeTcp6Table(tcp6Table([{
      local: any,
      localScope: 0,
      localPort: 135,
      remote: any,
      remoteScope: 0,
      remotePort: 0,
      state: 2,
      pid: 1000,
    }]));
    assert.equal(row.localAddress, "::");
    assert.equal(row.remoteAddress, null);
    assert.equal(row.remotePort, null);
    assert.equal(row.state, "LISTEN");
  });

  it("rejects a truncated table", () => {
    const bytes = tcp6Table([{
      local: any,
      localScope: 0,
      localPort: 1,
      remote: any,
      remoteScope: 0,
      remotePort: 0,
      state: 2,
      pid: 1,
    }]);
    assert.throws(() => decodeTcp6Table(bytes.subarray(0, 59)), {
      name: "RangeError",
      message: /MIB_TCP6TABLE_OWNER_PID: 1 rows need 60 bytes, the buffer has 59/,
    });
  });

  it("decodes a table that does not start at the beginning of its ArrayBuffer", () => {
    const inner = tcp6Table([{
      local: loopback,
      localScope: 0,
      localPort: 9,
      remote: loopback,
      remoteScope: 0,
      remotePort: 10,
      state: 4,
      pid: 5,
    }]);
    const outer = new Uint8Array(inner.length + 8);
    outer.set(inner, 8);
    const [row] = decodeTcp6Table(outer.subarray(8));
    assert.equal(row.state, "SYN_RCVD");
    assert.equal(row.localPort, 9);
    assert.deepEqual(row.pids, [5]);
  });
});

describe("decodeUdp4Table", () => {
  it("reads MIB_UDPROW_OWNER_PID rows (12 bytes) with no remote end or state", () => {
    const bytes = new Uint8Array(4 + 12 * 2);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 2, true);
    setIPv4(view, 4, 0, 0, 0, 0); // dwLocalAddr
    setPort(view, 8, 53, 0xffff); // dwLocalPort
    view.setUint32(12, 2048, true); // dwOwningPid
    setIPv4(view, 16, 127, 0, 0, 1);
    setPort(view, 20, 65535, 0x1234);
    view.setUint32(24, 0xfffffffc, true);
    assert.deepEqual(decodeUdp4Table(bytes), [
      {
        protocol: "UDP",
        family: "IPv4",
        localAddress: "0.0.0.0",
        localPort: 53,
        remoteAddress: null,
        remotePort: null,
        state: null,
        pids: [2048],
      },
      {
        protocol: "UDP",
        family: "IPv4",
        localAddress: "127.0.0.1",
        localPort: 65535,
        remoteAddress: null,
        remotePort: null,
        state: null,
        pids: [0xfffffffc],
      },
    ]);
  });

  it("rejects a truncated table", () => {
    const bytes = new Uint8Array(4 + 12);
    new DataView(bytes.buffer).setUint32(0, 2, true);
    assert.throws(() => decodeUdp4Table(bytes), /2 rows need 28 bytes, the buffer has 16/);
  });
});

describe("decodeUdp6Table", () => {
  it("reads MIB_UDP6ROW_OWNER_PID rows (28 bytes) with their scope", () => {
    const bytes = new Uint8Array(4 + 28 * 2);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 2, true);
    setIPv6(view, 4, [0xfe80, 0, 0, 0, 0, 0, 0, 0xabcd]); // ucLocalAddr
    view.setUint32(4 + 16, 3, true); // dwLocalScopeId
    setPort(view, 4 + 20, 546, 0x7777); // dwLocalPort
    view.setUint32(4 + 24, 1500, true); // dwOwningPid
    setIPv6(view, 32, [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]); // ::ffff:10.0.0.1
    setPort(view, 32 + 20, 5353);
    view.setUint32(32 + 24, 1501, true);
    const rows = decodeUdp6Table(bytes);
    assert.deepEqual(rows[0], {
      protocol: "UDP",
      family: "IPv6",
      localAddress: "fe80::abcd%3",
      localPort: 546,
      remoteAddress: null,
      remotePort: null,
      state: null,
      pids: [1500],
    });
    assert.equal(rows[1].localAddress, "::ffff:10.0.0.1");
    assert.equal(rows[1].localPort, 5353);
    assert.deepEqual(rows[1].pids, [1501]);
  });

  it("rejects a truncated table", () => {
    const bytes = new Uint8Array(4 + 27);
    new DataView(bytes.buffer).setUint32(0, 1, true);
    assert.throws(() => decodeUdp6Table(bytes), /MIB_UDP6TABLE_OWNER_PID: 1 rows need 32 bytes/);
  });
});

describe("tcpStateName", () => {
  it("maps MIB_TCP_STATE numbers to netstat names", () => {
    const expected: [number, string][] = [
      [1, "CLOSED"],
      [2, "LISTEN"],
      [3, "SYN_SENT"],
      [4, "SYN_RCVD"],
      [5, "ESTABLISHED"],
      [6, "FIN_WAIT1"],
      [7, "FIN_WAIT2"],
      [8, "CLOSE_WAIT"],
      [9, "CLOSING"],
      [10, "LAST_ACK"],
      [11, "TIME_WAIT"],
      [12, "DELETE_TCB"],
      [100, "BOUND"],
    ];
    for (const [n, name] of expected) assert.equal(tcpStateName(n), name, `state ${n}`);
  });

  it("calls numbers outside the MIB UNKNOWN", () => {
    for (const n of [0, 13, 99, 101, 1.5]) assert.equal(tcpStateName(n), "UNKNOWN", `state ${n}`);
  });
});

/** PROCESSENTRY32W: dwSize @0, th32ProcessID @8, th32ParentProcessID @32, szExeFile @44. */
function processEntry(pid: number, parent: number, name: string, tail = ""): Uint8Array {
  const bytes = new Uint8Array(568);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 568, true);
  view.setUint32(4, 0xdddddddd, true); // cntUsage: noise the decoder must not read
  view.setUint32(8, pid, true);
  view.setUint32(28, 17, true); // cntThreads
  view.setUint32(32, parent, true);
  view.setInt32(36, 8, true); // pcPriClassBase
  const chars = name + (tail ? "\0" + tail : "");
  for (let i = 0; i < chars.length && i < 260; i++) {
    view.setUint16(44 + 2 * i, chars.charCodeAt(i), true);
  }
  return bytes;
}

describe("decodeProcessEntry", () => {
  it("reads pid, parent pid and the NUL-terminated exe name", () => {
    const entry = processEntry(1234, 567, "svchost.exe", "leftover garbage");
    assert.deepEqual(decodeProcessEntry(entry), {
      pid: 1234,
      parentPid: 567,
      exeFile: "svchost.exe",
    });
  });

  it("decodes non-ASCII names, including surrogate pairs", () => {
    assert.equal(decodeProcessEntry(processEntry(8, 4, "Über😀.exe")).exeFile, "Über😀.exe");
  });

  it("stops after 260 characters when there is no NUL", () => {
    const name = "a".repeat(260);
    assert.equal(decodeProcessEntry(processEntry(8, 4, name + "bbbb")).exeFile, name);
  });

  it("reads an entry at an offset", () => {
    const outer = new Uint8Array(8 + 568);
    outer.set(processEntry(4, 0, "System"), 8);
    assert.deepEqual(decodeProcessEntry(outer, 8), { pid: 4, parentPid: 0, exeFile: "System" });
  });

  it("rejects a buffer shorter than 568 bytes", () => {
    assert.throws(() => decodeProcessEntry(new Uint8Array(567)), {
      name: "RangeError",
      message: /need 568 bytes at offset 0, the buffer has 567/,
    });
  });
});

describe("decodeWideString", () => {
  it("stops at NUL, at maxChars, and at the end of the buffer", () => {
    const b = new Uint8Array([0x41, 0, 0x42, 0, 0, 0, 0x43, 0]);
    assert.equal(decodeWideString(b, 0, 4), "AB");
    assert.equal(decodeWideString(b, 0, 1), "A");
    assert.equal(decodeWideString(b, 6, 10), "C");
    assert.equal(decodeWideString(b.subarray(0, 7), 6, 10), "");
  });
});

describe("decodeFiletime", () => {
  /** FILETIME: dwLowDateTime @0, dwHighDateTime @4. */
  function filetime(value: bigint, offset = 0): Uint8Array {
    const bytes = new Uint8Array(offset + 8);
    const view = new DataView(bytes.buffer);
    view.setUint32(offset, Number(value & 0xffffffffn), true);
    view.setUint32(offset + 4, Number(value >> 32n), true);
    return bytes;
  }

  it("converts 100 ns intervals since 1601 to ISO 8601 UTC", () => {
    // 2000-01-01T00:00:00Z is 125911584000000000 in FILETIME units.
    assert.equal(decodeFiletime(filetime(125911584000000000n)), "2000-01-01T00:00:00.000Z");
    assert.equal(decodeFiletime(filetime(116444736000000000n)), "1970-01-01T00:00:00.000Z");
    assert.equal(decodeFiletime(filetime(0n)), "1601-01-01T00:00:00.000Z");
  });

  it("keeps milliseconds and drops the sub-millisecond rest", () => {
    const value = 125911584000000000n + 1234n * 10000n + 9999n;
    assert.equal(decodeFiletime(filetime(value, 4), 4), "2000-01-01T00:00:01.234Z");
  });

  it("rejects a time after the year 9999", () => {
    assert.throws(() => decodeFiletime(filetime(0xffffffffffffffffn)), {
      name: "RangeError",
      message: /Invalid FILETIME "18446744073709551615"/,
    });
  });
});

/**
 * An owner-module table: dwNumEntries @0, 4 bytes of padding @4 (filled with noise here), rows
 * of `size` bytes @8, each prefilled with noise so that padding the decoder must skip is not 0.
 */
function moduleTable(size: number, count: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(8 + size * count).fill(0xee);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, count, true);
  return { bytes, view };
}

function setTimestamp(view: DataView, at: number, value: bigint): void {
  view.setUint32(at, Number(value & 0xffffffffn), true); // LowPart
  view.setUint32(at + 4, Number(value >> 32n), true); // HighPart
}

describe("decodeTcp4ModuleTable", () => {
  // MIB_TCPROW_OWNER_MODULE (160): dwState 0, dwLocalAddr 4, dwLocalPort 8, dwRemoteAddr 12,
  // dwRemotePort 16, dwOwningPid 20, liCreateTimestamp 24, OwningModuleInfo[16] 32.
  const { bytes, view } = moduleTable(160, 2);
  let at = 8;
  view.setUint32(at, 5, true);
  setIPv4(view, at + 4, 10, 0, 0, 5);
  setPort(view, at + 8, 50000, 0x1111);
  setIPv4(view, at + 12, 93, 184, 216, 34);
  setPort(view, at + 16, 443, 0x2222);
  view.setUint32(at + 20, 4321, true);
  setTimestamp(view, at + 24, Y2K + 36_000_000_000n); // one hour after
  bytes.fill(0x42, at + 32, at + 160);
  at = 8 + 160;
  view.setUint32(at, 2, true);
  setIPv4(view, at + 4, 0, 0, 0, 0);
  setPort(view, at + 8, 445);
  view.setUint32(at + 20, 4, true);
  setTimestamp(view, at + 24, 0n);
  bytes.fill(0, at + 32, at + 160);

  it("reads the rows after the 8-byte header, with the creation time", () => {
    const [first, second] = decodeTcp4ModuleTable(bytes);
    assert.deepEqual(first.socket, {
      protocol: "TCP",
      family: "IPv4",
      localAddress: "10.0.0.5",
      localPort: 50000,
      remoteAddress: "93.184.216.34",
      remotePort: 443,
      state: "ESTABLISHED",
      pids: [4321],
      created: "2000-01-01T01:00:00.000Z",
    });
    assert.deepEqual(second.socket, {
      protocol: "TCP",
      family: "IPv4",
      localAddress: "0.0.0.0",
      localPort: 445,
      remoteAddress: null,
      remotePort: null,
      state: "LISTEN",
      pids: [4],
      created: null,
      unavailable: { created: "not-supported" },
    });
  });

  it("hands out each whole row and its OwningModuleInfo", () => {
    const [first, second] = decodeTcp4ModuleTable(bytes);
    assert.equal(first.row.length, 160);
    assert.equal(first.row.byteOffset, 8);
    assert.equal(second.row.byteOffset, 168);
    assert.equal(first.owningModuleInfo.length, 128);
    assert.ok(first.owningModuleInfo.every((b) => b === 0x42));
    assert.ok(second.owningModuleInfo.every((b) => b === 0));
    assert.equal(first.specificPortBind, undefined);
  });

  it("rejects a buffer shorter than its row count says", () => {
    assert.throws(() => decodeTcp4ModuleTable(bytes.subarray(0, 8 + 160 + 159)), {
      name: "RangeError",
      message:
        "Buffer too short for MIB_TCPTABLE_OWNER_MODULE: 2 rows need 328 bytes, the buffer has 327",
    });
    // The header alone is 8 bytes, even for zero rows.
    assert.throws(() => decodeTcp4ModuleTable(new Uint8Array(4)), /0 rows need 8 bytes/);
    assert.deepEqual(decodeTcp4ModuleTable(new Uint8Array(8)), []);
  });

  it("treats a negative or out-of-range timestamp as not supported", () => {
    const one = moduleTable(160, 1);
    one.view.setUint32(8, 2, true);
    one.view.setUint32(8 + 24, 0, true);
    one.view.setUint32(8 + 28, 0x80000000, true); // a negative LARGE_INTEGER
    assert.equal(decodeTcp4ModuleTable(one.bytes)[0].socket.created, null);
    one.view.setUint32(8 + 28, 0x7fffffff, true); // beyond the year 9999 as a FILETIME
    const [row] = decodeTcp4ModuleTable(one.bytes);
    assert.equal(row.socket.created, null);
    assert.deepEqual(row.socket.unavailable, { created: "not-supported" });
  });
});

describe("decodeTcp6ModuleTable", () => {
  it("reads MIB_TCP6ROW_OWNER_MODULE rows (192 bytes): timestamp at 56, module info at 64", () => {
    // ucLocalAddr 0, dwLocalScopeId 16, dwLocalPort 20, ucRemoteAddr 24, dwRemoteScopeId 40,
    // dwRemotePort 44, dwState 48, dwOwningPid 52, liCreateTimestamp 56, OwningModuleInfo 64.
    const { bytes, view } = moduleTable(192, 2);
    for (const [i, port, pid] of [[0, 8443, 77], [1, 8444, 78]]) {
      const at = 8 + 192 * i;
      setIPv6(view, at, [0xfe80, 0, 0, 0, 0, 0, 0, 0x10]);
      view.setUint32(at + 16, 9, true);
      setPort(view, at + 20, port, 0x3333);
      setIPv6(view, at + 24, [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x20]);
      view.setUint32(at + 40, 9, true);
      setPort(view, at + 44, 60000 + i, 0x4444);
      view.setUint32(at + 48, 5, true);
      view.setUint32(at + 52, pid, true);
      setTimestamp(view, at + 56, Y2K + BigInt(i) * 10_000n);
      bytes.fill(0x60 + i, at + 64, at + 192);
    }
    const rows = decodeTcp6ModuleTable(bytes);
    assert.deepEqual(rows[0].socket, {
      protocol: "TCP",
      family: "IPv6",
      localAddress: "fe80::10%9",
      localPort: 8443,
      remoteAddress: "2001:db8::20",
      remotePort: 60000,
      state: "ESTABLISHED",
      pids: [77],
      created: "2000-01-01T00:00:00.000Z",
    });
    assert.equal(rows[1].socket.created, "2000-01-01T00:00:00.001Z");
    assert.deepEqual(rows[1].socket.pids, [78]);
    assert.equal(rows[1].socket.localPort, 8444);
    assert.equal(rows[1].row.byteOffset, 8 + 192);
    assert.equal(rows[1].row.length, 192);
    assert.ok(rows[1].owningModuleInfo.every((b) => b === 0x61));
    assert.equal(rows[1].owningModuleInfo.length, 128);
  });

  it("rejects a truncated table", () => {
    const { bytes } = moduleTable(192, 1);
    assert.throws(() => decodeTcp6ModuleTable(bytes.subarray(0, 199)), {
      name: "RangeError",
      message: /MIB_TCP6TABLE_OWNER_MODULE: 1 rows need 200 bytes, the buffer has 199/,
    });
  });
});

describe("decodeUdp4ModuleTable", () => {
  it("reads MIB_UDPROW_OWNER_MODULE rows (160 bytes) with SpecificPortBind from bit 0", () => {
    // dwLocalAddr 0, dwLocalPort 4, dwOwningPid 8, padding 12, liCreateTimestamp 16,
    // SpecificPortBind:1 / dwFlags 24, padding 28, OwningModuleInfo 32.
    const { bytes, view } = moduleTable(160, 3);
    const flags = [1, 0xfffffffe, 0xffffffff];
    flags.forEach((f, i) => {
      const at = 8 + 160 * i;
      setIPv4(view, at, 192, 168, 1, 10 + i);
      setPort(view, at + 4, 5353 + i, 0x5555);
      view.setUint32(at + 8, 300 + i, true);
      setTimestamp(view, at + 16, i === 1 ? 0n : Y2K);
      view.setUint32(at + 24, f, true);
      bytes.fill(0x70 + i, at + 32, at + 160);
    });
    const rows = decodeUdp4ModuleTable(bytes);
    assert.deepEqual(rows[0].socket, {
      protocol: "UDP",
      family: "IPv4",
      localAddress: "192.168.1.10",
      localPort: 5353,
      remoteAddress: null,
      remotePort: null,
      state: null,
      pids: [300],
      created: "2000-01-01T00:00:00.000Z",
    });
    assert.deepEqual(rows.map((r) => r.specificPortBind), [true, false, true]);
    assert.equal(rows[1].socket.created, null);
    assert.deepEqual(rows[1].socket.unavailable, { created: "not-supported" });
    assert.deepEqual(rows[2].socket.pids, [302]);
    assert.equal(rows[2].socket.localAddress, "192.168.1.12");
    assert.ok(rows[2].owningModuleInfo.every((b) => b === 0x72));
    assert.equal(rows[2].row.byteOffset, 8 + 320);
  });
});

describe("decodeUdp6ModuleTable", () => {
  it("reads MIB_UDP6ROW_OWNER_MODULE rows (176 bytes): pid 24, timestamp 32, flags 40, info 48", () => {
    const { bytes, view } = moduleTable(176, 2);
    for (const i of [0, 1]) {
      const at = 8 + 176 * i;
      setIPv6(view, at, i === 0 ? [0, 0, 0, 0, 0, 0, 0, 0] : [0xfe80, 0, 0, 0, 0, 0, 0, 7]);
      view.setUint32(at + 16, 4, true); // dwLocalScopeId
      setPort(view, at + 20, 500 + i, 0x6666);
      view.setUint32(at + 24, 600 + i, true);
      setTimestamp(view, at + 32, Y2K + 10_000_000n * BigInt(i));
      view.setUint32(at + 40, i, true);
      bytes.fill(0x80 + i, at + 48, at + 176);
    }
    const rows = decodeUdp6ModuleTable(bytes);
    assert.deepEqual(rows[0].socket, {
      protocol: "UDP",
      family: "IPv6",
      localAddress: "::",
      localPort: 500,
      remoteAddress: null,
      remotePort: null,
      state: null,
      pids: [600],
      created: "2000-01-01T00:00:00.000Z",
    });
    assert.equal(rows[1].socket.localAddress, "fe80::7%4");
    assert.equal(rows[1].socket.created, "2000-01-01T00:00:01.000Z");
    assert.deepEqual(rows.map((r) => r.specificPortBind), [false, true]);
    assert.ok(rows[1].owningModuleInfo.every((b) => b === 0x81));
    assert.equal(rows[1].row.length, 176);
  });

  it("rejects a truncated table", () => {
    const { bytes } = moduleTable(176, 2);
    assert.throws(() => decodeUdp6ModuleTable(bytes.subarray(0, 359)), {
      name: "RangeError",
      message: /MIB_UDP6TABLE_OWNER_MODULE: 2 rows need 360 bytes, the buffer has 359/,
    });
  });
});

describe("decodeProcessCreations", () => {
  /** SYSTEM_PROCESS_INFORMATION entries of `size` bytes each, the last with NextEntryOffset 0. */
  function entries(
    size: number,
    list: [pid: number, parent: number, created: bigint, session?: number][],
  ) {
    const bytes = new Uint8Array(size * list.length).fill(0xcc);
    const view = new DataView(bytes.buffer);
    list.forEach(([pid, parent, created, session = 0], i) => {
      view.setUint32(size * i, i === list.length - 1 ? 0 : size, true);
      view.setBigUint64(size * i + 32, created, true);
      view.setBigUint64(size * i + 80, BigInt(pid), true);
      view.setBigUint64(size * i + 88, BigInt(parent), true);
      view.setUint32(size * i + 100, session, true);
    });
    return bytes;
  }

  it("reads each entry's pid, parent, creation time and session, following NextEntryOffset", () => {
    const got = decodeProcessCreations(entries(256 + 80, [
      [0, 0, 0n],
      [4, 0, 133_000_000_000_000_000n],
      [4242, 4, 133_500_000_000_000_000n, 2],
    ]));
    assert.deepEqual([...got], [
      [0, { parentPid: 0, created: 0n, sessionId: 0 }],
      [4, { parentPid: 0, created: 133_000_000_000_000_000n, sessionId: 0 }],
      [4242, { parentPid: 4, created: 133_500_000_000_000_000n, sessionId: 2 }],
    ]);
  });

  it("refuses an entry cut short, and one that does not move forward", () => {
    const whole = entries(256, [[1, 0, 1n], [2, 1, 2n]]);
    assert.throws(() => decodeProcessCreations(whole.subarray(0, 256 + 103)), {
      name: "RangeError",
      message: "Invalid SYSTEM_PROCESS_INFORMATION at byte 256: 104 bytes needed, 103 left",
    });
    new DataView(whole.buffer).setUint32(0, 8, true);
    assert.throws(() => decodeProcessCreations(whole), {
      name: "RangeError",
      message: "Invalid SYSTEM_PROCESS_INFORMATION at byte 0: the next entry is 8 bytes on",
    });
  });
});
