// @ts-check
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  canonicalAddress,
  compareWithPsutil,
  compareWithSs,
  describeComparison,
  makeTuple,
  parseProcconn,
  parsePsutil,
  parseSs,
  tupleKey,
} from "./_tuples.mjs";

// Lines as ss 6.x prints them for `ss -tuanp` (column padding shortened).
const SS_TUANP = `Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process
udp   ESTAB  0      0      127.0.0.1:58592     127.0.0.1:53      users:(("node",pid=22325,fd=25))
udp   UNCONN 0      0      *:40003             *:*               users:(("node",pid=22325,fd=24))
tcp   LISTEN 0      511    127.0.0.1:37685     0.0.0.0:*         users:(("node",pid=22325,fd=22))
tcp   LISTEN 0      128    0.0.0.0:2024        0.0.0.0:*
tcp   LISTEN 0      511    *:38829             *:*               users:(("nginx",pid=10,fd=6),("nginx",pid=11,fd=6),("nginx",pid=10,fd=9))
tcp   ESTAB  0      0      [::ffff:127.0.0.1]:45310 [::ffff:127.0.0.1]:37685 users:(("my app",pid=7,fd=27))
tcp   TIME-WAIT 0   0      [::1]:34903         [::1]:51506
tcp   ESTAB  0      0      [fe80::1]%eth0:22   [fe80::0:2]%eth0:50000 users:(("sshd",pid=99,fd=4))
`;

