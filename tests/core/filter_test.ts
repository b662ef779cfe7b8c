import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cidrContains, nameMatcher, parseCidr, socketPredicate } from "../../core/filter.ts";
import type { RawSocket } from "../../core/source.ts";

function sock(over: Partial<RawSocket>): RawSocket {
  return {
    protocol: "TCP",
    family: "IPv4",
    localAddress: "10.0.0.2",
    localPort: 50000,
    remoteAddress: "10.1.2.3",
    remotePort: 443,
    state: "ESTABLISHED",
    pids: [7],
    ...over,
  };
}

describe("parseCidr", () => {
  it("parses blocks and plain addresses", () => {
    assert.equal(parseCidr("10.0.0.0/8").prefix, 8);
    assert.equal(parseCidr("192.168.1.5").prefix, 32);
    assert.equal(parseCidr("fe80::/10").prefix, 10);
    assert.equal(parseCidr("::1").prefix, 128);
  });
  it("rejects bad prefixes and addresses with the value in the message", () => {
    assert.throws(() => parseCidr("10.0.0.0/33"), /"10.0.0.0\/33": expected 0 to 32/);
    assert.throws(() => parseCidr("::/129"), /expected 0 to 128/);
    assert.throws(() => parseCidr("10.0.0.0/x"), RangeError);
    assert.throws(() => parseCidr("example.com"), /Invalid address "example.com"/);
    assert.throws(() => parseCidr("1.2.3.4/8/9"), RangeError);
    // From JavaScript, without a type checker: a clear error, not "text.trim is not a function".
    assert.throws(
      () => parseCidr(5 as unknown as string),
      /^TypeError: Invalid address 5: expected a string$/,
    );
    assert.throws(
      () => nameMatcher(["ok", null] as unknown as string[]),
      /^TypeError: Invalid name pattern null: expected a string$/,
    );
  });
  it("takes IPv6 in brackets as the table prints it, and only IPv6", () => {
    assert.deepEqual(parseCidr("[::1]"), parseCidr("::1"));
    assert.deepEqual(parseCidr("[fe80::1%4]/64"), parseCidr("fe80::1%4/64"));
    assert.throws(() => parseCidr("[10.0.0.1]"), /Invalid address "\[10.0.0.1\]"/);
    assert.throws(() => parseCidr("[::1]:80"), RangeError);
    assert.throws(() => parseCidr("[::1"), RangeError);
  });
  it("reads a zone as an interface index, only on scoped IPv6 addresses", () => {
    assert.equal(parseCidr("fe80::1%4").zone, 4);
    assert.equal(parseCidr("fe80::%4/64").zone, 4);
    assert.equal(parseCidr("ff02::1%1").zone, 1);
    assert.equal(parseCidr("fe80::1%0").zone, 0);
    assert.equal(parseCidr("fe80::1").zone, undefined);
    assert.throws(() => parseCidr("fe80::1%eth0"), /zone "%eth0".*interface index/);
    assert.throws(() => parseCidr("fe80::1%"), /zone "%"/);
    assert.throws(() => parseCidr("fe80::1%99999999999"), /zone/);
    assert.throws(() => parseCidr("127.0.0.1%2"), /only link-local IPv6/);
    assert.throws(() => parseCidr("2001:db8::1%2"), /only link-local IPv6/);
    assert.throws(() => parseCidr("ff05::1%2"), /only link-local IPv6/);
  });
});

