import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  createLinuxSource,
  labelOwnerless,
  type LinuxSocketSource,
  type LinuxSourceOptions,
} from "../../../ffi/linux/engine.ts";
import { openSockDiag } from "../../../ffi/linux/netlink.ts";
import { SocketColumns } from "../../../ffi/linux/socket_columns.ts";
import { defaultSource } from "../../../ffi/mod.ts";
import { type Libc, loadLibc, nativeCallsGranted } from "../../../ffi/linux/_libc.ts";
import type { ProcessInfo, RawSocket } from "../../../core/source.ts";
import { socketPredicate } from "../../../core/filter.ts";
import { bpfOwnersBlocker, LOAD_TRIES } from "../../../ffi/linux/bpf_owners.ts";
import { files } from "../../../ffi/_files.ts";
import { listenOn, NODE, PYTHON, type Running, start, startHeadless } from "./_children.ts";

const onLinux = process.platform === "linux";

function nativeLibc(): Libc | null {
  if (!onLinux) return null;
  try {
    return loadLibc();
  } catch {
    return null;
  }
}
/** Native calls work here: Deno with --allow-ffi, or Node with koffi. */
const native = nativeLibc() !== null;
const NO_NATIVE = "no native calls here (Deno without --allow-ffi, or no koffi)";
// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;
/** Why the BPF owner scan is not tested here; CI runs Deno as root, where it must work. */
const bpfSkip: string | false = !onLinux || !deno || !nativeCallsGranted()
  ? "the BPF owner scan needs Deno on Linux with --allow-ffi"
  : process.env.CI !== "true" && (bpfOwnersBlocker(files, deno.build.arch) ?? false);
/** procfs only: /proc/net text and the fd scan through node:fs. */
const PROCFS: LinuxSourceOptions = { netlink: false, nativeScan: false };
/** netlink sock_diag and the fd scan through libc. */
const NETLINK: LinuxSourceOptions = { netlink: true, nativeScan: true };
const ALL = { protocols: ["TCP", "UDP"], families: ["IPv4", "IPv6"] } as const;

/** Listens on TCP and UDP, IPv4 and IPv6 loopback; echoes what it receives. */
const SERVER_JS = `
const net = require("node:net");
const dgram = require("node:dgram");
const echo = (s) => s.on("data", (d) => s.write(d));
const tcp = (host) => new Promise((ok) => {
  const srv = net.createServer(echo);
  srv.listen(0, host, () => ok(srv.address().port));
});
const udp = (type, host) => new Promise((ok) => {
  const s = dgram.createSocket(type);
  s.on("message", (m, from) => s.send(m, from.port, from.address));
  s.bind(0, host, () => ok(s.address().port));
});
(async () => {
  const ports = {
    tcp4: await tcp("127.0.0.1"), tcp6: await tcp("::1"),
    udp4: await udp("udp4", "127.0.0.1"), udp6: await udp("udp6", "::1"),
  };
  console.log(JSON.stringify(ports));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
})();
`;

/**
 * Connects to the server's four ports (TCP connected and echoed, UDP connected and echoed, so
 * the server has accepted), and leaves one more TCP connection in TIME_WAIT by closing first.
 */
const CLIENT_PY = `
import json, socket, sys
ports = json.loads(sys.argv[1])
keep = []
def tcp(family, host, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((host, port))
    s.sendall(b"x")
    assert s.recv(1) == b"x"
    keep.append(s)
    return s.getsockname()[1]
def udp(family, host, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((host, port))
    s.send(b"x")
    assert s.recv(1) == b"x"
    keep.append(s)
    return s.getsockname()[1]
out = {
    "tcp4": tcp(socket.AF_INET, "127.0.0.1", ports["tcp4"]),
    "tcp6": tcp(socket.AF_INET6, "::1", ports["tcp6"]),
    "udp4": udp(socket.AF_INET, "127.0.0.1", ports["udp4"]),
    "udp6": udp(socket.AF_INET6, "::1", ports["udp6"]),
}
s = socket.create_connection(("127.0.0.1", ports["tcp4"]))
out["timeWait"] = s.getsockname()[1]
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b""
s.close()
print(json.dumps(out), flush=True)
sys.stdin.read()
`;

/**
 * A dual-stack IPv6 listener, shared with a forked grandchild; then a connection to it over
 * IPv4, which the IPv6 socket sees as ::ffff:127.0.0.1.
 */
const FORK_PY = `
import json, os, socket, sys
srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
srv.bind(("::", 0))
srv.listen(8)
port = srv.getsockname()[1]
grandchild = os.fork()
if grandchild == 0:
    sys.stdin.read()
    os._exit(0)
cli = socket.create_connection(("127.0.0.1", port))
conn, _ = srv.accept()
print(json.dumps({"port": port, "clientPort": cli.getsockname()[1], "grandchild": grandchild}), flush=True)
sys.stdin.read()
os.waitpid(grandchild, 0)
`;

/** Binds a UDP socket to the link-local address and interface index given as arguments. */
const LINK_LOCAL_PY = `
import json, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0, 0, int(sys.argv[2])))
print(json.dumps({"port": s.getsockname()[1]}), flush=True)
sys.stdin.read()
`;

/** A link-local IPv6 address of this machine and its interface index, if there is one. */
function linkLocal(): { address: string; scopeId: number } | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === "IPv6" && a.address.startsWith("fe80:") && a.scopeid) {
        return { address: a.address.replace(/%.*$/, ""), scopeId: a.scopeid };
      }
    }
  }
  return null;
}

