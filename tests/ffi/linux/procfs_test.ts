import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  joinCmdline,
  parseBootTime,
  parseEffectiveUid,
  parseIfInet6,
  parsePasswd,
  parseProcNet,
  parseProcStat,
  parseSockstat,
  parseSystemdUnit,
  parseThreadGroup,
  ProcfsFormatError,
  startTimeIso,
} from "../../../ffi/linux/procfs.ts";

const V4_HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const V6_HEADER = "  sl  local_address                         remote_address" +
  "                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const TAIL = "00000000:00000000 00:00000000 00000000  1000        0";

function table(header: string, ...rows: string[]): string {
  return [header, ...rows].join("\n") + "\n";
}

describe("parseProcNet on /proc/net/tcp", () => {
  const text = table(
    V4_HEADER,
    `   0: 0100007F:1F90 00000000:0000 0A ${TAIL} 4242 1 0000000000000000 100 0 0 10 0`,
    `   1: 0A01A8C0:D431 0100007F:1F90 01 ${TAIL} 4243 1 0000000000000000 20 4 30 10 -1`,
    `   2: 0100007F:D432 0100007F:1F90 06 00000000:00000000 03:00001762 00000000     0 0 0 3 0`,
  );
  const rows = parseProcNet(text, "tcp", { littleEndian: true });

  it("reads little-endian address words and big-endian ports", () => {
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[1], {
      protocol: "TCP",
      family: "IPv4",
      localAddress: "192.168.1.10",
      localPort: 54321,
      remoteAddress: "127.0.0.1",
      remotePort: 8080,
      state: "ESTABLISHED",
      inode: 4243,
    });
  });
  it("gives a listening socket no remote", () => {
    assert.deepEqual(rows[0], {
      protocol: "TCP",
      family: "IPv4",
      localAddress: "127.0.0.1",
      localPort: 8080,
      remoteAddress: null,
      remotePort: null,
      state: "LISTEN",
      inode: 4242,
    });
  });
  it("keeps the inode 0 of a TIME_WAIT socket", () => {
    assert.equal(rows[2].state, "TIME_WAIT");
    assert.equal(rows[2].inode, 0);
    assert.equal(rows[2].remoteAddress, "127.0.0.1");
  });
  it("reads words written by a big-endian machine", () => {
    const be = table(V4_HEADER, `   0: 7F000001:0016 C0A8010A:C350 01 ${TAIL} 7 1`);
    const [row] = parseProcNet(be, "tcp", { littleEndian: false });
    assert.equal(row.localAddress, "127.0.0.1");
    assert.equal(row.localPort, 22);
    assert.equal(row.remoteAddress, "192.168.1.10");
    assert.equal(row.remotePort, 50000);
  });
  it("names every state code 01 to 0B as netstat does", () => {
    const codes = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "0A", "0B"];
    const lines = codes.map((c, i) => `   ${i}: 0100007F:0050 0200007F:1000 ${c} ${TAIL} ${i + 1}`);
    const states = parseProcNet(table(V4_HEADER, ...lines), "tcp", { littleEndian: true })
      .map((r) => r.state);
    assert.deepEqual(states, [
      "ESTABLISHED",
      "SYN_SENT",
      "SYN_RCVD",
      "FIN_WAIT1",
      "FIN_WAIT2",
      "TIME_WAIT",
      "CLOSED",
      "CLOSE_WAIT",
      "LAST_ACK",
      "LISTEN",
      "CLOSING",
    ]);
  });
  it("reads a header-only or empty table as no rows", () => {
    assert.deepEqual(parseProcNet(table(V4_HEADER), "tcp"), []);
    assert.deepEqual(parseProcNet("", "udp"), []);
  });
});

