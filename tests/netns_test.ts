// Sockets in another network namespace, on a real one: a child made by `unshare -n` listens on
// TCP and UDP there. A listing from this namespace cannot show them; it must say so, with the
// child's pid, and the `nsenter` it suggests must list them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { once } from "node:events";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { otherNetworkNamespaces } from "../ffi/linux/processes.ts";
import { PYTHON, type Running, start } from "./ffi/linux/_children.ts";

const ROOT = new URL("../", import.meta.url).pathname;

// Inside the new namespace only the loopback address exists (the link is down, which binding
// does not need). Prints the TCP port, then holds both sockets until stdin closes.
const HOLD = `
import json, socket, sys
tcp = socket.socket()
tcp.bind(("127.0.0.1", 0))
tcp.listen()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
print(json.dumps({"port": tcp.getsockname()[1]}), flush=True)
sys.stdin.read()
`;

const UNSHARE = ["/usr/bin/unshare", "/bin/unshare"].find((p) => existsSync(p));
const NSENTER = ["/usr/bin/nsenter", "/bin/nsenter"].find((p) => existsSync(p));

/** Why this machine cannot make a network namespace; CI runs as root, where it must. */
const blocker = process.platform !== "linux"
  ? "Linux only"
  : process.getuid?.() !== 0
  ? "making a network namespace needs root"
  : !UNSHARE || !NSENTER
  ? "unshare and nsenter (util-linux) are not installed"
  : !PYTHON
  ? "python3 is not installed"
  : null;

/** Runs procconn, through `via` (a command that runs its arguments) when given. */
function procconn(args: string[], via: string[] = []) {
  const [command, ...rest] = [...via, process.execPath, "run", "-A", "main.ts", ...args];
  const r = spawnSync(command, rest, { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

describe("another network namespace", {
  skip: process.platform !== "linux"
    ? "Linux only"
    : process.env.CI !== "true" && blocker !== null && blocker,
}, () => {
  let child: Running<{ port: number }>;
  let pid: number;

  before(async () => {
    child = await start<{ port: number }>({ path: UNSHARE! }, ["-n", PYTHON!.path, "-c", HOLD]);
    pid = child.child.pid!;
  });
  after(async () => await child?.stop());

  it("otherNetworkNamespaces finds it and counts its two sockets", () => {
    const [found, ...more] = otherNetworkNamespaces({}, [pid, process.pid]);
    assert.deepEqual(more, [], "this process's own namespace is not another");
    assert.match(found.namespace, /^net:\[\d+\]$/);
    assert.deepEqual(found.pids, [pid]);
    assert.equal(found.sockets, 2);
    assert.ok(
      otherNetworkNamespaces().some((n) => n.namespace === found.namespace),
      "a look at every process finds it too",
    );
    assert.deepEqual(otherNetworkNamespaces({}, [process.pid]), []);
  });

  it("a listing of the child says where its sockets are, and nsenter lists them", () => {
    const outside = procconn(["--pid", String(pid), "--format", "json"]);
    assert.deepEqual(JSON.parse(outside.stdout), []);
    assert.match(
      outside.stderr,
      new RegExp(
        `^procconn: 2 sockets in another network namespace \\(pid ${pid}\\) are not listed: ` +
          `run procconn inside it, e\\.g\\. nsenter -t ${pid} -n procconn$`,
        "m",
      ),
    );

    const inside = procconn(["--pid", String(pid), "--format", "json"], [
      NSENTER!,
      "-t",
      String(pid),
      "-n",
    ]);
    const rows: { protocol: string; localPort: number; state: string | null; pid: number }[] = JSON
      .parse(inside.stdout);
    assert.ok(
      rows.some((r) => r.protocol === "TCP" && r.localPort === child.ready.port && r.pid === pid),
      inside.stdout,
    );
    assert.ok(rows.some((r) => r.protocol === "UDP" && r.pid === pid), inside.stdout);
  });

  it("from inside it, names processes of the other namespaces, never a kernel thread", async () => {
    // The test holds a socket here, so this namespace is among those the hint names.
    const server = net.createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const inside = procconn(["--format", "json"], [NSENTER!, "-t", String(pid), "-n"]);
      const hint = /network namespaces? \(pids? ([\d, .]+)\) .* nsenter -t (\d+) -n procconn$/m
        .exec(inside.stderr);
      assert.ok(hint, inside.stderr);
      const named = [...hint[1].matchAll(/\d+/g)].map(Number);
      assert.equal(Number(hint[2]), named[0]);
      for (const shown of named) {
        const flags = Number(
          readFileSync(`/proc/${shown}/stat`, "utf8").split(") ")[1].split(" ")[6],
        );
        assert.equal(flags & 0x00200000, 0, `pid ${shown} is a kernel thread`);
      }
    } finally {
      server.close();
    }
  });

  it("says nothing of namespaces a selection does not reach", () => {
    const r = procconn(["--pid", String(process.pid), "--format", "json"]);
    assert.doesNotMatch(r.stderr, /network namespace/);
  });
});
