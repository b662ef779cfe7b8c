// Incident-response enrichment through the CLI, on real processes: a child with a known command
// line spawns a grandchild that connects to this test; `--pid <child> --tree` must find the
// grandchild's connection, with the user, command line, an image hash equal to sha256sum's and the
// bytes this test sent.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { createInterface } from "node:readline";
import process from "node:process";

const ROOT = new URL("../", import.meta.url).pathname;
const MARKER = "procconn-enrich-marker";
const SENT = 10_000;

// The child: starts a grandchild that connects to the test's port, reports its pid, then holds.
const CHILD = `
import json, socket, subprocess, sys
port = sys.argv[1]
own = socket.socket()
own.bind(("127.0.0.1", 0))
own.listen()
grand = subprocess.Popen(
    [sys.executable, "-c",
     "import socket, sys\\n"
     "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\\n"
     "print(s.getsockname()[1], flush=True)\\n"
     "sys.stdin.read()\\n", port],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
local_port = int(grand.stdout.readline())
print(json.dumps({"grandchild": grand.pid, "localPort": local_port,
                  "ownPort": own.getsockname()[1]}), flush=True)
sys.stdin.read()
grand.stdin.close()
grand.wait()
`;

interface Row {
  pid: number;
  parentPid: number;
  localPort: number;
  state: string | null;
  remotePort: number;
  processPath: string;
  commandLine: string | null;
  userName: string | null;
  imageSha256: string | null;
  bytesIn: number | null;
  unavailable: Record<string, string>;
}

function procconn(args: string[]): Row[] {
  const r = spawnSync(process.execPath, ["run", "-A", "main.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("enrichment through the CLI", { skip: process.platform !== "linux" }, () => {
  let server: net.Server;
  let child: ChildProcess;
  let grandchild: number;
  let grandchildPort: number;
  let ownPort: number;

  before(async () => {
    server = net.createServer((socket) => {
      // The grandchild never reads, so its end resets when it is stopped.
      socket.on("error", () => {});
      socket.write(Buffer.alloc(SENT, 0x61));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    child = spawn("python3", ["-c", CHILD, String(port), MARKER], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the child exited with ${code}`)));
    });
    ({ grandchild, localPort: grandchildPort, ownPort } = JSON.parse(line));
  });

  after(async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.stdin!.end();
    const fallback = setTimeout(() => child.kill(), 5000);
    await exited;
    clearTimeout(fallback);
    server.close();
  });

  it("--tree from the child finds the grandchild's connection, with user, command line, hash and bytes", async () => {
    let row: Row | undefined;
    let rows: Row[] = [];
    // The bytes may still be in flight right after the connection opens: ask a few times.
    for (let attempt = 0; attempt < 20; attempt++) {
      rows = procconn([
        "--format",
        "json",
        "--tcp",
        "--pid",
        String(child.pid),
        "--tree",
        "--hash",
        "--stats",
      ]);
      assert.ok(rows.every((r) => r.pid === child.pid || r.pid === grandchild), "only the tree");
      row = rows.find((r) => r.pid === grandchild && r.localPort === grandchildPort);
      if (row?.bytesIn === SENT) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(row, "the grandchild's connection is missing from the child's tree");
    assert.equal(row.parentPid, child.pid);
    assert.equal(row.remotePort, (server.address() as net.AddressInfo).port);
    assert.equal(row.userName, spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim());
    assert.match(row.commandLine ?? "", /-c import socket, sys/);
    assert.equal(row.bytesIn, SENT, JSON.stringify(row.unavailable));
    // A listener counts nothing itself: its counters are not-applicable, as on Windows.
    const listener = rows.find((r) => r.pid === child.pid && r.state === "LISTEN");
    assert.ok(listener, "the child's listener is missing");
    assert.equal(listener.bytesIn, null);
    assert.equal(listener.unavailable.bytesIn, "not-applicable");
    const sum =
      spawnSync("sha256sum", [row.processPath], { encoding: "utf8" }).stdout.split(" ")[0];
    assert.equal(row.imageSha256, sum);
  });

  it("`tree --pid <child>` draws the grandchild's connection beneath the child", () => {
    interface TreeNode {
      pid: number;
      connections: Row[];
      children: TreeNode[];
    }
    const r = spawnSync(
      process.execPath,
      ["run", "-A", "main.ts", "tree", "--tcp", "--pid", String(child.pid), "--format", "json"],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const all: TreeNode[] = [];
    const walk = (n: TreeNode) => (all.push(n), n.children.forEach(walk));
    JSON.parse(r.stdout).forEach(walk);
    const node = all.find((n) => n.pid === child.pid);
    assert.ok(node, `the child ${child.pid} is not in the tree`);
    const grand = node.children.find((n) => n.pid === grandchild);
    assert.ok(grand, "the grandchild is not drawn beneath the child");
    assert.ok(grand.connections.some((c) => c.localPort === grandchildPort));
    assert.ok(node.connections.some((c) => c.localPort === ownPort));
    const holders = all.filter((n) => n.connections.length).map((n) => n.pid).sort();
    assert.deepEqual(holders, [child.pid!, grandchild].sort(), "only the child's tree holds rows");

    const text = spawnSync(
      process.execPath,
      ["run", "-A", "main.ts", "tree", "--tcp", "--pid", String(child.pid)],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`[└├]─ \\S+ \\(${grandchild}\\)`));
    assert.match(text.stdout, /\n2 endpoints in 2 processes\n$/);
  });

  it("the child's own listener carries the child's command line and user", () => {
    const rows = procconn(["--format", "json", "--pid", String(child.pid), "--tcp"]);
    const own = rows.find((r) => r.localPort === ownPort);
    assert.ok(own, `the child's listener on ${ownPort} is missing`);
    assert.match(
      own.commandLine ?? "",
      new RegExp(`^\\S*python3[.\\d]* -c .* \\d+ ${MARKER}$`, "s"),
    );
    assert.equal(own.userName, spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim());
    assert.equal(own.bytesIn, null, "no counters without --stats");
    assert.equal("bytesIn" in own.unavailable, false);
  });
});
