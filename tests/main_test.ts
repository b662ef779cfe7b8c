// The CLI as a user runs it: a subprocess against real sockets held by real child processes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import process from "node:process";
import { PERMISSIONS, V8_FLAGS } from "../scripts/compile.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DENO = process.execPath;
const NODE = realpathSync("/usr/bin/node");

function procconn(args: string[], input?: string) {
  const r = spawnSync(DENO, ["run", "-A", "--no-check", "main.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    input,
    env: { ...process.env, NO_COLOR: "1" },
    // A full listing on a busy machine can be many megabytes.
    maxBuffer: 1 << 30,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// A node child that listens on TCP (v4 and v6), connects to its v4 listener, binds UDP sockets,
// prints the ports as one JSON line, then waits for stdin to close.
const CHILD = `
const net = require("net"), dgram = require("dgram");
const udpCount = Number(process.argv[1] || 1);
const l4 = net.createServer(() => {}).listen(0, "127.0.0.1", () => {
  const l6 = net.createServer(() => {}).listen(0, "::1", () => {
    const c = net.connect(l4.address().port, "127.0.0.1", () => {
      const udp = [];
      let bound = 0;
      for (let i = 0; i < udpCount; i++) {
        const s = dgram.createSocket("udp4");
        udp.push(s);
        s.bind(0, "127.0.0.1", () => {
          if (++bound === udpCount) {
            console.log(JSON.stringify({ pid: process.pid, tcp4: l4.address().port,
              tcp6: l6.address().port, client: c.localPort, udp: udp[0].address().port }));
          }
        });
      }
    });
  });
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

interface ChildInfo {
  pid: number;
  tcp4: number;
  tcp6: number;
  client: number;
  udp: number;
}

async function startChild(udpCount = 1): Promise<{ proc: ChildProcess; info: ChildInfo }> {
  const proc = spawn(NODE, ["-e", CHILD, String(udpCount)], { stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once("line", resolve);
    proc.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
  });
  return { proc, info: JSON.parse(line) };
}

describe("procconn CLI", () => {
  let child: { proc: ChildProcess; info: ChildInfo };
  before(async () => {
    child = await startChild(400);
  });
  after(() => {
    child.proc.stdin!.end();
    child.proc.kill();
  });

  it("--format json reports the child's endpoints with pid, name, path and parent", () => {
    const r = procconn(["--format", "json", "--pid", String(child.info.pid)]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    const find = (pred: (x: Record<string, unknown>) => boolean) => rows.find(pred);
    const listen4 = find((x) =>
      x.protocol === "TCP" && x.localPort === child.info.tcp4 && x.state === "LISTEN"
    );
    const listen6 = find((x) => x.protocol === "TCP" && x.localPort === child.info.tcp6);
    const client = find((x) => x.localPort === child.info.client);
    const udp = find((x) => x.protocol === "UDP" && x.localPort === child.info.udp);
    for (const row of [listen4, listen6, client, udp]) {
      assert.ok(row, `missing row in ${r.stdout.slice(0, 500)}`);
      assert.equal(row.pid, child.info.pid);
      assert.equal(row.processName, "node");
      assert.equal(row.processPath, NODE);
      assert.equal(row.parentPid, process.pid);
      assert.ok(Math.abs(Date.parse(row.processStartTime) - Date.now()) < 120_000);
    }
    assert.equal(listen6.family, "IPv6");
    assert.equal(listen6.localAddress, "::1");
    assert.equal(listen4.remoteAddress, null);
    assert.equal(client.state, "ESTABLISHED");
    assert.equal(client.remotePort, child.info.tcp4);
    assert.equal(udp.state, null);
    assert.equal(udp.remoteAddress, null);
  });

  it("says when --pid or --name names no running process, and only then", () => {
    // A process that has exited: its pid is free (pids are not reused this fast).
    const gone = spawnSync(NODE, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    const deadPid = Number(gone.stdout.trim());
    // A process that runs without any socket: its empty listing needs no note.
    const idle = spawn("sleep", ["60"]);
    try {
      const r = procconn(["--pid", `${child.info.pid},${deadPid}`, "--tcp", "--local-port", "1"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, `procconn: no process runs with pid ${deadPid}\n`);
      const quiet = procconn(["--pid", String(idle.pid), "--name", "sleep"]);
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.match(quiet.stdout, /^0 endpoints$/m);
      assert.equal(quiet.stderr, "");
      const typo = procconn(["tree", "--name", "no-such-process-*"]);
      assert.equal(typo.code, 0, typo.stderr);
      assert.equal(typo.stderr, 'procconn: no process matches --name "no-such-process-*"\n');
    } finally {
      idle.kill();
    }
  });

  it("--pid gives exactly the rows of the full listing that have that pid", () => {
    // With --pid only the named process's fds are read: the rows must not change for it.
    const pid = child.info.pid;
    const mine = procconn(["--format", "json", "--tcp", "--udp", "--pid", String(pid)]);
    const all = procconn(["--format", "json", "--tcp", "--udp"]);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(all.code, 0, all.stderr);
    const key = (x: Record<string, unknown>) =>
      [x.protocol, x.localAddress, x.localPort, x.remoteAddress, x.remotePort, x.state].join(" ");
    const fromAll = JSON.parse(all.stdout).filter((x: { pid: number }) => x.pid === pid);
    const rows = JSON.parse(mine.stdout);
    assert.ok(rows.length >= 404, `only ${rows.length} rows for the child`);
    assert.deepEqual(rows.map(key), fromAll.map(key));
    assert.deepEqual(rows, fromAll);
  });

  it("runs with exactly the permissions of the README's command (npm run procconn)", () => {
    const script = JSON.parse(readFileSync(new URL("package.json", `file://${ROOT}`), "utf8"))
      .scripts.procconn as string;
    const [deno, run, ...rest] = script.split(/\s+/);
    assert.deepEqual([deno, run, rest.at(-1)], ["deno", "run", "main.ts"]);
    const r = spawnSync(DENO, [
      "run",
      ...rest.slice(0, -1),
      "main.ts",
      "--format",
      "json",
      "--pid",
      String(child.info.pid),
    ], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).some((x: { pid: number }) => x.pid === child.info.pid));
  });

  it("one run command: deno.json's task, package.json's script and the executables agree", () => {
    const read = (name: string) => JSON.parse(readFileSync(`${ROOT}/${name}`, "utf8"));
    const script = read("package.json").scripts.procconn as string;
    assert.equal(read("deno.json").tasks.procconn, script);
    for (const flag of V8_FLAGS) assert.ok(script.split(/\s+/).includes(flag), script);
    assert.ok(script.includes(PERMISSIONS.linux.filter((f) => f !== "--no-prompt").join(" ")));
  });

  it("filters: --tcp -4 --state listen --local-port", () => {
    const r = procconn([
      "--format",
      "ndjson",
      "--tcp",
      "-4",
      "--state",
      "listen",
      "--local-port",
      String(child.info.tcp4),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(rows.length, 1);
    assert.equal(rows[0].pid, child.info.pid);
  });

  it("lists of ports and addresses: --local-port A,B --local with a block and an address", () => {
    const ports = `${child.info.tcp4},${child.info.tcp6}`;
    const rows = (local: string) => {
      const r = procconn(["--format", "json", "--tcp", "--local-port", ports, "--local", local]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).map((x: { localAddress: string; localPort: number }) =>
        `${x.localAddress} ${x.localPort}`
      ).sort();
    };
    // The v4 listener and the connection it accepted, and the v6 listener.
    assert.deepEqual(rows("127.0.0.0/8,::1"), [
      `127.0.0.1 ${child.info.tcp4}`,
      `127.0.0.1 ${child.info.tcp4}`,
      `::1 ${child.info.tcp6}`,
    ]);
    assert.deepEqual(rows("::1"), [`::1 ${child.info.tcp6}`]);
  });

  it("ranges of ports: --local-port FIRST-LAST and --remote-port keep the ports in the range", () => {
    const p = child.info.tcp4;
    const rows = (...filter: string[]) => {
      const args = ["--format", "json", "--tcp", "-4", "--pid", String(child.info.pid), ...filter];
      const r = procconn(args);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).map((x: { localPort: number; remotePort: number | null }) =>
        `${x.localPort} ${x.remotePort}`
      ).sort();
    };
    const all = rows();
    const onP = all.filter((row: string) => row.startsWith(`${p} `));
    // The listener and the connection it accepted; the other end of that connection goes to p.
    assert.equal(onP.length, 2, all.join(", "));
    assert.deepEqual(rows("--local-port", `${p}-${p}`), onP);
    assert.deepEqual(rows("--local-port", `${p - 1}-${p + 1}`), onP);
    assert.deepEqual(rows("--remote-port", `${p}-${p}`).map((r: string) => r.split(" ")[1]), [
      `${p}`,
    ]);
    assert.deepEqual(
      rows("--remote-port", "0-65535"),
      all.filter((row: string) => !row.endsWith(" null")),
      "every row with a remote end, the listener left out",
    );
    assert.deepEqual(
      rows("--local-port", `0-${p - 1},${p + 1}-65535`),
      all.filter((row: string) => !row.startsWith(`${p} `)),
      "every other port of the child's, none on p",
    );
  });

  it("a thread id as --pid: the listing, tree and group view name the thread's process", () => {
    const pid = child.info.pid;
    const tid = Number(readdirSync(`/proc/${pid}/task`).find((t) => Number(t) !== pid));
    assert.ok(tid > 0, "node runs more than one thread");
    for (const command of [[], ["tree"], ["--group-by", "process"]]) {
      const r = procconn([...command, "--pid", String(tid)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`\\b${tid} is a thread of pid ${pid} \\(--pid ${pid} lists its sockets\\)`),
        `${command.join(" ") || "list"}: ${r.stderr}`,
      );
      assert.doesNotMatch(r.stdout, new RegExp(`\\b${child.info.tcp4}\\b`));
    }
  });

  it("--pid-file reads the pids from a file or standard input, and adds them to --pid", () => {
    const pids = (r: { code: number | null; stdout: string; stderr: string }) => {
      assert.equal(r.code, 0, r.stderr);
      return [...new Set(JSON.parse(r.stdout).map((x: { pid: number }) => x.pid))];
    };
    const only = ["--format", "json", "--tcp", "--local-port", String(child.info.tcp4)];
    // As pgrep writes them, one per line: a pid without sockets, then the child.
    const dir = mkdtempSync(join(tmpdir(), "procconn-pids-"));
    try {
      const file = join(dir, "pids.txt");
      writeFileSync(file, `${process.pid}\n${child.info.pid}\n`);
      assert.deepEqual(pids(procconn([...only, "--pid-file", file])), [child.info.pid]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(
      pids(procconn([...only, "--pid-file", "-"], `${child.info.pid}\n`)),
      [child.info.pid],
    );
    // Added to --pid: this test's own pid alone lists nothing on that port.
    assert.deepEqual(pids(procconn([...only, "--pid", String(process.pid)])), []);
    assert.deepEqual(
      pids(
        procconn([...only, "--pid", String(process.pid), "--pid-file", "-"], `${child.info.pid}`),
      ),
      [child.info.pid],
    );
    const bad = procconn([...only, "--pid-file", "-"], `${child.info.pid}\nnode\n`);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'procconn: Invalid pid "node" on line 2 of standard input (--pid-file -): expected whole ' +
        "numbers from 0 to 4294967295, separated by commas, spaces or new lines\n",
    );
    assert.equal(bad.stdout, "");
  });

  it("--name matches the process name", () => {
    // The child holds 400 UDP sockets on random ports: one of them may share the TCP port's
    // number, so the protocol and family are named too.
    const r = procconn([
      "--format",
      "json",
      "--name",
      "NODE",
      "--tcp",
      "-6",
      "--local-port",
      String(child.info.tcp6),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).map((x: { pid: number }) => x.pid), [child.info.pid]);
  });

  it("--format csv has a header and one row per endpoint", () => {
    const r = procconn([
      "--format",
      "csv",
      "--fields",
      "protocol,localPort,pid,processName",
      "--local-port",
      String(child.info.tcp4),
      "--tcp",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split(/\r?\n/);
    assert.equal(lines[0], "protocol,localPort,pid,processName");
    assert.ok(lines.includes(`TCP,${child.info.tcp4},${child.info.pid},node`), r.stdout);
  });

  it("the table shows the child's row", () => {
    const r = procconn(["--pid", String(child.info.pid), "--tcp"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /PID/);
    assert.match(
      r.stdout,
      new RegExp(`127\\.0\\.0\\.1:${child.info.tcp4}\\b.*LISTEN.*${child.info.pid}`),
    );
  });

  it("a closed stdout ends quietly (procconn | head -1)", () => {
    const r = spawnSync(
      "bash",
      [
        "-c",
        `"${DENO}" run -A --no-check main.ts --format ndjson --udp | head -1; exit \${PIPESTATUS[0]}`,
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.trim().split("\n").length, 1);
    JSON.parse(r.stdout);
  });
});

describe("procconn CLI: a selection that matches nothing", () => {
  it("a name ps cut to 15 bytes gets a hint naming the whole one", {
    skip: process.platform !== "linux" && "Linux names",
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "procconn-name-"));
    const program = join(dir, "longexe_name_is_here");
    copyFileSync("/bin/sleep", program);
    chmodSync(program, 0o755);
    const child = spawn(program, ["30"], { stdio: "ignore" });
    try {
      // The process's own name, as ps shows it, is the first 15 bytes.
      for (let i = 0; i < 50; i++) {
        if (readFileSync(`/proc/${child.pid}/comm`, "utf8").trim() === "longexe_name_is") break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const r = procconn(["--name", "longexe_name_is"]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        r.stderr.includes(
          '"longexe_name_is" is the start of the name "longexe_name_is_here" as ps cuts it ' +
            '(--name "longexe_name_is*" matches it)',
        ),
        r.stderr,
      );
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("procconn CLI errors", () => {
  for (
    const [args, value] of [
      [["--state", "NOPE"], "NOPE"],
      [["--port", "70000"], "70000"],
      [["--remote", "10.0.0.0/33"], "10.0.0.0/33"],
      [["--format", "xml"], "xml"],
      [["--fields", "nope"], "nope"],
    ] as const
  ) {
    it(`${args.join(" ")} -> exit 2 and one line naming the value`, () => {
      const r = procconn([...args]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(r.stderr.includes(value), r.stderr);
      assert.match(r.stderr, /^procconn: /);
    });
  }

  it("a value with control characters is echoed escaped, on one line", () => {
    const r = procconn(["--state", "\x1b[2J\nESTAB\u202eLISHED\t\x9b"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split("\n").length, 2, r.stderr);
    assert.ok(r.stderr.includes(String.raw`"\x1b[2J\nESTAB\u202eLISHED\t\x9b"`), r.stderr);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(r.stderr.trimEnd(), /[\x00-\x1f\x7f-\x9f\u202e]/);
  });

  it("--version and --help exit 0", () => {
    const v = procconn(["--version"]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^procconn \d+\.\d+\.\d+ \(deno [\d.]+; linux x86_64\)\n$/);
    // main.ts answers the version alone itself; with other arguments the parser does, the same.
    assert.equal(procconn(["-V"]).stdout, v.stdout);
    assert.equal(procconn(["--version", "--format", "json"]).stdout, v.stdout);
    const bad = procconn(["--version", "--bogus"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown option '--bogus'/);
    const h = procconn(["--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: procconn/);
  });
});

// Run as nobody, the CLI must keep another user's listener, say why its owner is unknown, and say
// on stderr what it could not see. The checkout may sit where nobody cannot read (a 0700 temp
// dir), so the CLI is bundled into nobody's own folder first.
const canDrop = process.platform === "linux" && process.getuid?.() === 0 &&
  existsSync("/usr/bin/setpriv");

describe(
  "procconn CLI as an unprivileged user",
  { skip: !canDrop && "needs root and setpriv" },
  () => {
    it("keeps root's listener with the reason, and one stderr line says what it missed", async () => {
      const child = spawn(NODE, ["-e", LISTENER], { stdio: ["pipe", "pipe", "inherit"] });
      const home = mkdtempSync(join(tmpdir(), "procconn-nobody-"));
      try {
        const port = await new Promise<number>((resolve, reject) => {
          createInterface({ input: child.stdout! }).once(
            "line",
            (l) => resolve(JSON.parse(l).port),
          );
          child.once("exit", () => reject(new Error("the listener exited")));
        });
        chmodSync(home, 0o777);
        const bundle = join(home, "procconn.mjs");
        // The fd-scan worker (started when the system has many open files) is loaded from beside
        // the module that starts it, so it is bundled next to the CLI under its own name.
        for (
          const [entry, out] of [
            ["main.ts", bundle],
            ["ffi/linux/_scan_worker.ts", join(home, "_scan_worker.ts")],
          ]
        ) {
          const esbuild = spawnSync(join(ROOT, "node_modules/.bin/esbuild"), [
            join(ROOT, entry),
            "--bundle",
            "--format=esm",
            "--platform=node",
            `--outfile=${out}`,
            "--log-level=error",
          ], { encoding: "utf8" });
          assert.equal(esbuild.status, 0, esbuild.stderr);
          chmodSync(out, 0o644);
        }
        // The bundled CLI, run as nobody with nobody's own home and Deno cache.
        const asNobody = (args: string[]) =>
          spawnSync("/usr/bin/setpriv", [
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            DENO,
            "run",
            "-A",
            bundle,
            ...args,
          ], {
            encoding: "utf8",
            env: { PATH: process.env.PATH, HOME: home, DENO_DIR: home, NO_COLOR: "1" },
          });
        const r = asNobody(["--format", "json", "--tcp", "--local-port", String(port)]);
        assert.equal(r.status, 0, r.stderr);
        const rows = JSON.parse(r.stdout);
        assert.equal(rows.length, 1, r.stdout);
        assert.equal(rows[0].state, "LISTEN");
        assert.equal(rows[0].pid, null);
        assert.equal(rows[0].unavailable.pid, "access-denied");
        const missed =
          "procconn: the owner of 1 endpoint could not be identified (access denied): " +
          "run elevated for owners, paths, command lines and users";
        assert.equal(r.stderr.trim(), missed);
        // A snapshot says the same, after writing the row.
        const out = join(home, "snap.csv");
        const snap = asNobody(["snapshot", "--out", out, "--tcp", "--local-port", String(port)]);
        assert.equal(snap.status, 0, snap.stderr);
        assert.equal(snap.stderr.trim(), missed);
        assert.match(
          readFileSync(out, "utf8"),
          new RegExp(`,127\\.0\\.0\\.1,${port},.*access-denied`),
        );
        // Asked about root's process by pid, nobody cannot see its sockets: one line says why
        // the listing is empty, naming the process.
        const byPid = asNobody(["--pid", String(child.pid)]);
        assert.equal(byPid.status, 0, byPid.stderr);
        assert.match(byPid.stdout, /^0 endpoints$/m);
        assert.equal(
          byPid.stderr,
          `procconn: the open files of pid ${child.pid} (node) could not be read (access ` +
            "denied), so its sockets are not listed: run elevated\n",
        );
        // The tree keeps it as well, after the processes, with its reason.
        const tree = asNobody(["tree", "--tcp", "--local-port", String(port)]);
        assert.equal(tree.status, 0, tree.stderr);
        assert.equal(
          tree.stdout,
          `(no owner)\n     TCP  127.0.0.1:${port}  LISTEN  <access-denied>\n` +
            "1 endpoint in 0 processes\n",
        );
      } finally {
        child.stdin!.end();
        child.kill();
        rmSync(home, { recursive: true, force: true });
      }
    });
  },
);

const LISTENER = `
const srv = require("node:net").createServer();
srv.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: srv.address().port })));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;
