import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  decodeSockDiag,
  encodeSockDiagRequest,
  kernelAddress,
  localPortFilter,
  MAX_FILTER_PORTS,
  SockDiagError,
  SockDiagFormatError,
  type SockDiagSocket,
  TCP_STATES_MASK,
  tcpStatesMask,
} from "../../../ffi/linux/sock_diag.ts";

/**
 * Raw answers of a real kernel (6.18, x86_64) to the four dumps, captured by
 * fixtures/capture_sock_diag.py in a fresh network namespace, with what Python's socket API
 * said about each socket.
 */
interface Capture {
  kernel: string;
  loopbackIndex: number;
  sequences: Record<Table, number>;
  buffers: Record<Table, string[]>;
  sockets: {
    kind: string;
    inode: number;
    localAddress: string;
    localPort: number;
    remoteAddress: string | null;
    remotePort: number | null;
    stats?: { bytesIn: number; bytesOut: number; segmentsIn: number; segmentsOut: number };
  }[];
}
type Table = "tcp4" | "tcp6" | "udp4" | "udp6";

const capture: Capture = JSON.parse(
  readFileSync(new URL("./fixtures/sock_diag.json", import.meta.url), "utf8"),
);

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function hex(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Decodes every captured buffer of one dump, as a session would. */
function decodeCapture(table: Table, stats: boolean): { sockets: SockDiagSocket[]; done: boolean } {
  const protocol = table.startsWith("tcp") ? "TCP" : "UDP";
  const sockets: SockDiagSocket[] = [];
  let done = false;
  for (const buffer of capture.buffers[table]) {
    assert.equal(done, false, "a buffer after the end of the dump");
    const batch = decodeSockDiag(hex(buffer), protocol, {
      sequence: capture.sequences[table],
      stats,
      littleEndian: true,
    });
    assert.equal(batch.interrupted, false);
    sockets.push(...batch.sockets);
    done = batch.done;
  }
  return { sockets, done };
}

/** The captured sockets Python described, by kind prefix (`tcp4`, `tcp6`, `udp4`, `udp6`). */
function pythonSockets(table: Table) {
  return capture.sockets.filter((s) => s.kind.startsWith(`${table}-`));
}

/** Python writes a link-local address without its scope; the kernel bound it to lo. */
function withScope(address: string | null): string | null {
  return address?.startsWith("fe80:") ? `${address}%${capture.loopbackIndex}` : address;
}

describe("decodeSockDiag on a real kernel's answers", () => {
  for (const table of ["tcp4", "tcp6", "udp4", "udp6"] as const) {
    it(`finds every ${table} socket with the address, port and inode Python reports`, () => {
      const { sockets, done } = decodeCapture(table, table.startsWith("tcp"));
      assert.equal(done, true);
      const expected = pythonSockets(table);
      assert.equal(sockets.length, expected.length);
      for (const want of expected) {
        const hits = sockets.filter((s) =>
          s.localPort === want.localPort && s.remotePort === want.remotePort
        );
        assert.equal(hits.length, 1, `one socket like ${want.kind}`);
        const got = hits[0];
        assert.equal(got.protocol, table.startsWith("tcp") ? "TCP" : "UDP");
        assert.equal(got.family, table.endsWith("6") ? "IPv6" : "IPv4");
        assert.equal(got.localAddress, withScope(want.localAddress), want.kind);
        assert.equal(got.remoteAddress, withScope(want.remoteAddress), want.kind);
        assert.equal(got.inode, want.inode, want.kind);
        assert.ok(got.cookie > 0, `${want.kind} has a cookie`);
      }
      assert.equal(new Set(sockets.map((s) => s.cookie)).size, sockets.length);
    });
  }

  it("names the TCP states and gives UDP none", () => {
    const tcp = [...decodeCapture("tcp4", false).sockets, ...decodeCapture("tcp6", false).sockets];
    const byKind = (kind: string) => {
      const want = capture.sockets.find((s) => s.kind === kind)!;
      return tcp.find((s) => s.localPort === want.localPort && s.remotePort === want.remotePort)!;
    };
    assert.equal(byKind("tcp4-listen").state, "LISTEN");
    assert.equal(byKind("tcp6-listen").state, "LISTEN");
    assert.equal(byKind("tcp4-client").state, "ESTABLISHED");
    assert.equal(byKind("tcp6-accepted-mapped").state, "ESTABLISHED");
    assert.equal(byKind("tcp4-time-wait").state, "TIME_WAIT");
    const udp = [...decodeCapture("udp4", false).sockets, ...decodeCapture("udp6", false).sockets];
    assert.ok(udp.length > 0 && udp.every((s) => s.state === null));
  });

  it("reads the counters getsockopt(TCP_INFO) reported for the same sockets", () => {
    const { sockets } = decodeCapture("tcp4", true);
    const withCounters = capture.sockets.filter((s) => s.stats && s.kind !== "tcp4-listen");
    assert.equal(withCounters.length, 2);
    for (const want of withCounters) {
      const got = sockets.find((s) =>
        s.localPort === want.localPort && s.remotePort === want.remotePort
      )!;
      assert.deepEqual(got.stats, want.stats, want.kind);
      assert.equal(got.statsReason, undefined);
    }
    // 3000 bytes went from client to server and 1000 back; the kernel's bytes_acked counts the
    // SYN of the side that opened the connection as one more byte.
    const client = capture.sockets.find((s) => s.kind === "tcp4-client")!;
    assert.deepEqual([client.stats!.bytesOut, client.stats!.bytesIn], [3001, 1000]);
  });

  it("gives a TIME_WAIT socket no counters, as not-applicable", () => {
    const { sockets } = decodeCapture("tcp4", true);
    const tw = sockets.find((s) => s.state === "TIME_WAIT")!;
    assert.equal(tw.inode, 0);
    assert.equal(tw.stats, null);
    assert.equal(tw.statsReason, "not-applicable");
  });

  it("gives a listener no counters, as not-applicable, as Windows does", () => {
    // getsockopt(TCP_INFO) on the capture's listener gave zeros: it counts nothing itself.
    const zeros = { bytesIn: 0, bytesOut: 0, segmentsIn: 0, segmentsOut: 0 };
    assert.deepEqual(capture.sockets.find((s) => s.kind === "tcp4-listen")!.stats, zeros);
    for (const kind of ["tcp4", "tcp6"] as const) {
      const listeners = decodeCapture(kind, true).sockets.filter((s) => s.state === "LISTEN");
      assert.ok(listeners.length > 0, `no ${kind} listener in the capture`);
      for (const l of listeners) {
        assert.equal(l.stats, null);
        assert.equal(l.statsReason, "not-applicable");
      }
    }
  });

  it("leaves stats out when they were not asked for, and for UDP", () => {
    for (const s of decodeCapture("tcp4", false).sockets) assert.equal("stats" in s, false);
    for (const s of decodeCapture("udp4", true).sockets) assert.equal("stats" in s, false);
  });

  it("skips messages of another request", () => {
    const buffer = hex(capture.buffers.tcp4[0]);
    const batch = decodeSockDiag(buffer, "TCP", {
      sequence: capture.sequences.tcp4 + 1,
      littleEndian: true,
    });
    assert.deepEqual(batch, { sockets: [], done: false, interrupted: false });
  });

  it("fails on a message cut short, naming the byte", () => {
    const buffer = hex(capture.buffers.tcp4[0]).subarray(0, 100);
    assert.throws(
      () => decodeSockDiag(buffer, "TCP", { littleEndian: true }),
      (err: unknown) =>
        err instanceof SockDiagFormatError && err.offset === 0 &&
        /^Malformed sock_diag answer at byte 0: message length \d+ does not fit the 100 bytes left$/
          .test(err.message),
    );
  });
});

/** Writes the 16-byte netlink header (little-endian) into `bytes` at `at`. */
function header(bytes: Uint8Array, at: number, length: number, type: number, flags = 2, seq = 1) {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint32(at, length, true);
  view.setUint16(at + 4, type, true);
  view.setUint16(at + 6, flags, true);
  view.setUint32(at + 8, seq, true);
}

/**
 * One hand-made TCP/IPv4 answer (inet_diag_msg at 16: family @0, state @1, sport @4, dport @6,
 * src @8, dst @24, if @40, cookie @44, inode @68), followed by an INET_DIAG_INFO attribute of
 * `infoLength` bytes, or none.
 */
function tcpMessage(infoLength: number | null, flags = 2): Uint8Array {
  const attr = infoLength === null ? 0 : 4 + infoLength;
  const bytes = new Uint8Array(16 + 72 + ((attr + 3) & ~3));
  header(bytes, 0, 16 + 72 + attr, 20, flags);
  const view = new DataView(bytes.buffer);
  bytes.set([2, 1], 16); // AF_INET, ESTABLISHED
  bytes.set([0x1f, 0x90, 0xc0, 0x00], 20); // ports 8080 -> 49152
  bytes.set([10, 0, 0, 1], 24);
  bytes.set([10, 0, 0, 2], 40);
  view.setUint32(16 + 44, 7, true); // cookie low word
  view.setUint32(16 + 48, 1, true); // cookie high word
  view.setUint32(16 + 68, 4242, true);
  if (infoLength !== null) {
    view.setUint16(88, attr, true);
    view.setUint16(90, 2, true); // INET_DIAG_INFO
    if (infoLength >= 144) {
      view.setUint32(92 + 120, 0x10, true); // tcpi_bytes_acked, low word
      view.setUint32(92 + 124, 0x1, true); //  high word: 2^32 + 16
      view.setUint32(92 + 128, 500, true); // tcpi_bytes_received
      view.setUint32(92 + 136, 9, true); // tcpi_segs_out
      view.setUint32(92 + 140, 8, true); // tcpi_segs_in
    }
  }
  return bytes;
}

describe("decodeSockDiag on hand-made answers", () => {
  it("reads a 64-bit counter and the cookie's two words, into the core's socket", () => {
    const [socket] = decodeSockDiag(tcpMessage(232), "TCP", { stats: true, littleEndian: true })
      .sockets;
    assert.deepEqual(socket, {
      protocol: "TCP",
      family: "IPv4",
      localAddress: "10.0.0.1",
      localPort: 8080,
      remoteAddress: "10.0.0.2",
      remotePort: 49152,
      state: "ESTABLISHED",
      pids: [],
      ownerReason: undefined,
      unavailable: {},
      inode: 4242,
      cookie: 2 ** 32 + 7,
      stats: { bytesIn: 500, bytesOut: 2 ** 32 + 16, segmentsIn: 8, segmentsOut: 9 },
    });
  });

  it("says not-supported when the kernel's tcp_info ends before the segment counters", () => {
    const [socket] = decodeSockDiag(tcpMessage(104), "TCP", { stats: true, littleEndian: true })
      .sockets;
    assert.equal(socket.stats, null);
    assert.equal(socket.statsReason, "not-supported");
    assert.deepEqual(socket.unavailable, { stats: "not-supported" });
  });

  it("says a socket no file refers to (inode 0) has no owner", () => {
    const bytes = tcpMessage(null);
    new DataView(bytes.buffer).setUint32(16 + 68, 0, true); // idiag_inode
    const [socket] = decodeSockDiag(bytes, "TCP", { littleEndian: true }).sockets;
    assert.equal(socket.inode, 0);
    assert.equal(socket.ownerReason, "no-owner");
    assert.deepEqual(socket.pids, []);
  });

  it("reports an interrupted dump", () => {
    const batch = decodeSockDiag(tcpMessage(null, 2 | 0x10), "TCP", { littleEndian: true });
    assert.equal(batch.interrupted, true);
    assert.equal(batch.sockets.length, 1);
  });

  it("turns NLMSG_ERROR into SockDiagError with the errno", () => {
    const bytes = new Uint8Array(36);
    header(bytes, 0, 36, 2, 0);
    new DataView(bytes.buffer).setInt32(16, -2, true);
    assert.throws(
      () => decodeSockDiag(bytes, "UDP", { littleEndian: true }),
      (err: unknown) =>
        err instanceof SockDiagError && err.errno === 2 &&
        err.message === "The kernel refused the sock_diag dump: error 2 (ENOENT)",
    );
  });

  it("takes an NLMSG_ERROR of 0 as an acknowledgement", () => {
    const bytes = new Uint8Array(36 + 20);
    header(bytes, 0, 36, 2, 0);
    header(bytes, 36, 20, 3);
    assert.deepEqual(decodeSockDiag(bytes, "TCP", { littleEndian: true }), {
      sockets: [],
      done: true,
      interrupted: false,
    });
  });

  it("fails when NLMSG_DONE carries a negative status", () => {
    const bytes = new Uint8Array(20);
    header(bytes, 0, 20, 3);
    new DataView(bytes.buffer).setInt32(16, -95, true);
    assert.throws(
      () => decodeSockDiag(bytes, "TCP", { littleEndian: true }),
      /^SockDiagError: The kernel refused the sock_diag dump: error 95 \(EOPNOTSUPP\)$/,
    );
  });

  it("fails on an unknown family or TCP state", () => {
    const family = tcpMessage(null);
    family[16] = 7;
    assert.throws(
      () => decodeSockDiag(family, "TCP", { littleEndian: true }),
      /^SockDiagFormatError: Malformed sock_diag answer at byte 0: unknown address family 7$/,
    );
    const state = tcpMessage(null);
    state[17] = 42;
    assert.throws(
      () => decodeSockDiag(state, "TCP", { littleEndian: true }),
      /unknown TCP state 42$/,
    );
  });

  it("fails on an attribute that overruns its message", () => {
    const bytes = tcpMessage(232);
    new DataView(bytes.buffer).setUint16(88, 400, true);
    assert.throws(
      () => decodeSockDiag(bytes, "TCP", { stats: true, littleEndian: true }),
      /attribute length 400 at byte 88 overruns$/,
    );
  });

  it("reads big-endian fields when told the bytes come from a big-endian host", () => {
    const bytes = new Uint8Array(20);
    bytes.set([0, 0, 0, 20, 0, 3, 0, 2, 0, 0, 0, 9], 0);
    assert.equal(decodeSockDiag(bytes, "TCP", { sequence: 9, littleEndian: false }).done, true);
  });
});

describe("decodeSockDiag on answers to the older TCP request", () => {
  it("reads them as the answers to a request per family, both families in one dump", () => {
    // The kernel answers a TCPDIAG_GETSOCK request with messages of that type: the captured
    // answers, retyped, stand for it.
    const retyped = (table: Table) =>
      capture.buffers[table].map((text) => {
        const bytes = hex(text);
        const view = new DataView(bytes.buffer);
        for (let off = 0; off + 16 <= bytes.length;) {
          if (view.getUint16(off + 4, true) === 20) view.setUint16(off + 4, 18, true);
          off += (view.getUint32(off, true) + 3) & ~3;
        }
        return bytes;
      });
    for (const table of ["tcp4", "tcp6"] as const) {
      const sockets: SockDiagSocket[] = [];
      for (const bytes of retyped(table)) {
        sockets.push(
          ...decodeSockDiag(bytes, "TCP", {
            sequence: capture.sequences[table],
            stats: true,
            littleEndian: true,
          }).sockets,
        );
      }
      const expected = decodeCapture(table, true).sockets;
      assert.ok(expected.length > 0);
      const fields = (s: SockDiagSocket) => [
        s.family,
        s.state,
        s.localAddress,
        s.localPort,
        s.remoteAddress,
        s.remotePort,
        s.inode,
        s.cookie,
        s.stats,
      ];
      assert.deepEqual(sockets.map(fields), expected.map(fields), table);
    }
  });
});

describe("tcpStatesMask", () => {
  it("sets the bit of each kernel state with a wanted name, within the states /proc/net shows", () => {
    assert.equal(tcpStatesMask(), TCP_STATES_MASK);
    assert.equal(tcpStatesMask(["LISTEN"]), 1 << 10);
    // SYN_RCVD names both a half-open socket (3) and a request socket (TCP_NEW_SYN_RECV, 12).
    assert.equal(tcpStatesMask(["SYN_RCVD", "ESTABLISHED"]), (1 << 3) | (1 << 12) | (1 << 1));
    assert.equal(tcpStatesMask(["TIME_WAIT", "CLOSED"]), (1 << 6) | (1 << 7));
    // BOUND (13) is left out as /proc/net/tcp leaves it out; DELETE_TCB is Windows only.
    assert.equal(tcpStatesMask(["BOUND", "DELETE_TCB"]), 0);
  });

  it("goes into the request's idiag_states", () => {
    const bytes = encodeSockDiagRequest({
      protocol: "TCP",
      family: "IPv6",
      tcpStates: ["LISTEN"],
      sequence: 1,
      littleEndian: true,
    });
    assert.deepEqual([...bytes.subarray(16, 24)], [10, 6, 0, 0, 0x00, 0x04, 0, 0]);
  });
});

describe("encodeSockDiagRequest", () => {
  it("asks for every TCP state and tcp_info", () => {
    const bytes = encodeSockDiagRequest({
      protocol: "TCP",
      family: "IPv4",
      stats: true,
      sequence: 7,
      littleEndian: true,
    });
    assert.deepEqual(
      [...bytes],
      [
        ...[72, 0, 0, 0, 20, 0, 0x01, 0x03, 7, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr
        ...[2, 6, 2, 0, 0xfe, 0x1f, 0, 0], // AF_INET, TCP, INFO bit, states 1..12
        ...new Array(48).fill(0), // inet_diag_sockid: any
      ],
    );
  });

  it("asks for every UDP socket of IPv6 and never for tcp_info", () => {
    const bytes = encodeSockDiagRequest({
      protocol: "UDP",
      family: "IPv6",
      stats: true,
      sequence: 0x01020304,
      littleEndian: false,
    });
    assert.deepEqual(
      [...bytes.subarray(0, 24)],
      [
        0,
        0,
        0,
        72,
        0,
        20,
        0x03,
        0x01,
        1,
        2,
        3,
        4,
        0,
        0,
        0,
        0,
        10,
        17,
        0,
        0,
        0xff,
        0xff,
        0xff,
        0xff,
      ],
    );
  });

  it("asks for TCP over both families with the older request, with the same states and bit", () => {
    const bytes = encodeSockDiagRequest({
      protocol: "TCP",
      family: null,
      stats: true,
      tcpStates: ["LISTEN"],
      sequence: 5,
      littleEndian: true,
    });
    assert.deepEqual(
      [...bytes],
      [
        ...[76, 0, 0, 0, 18, 0, 0x01, 0x03, 5, 0, 0, 0, 0, 0, 0, 0], // nlmsghdr: TCPDIAG_GETSOCK
        ...[0, 0, 0, 2], // family (not read), address lengths, INFO bit
        ...new Array(48).fill(0), // inet_diag_sockid: any
        ...[0x00, 0x04, 0, 0], // idiag_states: LISTEN
        ...[0, 0, 0, 0], // idiag_dbs
      ],
    );
    assert.equal(
      new DataView(encodeSockDiagRequest({ protocol: "TCP", family: null, sequence: 1 }).buffer)
        .getUint32(16 + 52, HOST_LITTLE),
      TCP_STATES_MASK,
    );
    assert.throws(
      () => encodeSockDiagRequest({ protocol: "UDP", family: null, sequence: 1 }),
      /^RangeError: Only TCP is dumped for both families in one request$/,
    );
  });

  it("addresses the kernel as netlink port 0", () => {
    assert.deepEqual([...kernelAddress(true)], [16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...kernelAddress(false)], [0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe("localPortFilter", () => {
  it("tests one port with >= and <=, each followed by the port", () => {
    assert.deepEqual([...localPortFilter([22], true)], [
      ...[2, 8, 20, 0], // S_GE: on to +8, else +20 (4 past the end: drop)
      ...[0, 0, 22, 0], // its port
      ...[3, 8, 12, 0], // S_LE: on to +8 (the end: pass), else +12 (drop)
      ...[0, 0, 22, 0],
    ]);
  });

  it("joins two ports with a jump that sends a match to the end", () => {
    assert.deepEqual([...localPortFilter([22, 443, 22], false)], [
      ...[2, 8, 0, 20], // S_GE 22: else to the second port (+20)
      ...[0, 0, 0, 22],
      ...[3, 8, 0, 12], // S_LE 22: on to the jump, else to the second port (+12)
      ...[0, 0, 0, 22],
      ...[1, 4, 0, 20], // JMP: always +20, the end (its +4 is the path the kernel checks)
      ...[2, 8, 0, 20], // S_GE 443: else 4 past the end
      ...[0, 0, 1, 0xbb],
      ...[3, 8, 0, 12], // S_LE 443: on to the end, else 4 past it
      ...[0, 0, 1, 0xbb],
    ]);
  });

  it("refuses no port, a port out of range and too many ports, naming the problem", () => {
    assert.throws(() => localPortFilter([]), /needs at least one port/);
    assert.throws(
      () => localPortFilter([65536]),
      /^RangeError: Invalid port 65536: expected 0 to 65535$/,
    );
    assert.throws(() => localPortFilter([1.5]), /Invalid port 1.5/);
    const ports = Array.from({ length: MAX_FILTER_PORTS + 1 }, (_, i) => i);
    assert.throws(
      () => localPortFilter(ports),
      /Too many ports for one filter: 1025 \(at most 1024\)/,
    );
    assert.equal(localPortFilter(ports.slice(1)).length, MAX_FILTER_PORTS * 20 - 4);
  });

  it("goes after the request as an INET_DIAG_REQ_BYTECODE attribute, in both requests", () => {
    const filter = [...localPortFilter([8080], true)];
    const v2 = encodeSockDiagRequest({
      protocol: "UDP",
      family: "IPv4",
      localPorts: [8080],
      sequence: 1,
      littleEndian: true,
    });
    assert.deepEqual([...v2.subarray(0, 4)], [92, 0, 0, 0]);
    assert.deepEqual([...v2.subarray(72)], [20, 0, 1, 0, ...filter]);
    const old = encodeSockDiagRequest({
      protocol: "TCP",
      family: null,
      localPorts: [8080],
      sequence: 1,
      littleEndian: true,
    });
    assert.deepEqual([...old.subarray(0, 4)], [96, 0, 0, 0]);
    assert.deepEqual([...old.subarray(76)], [20, 0, 1, 0, ...filter]);
  });
});