describe("canonicalAddress", () => {
  it("writes IPv6 in RFC 5952 form with a dotted IPv4-mapped tail and no scope", () => {
    assert.equal(canonicalAddress("[::FFFF:127.0.0.1]"), "::ffff:127.0.0.1");
    assert.equal(canonicalAddress("::ffff:7f00:1"), "::ffff:127.0.0.1");
    assert.equal(canonicalAddress("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
    assert.equal(canonicalAddress("fe80::1%12"), "fe80::1");
    assert.equal(canonicalAddress("[fe80::1]%eth0"), "fe80::1");
    assert.equal(canonicalAddress("*"), "::");
    assert.equal(canonicalAddress("127.0.0.53%lo"), "127.0.0.53");
  });

  it("rejects text that is not an address, quoting it", () => {
    assert.throws(() => canonicalAddress("localhost"), /Invalid address "localhost"/);
    assert.throws(() => canonicalAddress("300.1.1.1"), /Invalid address "300.1.1.1"/);
    assert.throws(() => canonicalAddress("1:2:3"), /Invalid address "1:2:3"/);
  });
});

describe("parseSs", () => {
  const tuples = parseSs(SS_TUANP);
  const keys = tuples.map(tupleKey);

  it("gives one tuple per distinct pid of a shared socket", () => {
    assert.deepEqual(keys.filter((k) => k.includes(":38829")), [
      "TCP [::]:38829 -> * pid=10",
      "TCP [::]:38829 -> * pid=11",
    ]);
  });

  it("reads every line, with null pids where ss shows no users", () => {
    assert.deepEqual(keys, [
      "UDP 127.0.0.1:58592 -> * pid=22325",
      "UDP [::]:40003 -> * pid=22325",
      "TCP 127.0.0.1:37685 -> * pid=22325",
      "TCP 0.0.0.0:2024 -> * pid=-",
      "TCP [::]:38829 -> * pid=10",
      "TCP [::]:38829 -> * pid=11",
      "TCP [::ffff:127.0.0.1]:45310 -> [::ffff:127.0.0.1]:37685 pid=7",
      "TCP [::1]:34903 -> [::1]:51506 pid=-",
      "TCP [fe80::1]:22 -> [fe80::2]:50000 pid=99",
    ]);
  });

  it("reads ss -tanp output without a Netid column as TCP", () => {
    const t = parseSs(
      "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
        'ESTAB 0 0 10.0.0.5:443 10.0.0.9:51000 users:(("caddy",pid=5,fd=8))\n',
    );
    assert.deepEqual(t, [{
      protocol: "TCP",
      local: "10.0.0.5",
      localPort: 443,
      remote: "10.0.0.9",
      remotePort: 51000,
      pid: 5,
    }]);
  });

  it("reads process names that hold line breaks, quotes, commas and spaces", () => {
    // As ss prints them: raw, and cut at the first ")" of the name in /proc/PID/stat.
    const text = "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n" +
      'LISTEN 0 128 127.0.0.1:54131 0.0.0.0:* users:(("ab\ncd"e",pid=17497,fd=3))\n' +
      'ESTAB 0 0 127.0.0.1:1 127.0.0.1:2 users:(("a",pid=1,fd=2",pid=8,fd=3),("x\n\n y",pid=9,fd=4))  \n' +
      'ESTAB 0 0 127.0.0.1:3 127.0.0.1:4 users:(("a  b",pid=10,fd=5))\n';
    assert.deepEqual(parseSs(text).map(tupleKey), [
      "TCP 127.0.0.1:54131 -> * pid=17497",
      "TCP 127.0.0.1:1 -> 127.0.0.1:2 pid=8",
      "TCP 127.0.0.1:1 -> 127.0.0.1:2 pid=9",
      "TCP 127.0.0.1:3 -> 127.0.0.1:4 pid=10",
    ]);
  });

  it("reports a users column that never closes at the line where it starts", () => {
    assert.throws(
      () => parseSs('ESTAB 0 0 1.1.1.1:1 2.2.2.2:2 users:(("a\nb\nc\n'),
      /Invalid ss line 1 "ESTAB 0 0 1\.1\.1\.1:1 2\.2\.2\.2:2 users:\(\("a\nb\nc": unreadable users/,
    );
    assert.throws(
      () => parseSs("ESTAB 0 0 1.1.1.1:1 2.2.2.2:2 3.3.3.3:3"),
      /unexpected column "3\.3\.3\.3:3"/,
    );
  });

  it("names the line number and text of a malformed line", () => {
    assert.throws(
      () => parseSs("State Recv-Q\nESTAB 0 0 10.0.0.5 10.0.0.9:1\n"),
      /Invalid ss line 2 "ESTAB 0 0 10.0.0.5 10.0.0.9:1": Invalid endpoint "10.0.0.5"/,
    );
    assert.throws(() => parseSs("WHATEVER 0 0 1.1.1.1:1 2.2.2.2:2"), /unknown state "WHATEVER"/);
  });
});

describe("parseProcconn and parsePsutil", () => {
  it("normalise to the same tuples as ss for the same sockets", () => {
    const ours = parseProcconn(JSON.stringify([
      {
        protocol: "TCP",
        localAddress: "::ffff:127.0.0.1",
        localPort: 45310,
        remoteAddress: "::ffff:127.0.0.1",
        remotePort: 37685,
        pid: 7,
      },
      {
        protocol: "UDP",
        localAddress: "::",
        localPort: 40003,
        remoteAddress: null,
        remotePort: null,
        pid: 22325,
      },
      {
        protocol: "TCP",
        localAddress: "0.0.0.0",
        localPort: 2024,
        remoteAddress: "0.0.0.0",
        remotePort: 0,
        pid: null,
      },
    ]));
    const psutil = parsePsutil(JSON.stringify([
      ["tcp", "::ffff:127.0.0.1", 45310, "::ffff:127.0.0.1", 37685, 7],
      ["udp", "::", 40003, null, null, 22325],
      ["tcp", "0.0.0.0", 2024, null, null, null],
    ]));
    const ss = parseSs(SS_TUANP).map(tupleKey);
    for (const t of [...ours, ...psutil]) assert.ok(ss.includes(tupleKey(t)), tupleKey(t));
    assert.deepEqual(ours.map(tupleKey), psutil.map(tupleKey));
  });

  it("reject output of the wrong shape, naming the record", () => {
    assert.throws(() => parseProcconn("{}"), /not a JSON array/);
    assert.throws(() => parseProcconn('[{"protocol":"SCTP"}]'), /Invalid procconn record 0/);
    assert.throws(() => parsePsutil('[["tcp", "::"]]'), /Invalid psutil row 0/);
  });
});

describe("compareWithSs", () => {
  const a = makeTuple("TCP", "127.0.0.1", 1000, "127.0.0.1", 2000, 1);
  const b = makeTuple("TCP", "127.0.0.1", 2000, "127.0.0.1", 1000, 2);
  const c = makeTuple("TCP", "127.0.0.1", 3000, null, null, 3);

  it("passes identical sets", () => {
    const r = compareWithSs([a, b], [a, b], [b, a]);
    assert.deepEqual(r, {
      ok: true,
      compared: 2,
      churn: 0,
      onlyProcconn: [],
      onlyPeer: [],
      pidMismatch: [],
      ownerUnseenByPeer: [],
    });
  });

  it("reports a tuple missing from procconn and one procconn invented", () => {
    const r = compareWithSs([a, c], [a, b], [a, b]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.onlyPeer, [tupleKey(b)]);
    assert.deepEqual(r.onlyProcconn, [tupleKey(c)]);
  });

  it("reports a socket whose owner differs", () => {
    const otherOwner = { ...a, pid: 99 };
    const r = compareWithSs([otherOwner, b], [a, b], [a, b]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.onlyPeer, [tupleKey(a)]);
    assert.deepEqual(r.onlyProcconn, [tupleKey(otherOwner)]);
  });

  it("does not hold tuples that changed between the ss snapshots against procconn", () => {
    // c appeared while the tools ran, b went away: either answer from procconn is fine.
    assert.equal(compareWithSs([a, c], [a, b], [a, c]).ok, true);
    assert.equal(compareWithSs([a, b], [a, b], [a, c]).ok, true);
    assert.equal(compareWithSs([a, b], [a, b], [a, c]).churn, 2);
  });
});

describe("compareWithSs and a process whose main thread has ended (pid 5)", () => {
  const headless = new Set([5]);
  const listener = makeTuple("TCP", "127.0.0.1", 4000, null, null, 5);
  const ownerless = { ...listener, pid: null };

  it("accepts the owner ss cannot see only for such a process", () => {
    assert.equal(compareWithSs([listener], [ownerless], [ownerless]).ok, false);
    const r = compareWithSs([listener], [ownerless], [ownerless], headless);
    assert.equal(r.ok, true);
    assert.deepEqual(r.ownerUnseenByPeer, [tupleKey(listener)]);
    assert.match(describeComparison("T", r), /cannot see \(main thread ended\), accepted \(1\)/);
    // Another process's ownerless socket is still a difference.
    const other = makeTuple("TCP", "127.0.0.1", 4000, null, null, 6);
    assert.equal(compareWithSs([other], [ownerless], [ownerless], headless).ok, false);
  });

  it("accepts it beside an owner ss sees, but never a socket ss does not have", () => {
    const shared = { ...listener, pid: 7 };
    assert.equal(compareWithSs([listener, shared], [shared], [shared], headless).ok, true);
    const r = compareWithSs([listener], [], [], headless);
    assert.deepEqual(r.onlyProcconn, [tupleKey(listener)]);
  });

  it("accepts psutil's missing owner", () => {
    assert.equal(compareWithPsutil([listener], [ownerless], [], []).ok, false);
    const r = compareWithPsutil([listener], [ownerless], [], [], headless);
    assert.equal(r.ok, true);
    assert.deepEqual(r.ownerUnseenByPeer, ["TCP 127.0.0.1:4000 -> *"]);
  });
});

describe("compareWithPsutil", () => {
  const shared1 = makeTuple("TCP", "0.0.0.0", 80, null, null, 10);
  const shared2 = makeTuple("TCP", "0.0.0.0", 80, null, null, 11);
  const lone = makeTuple("UDP", "0.0.0.0", 53, null, null, 12);

  it("accepts psutil's one pid when it is among procconn's pids", () => {
    const r = compareWithPsutil([shared1, shared2, lone], [shared2, lone], [], []);
    assert.equal(r.ok, true);
    assert.equal(r.compared, 2);
  });

  it("reports an owner psutil sees that procconn does not", () => {
    const r = compareWithPsutil([shared1, lone], [shared2, lone], [], []);
    assert.equal(r.ok, false);
    assert.deepEqual(r.pidMismatch, ["TCP 0.0.0.0:80 -> * psutil pid=11 procconn pid=10"]);
  });

  it("reports sockets on one side only, except those that changed meanwhile", () => {
    const r = compareWithPsutil([shared1], [shared1, lone], [], []);
    assert.deepEqual(r.onlyPeer, ["UDP 0.0.0.0:53 -> *"]);
    assert.equal(compareWithPsutil([shared1], [shared1, lone], [lone], []).ok, true);
  });

  it("describes the differences readably", () => {
    const text = describeComparison("X", compareWithPsutil([shared1], [shared2, lone], [], []));
    assert.match(text, /^X: DIFFERENT \(1 compared, 0 changed while running\)\n/);
    assert.match(text, /only in the peer \(1\):\n {4}UDP 0.0.0.0:53 -> \*\n/);
    assert.match(
      text,
      /owner differs \(1\):\n {4}TCP 0.0.0.0:80 -> \* psutil pid=11 procconn pid=10/,
    );
  });
});
