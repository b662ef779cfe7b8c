// Reverse DNS against a DNS server this test runs on loopback: never the internet.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReverseResolver } from "../../core/resolve.ts";
import { listConnections } from "../../core/list.ts";
import type { SocketSource } from "../../core/source.ts";

/** A tiny PTR responder: names from a table, NXDOMAIN otherwise, silence for "slow" ones. */
function startDns(names: Record<string, string>, silent: Set<string>) {
  const server = dgram.createSocket("udp4");
  const queries: string[] = [];
  server.on("message", (msg, peer) => {
    let i = 12;
    const labels: string[] = [];
    while (msg[i] !== 0) {
      labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString());
      i += msg[i] + 1;
    }
    const qname = labels.join(".");
    queries.push(qname);
    if (silent.has(qname)) return;
    const question = msg.subarray(12, i + 5);
    const name = names[qname];
    const flags = name ? [0x81, 0x80] : [0x81, 0x83];
    const header = Buffer.from([msg[0], msg[1], ...flags, 0, 1, 0, name ? 1 : 0, 0, 0, 0, 0]);
    if (!name) return server.send(Buffer.concat([header, question]), peer.port, peer.address);
    const rdata = Buffer.from(
      name.split(".").flatMap((l) => [l.length, ...Buffer.from(l)]).concat([0]),
    );
    const answer = Buffer.concat([
      Buffer.from([0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, rdata.length >> 8, rdata.length & 255]),
      rdata,
    ]);
    server.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  return { server, queries };
}

describe("ReverseResolver", () => {
  let dns: ReturnType<typeof startDns>;
  let servers: string[];
  before(async () => {
    dns = startDns(
      {
        "3.2.1.10.in-addr.arpa": "web.test.internal",
        "1.0.0.127.in-addr.arpa": "loopback.dns.test",
      },
      new Set(["9.9.9.10.in-addr.arpa"]),
    );
    await new Promise<void>((r) => dns.server.bind(0, "127.0.0.1", () => r()));
    servers = [`127.0.0.1:${dns.server.address().port}`];
  });
  after(() => dns.server.close());

  it("finds a PTR name, and asks once per address", async () => {
    const r = new ReverseResolver({ servers });
    assert.deepEqual(await r.lookup("10.1.2.3"), { name: "web.test.internal" });
    assert.deepEqual(await r.lookup("::ffff:10.1.2.3"), { name: "web.test.internal" });
    assert.equal(dns.queries.filter((q) => q === "3.2.1.10.in-addr.arpa").length, 1);
  });

  it("reports not-found for an address without a name", async () => {
    assert.deepEqual(await new ReverseResolver({ servers }).lookup("10.0.0.77"), {
      reason: "not-found",
    });
  });

  it("asks again after a timeout instead of remembering it", async () => {
    const r = new ReverseResolver({ servers, timeoutMs: 200 });
    const before = dns.queries.filter((q) => q === "9.9.9.10.in-addr.arpa").length;
    assert.deepEqual(await r.lookup("10.9.9.9"), { reason: "timeout" });
    assert.deepEqual(await r.lookup("10.9.9.9"), { reason: "timeout" });
    const after = dns.queries.filter((q) => q === "9.9.9.10.in-addr.arpa").length;
    assert.ok(after - before >= 2, `asked ${after - before} times`);
  });

  it("listConnections with a cache resolves an address once across listings", async () => {
    const source: SocketSource = {
      name: "fake",
      listSockets: () =>
        Promise.resolve([{
          protocol: "TCP",
          family: "IPv4",
          localAddress: "10.0.0.2",
          localPort: 50000,
          remoteAddress: "10.1.2.3",
          remotePort: 443,
          state: "ESTABLISHED",
          pids: [],
        }]),
      describeProcesses: () => Promise.resolve(new Map()),
    };
    const count = () => dns.queries.filter((q) => q === "3.2.1.10.in-addr.arpa").length;
    const cache = {};
    const start = count();
    for (let i = 0; i < 3; i++) {
      const [row] = await listConnections({ source, resolve: { servers }, cache });
      assert.equal(row.remoteHostName, "web.test.internal");
    }
    assert.equal(count() - start, 1, "one query for three listings sharing a cache");
    await listConnections({ source, resolve: { servers } });
    assert.equal(count() - start, 2, "a listing without the cache asks again");
  });

  it("looks in the hosts file first, by any spelling of the address, then asks DNS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "procconn-hosts-"));
    try {
      const hostsFile = join(dir, "hosts");
      writeFileSync(
        hostsFile,
        "# comment 10.1.2.3 commented.test\r\n10.1.2.3 web.hosts.test web # alias\n" +
          "10.1.2.3 second.hosts.test\n0:0::0:1 loop6.hosts.test\n10.7.7.7\nnot-an-address x\n",
      );
      const r = new ReverseResolver({ servers, hostsFile });
      const before = dns.queries.length;
      assert.deepEqual(await r.lookup("::ffff:10.1.2.3"), { name: "web.hosts.test" });
      assert.deepEqual(await r.lookup("::1"), { name: "loop6.hosts.test" });
      assert.equal(dns.queries.length, before, "names from the hosts file ask no server");
      assert.deepEqual(await r.lookup("10.9.9.10"), { reason: "not-found" });
      assert.equal(dns.queries.length, before + 1, "an address the file lacks goes to DNS");
      // No hosts file at all: DNS alone.
      const missing = new ReverseResolver({ servers, hostsFile: join(dir, "none") });
      assert.deepEqual(await missing.lookup("10.1.2.3"), { name: "web.test.internal" });
      const dnsOnly = new ReverseResolver({ servers, hostsFile: null });
      assert.deepEqual(await dnsOnly.lookup("10.1.2.3"), { name: "web.test.internal" });
      // The system's hosts file names 127.0.0.1. Under Node neither of these reads it, and DNS
      // answers; under Deno the runtime's resolver reads it before the servers (documented).
      const system = readFileSync("/etc/hosts", "utf8");
      const systemName = /^127\.0\.0\.1\s+(\S+)/m.exec(system)?.[1];
      const other = new ReverseResolver({ servers, hostsFile });
      for (const r of [dnsOnly, other]) {
        const found = await r.lookup("127.0.0.1");
        if (!("Deno" in globalThis)) assert.deepEqual(found, { name: "loopback.dns.test" });
        else if (systemName) {
          assert.ok("name" in found && system.includes(found.name), JSON.stringify(found));
        }
      }
      assert.deepEqual(await dnsOnly.lookup("fe80::1"), { reason: "not-found" });
      const asked = dns.queries.at(-1)!;
      assert.equal(asked, `1.${"0.".repeat(28)}8.e.f.ip6.arpa`, "the IPv6 reverse name");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("listConnections names no unspecified remote end (Windows CLOSED, BOUND), whatever the hosts file maps to it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "procconn-hosts-"));
    try {
      const hostsFile = join(dir, "hosts");
      // A blocking hosts file: names mapped to the unspecified address.
      writeFileSync(hostsFile, "0.0.0.0 ads.blocked.test\n:: ads6.blocked.test\n");
      const row = (family: "IPv4" | "IPv6", remoteAddress: string, state: "CLOSED" | "BOUND") => ({
        protocol: "TCP" as const,
        family,
        localAddress: family === "IPv4" ? "10.0.0.2" : "fe80::2%3",
        localPort: 50000,
        remoteAddress,
        remotePort: 0,
        state,
        pids: [],
      });
      const source: SocketSource = {
        name: "fake",
        listSockets: () =>
          Promise.resolve([row("IPv4", "0.0.0.0", "CLOSED"), row("IPv6", "::", "BOUND")]),
        describeProcesses: () => Promise.resolve(new Map()),
      };
      const before = dns.queries.length;
      const rows = await listConnections({ source, resolve: { servers, hostsFile } });
      assert.equal(rows.length, 2);
      for (const r of rows) {
        assert.equal(r.remoteHostName, null, r.remoteAddress!);
        assert.equal(r.unavailable.remoteHostName, "not-applicable");
      }
      assert.equal(dns.queries.length, before, "nothing asked of DNS");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives up after the timeout when the server does not answer", async () => {
    const started = Date.now();
    const result = await new ReverseResolver({ servers, timeoutMs: 300 }).lookup("10.9.9.9");
    assert.deepEqual(result, { reason: "timeout" });
    assert.ok(Date.now() - started < 3000, "bounded by the timeout, not the resolver's retries");
  });
});