type Ports = { tcp4: number; tcp6: number; udp4: number; udp6: number };

function find(
  rows: RawSocket[],
  want: Partial<Omit<RawSocket, "pids">>,
): RawSocket {
  const hits = rows.filter((r) =>
    Object.entries(want).every(([k, v]) => r[k as keyof RawSocket] === v)
  );
  assert.equal(hits.length, 1, `expected one row like ${JSON.stringify(want)}, got ${hits.length}`);
  return hits[0];
}

/** Asserts the description of a child this test spawned a moment ago. */
function assertChild(
  info: ProcessInfo | undefined,
  expected: { path: string; parentPid: number; since: number; until: number },
): void {
  assert.ok(info, "no description");
  assert.equal(info.path, expected.path);
  assert.equal(info.name, basename(expected.path));
  assert.equal(info.parentPid, expected.parentPid);
  assert.ok(info.startTime, "no start time");
  const started = Date.parse(info.startTime);
  // btime is whole seconds, cut (not rounded) from the real boot instant: up to 1 s early.
  assert.ok(
    started >= expected.since - 1500 && started <= expected.until + 500,
    `start time ${info.startTime} is not between ${new Date(expected.since).toISOString()} ` +
      `and ${new Date(expected.until).toISOString()}`,
  );
  assert.deepEqual(info.unavailable, {});
}