describe("parseProcNet on /proc/net/tcp6", () => {
  it("writes the loopback address as ::1", () => {
    const text = table(
      V6_HEADER,
      `   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A ${TAIL} 77 1`,
    );
    const [row] = parseProcNet(text, "tcp6", { littleEndian: true });
    assert.deepEqual(row, {
      protocol: "TCP",
      family: "IPv6",
      localAddress: "::1",
      localPort: 8080,
      remoteAddress: null,
      remotePort: null,
      state: "LISTEN",
      inode: 77,
    });
  });
  it("writes an IPv4-mapped address as ::ffff:127.0.0.1", () => {
    const text = table(
      V6_HEADER,
      `   0: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C001 01 ${TAIL} 78 1`,
    );
    const [row] = parseProcNet(text, "tcp6", { littleEndian: true });
    assert.equal(row.localAddress, "::ffff:127.0.0.1");
    assert.equal(row.remoteAddress, "::ffff:127.0.0.1");
    assert.equal(row.remotePort, 0xc001);
    assert.equal(row.state, "ESTABLISHED");
  });
  it("swaps the bytes of each of the four words", () => {
    const text = table(
      V6_HEADER,
      `   0: B80D0120000000000000000001000000:0016 B80D01200000000000000000FFFF0000:0017 01 ${TAIL} 79 1`,
    );
    const [row] = parseProcNet(text, "tcp6", { littleEndian: true });
    assert.equal(row.localAddress, "2001:db8::1");
    assert.equal(row.remoteAddress, "2001:db8::ffff");
  });
  it("adds the interface of a link-local address when it is known", () => {
    const line =
      `   0: 000080FE00000000FF00FC00010000FE:0016 000080FE000000000000000002000000:D000 01 ${TAIL} 80 1`;
    const scopes = new Map([["fe80::fc:ff:fe00:1", 4]]);
    const [scoped] = parseProcNet(table(V6_HEADER, line), "tcp6", { littleEndian: true, scopes });
    assert.equal(scoped.localAddress, "fe80::fc:ff:fe00:1%4");
    assert.equal(scoped.remoteAddress, "fe80::2%4");
    const [bare] = parseProcNet(table(V6_HEADER, line), "tcp6", { littleEndian: true });
    assert.equal(bare.localAddress, "fe80::fc:ff:fe00:1");
    assert.equal(bare.remoteAddress, "fe80::2");
  });
});

describe("parseProcNet on /proc/net/udp and udp6", () => {
  const header = V4_HEADER + " ref pointer drops";
  it("gives UDP no state and an unconnected socket no remote", () => {
    const text = table(
      header,
      `  127: 3500007F:0035 00000000:0000 07 ${TAIL} 300 2 0000000000000000 0`,
    );
    const [row] = parseProcNet(text, "udp", { littleEndian: true });
    assert.equal(row.protocol, "UDP");
    assert.equal(row.localAddress, "127.0.0.53");
    assert.equal(row.localPort, 53);
    assert.equal(row.state, null);
    assert.equal(row.remoteAddress, null);
    assert.equal(row.remotePort, null);
  });
  it("keeps the remote of a connected UDP socket", () => {
    const text = table(
      header,
      `  128: 0100007F:A000 0100007F:0035 01 ${TAIL} 301 2 0000000000000000 0`,
    );
    const [row] = parseProcNet(text, "udp", { littleEndian: true });
    assert.equal(row.state, null);
    assert.equal(row.remoteAddress, "127.0.0.1");
    assert.equal(row.remotePort, 53);
  });
  it("reads udp6 rows as IPv6", () => {
    const text = table(
      V6_HEADER,
      `  200: 00000000000000000000000000000000:0222 00000000000000000000000000000000:0000 07 ${TAIL} 302 2 0`,
    );
    const [row] = parseProcNet(text, "udp6", { littleEndian: true });
    assert.equal(row.family, "IPv6");
    assert.equal(row.localAddress, "::");
    assert.equal(row.localPort, 546);
    assert.equal(row.remoteAddress, null);
  });
});