describe("cidrContains", () => {
  it("matches on the prefix bits only", () => {
    const block = parseCidr("172.16.0.0/12");
    assert.equal(cidrContains("172.31.255.1", block), true);
    assert.equal(cidrContains("172.32.0.1", block), false);
    assert.equal(cidrContains("1.2.3.4", parseCidr("0.0.0.0/0")), true);
  });
  it("matches IPv6 blocks and ignores scope ids", () => {
    assert.equal(cidrContains("fe80::1%3", parseCidr("fe80::/10")), true);
    assert.equal(cidrContains("fec0::1", parseCidr("fe80::/10")), false);
  });
  it("matches a zone only when the block names one", () => {
    assert.equal(cidrContains("fe80::1%4", parseCidr("fe80::1%4")), true);
    assert.equal(cidrContains("fe80::1%3", parseCidr("fe80::1%4")), false);
    assert.equal(cidrContains("fe80::1", parseCidr("fe80::1%4")), false);
    assert.equal(cidrContains("fe80::1", parseCidr("fe80::1%0")), true);
    assert.equal(cidrContains("fe80::9%4", parseCidr("fe80::%4/64")), true);
    assert.equal(cidrContains("fe80::9%2", parseCidr("fe80::%4/64")), false);
    assert.equal(cidrContains("fe80::1%7", parseCidr("[fe80::1]")), true);
  });
  it("treats an IPv4-mapped IPv6 peer as IPv4", () => {
    assert.equal(cidrContains("::ffff:10.9.8.7", parseCidr("10.0.0.0/8")), true);
    assert.equal(cidrContains("10.9.8.7", parseCidr("::/0")), false);
  });
  it("treats an IPv4 address as the IPv4-mapped one for a block within ::ffff:0:0/96", () => {
    assert.equal(cidrContains("127.0.0.1", parseCidr("::ffff:127.0.0.1")), true);
    assert.equal(cidrContains("127.0.0.2", parseCidr("::ffff:127.0.0.1")), false);
    assert.equal(cidrContains("10.9.8.7", parseCidr("::ffff:10.0.0.0/104")), true);
    assert.equal(cidrContains("11.9.8.7", parseCidr("::ffff:10.0.0.0/104")), false);
    assert.equal(cidrContains("10.9.8.7", parseCidr("::ffff:0:0/96")), true);
    // Wider blocks, and blocks of other /96 prefixes, are IPv6 only.
    assert.equal(cidrContains("10.9.8.7", parseCidr("::/95")), false);
    assert.equal(cidrContains("10.9.8.7", parseCidr("::/96")), false);
    assert.equal(cidrContains("10.9.8.7", parseCidr("64:ff9b::10.9.8.7")), false);
  });
});

describe("nameMatcher", () => {
  it("is case-insensitive with optional .exe", () => {
    const m = nameMatcher("notepad++");
    assert.equal(m("notepad++.exe"), true);
    assert.equal(m("Notepad++.EXE"), true);
    assert.equal(m("notepad"), false);
    assert.equal(nameMatcher("notepad++.exe")("notepad++"), true);
  });
  it("supports * and ? and never matches an unknown name", () => {
    assert.equal(nameMatcher("ms*")("msedge.exe"), true);
    assert.equal(nameMatcher("s?hd")("sshd"), true);
    assert.equal(nameMatcher("s?hd")("sshhd"), false);
    assert.equal(nameMatcher("*")(null), false);
  });
  it("matches any of several patterns", () => {
    const m = nameMatcher(["sshd", "nginx*"]);
    assert.equal(m("sshd"), true);
    assert.equal(m("nginx-worker"), true);
    assert.equal(m("node"), false);
  });
  it("treats regex characters literally", () => {
    assert.equal(nameMatcher("a.c")("abc"), false);
    assert.equal(nameMatcher("(x)")("(x)"), true);
    assert.equal(nameMatcher("a-[b]{2}/$^")("a-[b]{2}/$^"), true);
  });
  it("lets * and ? match a line break, and ? one character beyond the 16-bit range", () => {
    // A Linux process may name itself "nl\nname" (prctl PR_SET_NAME); a filter must not miss it.
    assert.equal(nameMatcher("*")("nl\nname"), true);
    assert.equal(nameMatcher("nl?name")("nl\nname"), true);
    assert.equal(nameMatcher("nl*")("nl\nname"), true);
    assert.equal(nameMatcher("nl\nname")("nl\nname"), true);
    assert.equal(nameMatcher("a?b")("a\u{1F600}b"), true);
    assert.equal(nameMatcher("a??b")("a\u{1F600}b"), false);
  });
});

