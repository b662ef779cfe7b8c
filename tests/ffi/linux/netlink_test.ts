import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type Libc, loadLibc } from "../../../ffi/linux/_libc.ts";
import { openSockDiag, type SockDiagSocket } from "../../../ffi/linux/netlink.ts";
import { listenOn, PYTHON, start } from "./_children.ts";

function nativeLibc(): Libc | null {
  if (process.platform !== "linux") return null;
  try {
    return loadLibc();
  } catch {
    return null;
  }
}
const libc = nativeLibc();

/**
 * One loopback TCP connection with a known exchange: the client sends 5000 bytes, the server
 * reads them and sends back 2000. Once the delayed ACKs are out, the child prints the ports,
 * the inodes (fstat) and the counters getsockopt(TCP_INFO) gives for both ends, plus a UDP
 * socket on IPv6 loopback.
 */
const EXCHANGE_PY = `
import json, os, socket, struct, sys, time
def counters(s):
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 512)
    acked, received = struct.unpack_from("=QQ", info, 120)
    segs_out, segs_in = struct.unpack_from("=II", info, 136)
    return {"bytesIn": received, "bytesOut": acked, "segmentsIn": segs_in, "segmentsOut": segs_out}
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.bind(("127.0.0.1", 0))
lst.listen(1)
cli = socket.create_connection(lst.getsockname())
srv, _ = lst.accept()
cli.sendall(b"c" * 5000)
n = 0
while n < 5000:
    n += len(srv.recv(65536))
srv.sendall(b"s" * 2000)
n = 0
while n < 2000:
    n += len(cli.recv(65536))
udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
udp.bind(("::1", 0))
time.sleep(0.5)
print(json.dumps({
    "listen": lst.getsockname()[1],
    "client": cli.getsockname()[1],
    "udp6": udp.getsockname()[1],
    "clientInode": os.fstat(cli.fileno()).st_ino,
    "serverInode": os.fstat(srv.fileno()).st_ino,
    "udpInode": os.fstat(udp.fileno()).st_ino,
    "clientCounters": counters(cli),
    "serverCounters": counters(srv),
}), flush=True)
sys.stdin.read()
`;

interface Exchange {
  listen: number;
  client: number;
  udp6: number;
  clientInode: number;
  serverInode: number;
  udpInode: number;
  clientCounters: Record<string, number>;
  serverCounters: Record<string, number>;
}

/** 3,000 UDP sockets on 127.0.0.9 (the fd limit raised to fit); prints their ports and inodes. */
const MANY_UDP_PY = `
import json, os, resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < 4000:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(4000, hard), hard))
socks = []
for _ in range(3000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.9", 0))
    socks.append(s)
print(json.dumps({
    "ports": [s.getsockname()[1] for s in socks],
    "inodes": [os.fstat(s.fileno()).st_ino for s in socks],
}), flush=True)
sys.stdin.read()
`;

function one(rows: SockDiagSocket[], localPort: number, remotePort: number | null) {
  const hits = rows.filter((r) => r.localPort === localPort && r.remotePort === remotePort);
  assert.equal(hits.length, 1, `one socket ${localPort} -> ${remotePort}, got ${hits.length}`);
  return hits[0];
}