describe("parseProcNet on malformed text", () => {
  it("names the file, the line number and the text", () => {
    const text = table(V4_HEADER, `   0: 0100007F:1F90 00000000:0000 0A ${TAIL} 1 1`, "   1: zz");
    assert.throws(
      () => parseProcNet(text, "tcp", { file: "/proc/net/tcp" }),
      (err: unknown) => {
        assert.ok(err instanceof ProcfsFormatError);
        assert.equal(err.file, "/proc/net/tcp");
        assert.equal(err.line, 3);
        assert.equal(err.text, "   1: zz");
        assert.match(err.message, /^Malformed line 3 of \/proc\/net\/tcp: .*" {3}1: zz"$/);
        return true;
      },
    );
  });
  it("rejects an address of the wrong family", () => {
    const text = table(V6_HEADER, `   0: 0100007F:1F90 00000000:0000 0A ${TAIL} 1 1`);
    assert.throws(() => parseProcNet(text, "tcp6"), /line 2 of \/proc\/net\/tcp6: bad local/);
  });
  it("keeps a TCP state it does not know as UNKNOWN", () => {
    const state = table(V4_HEADER, `   0: 0100007F:1F90 00000000:0000 1F ${TAIL} 1 1`);
    const rows = parseProcNet(state, "tcp");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].state, "UNKNOWN");
    assert.equal(rows[0].localPort, 8080);
  });
  it("rejects a non-numeric inode", () => {
    const inode = table(V4_HEADER, `   0: 0100007F:1F90 00000000:0000 0A ${TAIL} x1 1`);
    assert.throws(() => parseProcNet(inode, "tcp"), /bad inode/);
  });
});

