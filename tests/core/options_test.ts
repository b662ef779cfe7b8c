import { Resolver } from "node:dns";
// The library's options are checked before anything is read: a JavaScript caller's typo or bad
// value is an error naming it, not a listing that ignores the filter.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { listConnections, openListing } from "../../core/list.ts";
import { checkListOptions } from "../../core/options.ts";
import type { SocketSource } from "../../core/source.ts";

describe("checkListOptions", () => {
  it("accepts every option the types allow, and undefined for any of them", () => {
    const source: SocketSource = {
      name: "none",
      listSockets: () => Promise.resolve([]),
      describeProcesses: () => Promise.resolve(new Map()),
    };
    checkListOptions(undefined);
    checkListOptions({});
    checkListOptions({
      protocols: ["TCP", "UDP"],
      families: ["IPv4", "IPv6"],
      states: ["LISTEN", "TIME_WAIT", "BOUND"],
      pids: [0, 4, 4294967295],
      name: ["nginx*", "sshd"],
      port: 0,
      localPort: [65535, 80, { from: 8000, to: 8999 }, { from: 0, to: 65535 }],
      remotePort: 443,
      local: "10.0.0.0/8",
      remote: ["::1", "fe80::/10"],
      listening: false,
      tree: true,
      hash: false,
      stats: true,
      enableStats: false,
      resolve: { timeoutMs: 250, concurrency: 4, servers: ["127.0.0.1:53"], hostsFile: null },
      source,
      cache: {},
    });
    checkListOptions({ resolve: true, name: "x", port: undefined, states: undefined });
    checkListOptions({ port: { from: 443, to: 443 }, remotePort: [{ from: 1, to: 2 }] });
    // The combinations that keep something.
    checkListOptions({ tree: true, name: "sshd" });
    checkListOptions({ protocols: ["UDP", "TCP"], states: ["LISTEN"], listening: true });
    checkListOptions({ protocols: ["UDP"], listening: true, tree: false });
  });

  it("accepts DNS servers in every form the resolver takes", () => {
    const servers = [
      "192.0.2.53",
      "192.0.2.53:5353",
      "2001:db8::53",
      "[2001:db8::53]:53",
      "[::1]",
      "fe80::1%eth0",
      "[fe80::1%eth0]:53",
    ];
    checkListOptions({ resolve: { timeoutMs: 3_600_000, concurrency: 1024, servers } });
    // Each of them is one the resolver itself accepts.
    new Resolver().setServers(servers);
  });

  const refused: [unknown, ErrorConstructor, RegExp][] = [
    [{ ports: [80] }, TypeError, /^Unknown option "ports": expected one of protocols, .*, cache$/],
    [{ port: 70000 }, RangeError, /^Invalid port value 70000: expected a whole number from 0 to/],
    [{ localPort: [80, "443"] }, TypeError, /^Invalid localPort value "443": expected a whole/],
    [{ port: "80" }, TypeError, /^Invalid port value "80": expected .* or a range \{ from, to \}/],
    [{ port: "8000-8999" }, TypeError, /^Invalid port value "8000-8999": expected a whole/],
    [{ port: [[1, 2]] }, TypeError, /^Invalid port value an array: expected a whole number/],
    [{ port: null }, TypeError, /^Invalid port value null: expected a whole number/],
    [{ port: { from: 1 } }, TypeError, /^Invalid port value an object: expected .* \{ from, to/],
    [{ port: { from: 1, to: 2, step: 1 } }, TypeError, /^Invalid port value an object/],
    [
      { localPort: [{ from: 9000, to: 8000 }] },
      RangeError,
      /^Invalid localPort value \{ from: 9000, to: 8000 \}: the range ends before it starts$/,
    ],
    [
      { remotePort: { from: 1, to: 65536 } },
      RangeError,
      /^Invalid remotePort value \{ from: 1, to: 65536 \}: expected a whole number from 0 to/,
    ],
    [{ port: { from: "1", to: 2 } }, RangeError, /^Invalid port value \{ from: "1", to: 2 \}/],
    [{ pids: ["1"] }, TypeError, /^Invalid pids value "1": expected a number/],
    [{ port: NaN }, RangeError, /^Invalid port value NaN: expected a whole number/],
    [{ protocols: [6] }, TypeError, /^Invalid protocols value 6: expected a string, one of TCP/],
    [{ remotePort: 8.5 }, RangeError, /^Invalid remotePort value 8.5/],
    [{ states: ["Established"] }, RangeError, /^Invalid states value "Established": .*parseState/],
    [{ states: "LISTEN" }, TypeError, /^Option "states" must be an array, not "LISTEN"$/],
    [{ protocols: ["SCTP"] }, RangeError, /^Invalid protocols value "SCTP": expected TCP, UDP$/],
    [{ families: ["inet"] }, RangeError, /^Invalid families value "inet"/],
    [{ pids: [-1] }, RangeError, /^Invalid pids value -1: expected a whole number from 0 to/],
    [{ pids: 42 }, TypeError, /^Option "pids" must be an array, not 42$/],
    [{ name: [""] }, TypeError, /^Invalid name value "": expected a non-empty string/],
    [{ remote: 10 }, TypeError, /^Invalid remote value 10/],
    [{ listening: "yes" }, TypeError, /^Option "listening" must be true or false, not "yes"$/],
    [{ enableStats: 1 }, TypeError, /^Option "enableStats" must be true or false, not 1$/],
    [{ resolve: { timeout: 5 } }, TypeError, /^Unknown option "resolve.timeout"/],
    [{ resolve: { timeoutMs: 0 } }, RangeError, /^Invalid resolve.timeoutMs value 0/],
    [{ resolve: { timeoutMs: 1.5 } }, RangeError, /^Invalid resolve.timeoutMs value 1.5: .*whole/],
    [{ resolve: { timeoutMs: 3e9 } }, RangeError, /value 3000000000: .* from 1 to 3600000$/],
    [{ resolve: { timeoutMs: "5" } }, TypeError, /^Invalid resolve.timeoutMs value "5"/],
    [{ resolve: { concurrency: 1.5 } }, RangeError, /^Invalid resolve.concurrency value 1.5/],
    [{ resolve: { servers: ["not a server"] } }, RangeError, /"not a server": expected an IP/],
    [{ resolve: { servers: ["1.1.1.1:0"] } }, RangeError, /^Invalid resolve.servers value/],
    [{ resolve: { servers: ["[1.2.3.4]:53"] } }, RangeError, /^Invalid resolve.servers value/],
    [{ resolve: { servers: ["1.1.1.1:65536"] } }, RangeError, /^Invalid resolve.servers value/],
    [{ resolve: { servers: ["1.1.1.1%x"] } }, RangeError, /^Invalid resolve.servers value/],
    [{ resolve: { servers: [53] } }, TypeError, /^Invalid resolve.servers value 53/],
    [{ resolve: { servers: "1.1.1.1" } }, TypeError, /^Option "resolve.servers" must be a list/],
    [{ resolve: { hostsFile: 1 } }, TypeError, /^Option "resolve.hostsFile" must be a path/],
    // An empty list would keep nothing, as an empty item is refused on the command line.
    [{ pids: [] }, RangeError, /^Option "pids" is an empty list, which would keep nothing/],
    [{ states: [] }, RangeError, /^Option "states" is an empty list/],
    [{ protocols: [] }, RangeError, /^Option "protocols" is an empty list/],
    [{ port: [] }, RangeError, /^Option "port" is an empty list/],
    [{ name: [] }, RangeError, /^Option "name" is an empty list/],
    [{ local: [] }, RangeError, /^Option "local" is an empty list/],
    // Valid each, but together they keep nothing or ask for nothing: refused as on the CLI.
    [{ tree: true }, RangeError, /^Option "tree" adds the descendants of .*neither is given$/],
    [{ tree: true, pids: undefined }, RangeError, /^Option "tree" adds the descendants/],
    [
      { protocols: ["UDP"], states: ["LISTEN"] },
      RangeError,
      /^Options "states" \(LISTEN\) and "protocols" \(UDP\) keep nothing: only TCP endpoints/,
    ],
    [
      { listening: true, states: ["ESTABLISHED", "TIME_WAIT"] },
      RangeError,
      /^Options "states" \(ESTABLISHED, TIME_WAIT\) and "listening" keep nothing/,
    ],
    [{ source: {} }, TypeError, /^Option "source" must be a SocketSource/],
    [{ cache: null }, TypeError, /^Option "cache" must be an object/],
    [null, TypeError, /^The options must be an object, not null$/],
    [["TCP"], TypeError, /^The options must be an object, not an array$/],
  ];
  for (const [options, type, message] of refused) {
    it(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(() => checkListOptions(options), (err: Error) => {
        assert.equal(err.constructor, type);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});

describe("a listing checks its options before reading", () => {
  it("throws without asking the backend anything", async () => {
    let asked = 0;
    const source: SocketSource = {
      name: "counting",
      listSockets: () => (asked++, Promise.resolve([])),
      describeProcesses: () => (asked++, Promise.resolve(new Map())),
      listProcesses: () => (asked++, Promise.resolve([])),
    };
    // deno-lint-ignore no-explicit-any
    const bad = { source, ports: [22] } as any;
    await assert.rejects(listConnections(bad), /Unknown option "ports"/);
    await assert.rejects(openListing({ source, tree: true, pids: [1.5] }), RangeError);
    assert.equal(asked, 0);
    assert.deepEqual(await listConnections({ source, port: 22 }), []);
    assert.equal(asked, 1);
  });
});