describe("createLinuxSource on real sockets", { skip: !onLinux || !NODE || !PYTHON }, () => {
  it("reports TCP and UDP endpoints, IPv4 and IPv6, with the process that holds each", async () => {
    const since = Date.now();
    const server = await start<Ports>(NODE!, ["-e", SERVER_JS]);
    try {
      const p = server.ready;
      const client = await start<Ports & { timeWait: number }>(PYTHON!, [
        "-c",
        CLIENT_PY,
        JSON.stringify(p),
      ]);
      try {
        const c = client.ready;
        const until = Date.now();
        const sPid = server.child.pid!, cPid = client.child.pid!;
        const source = createLinuxSource();
        const rows = await source.listSockets(ALL);

        for (
          const [family, lo, tcp, udp, ctcp, cudp] of [
            ["IPv4", "127.0.0.1", p.tcp4, p.udp4, c.tcp4, c.udp4],
            ["IPv6", "::1", p.tcp6, p.udp6, c.tcp6, c.udp6],
          ] as const
        ) {
          const tcpRows = rows.filter((r) => r.protocol === "TCP" && r.family === family);
          const listen = find(tcpRows, { localAddress: lo, localPort: tcp, state: "LISTEN" });
          assert.deepEqual(
            [listen.remoteAddress, listen.remotePort, listen.pids],
            [null, null, [sPid]],
          );
          const out = find(tcpRows, { localPort: ctcp, remotePort: tcp, state: "ESTABLISHED" });
          assert.deepEqual([out.localAddress, out.remoteAddress, out.pids], [lo, lo, [cPid]]);
          const accepted = find(tcpRows, { localPort: tcp, remotePort: ctcp });
          assert.deepEqual(
            [accepted.state, accepted.localAddress, accepted.remoteAddress, accepted.pids],
            ["ESTABLISHED", lo, lo, [sPid]],
          );

          const udpRows = rows.filter((r) => r.protocol === "UDP" && r.family === family);
          const bound = find(udpRows, { localAddress: lo, localPort: udp });
          assert.deepEqual(
            [bound.state, bound.remoteAddress, bound.remotePort, bound.pids],
            [null, null, null, [sPid]],
          );
          const connected = find(udpRows, { localPort: cudp });
          assert.deepEqual(
            [connected.state, connected.remoteAddress, connected.remotePort, connected.pids],
            [null, lo, udp, [cPid]],
          );
        }

        // The side that closed first waits in TIME_WAIT with no inode, so no owner.
        const tw = find(rows, { protocol: "TCP", localPort: c.timeWait, remotePort: p.tcp4 });
        assert.deepEqual([tw.state, tw.pids, tw.ownerReason], ["TIME_WAIT", [], "no-owner"]);

        const infos = await source.describeProcesses([sPid, cPid]);
        assertChild(infos.get(sPid), { path: NODE!.path, parentPid: process.pid, since, until });
        assertChild(infos.get(cPid), {
          path: PYTHON!.path,
          parentPid: process.pid,
          since,
          until,
        });
        assert.match(infos.get(cPid)!.commandLine!, /^\S+ -c .*import json/s);
      } finally {
        await client.stop();
      }
    } finally {
      await server.stop();
    }
  });

  it("reports every process that holds a socket after fork", async () => {
    const since = Date.now();
    const run = await start<{ port: number; clientPort: number; grandchild: number }>(
      PYTHON!,
      ["-c", FORK_PY],
    );
    const { port, clientPort, grandchild } = run.ready;
    try {
      const until = Date.now();
      const pid = run.child.pid!;
      const source = createLinuxSource();
      const rows = await source.listSockets({ protocols: ["TCP"], families: ["IPv4", "IPv6"] });

      const listen = find(rows, { family: "IPv6", localPort: port, state: "LISTEN" });
      assert.equal(listen.localAddress, "::");
      assert.deepEqual(listen.pids, [pid, grandchild].sort((a, b) => a - b));

      const accepted = find(rows, { family: "IPv6", localPort: port, remotePort: clientPort });
      assert.deepEqual(
        [accepted.localAddress, accepted.remoteAddress, accepted.state, accepted.pids],
        ["::ffff:127.0.0.1", "::ffff:127.0.0.1", "ESTABLISHED", [pid]],
      );
      const client = find(rows, { family: "IPv4", localPort: clientPort, remotePort: port });
      assert.deepEqual([client.localAddress, client.pids], ["127.0.0.1", [pid]]);

      const infos = await source.describeProcesses([pid, grandchild]);
      assertChild(infos.get(pid), { path: PYTHON!.path, parentPid: process.pid, since, until });
      assertChild(infos.get(grandchild), { path: PYTHON!.path, parentPid: pid, since, until });
    } finally {
      await run.stop(grandchild);
    }
  });

  it("looks only at the processes a query names, and lists only their sockets", async () => {
    const run = await start<{ port: number; clientPort: number; grandchild: number }>(
      PYTHON!,
      ["-c", FORK_PY],
    );
    const { port, clientPort, grandchild } = run.ready;
    try {
      const pid = run.child.pid!;
      const source = createLinuxSource();
      const query = { protocols: ["TCP"], families: ["IPv4", "IPv6"] } as const;
      const all = await source.listSockets(query);
      const only = await source.listSockets({ ...query, pids: [grandchild] });
      // The listener is shared after fork: only the named process is found holding it.
      const listen = { family: "IPv6", localPort: port, state: "LISTEN" } as const;
      assert.equal(find(all, listen).pids.length, 2);
      assert.deepEqual(find(only, listen).pids, [grandchild]);
      // The parent's own sockets are left out, and nothing else is listed.
      const client = { family: "IPv4", localPort: clientPort, remotePort: port } as const;
      assert.deepEqual(find(all, client).pids, [pid]);
      assert.equal(only.some((s) => s.family === "IPv4" && s.localPort === clientPort), false);
      assert.ok(only.length > 0 && only.every((s) => s.pids.join() === `${grandchild}`));
    } finally {
      await run.stop(grandchild);
    }
  });

  it("writes a link-local address with its interface index", {
    skip: linkLocal() === null && "this machine has no link-local IPv6 address",
  }, async () => {
    const { address, scopeId } = linkLocal()!;
    const run = await start<{ port: number }>(PYTHON!, [
      "-c",
      LINK_LOCAL_PY,
      address,
      `${scopeId}`,
    ]);
    try {
      const rows = await createLinuxSource().listSockets({
        protocols: ["UDP"],
        families: ["IPv6"],
      });
      const row = find(rows, { localPort: run.ready.port });
      assert.equal(row.localAddress, `${address}%${scopeId}`);
      assert.deepEqual(row.pids, [run.child.pid]);
    } finally {
      await run.stop();
    }
  });

  it("writes a link-local multicast group with the interface it is bound to", {
    skip: !native && NO_NATIVE,
  }, async () => {
    // ff02::1 on the loopback interface (index 1): every interface has its own group, and only
    // netlink tells which one a socket is bound to.
    const run = await start<{ port: number }>(PYTHON!, ["-c", LINK_LOCAL_PY, "ff02::1", "1"]);
    try {
      const rows = await createLinuxSource(NETLINK).listSockets({
        protocols: ["UDP"],
        families: ["IPv6"],
      });
      const row = find(rows, { localPort: run.ready.port });
      assert.equal(row.localAddress, "ff02::1%1");
      assert.deepEqual(row.pids, [run.child.pid]);
      // --local matches the interface when it names one, and any interface when it does not.
      const local = (text: string) => socketPredicate({ local: text })(row);
      assert.deepEqual(
        ["ff02::1%1", "[ff02::1%1]", "ff02::1", "ff02::%1/16", "ff02::1%2", "ff02::1%0"].map(local),
        [true, true, true, true, false, false],
      );
    } finally {
      await run.stop();
    }
  });

  it("reads only the tables the query asks for", async () => {
    const server = await start<Ports>(NODE!, ["-e", SERVER_JS]);
    try {
      const source = createLinuxSource();
      const rows = await source.listSockets({ protocols: ["UDP"], families: ["IPv6"] });
      assert.ok(rows.every((r) => r.protocol === "UDP" && r.family === "IPv6"));
      const mine = rows.filter((r) => r.pids.includes(server.child.pid!));
      assert.deepEqual(mine.map((r) => [r.localAddress, r.localPort]), [[
        "::1",
        server.ready.udp6,
      ]]);
    } finally {
      await server.stop();
    }
  });

  it("lists processes with their parent and start time", async () => {
    const server = await start<Ports>(NODE!, ["-e", SERVER_JS]);
    try {
      const table = await createLinuxSource().listProcesses!();
      const child = table.find((p) => p.pid === server.child.pid);
      assert.ok(child);
      assert.equal(child.parentPid, process.pid);
      assert.equal(child.name, basename(NODE!.path));
      assert.ok(Math.abs(Date.parse(child.startTime!) - Date.now()) < 15_000);
      assert.ok(table.some((p) => p.pid === process.pid && p.parentPid !== null));
    } finally {
      await server.stop();
    }
  });
});

