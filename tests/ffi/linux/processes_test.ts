import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  describeProcesses,
  listProcesses,
  type OwnerScan,
  scanSocketOwners,
  ScanWorker,
  startSocketOwnerScan,
} from "../../../ffi/linux/processes.ts";
import { type Libc, loadLibc } from "../../../ffi/linux/_libc.ts";
import { PidClaims } from "../../../ffi/linux/fd_scan.ts";
import { linkTarget } from "../../../ffi/linux/_link_target.ts";
import { NODE, PYTHON, start } from "./_children.ts";

const onLinux = process.platform === "linux";
const onDeno = "Deno" in globalThis;

function nativeLibc(): Libc | null {
  if (!onLinux) return null;
  try {
    return loadLibc();
  } catch {
    return null;
  }
}
const libc = nativeLibc();

/** Forks a child that exits at once and is never reaped: a zombie. */
const ZOMBIE_PY = `
import json, os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
while open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
    time.sleep(0.01)
print(json.dumps({"zombie": pid}), flush=True)
sys.stdin.read()
os.waitpid(pid, 0)
`;
import { fileURLToPath } from "node:url";

const LISTEN_JS = `
const srv = require("node:net").createServer();
srv.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: srv.address().port })));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

/**
 * Waits (up to about 2 s) until the process's name as the kernel keeps it (comm) is `expected`,
 * as it becomes once the process has made its exec; returns the name it has then.
 */
async function commBecomes(pid: number, expected: string): Promise<string> {
  const comm = () => readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  for (let i = 0; i < 100 && comm() !== expected; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return comm();
}

describe("describeProcesses on real processes", { skip: !onLinux }, () => {
  it("gives a pid that no longer exists process-exited on every field", async () => {
    const child = spawn("true");
    const pid = child.pid!;
    await new Promise((resolve) => child.once("exit", resolve));
    const info = describeProcesses([pid]).get(pid)!;
    assert.deepEqual(
      [info.name, info.path, info.parentPid, info.startTime, info.commandLine, info.userName],
      [null, null, null, null, null, null],
    );
    assert.deepEqual(info.unavailable, {
      name: "process-exited",
      path: "process-exited",
      parentPid: "process-exited",
      startTime: "process-exited",
      commandLine: "process-exited",
      userName: "process-exited",
      services: "process-exited",
    });
  });

  it("describes a kernel thread as a system process without a path", {
    skip: !existsSync("/proc/2/stat") ||
      !readFileSync("/proc/2/stat", "utf8").startsWith("2 (kthreadd)"),
  }, () => {
    const info = describeProcesses([2]).get(2)!;
    assert.equal(info.name, "kthreadd");
    assert.equal(info.path, null);
    assert.equal(info.commandLine, null);
    assert.deepEqual(info.unavailable, { path: "system-process", commandLine: "system-process" });
    assert.ok(info.startTime);
  });

  it("describes a zombie as exited for its image and command line", {
    skip: !PYTHON,
  }, async () => {
    const run = await start<{ zombie: number }>(PYTHON!, ["-c", ZOMBIE_PY]);
    try {
      const pid = run.ready.zombie;
      const info = describeProcesses([pid]).get(pid)!;
      assert.equal(info.name, basename(PYTHON!.path));
      assert.equal(info.parentPid, run.child.pid);
      assert.equal(info.path, null);
      assert.equal(info.commandLine, null);
      assert.deepEqual(info.unavailable, { path: "process-exited", commandLine: "process-exited" });
    } finally {
      await run.stop();
    }
  });

  it("names a process by its whole name when the kernel cut it at 15 bytes", async () => {
    // Three ways a long name reaches the kernel: the image itself, a link to an image (the
    // image's own name differs), and a script (the interpreter is the image).
    const dir = mkdtempSync(join(tmpdir(), "procconn-names-"));
    const sleep = spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim();
    const names = {
      image: "procconn-image-named-long",
      link: "procconn-link-named-long",
      script: "procconn-script-named-long.sh",
    };
    writeFileSync(join(dir, names.image), readFileSync(sleep));
    chmodSync(join(dir, names.image), 0o755);
    symlinkSync(sleep, join(dir, names.link));
    writeFileSync(join(dir, names.script), "#!/bin/sh\nread line\n"); // waits on its stdin
    chmodSync(join(dir, names.script), 0o755);
    // The image again, in a folder whose name holds a line break.
    mkdirSync(join(dir, "line\nbreak"));
    writeFileSync(join(dir, "line\nbreak", names.image), readFileSync(sleep));
    chmodSync(join(dir, "line\nbreak", names.image), 0o755);
    const children = [
      spawn(join(dir, names.image), ["30"]),
      spawn(join(dir, names.link), ["30"]),
      spawn(join(dir, names.script), [], { stdio: ["pipe", "ignore", "ignore"] }),
      spawn(join(dir, "line\nbreak", names.image), ["30"]),
    ];
    try {
      const pids = children.map((c) => c.pid!);
      // Until each has made its exec, its name is its parent's.
      const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      for (let i = 0; i < 100 && pids.some((p) => comm(p) === basename(process.execPath)); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const infos = describeProcesses(pids);
      const listed = new Map(listProcesses().map((p) => [p.pid, p.name]));
      for (const [i, name] of [names.image, names.link, names.script, names.image].entries()) {
        assert.equal(comm(pids[i]), name.slice(0, 15), "the kernel cut it");
        assert.equal(infos.get(pids[i])?.name, name);
        assert.equal(listed.get(pids[i]), name, "listProcesses, which --name selects by");
      }
    } finally {
      for (const c of children) c.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names a process whole when the kernel cut its name in the middle of a character", async () => {
    // "ä" is two bytes, the 15th and 16th: comm keeps the first, which reads as U+FFFD.
    const dir = mkdtempSync(join(tmpdir(), "procconn-names-"));
    const sleep = spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim();
    const name = "procconn-cuts-\u00e4d\u00e4mon";
    writeFileSync(join(dir, name), readFileSync(sleep));
    chmodSync(join(dir, name), 0o755);
    const child = spawn(join(dir, name), ["30"]);
    try {
      const pid = child.pid!;
      assert.equal(
        await commBecomes(pid, "procconn-cuts-\ufffd"),
        "procconn-cuts-\ufffd",
        "the kernel cut the name inside the \u00e4",
      );
      assert.equal(describeProcesses([pid]).get(pid)?.name, name);
      assert.equal(
        listProcesses().find((p) => p.pid === pid)?.name,
        name,
        "what --name selects by",
      );
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads an image path that is not UTF-8, each bad byte as U+FFFD", {
    skip: !PYTHON && "needs python3",
  }, async () => {
    // Python runs the copy of `sleep` at a path with the byte 0xff, which a JS string cannot
    // name; a link that cannot be read as text must not stop the listing.
    const dir = mkdtempSync(join(tmpdir(), "procconn-bytes-"));
    const sleep = spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim();
    const name = "procconn-not-utf8-named-long";
    const child = spawn(PYTHON!.path, [
      "-c",
      "import os, shutil, sys\n" +
      "path = os.fsencode(sys.argv[1]) + b'/\\xff' + os.fsencode(sys.argv[3])\n" +
      "shutil.copyfile(sys.argv[2], path)\n" +
      "os.chmod(path, 0o755)\n" +
      "os.execv(path, [path, '30'])\n",
      dir,
      sleep,
      name,
    ]);
    try {
      const pid = child.pid!;
      await commBecomes(pid, "\ufffd" + name.slice(0, 14));
      const info = describeProcesses([pid]).get(pid)!;
      assert.equal(info.path, `${dir}/\ufffd${name}`);
      assert.deepEqual(info.unavailable, {});
      assert.equal(info.name, `\ufffd${name}`, "the whole name, from the image");
      assert.equal(listProcesses().find((p) => p.pid === pid)?.name, `\ufffd${name}`);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds the sockets of a process that holds a file whose name is not UTF-8", {
    skip: !PYTHON && "needs python3",
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "procconn-bytes-"));
    const run = await start<{ inode: number }>(PYTHON!, [
      "-c",
      "import json, os, socket, sys\n" +
      "kept = open(os.fsencode(sys.argv[1]) + b'/\\xffopen', 'w')\n" +
      "os.symlink(b'/nowhere/\\xff', os.fsencode(sys.argv[1]) + b'/link')\n" +
      "s = socket.socket()\n" +
      "s.bind(('127.0.0.1', 0))\n" +
      "s.listen()\n" +
      "print(json.dumps({'inode': os.fstat(s.fileno()).st_ino}), flush=True)\n" +
      "sys.stdin.read()\n",
      dir,
    ]);
    try {
      const pid = run.child.pid!;
      // The file calls (as without native calls) and, where bound, the C library.
      for (const calls of [undefined, libc ?? undefined]) {
        const owners = scanSocketOwners({ pids: [pid] }, calls);
        assert.deepEqual(owners.byInode.get(run.ready.inode), [pid]);
      }
      // A link that cannot be read as text, without a way to read its bytes: no text. (Node
      // reads it as text itself, each bad byte as U+FFFD.)
      const link = join(dir, "link");
      assert.equal(linkTarget(link, null), "Deno" in globalThis ? null : "/nowhere/\ufffd");
      if (libc) assert.equal(linkTarget(link), "/nowhere/\ufffd");
      assert.throws(() => linkTarget(join(dir, "missing")), { code: "ENOENT" });
    } finally {
      await run.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("describes the running test itself", () => {
    const info = describeProcesses([process.pid, process.pid]).get(process.pid)!;
    assert.equal(info.parentPid, process.ppid);
    assert.equal(info.userName, spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim());
    assert.ok(Array.isArray(info.services));
  });
});

/** The Deno binary, when this test runs under Deno (the unprivileged run imports TypeScript). */
const denoPath = "Deno" in globalThis ? process.execPath : null;
const ESBUILD = fileURLToPath(new URL("../../../node_modules/.bin/esbuild", import.meta.url));
const canDrop = onLinux && process.getuid?.() === 0 && existsSync("/usr/bin/setpriv") &&
  denoPath !== null && NODE !== null;

describe("an unprivileged user", { skip: !canDrop }, () => {
  it("sees sockets of other users' processes as access-denied, not as ownerless", async () => {
    const server = await start<{ port: number }>(NODE!, ["-e", LISTEN_JS]);
    const home = mkdtempSync(join(tmpdir(), "procconn-nobody-"));
    try {
      chmodSync(home, 0o777);
      // The checkout may sit where nobody cannot read (a 0700 temp dir): bundle the engine into
      // the unprivileged user's own folder.
      const engine = join(home, "engine.mjs");
      const bundle = spawnSync(ESBUILD, [
        fileURLToPath(new URL("../../../ffi/linux/engine.ts", import.meta.url)),
        "--bundle",
        "--format=esm",
        "--platform=node",
        `--outfile=${engine}`,
        "--log-level=error",
      ], { encoding: "utf8" });
      assert.equal(bundle.status, 0, bundle.stderr);
      chmodSync(engine, 0o644);
      const script = `
        import { createLinuxSource } from ${JSON.stringify(engine)};
        const source = createLinuxSource();
        const rows = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
        const row = rows.find((r) => r.localPort === ${server.ready.port} && r.state === "LISTEN");
        const info = (await source.describeProcesses([${server.child.pid}])).get(${server.child.pid});
        console.log(JSON.stringify({ row, info }));
      `;
      const run = spawnSync(
        "/usr/bin/setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", "--", denoPath!, "eval", script],
        {
          encoding: "utf8",
          env: { PATH: process.env.PATH, HOME: home, DENO_DIR: home, NO_COLOR: "1" },
        },
      );
      assert.equal(run.status, 0, run.stderr);
      const { row, info } = JSON.parse(run.stdout);
      assert.deepEqual([row.pids, row.ownerReason], [[], "access-denied"]);
      assert.equal(info.path, null);
      assert.equal(info.unavailable.path, "access-denied");
      assert.equal(info.name, basename(NODE!.path));
      assert.equal(info.parentPid, process.pid);
      assert.equal(info.userName, "root");
    } finally {
      rmSync(home, { recursive: true, force: true });
      await server.stop();
    }
  });
});

/** A procfs tree with hand-written process files. */
function fixtureProc(): string {
  const root = mkdtempSync(join(tmpdir(), "procconn-proc-"));
  writeFileSync(join(root, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n");
  const stat = (pid: number, comm: string, ppid: number, ticks: number) =>
    `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${ticks} 0 0\n`;
  const proc = (pid: number, files: Record<string, string>, links: Record<string, string>) => {
    mkdirSync(join(root, String(pid), "fd"), { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(root, `${pid}`, name), text);
    }
    for (const [name, target] of Object.entries(links)) {
      symlinkSync(target, join(root, `${pid}`, name));
    }
  };
  proc(300, {
    stat: stat(300, "averyveryverylo", 1, 250),
    cmdline: "averyveryverylongname\0--serve\0",
    status: "Name:\taveryveryverylo\nUid:\t0\t1001\t1001\t1001\n",
    cgroup: "0::/system.slice/web.service\n",
  }, { exe: "/opt/app/averyveryverylongname (deleted)", "fd/3": "socket:[9]" });
  proc(301, {
    stat: stat(301, "some (odd) name", 300, 300),
    cmdline: "x\0",
    status: "Uid:\t4242\t4242\t4242\t4242\n",
    cgroup: "0::/user.slice/user-4242.slice/session-1.scope\n",
  }, { exe: "/usr/bin/other", "fd/0": "socket:[9]", "fd/1": "pipe:[5]" });
  // A directory that is not a process, and a process gone before its fd directory was read.
  mkdirSync(join(root, "self"));
  mkdirSync(join(root, "302"));
  const passwd = join(root, "passwd");
  writeFileSync(passwd, "root:x:0:0::/root:/bin/sh\nweb:x:1001:1001::/srv:/bin/false\n");
  return root;
}

/**
 * 60 processes 400-459; each socket is held by three neighbours, so most shared sockets have
 * owners scanned by both threads, whose pairs must merge into one ascending list.
 */
function addSharedSockets(root: string): void {
  for (let pid = 400; pid < 460; pid++) {
    mkdirSync(join(root, `${pid}`, "fd"), { recursive: true });
    for (let fd = 0; fd < 30; fd++) {
      const inode = 5000 + (pid - 400 + (fd % 3)) * 100 + Math.floor(fd / 3);
      symlinkSync(`socket:[${inode}]`, join(root, `${pid}`, "fd", `${fd}`));
    }
  }
}

/**
 * Gives the worker a head start: waits until it has taken every process (or `count` of them; a
 * loaded machine may need seconds to start a worker), or 30 s. Node has no worker: there it does
 * not wait.
 */
async function untilAllTaken(root: string, scan: OwnerScan, count?: number): Promise<void> {
  const total = count ?? readdirSync(root).filter((name) => /^\d+$/.test(name)).length;
  for (let waited = 0; onDeno && scan.taken < total && waited < 30_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("processes on a fixture procfs tree", () => {
  it("maps socket inodes to every pid holding them and skips vanished processes", () => {
    const root = fixtureProc();
    try {
      const { byInode, incomplete } = scanSocketOwners({ procRoot: root });
      assert.deepEqual([...byInode], [[9, [300, 301]]]);
      assert.equal(incomplete, false);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it("finds the same owners with getdents64 and readlinkat", {
    skip: libc === null && "no native calls here (Deno without --allow-ffi, or no koffi)",
  }, () => {
    const root = fixtureProc();
    try {
      // More fds than one getdents64 read returns, links that are not sockets among them.
      mkdirSync(join(root, "303", "fd"), { recursive: true });
      for (let fd = 0; fd < 2000; fd++) {
        symlinkSync(
          fd % 3 ? `socket:[${1000 + fd}]` : "/dev/null",
          join(root, "303", "fd", `${fd}`),
        );
      }
      const native = scanSocketOwners({ procRoot: root }, libc!);
      const plain = scanSocketOwners({ procRoot: root });
      assert.deepEqual(native, plain);
      assert.equal(native.byInode.size, 1 + 1333);
      assert.deepEqual(native.byInode.get(9), [300, 301]);
      assert.deepEqual(native.byInode.get(2999), [303]);
      assert.equal(native.byInode.has(1000), false);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it("finds the same owners when a worker thread shares the scan", {
    skip: libc === null && "no native calls here (Deno without --allow-ffi, or no koffi)",
  }, async () => {
    const root = fixtureProc();
    try {
      addSharedSockets(root);
      const expected = scanSocketOwners({ procRoot: root });
      assert.equal(expected.byInode.get(5100)?.join(), "400,401");
      assert.equal(expected.byInode.get(5200)?.join(), "400,401,402");

      // At once: the main thread may take every process before the worker starts.
      const now = startSocketOwnerScan({ procRoot: root, parallel: true }, libc!);
      assert.deepEqual(await now.finish(), expected);

      // With a head start, the worker takes every process and its pairs must reach the map.
      // The head start lasts until the worker has taken them all (a loaded machine may need
      // seconds to start a worker), or 30 s. (Node has no worker here: the whole scan runs on
      // this thread.)
      const headStart = (scan: OwnerScan) => untilAllTaken(root, scan);
      const later = startSocketOwnerScan({ procRoot: root, parallel: true }, libc!);
      await headStart(later);
      assert.deepEqual(await later.finish(), expected);
      if (onDeno) {
        assert.ok(later.helperScanned > 60, `the worker scanned ${later.helperScanned} processes`);
      } else assert.equal(later.helperScanned, 0);

      const alone = startSocketOwnerScan({ procRoot: root, parallel: false }, libc!);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(await alone.finish(), expected);
      assert.equal(alone.helperScanned, 0);

      // By default the worker is for systems with many open files; this tree has no
      // sys/fs/file-nr, so the scan stays on this thread, then with 25,000 files it is shared.
      const few = startSocketOwnerScan({ procRoot: root }, libc!);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(await few.finish(), expected);
      assert.equal(few.helperScanned, 0);
      mkdirSync(join(root, "sys", "fs"), { recursive: true });
      writeFileSync(join(root, "sys", "fs", "file-nr"), "25000\t0\t9223372036854775807\n");
      const many = startSocketOwnerScan({ procRoot: root }, libc!);
      await headStart(many);
      assert.deepEqual(await many.finish(), expected);
      if (onDeno) assert.ok(many.helperScanned > 60);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it("looks through only the processes named, a few of them on this thread", async () => {
    const root = fixtureProc();
    try {
      const one = scanSocketOwners({ procRoot: root, pids: [301] }, libc ?? undefined);
      assert.deepEqual([...one.byInode], [[9, [301]]]);
      // Many open files: a scan of every process would be shared with a worker, not a selection.
      mkdirSync(join(root, "sys", "fs"), { recursive: true });
      writeFileSync(join(root, "sys", "fs", "file-nr"), "25000\t0\t9223372036854775807\n");
      const scan = startSocketOwnerScan({ procRoot: root, pids: [300, 302] }, libc ?? undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const owners = await scan.finish();
      assert.deepEqual([...owners.byInode], [[9, [300]]]);
      assert.equal(owners.incomplete, false, "302 has no fd directory: gone, not refused");
      assert.equal(scan.helperScanned, 0);
      assert.equal(scan.shared, false);
      // Told to share, a selection is shared like a whole scan, with the same result.
      if (libc !== null) {
        addSharedSockets(root);
        const some = Array.from({ length: 30 }, (_, i) => 400 + 2 * i);
        const expected = scanSocketOwners({ procRoot: root, pids: some });
        assert.ok(expected.byInode.size > 0);
        const shared = startSocketOwnerScan({ procRoot: root, pids: some, parallel: true }, libc);
        await untilAllTaken(root, shared, some.length);
        assert.deepEqual(await shared.finish(), expected);
        if (onDeno) assert.equal(shared.shared, true);
      }
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it("keeps a given worker thread from one scan to the next, and ends it on close", {
    skip: (libc === null && "no native calls here (Deno without --allow-ffi, or no koffi)") ||
      (!onDeno && "only Deno has the scan worker"),
  }, async () => {
    const root = fixtureProc();
    const worker = new ScanWorker();
    try {
      addSharedSockets(root);
      const expected = scanSocketOwners({ procRoot: root });
      const options = { procRoot: root, parallel: true, worker };
      // At once: the main thread may take every process before the worker reads the request.
      // The worker's late (empty) reply must not be taken for the next scan's.
      assert.deepEqual(await startSocketOwnerScan(options, libc!).finish(), expected);
      for (let round = 0; round < 2; round++) {
        const scan = startSocketOwnerScan(options, libc!);
        await untilAllTaken(root, scan);
        assert.deepEqual(await scan.finish(), expected);
        assert.ok(
          scan.helperScanned > 60,
          `round ${round}: the worker scanned ${scan.helperScanned}`,
        );
        assert.equal(worker.running, true, "the worker stays for the next scan");
      }
      // A request still waiting when the worker is closed is answered as stopped, not dropped.
      const claims = PidClaims.create([400, 401]);
      const waiting = worker.request(root, claims.buffer);
      worker.close();
      const reply = await waiting;
      assert.equal(reply.ok, false);
      assert.equal(!reply.ok && reply.stopped, true);
      assert.equal(worker.running, false);
      // Closed is not broken: the next scan starts a new thread.
      const again = startSocketOwnerScan(options, libc!);
      await untilAllTaken(root, again);
      assert.deepEqual(await again.finish(), expected);
      assert.ok(again.helperScanned > 60);
    } finally {
      worker.close();
      rmSync(root, { recursive: true });
    }
  });

  it("reads name, path, parent, start time, command line, user and service", () => {
    const root = fixtureProc();
    try {
      const infos = describeProcesses([300, 301], {
        procRoot: root,
        passwdFile: join(root, "passwd"),
      });
      assert.deepEqual(infos.get(300), {
        pid: 300,
        name: "averyveryverylongname",
        path: "/opt/app/averyveryverylongname (deleted)",
        parentPid: 1,
        startTime: "2023-11-14T22:13:22.500Z",
        commandLine: "averyveryverylongname --serve",
        userName: "web",
        services: ["web.service"],
        unavailable: {},
      });
      assert.deepEqual(infos.get(301), {
        pid: 301,
        name: "some (odd) name",
        path: "/usr/bin/other",
        parentPid: 300,
        startTime: "2023-11-14T22:13:23.000Z",
        commandLine: "x",
        userName: "4242",
        services: [],
        unavailable: {},
      });
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it("tells a process that is exiting (PF_EXITING) from a kernel thread and a missing image", () => {
    // While a process frees a large heap on its way out, its state still reads R but its memory
    // (command line, image link) is gone; only PF_EXITING (0x4) in its flags says so.
    const root = mkdtempSync(join(tmpdir(), "procconn-proc-"));
    try {
      writeFileSync(join(root, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n");
      const add = (pid: number, flags: number, cmdline: string) => {
        mkdirSync(join(root, `${pid}`));
        writeFileSync(
          join(root, `${pid}`, "stat"),
          `${pid} (worker) R 1 ${pid} ${pid} 0 -1 ${flags} 0 0 0 0 0 0 0 0 20 0 1 0 250 0 0\n`,
        );
        writeFileSync(join(root, `${pid}`, "cmdline"), cmdline);
        writeFileSync(join(root, `${pid}`, "status"), "Uid:\t0\t0\t0\t0\n");
        writeFileSync(join(root, `${pid}`, "cgroup"), "0::/user.slice\n");
      };
      add(310, 0x400104, ""); // exiting: memory gone
      add(311, 0x400104, "worker\0"); // exiting: command line read before the image link went
      add(312, 0x200040, ""); // a kernel thread
      add(313, 0x400100, "worker\0"); // running, image link missing
      const infos = describeProcesses([310, 311, 312, 313], { procRoot: root });
      const unavailable = (pid: number) => infos.get(pid)!.unavailable;
      assert.deepEqual(unavailable(310), { path: "process-exited", commandLine: "process-exited" });
      assert.deepEqual(unavailable(311), { path: "process-exited" });
      assert.deepEqual(unavailable(312), { path: "system-process", commandLine: "system-process" });
      assert.deepEqual(unavailable(313), { path: "not-found" });
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});