describe("socketPredicate", () => {
  it("says it keeps every socket only when no socket-level filter is given", () => {
    assert.equal(socketPredicate({}).keepsAll, true);
    assert.equal(socketPredicate({ pids: [1], name: "x" }).keepsAll, true);
    for (
      const filter of [
        { protocols: ["TCP"] },
        { families: ["IPv4"] },
        { states: ["LISTEN"] },
        { port: 1 },
        { localPort: 1 },
        { remotePort: 1 },
        { local: "10.0.0.1" },
        { remote: "10.0.0.1" },
        { listening: true },
      ] as const
    ) {
      assert.equal(socketPredicate(filter).keepsAll, false, JSON.stringify(filter));
    }
  });
  it("filters by protocol, family, state", () => {
    assert.equal(socketPredicate({ protocols: ["UDP"] })(sock({})), false);
    assert.equal(socketPredicate({ families: ["IPv6"] })(sock({})), false);
    assert.equal(socketPredicate({ states: ["ESTABLISHED"] })(sock({})), true);
    assert.equal(socketPredicate({ states: ["LISTEN"] })(sock({})), false);
    assert.equal(
      socketPredicate({ states: ["ESTABLISHED"] })(sock({ protocol: "UDP", state: null })),
      false,
    );
  });
  it("filters by ports: --port matches either end", () => {
    assert.equal(socketPredicate({ port: 443 })(sock({})), true);
    assert.equal(socketPredicate({ port: 50000 })(sock({})), true);
    assert.equal(socketPredicate({ port: 80 })(sock({})), false);
    assert.equal(socketPredicate({ localPort: 443 })(sock({})), false);
    assert.equal(socketPredicate({ remotePort: 443 })(sock({})), true);
  });
  it("takes several ports as alternatives", () => {
    assert.equal(socketPredicate({ localPort: [80, 50000] })(sock({})), true);
    assert.equal(socketPredicate({ localPort: [80, 81] })(sock({})), false);
    assert.equal(socketPredicate({ port: [80, 443] })(sock({})), true);
    assert.equal(socketPredicate({ remotePort: [80, 443] })(sock({})), true);
    assert.equal(
      socketPredicate({ remotePort: [0] })(sock({ remoteAddress: null, remotePort: null })),
      false,
    );
  });
  it("takes ranges of ports, their ends included, beside single ports", () => {
    // The socket: local port 50000, remote port 443.
    const keeps = (filter: Parameters<typeof socketPredicate>[0]) =>
      socketPredicate(filter)(sock({}));
    assert.equal(keeps({ localPort: { from: 49152, to: 65535 } }), true);
    assert.equal(keeps({ localPort: { from: 50000, to: 50000 } }), true, "a range of one");
    assert.equal(keeps({ localPort: { from: 40000, to: 50000 } }), true, "the last port");
    assert.equal(keeps({ localPort: { from: 50000, to: 60000 } }), true, "the first port");
    assert.equal(keeps({ localPort: { from: 50001, to: 65535 } }), false);
    assert.equal(keeps({ localPort: { from: 0, to: 49999 } }), false);
    assert.equal(keeps({ localPort: [22, { from: 1, to: 1023 }] }), false);
    assert.equal(keeps({ remotePort: [22, { from: 1, to: 1023 }] }), true);
    assert.equal(keeps({ port: { from: 400, to: 500 } }), true, "--port: the remote end");
    assert.equal(keeps({ port: [{ from: 1, to: 442 }, { from: 444, to: 49999 }] }), false);
    assert.equal(
      socketPredicate({ remotePort: { from: 0, to: 65535 } })(
        sock({ remoteAddress: null, remotePort: null }),
      ),
      false,
      "a row without a remote end has no remote port, in no range",
    );
  });
  it("filters by local address or block", () => {
    assert.equal(socketPredicate({ local: "10.0.0.2" })(sock({})), true);
    assert.equal(socketPredicate({ local: ["127.0.0.0/8", "10.0.0.0/24"] })(sock({})), true);
    assert.equal(socketPredicate({ local: ["127.0.0.1", "::1"] })(sock({})), false);
    assert.equal(
      socketPredicate({ local: "::ffff:10.0.0.0/104" })(sock({})),
      true,
      "a block of IPv4-mapped addresses matches the IPv4 address it maps",
    );
  });
  it("filters by remote block and drops rows without a remote", () => {
    assert.equal(socketPredicate({ remote: "10.1.0.0/16" })(sock({})), true);
    assert.equal(socketPredicate({ remote: "10.2.0.0/16" })(sock({})), false);
    assert.equal(socketPredicate({ remote: ["10.2.0.0/16", "10.1.2.3"] })(sock({})), true);
    assert.equal(
      socketPredicate({ remote: "0.0.0.0/0" })(sock({ remoteAddress: null, remotePort: null })),
      false,
    );
  });
  it("--listening keeps TCP LISTEN and unconnected UDP", () => {
    const p = socketPredicate({ listening: true });
    assert.equal(p(sock({})), false);
    assert.equal(p(sock({ state: "LISTEN", remoteAddress: null, remotePort: null })), true);
    assert.equal(
      p(sock({ protocol: "UDP", state: null, remoteAddress: null, remotePort: null })),
      true,
    );
    assert.equal(p(sock({ protocol: "UDP", state: null })), false);
  });
});