/** A procfs tree in a temporary directory: the join of tables and fds, on known data. */
function fixtureProc(): string {
  const root = mkdtempSync(join(tmpdir(), "procconn-proc-"));
  const tail = "00000000:00000000 00:00000000 00000000     0        0";
  mkdirSync(join(root, "net"));
  writeFileSync(
    join(root, "net", "tcp"),
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
      `   0: 0100007F:1F90 00000000:0000 0A ${tail} 100 1\n` +
      `   1: 0100007F:1F90 0100007F:C000 01 ${tail} 101 1\n` +
      `   2: 0100007F:C001 0100007F:1F90 06 ${tail} 0 3\n` +
      `   3: 0100007F:0016 00000000:0000 0A ${tail} 555 1\n`,
  );
  writeFileSync(
    join(root, "net", "udp"),
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
      `  10: 00000000:0035 00000000:0000 07 ${tail} 200 2 0000000000000000 0\n`,
  );
  writeFileSync(join(root, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n");
  const fds: Record<string, Record<string, string>> = {
    "10": { "3": "socket:[100]" },
    "11": { "4": "socket:[100]", "5": "socket:[101]", "6": "/dev/null", "7": "socket:[100]" },
    "12": { "0": "socket:[200]" },
  };
  for (const [pid, links] of Object.entries(fds)) {
    mkdirSync(join(root, pid, "fd"), { recursive: true });
    for (const [fd, target] of Object.entries(links)) {
      symlinkSync(target, join(root, pid, "fd", fd));
    }
  }
  // A process that exited after its directory was listed: no fd directory.
  mkdirSync(join(root, "13"));
  return root;
}

describe("createLinuxSource on a fixture procfs tree", () => {
  for (const nativeScan of [false, true]) {
    it(
      `joins sockets to every pid that holds their inode, once per pid (${
        nativeScan ? "getdents64 and readlinkat" : "node:fs"
      })`,
      { skip: nativeScan && !native && NO_NATIVE },
      async () => {
        const root = fixtureProc();
        try {
          const source = createLinuxSource({ procRoot: root, nativeScan });
          const rows = await source.listSockets(ALL);
          const summary = rows.map((
            r,
          ) => [r.protocol, r.localPort, r.state, r.pids, r.ownerReason]);
          assert.deepEqual(summary, [
            ["TCP", 8080, "LISTEN", [10, 11], undefined],
            ["TCP", 8080, "ESTABLISHED", [11], undefined],
            ["TCP", 49153, "TIME_WAIT", [], "no-owner"],
            ["TCP", 22, "LISTEN", [], "no-owner"],
            ["UDP", 53, null, [12], undefined],
          ]);
          // A fixture tree is not this kernel: by default its tables come from its text.
          assert.equal(source.name, "linux-procfs");
        } finally {
          rmSync(root, { recursive: true });
        }
      },
    );
  }

  it("refuses netlink with a procfs tree other than /proc", () => {
    assert.throws(
      () => createLinuxSource({ procRoot: "/tmp/elsewhere", netlink: true }),
      (err: unknown) =>
        err instanceof RangeError &&
        err.message === 'Invalid procRoot "/tmp/elsewhere" with netlink: netlink reads the ' +
            "live kernel, so procRoot must be /proc",
    );
  });

  it("reads a missing table (IPv6 disabled) as no rows", async () => {
    const root = fixtureProc();
    try {
      const source = createLinuxSource({ procRoot: root });
      assert.deepEqual(
        await source.listSockets({ protocols: ["TCP", "UDP"], families: ["IPv6"] }),
        [],
      );
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it("fails on a malformed table line, naming the file and the line", async () => {
    const root = fixtureProc();
    try {
      writeFileSync(join(root, "net", "udp"), "   sl  local_address\n  10: garbage\n");
      const source = createLinuxSource({ procRoot: root });
      await assert.rejects(
        source.listSockets({ protocols: ["UDP"], families: ["IPv4"] }),
        new RegExp(`^ProcfsFormatError: Malformed line 2 of ${root}/net/udp: .*"  10: garbage"$`),
      );
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});

/** What must match between the two paths: the endpoint, its state and its owners. */
function tuple(s: RawSocket): string {
  const owners = s.pids.length ? s.pids.join(",") : `(${s.ownerReason})`;
  return `${s.protocol} ${s.family} ${s.localAddress} ${s.localPort} ${s.remoteAddress} ` +
    `${s.remotePort} ${s.state} ${owners}`;
}

/**
 * Lists with `source` between two listings of a `reference` source, on the same live sockets: a
 * row in both reference listings must be in `source`'s, and each of its rows in one of them (other
 * programs' sockets change meanwhile). Returns `source`'s rows as tuples.
 */
async function sameRowsAs(
  reference: LinuxSourceOptions,
  source: ReturnType<typeof createLinuxSource>,
): Promise<Set<string>> {
  const before = new Set((await createLinuxSource(reference).listSockets(ALL)).map(tuple));
  const rows = await source.listSockets(ALL);
  const after = new Set((await createLinuxSource(reference).listSockets(ALL)).map(tuple));
  const got = new Set(rows.map(tuple));
  assert.equal(got.size, rows.length, "a socket listed twice");
  const missing = [...before].filter((t) => after.has(t) && !got.has(t));
  const extra = [...got].filter((t) => !before.has(t) && !after.has(t));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
  return got;
}

/** A listener and a TIME_WAIT socket keep no counters, and UDP has none to keep. */
function assertNoCountersKept(
  rows: RawSocket[],
  p: { tcp4: number },
  c: { timeWait: number; udp4: number },
): void {
  const listen = find(rows, { protocol: "TCP", localPort: p.tcp4, state: "LISTEN" });
  assert.equal(listen.stats, null);
  assert.deepEqual(listen.unavailable, { stats: "not-applicable" });
  const tw = find(rows, { protocol: "TCP", localPort: c.timeWait, remotePort: p.tcp4 });
  assert.equal(tw.stats, null);
  assert.deepEqual(tw.unavailable, { stats: "not-applicable" });
  const udp = find(rows, { protocol: "UDP", localPort: c.udp4 });
  assert.equal(udp.stats, undefined);
  assert.deepEqual(udp.unavailable, {});
}

describe("createLinuxSource through netlink sock_diag", {
  skip: !onLinux || !NODE || !PYTHON ? "needs Linux, node and python3" : !native && NO_NATIVE,
}, () => {
  /** The server, its client (TCP and UDP over both families, one TIME_WAIT), and a fork. */
  async function children(): Promise<{
    server: Running<Ports>;
    client: Running<Ports & { timeWait: number }>;
    fork: Running<{ port: number; clientPort: number; grandchild: number }>;
  }> {
    const server = await start<Ports>(NODE!, ["-e", SERVER_JS]);
    const client = await start<Ports & { timeWait: number }>(PYTHON!, [
      "-c",
      CLIENT_PY,
      JSON.stringify(server.ready),
    ]);
    const fork = await start<{ port: number; clientPort: number; grandchild: number }>(
      PYTHON!,
      ["-c", FORK_PY],
    );
    return { server, client, fork };
  }

  it("gives the same rows as /proc/net on the same live sockets", async () => {
    const { server, client, fork } = await children();
    try {
      const source = createLinuxSource(NETLINK);
      const viaNetlink = await sameRowsAs(PROCFS, source);
      assert.equal(source.name, "linux-netlink");

      // The children's sockets are among them, so two empty listings cannot pass.
      const p = server.ready, c = client.ready, f = fork.ready;
      const sPid = server.child.pid!, cPid = client.child.pid!, fPid = fork.child.pid!;
      for (
        const t of [
          `TCP IPv4 127.0.0.1 ${p.tcp4} null null LISTEN ${sPid}`,
          `TCP IPv6 ::1 ${c.tcp6} ::1 ${p.tcp6} ESTABLISHED ${cPid}`,
          `UDP IPv4 127.0.0.1 ${c.udp4} 127.0.0.1 ${p.udp4} null ${cPid}`,
          `UDP IPv6 ::1 ${p.udp6} null null null ${sPid}`,
          `TCP IPv4 127.0.0.1 ${c.timeWait} 127.0.0.1 ${p.tcp4} TIME_WAIT (no-owner)`,
          `TCP IPv6 :: ${f.port} null null LISTEN ${[fPid, f.grandchild].sort((a, b) => a - b)}`,
          `TCP IPv6 ::ffff:127.0.0.1 ${f.port} ::ffff:127.0.0.1 ${f.clientPort} ` +
          `ESTABLISHED ${fPid}`,
        ]
      ) {
        assert.ok(viaNetlink.has(t), `no row ${t}`);
      }
    } finally {
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
  });

  it("asks the kernel for the TCP states a query names, and gets all of those", async () => {
    const { server, client, fork } = await children();
    try {
      const source = createLinuxSource(NETLINK);
      const query = { protocols: ["TCP"], families: ["IPv4", "IPv6"] } as const;
      const listening = await source.listSockets({ ...query, tcpStates: ["LISTEN", "TIME_WAIT"] });
      const all = await source.listSockets(query);
      const wanted = new Set(["LISTEN", "TIME_WAIT"]);
      assert.ok(listening.every((s) => wanted.has(s.state!)), "a socket in another state");
      // Every such socket of the full listing is there (the children's do not change).
      const got = new Set(listening.map(tuple));
      const p = server.ready, c = client.ready;
      const mine = all.filter((s) =>
        wanted.has(s.state!) && [p.tcp4, p.tcp6, c.timeWait, fork.ready.port].includes(s.localPort)
      );
      assert.ok(mine.length >= 4, `only ${mine.length} of the children's sockets`);
      for (const s of mine) assert.ok(got.has(tuple(s)), `no row ${tuple(s)}`);
    } finally {
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
  });

  it("falls back to /proc/net, with the same rows, when netlink fails", {
    skip: !nativeCallsGranted() && "native calls are not available here",
  }, async () => {
    const { server, client, fork } = await children();
    // The C library is loaded once per process; its bound calls are swapped for failing ones.
    const symbols = nativeLibc()!.symbols as unknown as Record<string, unknown>;
    const real = { socket: symbols.socket, sendto: symbols.sendto, recv: symbols.recv };
    const failures: [string, () => void, string][] = [
      ["no netlink socket", () => (symbols.socket = () => -1), "linux-procfs"],
      ["a dump that breaks off after its first answer", () => {
        const recv = real.recv as (...args: unknown[]) => bigint;
        let calls = 0;
        symbols.recv = (...args: unknown[]) => (++calls > 1 ? -1n : recv(...args));
      }, "linux-procfs"],
      ["the UDP dumps refused", () => {
        const sendto = real.sendto as (...args: unknown[]) => bigint;
        // Byte 17 of a request is its protocol (IPPROTO_UDP = 17); the kernel never sees it.
        symbols.sendto = (...args: unknown[]) =>
          (args[1] as Uint8Array)[17] === 17 ? -1n : sendto(...args);
      }, "linux-netlink"],
    ];
    try {
      for (const [what, fail, name] of failures) {
        const before = new Set((await createLinuxSource(PROCFS).listSockets(ALL)).map(tuple));
        fail();
        const source = createLinuxSource();
        let rows: RawSocket[];
        try {
          rows = await source.listSockets(ALL);
        } finally {
          Object.assign(symbols, real);
        }
        const after = new Set((await createLinuxSource(PROCFS).listSockets(ALL)).map(tuple));
        assert.equal(source.name, name, what);
        const viaFallback = new Set(rows.map(tuple));
        assert.equal(viaFallback.size, rows.length, `${what}: a socket listed twice`);
        const missing = [...before].filter((t) => after.has(t) && !viaFallback.has(t));
        const extra = [...viaFallback].filter((t) => !before.has(t) && !after.has(t));
        assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, what);
        const p = server.ready;
        assert.ok(viaFallback.has(`UDP IPv6 ::1 ${p.udp6} null null null ${server.child.pid}`));
        assert.ok(
          viaFallback.has(`TCP IPv4 127.0.0.1 ${p.tcp4} null null LISTEN ${server.child.pid}`),
        );
        // With netlink insisted upon, the same failure is an error.
        fail();
        try {
          await assert.rejects(createLinuxSource({ netlink: true }).listSockets(ALL), Error, what);
        } finally {
          Object.assign(symbols, real);
        }
      }
    } finally {
      Object.assign(symbols, real);
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
  });

  it("dumps each TCP family on its own when the kernel refuses the dump of both", {
    skip: !nativeCallsGranted() && "native calls are not available here",
  }, async () => {
    const { server, client, fork } = await children();
    // The request for both families (type TCPDIAG_GETSOCK, 18) goes out as a type the kernel
    // refuses (17), so that its answer is an error, as from a kernel without that request.
    const symbols = nativeLibc()!.symbols as unknown as Record<string, unknown>;
    const sendto = symbols.sendto as (...args: unknown[]) => bigint;
    const sent: number[] = [];
    symbols.sendto = (...args: unknown[]) => {
      const request = (args[1] as Uint8Array).slice();
      sent.push(request[4]);
      if (request[4] === 18) request[4] = 17;
      return sendto(args[0], request, ...args.slice(2));
    };
    try {
      for (const options of [{}, NETLINK]) {
        sent.length = 0;
        const source = createLinuxSource(options);
        const rows = await sameRowsAs(PROCFS, source);
        assert.equal(source.name, "linux-netlink");
        // Both families in one request, then TCP per family, then UDP per family; then, when
        // some process's fds are hidden, a second look for sockets without an owner, per family.
        assert.deepEqual(sent.slice(0, 5), [18, 20, 20, 20, 20]);
        assert.ok(sent.slice(5).every((type) => type === 20), `${sent}`);
        const p = server.ready;
        assert.ok(rows.has(`TCP IPv6 ::1 ${p.tcp6} null null LISTEN ${server.child.pid}`));
        assert.ok(rows.has(`TCP IPv4 127.0.0.1 ${p.tcp4} null null LISTEN ${server.child.pid}`));
      }
    } finally {
      symbols.sendto = sendto;
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
  });

  it("reads TCP counters, says a listener and TIME_WAIT have none, and leaves UDP without", async () => {
    const { server, client, fork } = await children();
    try {
      const rows = await createLinuxSource(NETLINK).listSockets({ ...ALL, stats: true });
      const p = server.ready, c = client.ready;
      // The client sent one byte and got it back; bytes_acked also counts its SYN.
      const out = find(rows, { protocol: "TCP", localPort: c.tcp4, remotePort: p.tcp4 });
      assert.deepEqual(out.stats && [out.stats.bytesOut, out.stats.bytesIn], [2, 1]);
      assert.ok(out.stats!.segmentsOut >= 3 && out.stats!.segmentsIn >= 2);
      assert.deepEqual(out.unavailable, {});
      const accepted = find(rows, { protocol: "TCP", localPort: p.tcp6, remotePort: c.tcp6 });
      assert.deepEqual(
        accepted.stats && [accepted.stats.bytesIn, accepted.stats.bytesOut],
        [1, 1],
      );
      assertNoCountersKept(rows, p, c);
    } finally {
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
  });

  it("says that procfs has no creation time or counters, and that a listener and TIME_WAIT keep none", async () => {
    const { server, client, fork } = await children();
    try {
      const source = createLinuxSource(PROCFS);
      const rows = await source.listSockets({ ...ALL, stats: true });
      assert.equal(source.name, "linux-procfs");
      assert.equal(
        source.countersUnavailable(),
        "the TCP tables were read from /proc/net, which has none (they come through netlink " +
          "sock_diag, not used here: netlink is turned off)",
      );
      const p = server.ready, c = client.ready;
      const out = find(rows, { protocol: "TCP", localPort: c.tcp4, remotePort: p.tcp4 });
      assert.equal(out.created, undefined);
      assert.equal(out.stats, null);
      assert.deepEqual(out.unavailable, { stats: "not-supported" });
      assertNoCountersKept(rows, p, c);
    } finally {
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
  });

  it("reads the owners through the BPF iterator, with the same rows as the fd scan", {
    skip: bpfSkip,
  }, async () => {
    const { server, client, fork } = await children();
    try {
      const source = createLinuxSource();
      const viaBpf = await sameRowsAs({ ...NETLINK, bpfOwners: false }, source);
      assert.deepEqual(source.ownerScan, { method: "bpf", bpfUnused: null });
      const p = server.ready, c = client.ready, f = fork.ready;
      const sPid = server.child.pid!, cPid = client.child.pid!, fPid = fork.child.pid!;
      for (
        const t of [
          `TCP IPv4 127.0.0.1 ${p.tcp4} null null LISTEN ${sPid}`,
          `UDP IPv4 127.0.0.1 ${c.udp4} 127.0.0.1 ${p.udp4} null ${cPid}`,
          `TCP IPv4 127.0.0.1 ${c.timeWait} 127.0.0.1 ${p.tcp4} TIME_WAIT (no-owner)`,
          `TCP IPv6 :: ${f.port} null null LISTEN ${[fPid, f.grandchild].sort((a, b) => a - b)}`,
        ]
      ) {
        assert.ok(viaBpf.has(t), `no row ${t}`);
      }
      // Turned off, or for a selection of processes, the fd scan reads the owners.
      const off = createLinuxSource({ bpfOwners: false });
      await off.listSockets(ALL);
      assert.deepEqual(off.ownerScan, { method: "fd-scan", bpfUnused: "turned off" });
      // As the CLI's --no-bpf asks for it.
      const cli = (await defaultSource({ bpf: false })) as LinuxSocketSource;
      await cli.listSockets(ALL);
      assert.deepEqual(cli.ownerScan, { method: "fd-scan", bpfUnused: "turned off" });
      const selected = await source.listSockets({ ...ALL, pids: [sPid] });
      assert.equal(source.ownerScan?.method, "fd-scan");
      assert.match(source.ownerScan!.bpfUnused!, /selection of processes/);
      assert.ok(selected.some((s) => s.localPort === p.tcp4 && s.pids.includes(sPid)));
    } finally {
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
  });

  it("scans the fds instead when the kernel refuses the iterator, and asks it no more", {
    skip: bpfSkip,
  }, async () => {
    const { server, client, fork } = await children();
    const symbols = nativeLibc()!.symbols as unknown as Record<string, unknown>;
    const real = symbols.syscall;
    let calls = 0;
    try {
      const source = createLinuxSource();
      symbols.syscall = () => (calls++, -1n);
      const rows = await source.listSockets(ALL);
      // A refused load is tried a few times (a signal may have cut the verifier short).
      assert.equal(calls, LOAD_TRIES, "one listing's program loads tried");
      assert.deepEqual(source.ownerScan, {
        method: "fd-scan",
        bpfUnused: "the kernel refused the iterator program",
      });
      const p = server.ready;
      assert.ok(
        rows.map(tuple).includes(
          `TCP IPv4 127.0.0.1 ${p.tcp4} null null LISTEN ${server.child.pid}`,
        ),
      );
      // The same source does not try again; insisting on BPF fails, and says why.
      await source.listSockets(ALL);
      assert.equal(calls, LOAD_TRIES);
      assert.equal(source.ownerScan?.bpfUnused, "the kernel refused the iterator program");
      await assert.rejects(
        createLinuxSource({ bpfOwners: true }).listSockets(ALL),
        /^Error: Cannot read socket owners through BPF: the kernel refused the iterator program$/,
      );
    } finally {
      symbols.syscall = real;
      await fork.stop(fork.ready.grandchild);
      await client.stop();
      await server.stop();
    }
    // A new source tries again.
    const fresh = createLinuxSource({ bpfOwners: true });
    await fresh.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
    assert.equal(fresh.ownerScan?.method, "bpf");
  });

  it("is the default under Deno with --allow-ffi, and under Node with koffi", async () => {
    const source = createLinuxSource();
    await source.listSockets({ protocols: ["TCP"], families: ["IPv4"], stats: true });
    // deno-lint-ignore no-explicit-any
    const deno = (globalThis as any).Deno;
    // Under Node, koffi comes from the package npm ci installs.
    const granted = deno ? deno.permissions.querySync({ name: "ffi" }).state === "granted" : true;
    assert.equal(source.name, granted ? "linux-netlink" : "linux-procfs");
    assert.equal(nativeCallsGranted(), granted);
    assert.equal(source.countersUnavailable(), null);
  });
});

describe("a thread id given as a pid", { skip: !onLinux || !PYTHON }, () => {
  // /proc/<tid> answers for a thread, with its process's fd directory; the thread owns nothing.
  const THREADED_PY = `
import json, os, socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
t = threading.Thread(target=sys.stdin.read, daemon=True)
t.start()
print(json.dumps({"port": s.getsockname()[1], "tid": t.native_id}), flush=True)
t.join()
`;

  for (const [label, options] of [["procfs", PROCFS], ["netlink", NETLINK]] as const) {
    it(`selects nothing, and names the thread's process (${label})`, {
      skip: label === "netlink" && !native ? NO_NATIVE : false,
    }, async () => {
      const child = await start<{ port: number; tid: number }>(PYTHON!, ["-c", THREADED_PY]);
      try {
        const { port, tid } = child.ready;
        const pid = child.child.pid!;
        assert.notEqual(tid, pid);
        const source = createLinuxSource(options);
        const byThread = await source.listSockets({ ...ALL, pids: [tid] });
        assert.deepEqual(byThread.filter((s) => s.pids.length > 0), []);
        const byProcess = await source.listSockets({ ...ALL, pids: [pid] });
        assert.deepEqual(
          byProcess.filter((s) => s.localPort === port).map((s) => [s.state, s.pids]),
          [["LISTEN", [pid]]],
        );
        assert.deepEqual(source.processesOfThreads!([tid, pid]), new Map([[tid, pid]]));
      } finally {
        await child.stop();
      }
    });
  }
});

describe("a process whose main thread has ended", { skip: !onLinux || !PYTHON }, () => {
  const sources: [string, LinuxSourceOptions, string | false][] = [
    ["procfs", PROCFS, false],
    ["netlink and the libc fd scan", { ...NETLINK, bpfOwners: false }, native ? false : NO_NATIVE],
    ["the BPF iterator", { bpfOwners: true }, bpfSkip],
  ];
  for (const [label, options, skip] of sources) {
    it(`keeps its owner, path and command line: ${label}`, { skip }, async () => {
      const child = await startHeadless();
      try {
        const pid = child.child.pid!;
        const source = createLinuxSource(options);
        const rows = await source.listSockets({ ...ALL, protocols: ["TCP"] });
        const listener = rows.find((s) => s.localPort === child.ready.port)!;
        assert.deepEqual(listener.pids, [pid]);
        const info = (await source.describeProcesses([pid])).get(pid)!;
        assert.equal(info.path, PYTHON!.path);
        assert.match(info.commandLine ?? "", /pthread_exit/);
        assert.deepEqual(info.unavailable, {});
        // Selected by pid, too.
        const selected = await source.listSockets({ ...ALL, protocols: ["TCP"], pids: [pid] });
        assert.deepEqual(selected.find((s) => s.localPort === child.ready.port)?.pids, [pid]);
      } finally {
        await child.stop();
      }
    });
  }
});

describe("labelOwnerless: the reason of a socket that an incomplete scan found no owner for", {
  skip: !native && NO_NATIVE,
}, () => {
  it("gives process-exited to the sockets gone since the dump, access-denied to the rest", async () => {
    const { createSocket } = await import("node:dgram");
    const { servers, ports } = await listenOn(["127.0.0.1", "::1", "127.0.0.1"]);
    const udp = ["udp4", "udp6"].map((type) => createSocket(type as "udp4" | "udp6"));
    await Promise.all(
      udp.map((u, i) =>
        new Promise<void>((done) => u.bind(0, i === 0 ? "127.0.0.1" : "::1", () => done()))
      ),
    );
    const udpPorts = udp.map((u) => u.address().port);
    const libc = nativeLibc()!;
    const session = openSockDiag(libc);
    const columns = new SocketColumns();
    try {
      session.scan("TCP", null, {}, columns);
      session.scan("UDP", "IPv4", {}, columns);
      session.scan("UDP", "IPv6", {}, columns);
    } finally {
      session.close();
    }
    const row = (protocol: string, port: number) => {
      for (let i = 0; i < columns.size; i++) {
        if (columns.protocol(i) === protocol && columns.localPort(i) === port) return i;
      }
      throw new Error(`no ${protocol} row for port ${port}`);
    };
    const rows = {
      kept: row("TCP", ports[0]),
      closed6: row("TCP", ports[1]),
      kept2: row("TCP", ports[2]),
      udpClosed: row("UDP", udpPorts[0]),
      udpKept: row("UDP", udpPorts[1]),
    };
    // Closed after the dump, as an owner that exits between the dump and the fd scan does.
    await new Promise<void>((done) => servers[1].close(() => done()));
    await new Promise<void>((done) => udp[0].close(() => done()));
    // The runtime may close the fds a moment after those callbacks: wait until the kernel no
    // longer has the two sockets.
    const closedInodes = [columns.inode(rows.closed6), columns.inode(rows.udpClosed)];
    for (let tries = 0;; tries++) {
      const now = openSockDiag(libc);
      let left: number;
      try {
        left = [...now.dump("TCP", null), ...now.dump("UDP", "IPv4")]
          .filter((r) => closedInodes.includes(r.inode)).length;
      } finally {
        now.close();
      }
      if (left === 0) break;
      assert.ok(tries < 200, "the closed sockets are still there after 2 s");
      await new Promise((done) => setTimeout(done, 10));
    }
    try {
      const all = Object.values(rows);
      const reasons = () =>
        Object.fromEntries(Object.entries(rows).map(([name, i]) => [name, columns.ownerReason(i)]));
      labelOwnerless(columns, all, () => openSockDiag(libc));
      assert.deepEqual(reasons(), {
        kept: "access-denied",
        closed6: "process-exited",
        kept2: "access-denied",
        udpClosed: "process-exited",
        udpKept: "access-denied",
      });
      // Without netlink, or when the second dump cannot be made, nothing is known to have gone.
      labelOwnerless(columns, all, null);
      assert.ok(Object.values(reasons()).every((r) => r === "access-denied"));
      labelOwnerless(columns, all, () => {
        throw new Error("no netlink here");
      });
      assert.ok(Object.values(reasons()).every((r) => r === "access-denied"));
    } finally {
      servers[0].close();
      servers[2].close();
      udp[1].close();
    }
  });

  it("leaves a row without a cookie (read from /proc/net) access-denied", () => {
    const columns = new SocketColumns();
    const i = columns.add("TCP", "IPv4", "LISTEN", "127.0.0.1", 1, null, 0, 123456789, 0);
    let opened = false;
    labelOwnerless(columns, [i], () => {
      opened = true;
      return openSockDiag(nativeLibc()!);
    });
    assert.equal(columns.ownerReason(i), "access-denied");
    assert.equal(opened, false, "no second dump for rows it cannot look up");
  });
});