describe("parseSockstat", () => {
  it("reads every socket in use, each protocol's sockets in use and the TIME_WAIT count", () => {
    const v4 = "sockets: used 40158\n" +
      "TCP: inuse 40051 orphan 0 tw 12 alloc 40051 mem 196\n" +
      "UDP: inuse 3 mem 0\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n";
    const v6 = "TCP6: inuse 4\nUDP6: inuse 2\nUDPLITE6: inuse 0\nRAW6: inuse 0\n" +
      "FRAG6: inuse 0 memory 0\n";
    assert.deepEqual(Object.fromEntries(parseSockstat(v4)), {
      sockets: 40158,
      TCP: 40051,
      "TCP:tw": 12,
      UDP: 3,
      UDPLITE: 0,
      RAW: 0,
      FRAG: 0,
    });
    assert.deepEqual(
      [parseSockstat(v6).get("TCP6"), parseSockstat(v6).get("UDP6")],
      [4, 2],
    );
  });

  it("leaves out what is not a count", () => {
    assert.deepEqual(parseSockstat("TCP: inuse x tw -1\nnonsense\n\nUDP: inuse 1e3\n").size, 0);
  });

  it("is read from this machine, and counts at least the socket a test opens", async () => {
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    try {
      const { readFileSync } = await import("node:fs");
      const counts = parseSockstat(readFileSync("/proc/net/sockstat", "latin1"));
      assert.ok((counts.get("TCP") ?? 0) >= 1, JSON.stringify([...counts]));
      assert.ok(
        (counts.get("sockets") ?? 0) >= (counts.get("TCP") ?? 0),
        JSON.stringify([...counts]),
      );
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});

describe("parseIfInet6", () => {
  it("maps each link-local address to its interface index (hex)", () => {
    const scopes = parseIfInet6(
      "00000000000000000000000000000001 01 80 10 80       lo\n" +
        "fd000000000000000000000000000002 04 40 00 82     eth0\n" +
        "fe8000000000000000fc00fffe000001 0c 40 20 80     eth9\n",
    );
    assert.deepEqual([...scopes], [["fe80::fc:ff:fe00:1", 12]]);
  });
  it("leaves out an address found on two interfaces", () => {
    const scopes = parseIfInet6(
      "fe800000000000000000000000000001 02 40 20 80 a\n" +
        "fe800000000000000000000000000001 03 40 20 80 b\n" +
        "fe800000000000000000000000000002 03 40 20 80 b\n",
    );
    assert.deepEqual([...scopes], [["fe80::2", 3]]);
  });
  it("rejects a line of another layout", () => {
    assert.throws(
      () => parseIfInet6("fe80::1 2 40 20 80 eth0\n"),
      /line 1 of \/proc\/net\/if_inet6/,
    );
  });
});

describe("parseProcStat", () => {
  it("reads the fields after the command name", () => {
    const stat = parseProcStat(
      "17369 (cat) R 17361 17361 12604 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 460993 3133440 389 " +
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
    );
    assert.deepEqual(stat, {
      pid: 17369,
      comm: "cat",
      state: "R",
      parentPid: 17361,
      flags: 4194304,
      startTicks: 460993,
    });
  });
  it("ends a command name with spaces and parentheses at the last )", () => {
    const stat = parseProcStat(
      "4321 (x) S 99 (y) R 7 4321 4321 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5150 0 0\n",
    );
    assert.equal(stat.comm, "x) S 99 (y");
    assert.equal(stat.state, "R");
    assert.equal(stat.parentPid, 7);
    assert.equal(stat.flags, 2129984);
    assert.equal(stat.startTicks, 5150);
  });
  it("rejects text without a command name or with too few fields", () => {
    assert.throws(() => parseProcStat("12 cat R 1 2 3", "/proc/12/stat"), /\/proc\/12\/stat/);
    assert.throws(() => parseProcStat("12 (cat) R 1 2 3"), /too few fields/);
  });
});

describe("boot time and start times", () => {
  it("reads btime from /proc/stat", () => {
    assert.equal(parseBootTime("cpu  1 2 3\nintr 5\nbtime 1795303364\nprocesses 9\n"), 1795303364);
  });
  it("fails when /proc/stat has no btime", () => {
    assert.throws(() => parseBootTime("cpu  1 2 3\n"), /no btime line/);
  });
  it("counts 100 ticks per second from boot, in UTC", () => {
    assert.equal(startTimeIso(1700000000, 0), "2023-11-14T22:13:20.000Z");
    assert.equal(startTimeIso(1700000000, 150), "2023-11-14T22:13:21.500Z");
  });
});

describe("process files", () => {
  it("takes the effective uid from the Uid line of status", () => {
    const status =
      "Name:\tsu\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
    assert.equal(parseEffectiveUid(status), 0);
    assert.throws(() => parseEffectiveUid("Name:\tx\n"), /no Uid line/);
  });
  it("reads the thread group id: the process a thread belongs to", () => {
    const status = "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4852\nNgid:\t0\n" +
      "Pid:\t4894\nPPid:\t4800\n";
    assert.equal(parseThreadGroup(status), 4852);
    assert.throws(() => parseThreadGroup("Name:\tx\nPid:\t3\n"), /no Tgid line/);
    assert.throws(() => parseThreadGroup("Tgid:\tx\n"), /bad Tgid line/);
  });
  it("reads user names from passwd, skipping lines that are not entries", () => {
    const names = parsePasswd(
      "# local users\nroot:x:0:0:root:/root:/bin/bash\n+@netgroup\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\ntoor:x:0:0::/root:/bin/sh\n",
    );
    assert.deepEqual([...names], [[0, "root"], [105, "sshd"]]);
  });
  it("joins NUL-separated arguments with spaces", () => {
    assert.equal(joinCmdline("/usr/bin/python3\0-c\0print(1)\0"), "/usr/bin/python3 -c print(1)");
    assert.equal(joinCmdline("nginx: worker process\0\0\0"), "nginx: worker process");
    assert.equal(joinCmdline(""), "");
  });
  it("finds the systemd service in cgroup v2 and v1 layouts", () => {
    assert.equal(parseSystemdUnit("0::/system.slice/nginx.service\n"), "nginx.service");
    assert.equal(
      parseSystemdUnit("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n"),
      "user@1000.service",
    );
    assert.equal(
      parseSystemdUnit("2:cpu:/\n1:name=systemd:/system.slice/cron.service\n"),
      "cron.service",
    );
    assert.equal(parseSystemdUnit("0::/init.scope\n"), null);
    assert.equal(parseSystemdUnit("4:memory:/docker/abc\n"), null);
  });
});