describe("openSockDiag on this kernel", {
  skip: libc === null ? "no native calls here (Deno without --allow-ffi, or no koffi)" : !PYTHON,
}, () => {
  it("dumps a known connection with the bytes and segments that went over it", async () => {
    const run = await start<Exchange>(PYTHON!, ["-c", EXCHANGE_PY]);
    const session = openSockDiag(libc!);
    try {
      const x = run.ready;
      const tcp = session.dump("TCP", "IPv4", { stats: true });
      const client = one(tcp, x.client, x.listen);
      const server = one(tcp, x.listen, x.client);
      assert.deepEqual(
        [client.localAddress, client.remoteAddress, client.state, client.inode],
        ["127.0.0.1", "127.0.0.1", "ESTABLISHED", x.clientInode],
      );
      assert.equal(server.inode, x.serverInode);
      // bytes_acked counts the SYN of the side that opened the connection as one byte.
      assert.deepEqual(
        [client.stats?.bytesOut, client.stats?.bytesIn],
        [5000 + 1, 2000],
      );
      assert.deepEqual([server.stats?.bytesIn, server.stats?.bytesOut], [5000, 2000]);
      // The same counters the sockets' owner read with getsockopt(TCP_INFO).
      assert.deepEqual(client.stats, x.clientCounters);
      assert.deepEqual(server.stats, x.serverCounters);
      assert.ok(client.stats!.segmentsOut >= 3, "SYN, ACK and at least one data segment");

      const listener = one(tcp, x.listen, null);
      assert.deepEqual([listener.state, listener.remoteAddress], ["LISTEN", null]);

      const plain = session.dump("TCP", "IPv4");
      assert.equal(one(plain, x.client, x.listen).stats, undefined);

      const udp = one(session.dump("UDP", "IPv6", { stats: true }), x.udp6, null);
      assert.deepEqual(
        [udp.protocol, udp.family, udp.localAddress, udp.state, udp.inode, udp.stats],
        ["UDP", "IPv6", "::1", null, x.udpInode, undefined],
      );
    } finally {
      session.close();
      await run.stop();
    }
  });

  it("reads a dump of many parts whole, each socket once, and the next dump after it", async () => {
    // 3,000 UDP sockets make about 300 KB of answers, which the kernel sends in parts of at most
    // 32 KiB.
    const run = await start<{ ports: number[]; inodes: number[] }>(PYTHON!, ["-c", MANY_UDP_PY]);
    const session = openSockDiag(libc!);
    try {
      const { ports, inodes } = run.ready;
      for (let round = 0; round < 2; round++) {
        const rows = session.dump("UDP", "IPv4");
        const mine = rows.filter((r) => r.localAddress === "127.0.0.9");
        assert.deepEqual(
          mine.map((r) => [r.localPort, r.inode]).sort((a, b) => a[0] - b[0]),
          ports.map((port, i) => [port, inodes[i]]).sort((a, b) => a[0] - b[0]),
        );
        assert.equal(new Set(rows.map((r) => r.cookie)).size, rows.length);
        // The same session goes on with another table: nothing of this dump is left unread.
        assert.ok(session.dump("TCP", "IPv4").every((r) => r.protocol === "TCP"));
      }
    } finally {
      session.close();
      await run.stop();
    }
  });

  it("dumps TCP over both families in one request, as one dump per family does", async () => {
    const { servers, ports } = await listenOn(["127.0.0.1", "::1"]);
    const session = openSockDiag(libc!);
    try {
      const mine = (rows: SockDiagSocket[]) =>
        rows.filter((r) => r.state === "LISTEN" && ports.includes(r.localPort))
          .map((r) => `${r.family} ${r.localAddress} ${r.localPort} ${r.inode} ${r.cookie}`)
          .sort();
      const both = session.dump("TCP", null);
      const each = [...session.dump("TCP", "IPv4"), ...session.dump("TCP", "IPv6")];
      assert.deepEqual(mine(both), mine(each));
      assert.deepEqual(mine(both).map((r) => r.split(" ").slice(0, 3).join(" ")), [
        `IPv4 127.0.0.1 ${ports[0]}`,
        `IPv6 ::1 ${ports[1]}`,
      ]);
      assert.equal(new Set(both.map((r) => r.cookie)).size, both.length);
      // Only the listeners were asked for: the kernel leaves the rest out.
      const listening = session.dump("TCP", null, { tcpStates: ["LISTEN"] });
      assert.ok(listening.every((r) => r.state === "LISTEN"));
      assert.deepEqual(mine(listening), mine(both));
    } finally {
      session.close();
      for (const server of servers) server.close();
    }
  });

  it("asks the kernel for some local ports only, whatever the state, in every kind of dump", async () => {
    const { connect } = await import("node:net");
    const { createSocket } = await import("node:dgram");
    const { servers, ports } = await listenOn(["127.0.0.1", "::1", "127.0.0.1"]);
    // A connection to the first listener: its accepted end has the listener's local port too.
    const client = connect(ports[0], "127.0.0.1");
    await new Promise<void>((done) => client.on("connect", () => done()));
    const udp = createSocket("udp4");
    await new Promise<void>((done) => udp.bind(0, "127.0.0.1", () => done()));
    const udpPort = udp.address().port;
    const session = openSockDiag(libc!);
    try {
      const key = (r: SockDiagSocket) => `${r.protocol} ${r.localPort} ${r.state} ${r.cookie}`;
      const wanted = [ports[0], ports[1], 1];
      for (const family of [null, "IPv4", "IPv6"] as const) {
        const all = session.dump("TCP", family).filter((r) => wanted.includes(r.localPort));
        const some = session.dump("TCP", family, { localPorts: wanted });
        assert.deepEqual(some.map(key).sort(), all.map(key).sort(), `TCP/${family}`);
      }
      const both = session.dump("TCP", null, { localPorts: wanted });
      assert.deepEqual(
        both.map((r) => `${r.localPort} ${r.state}`).sort(),
        [
          `${ports[0]} ESTABLISHED`,
          `${ports[0]} LISTEN`,
          `${ports[1]} LISTEN`,
        ].sort(),
      );
      const udpRows = session.dump("UDP", "IPv4", { localPorts: [udpPort, ports[2]] });
      assert.deepEqual(udpRows.map((r) => `${r.localAddress}:${r.localPort}`), [
        `127.0.0.1:${udpPort}`,
      ]);
      // The largest filter the kernel is sent still tests the port at its end, and passes no
      // other port (other programs' sockets may have some of these ports).
      const many = [
        ...Array.from({ length: 1023 }, (_, i) => (ports[2] + 1 + i) % 65536),
        ports[2],
      ];
      const last = session.dump("TCP", null, { localPorts: many });
      assert.ok(last.every((r) => many.includes(r.localPort)));
      assert.ok(last.some((r) => r.localPort === ports[2] && r.state === "LISTEN"));
    } finally {
      session.close();
      client.destroy();
      udp.close();
      for (const server of servers) server.close();
    }
  });

  it("refuses to dump once closed", () => {
    const session = openSockDiag(libc!);
    session.close();
    session.close();
    assert.throws(
      () => session.dump("TCP", "IPv4"),
      /^Error: Cannot dump sockets: the sock_diag session is closed$/,
    );
  });
});
