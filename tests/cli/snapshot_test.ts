// procconn snapshot: whole snapshots or none, in CSV and NDJSON, appended under a lock.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "../../cli/args.ts";
import {
  renderSnapshot,
  runSnapshot,
  type SnapshotDeps,
  snapshotFormat,
  type SnapshotFs,
} from "../../cli/snapshot.ts";
import { CONNECTION_FIELDS } from "../../core/record.ts";
import type { RawSocket, SocketSource } from "../../core/source.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = process.execPath;

const work = nodeFs.mkdtempSync(join(tmpdir(), "procconn-snapshot-"));
after(() => nodeFs.rmSync(work, { recursive: true, force: true }));
let fileNumber = 0;
/** A fresh path in the scratch directory. */
const fresh = (ext = "csv") => join(work, `snap${++fileNumber}.${ext}`);

/** A backend with `count` listening sockets of pid 42 on ports from 1000. */
function fakeSource(count = 3): SocketSource {
  const sockets: RawSocket[] = Array.from({ length: count }, (_, i) => ({
    protocol: "TCP",
    family: "IPv4",
    localAddress: "127.0.0.1",
    localPort: 1000 + i,
    remoteAddress: null,
    remotePort: null,
    state: "LISTEN",
    pids: [42],
  }));
  return {
    name: "fake",
    listSockets: () => Promise.resolve(structuredClone(sockets)),
    describeProcesses: (pids) =>
      Promise.resolve(
        new Map([...pids].map((pid) => [pid, {
          pid,
          name: 'web, "quoted"',
          path: "/srv/web",
          parentPid: 1,
          startTime: "2026-01-01T00:00:00.000Z",
          unavailable: {},
        }])),
      ),
  };
}

function deps(over: Partial<SnapshotDeps> & { errors?: string[] } = {}): SnapshotDeps {
  const errors = over.errors ?? [];
  return {
    source: fakeSource(),
    hostName: "host-a",
    now: () => new Date("2026-02-03T04:05:06.007Z"),
    reportError: (line) => errors.push(line),
    ...over,
  };
}

const snapshot = (args: string[], d: SnapshotDeps) =>
  runSnapshot(parseArgs(["snapshot", ...args]), d);
const read = (path: string) => nodeFs.readFileSync(path, "utf8");
const crlfLines = (text: string) => text.split("\r\n").slice(0, -1);

/**
 * The start of a probe script: `runSnapshot` and `parseArgs` imported, and `source`, a backend
 * of `count` TCP listeners without owners.
 */
function probeHead(count: number): string {
  return `import { runSnapshot } from ${
    JSON.stringify(new URL("cli/snapshot.ts", "file://" + ROOT).href)
  };
import { parseArgs } from ${JSON.stringify(new URL("cli/args.ts", "file://" + ROOT).href)};
const sockets = Array.from({ length: ${count} }, (_, i) => ({ protocol: "TCP", family: "IPv4",
  localAddress: "127.0.0.1", localPort: i, remoteAddress: null, remotePort: null,
  state: "LISTEN", pids: [] }));
const source = { name: "probe", listSockets: () => Promise.resolve(sockets),
  describeProcesses: () => Promise.resolve(new Map()) };
`;
}

/** Runs a probe script (written into the work folder) under Deno with the project's config. */
function runProbe(
  probe: string,
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(DENO, [
      "run",
      "-A",
      "--no-check",
      "--config",
      join(ROOT, "deno.json"),
      probe,
      ...args,
    ], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe("renderSnapshot", () => {
  it("leads every row with snapshotTime and hostName, written by the CSV formatter", async () => {
    const { listConnections } = await import("../../core/list.ts");
    const rows = await listConnections({ source: fakeSource(2) });
    const text = renderSnapshot(rows, {
      format: "csv",
      fields: ["localPort", "processName"],
      time: new Date("2026-02-03T04:05:06.007Z"),
      hostName: "host-a",
    });
    assert.equal(text.header, "snapshotTime,hostName,localPort,processName\r\n");
    assert.equal(
      text.body,
      '2026-02-03T04:05:06.007Z,host-a,1000,"web, ""quoted"""\r\n' +
        '2026-02-03T04:05:06.007Z,host-a,1001,"web, ""quoted"""\r\n',
    );
  });
});

describe("runSnapshot", () => {
  it("--append: two snapshots give one header and two complete blocks with their own time", async () => {
    const path = fresh();
    let t = Date.parse("2026-02-03T04:05:06.007Z");
    const d = deps({ now: () => new Date(t += 60_000) });
    assert.equal(await snapshot(["--out", path, "--append"], d), 0);
    assert.equal(await snapshot(["--out", path, "--append"], d), 0);
    const lines = crlfLines(read(path));
    assert.equal(lines[0], ["snapshotTime", "hostName", ...CONNECTION_FIELDS].join(","));
    assert.equal(lines.filter((l) => l.startsWith("snapshotTime,")).length, 1);
    const times = lines.slice(1).map((l) => l.split(",")[0]);
    assert.deepEqual(times, [
      ...Array(3).fill("2026-02-03T04:06:06.007Z"),
      ...Array(3).fill("2026-02-03T04:07:06.007Z"),
    ]);
    assert.ok(lines.slice(1).every((l) => l.split(",")[1] === "host-a"));
    assert.equal(nodeFs.existsSync(path + ".lock"), false, "the lock is released");
  });

  it("--append --format ndjson: one object per line, no header", async () => {
    const path = fresh("ndjson");
    const d = deps();
    await snapshot(["--out", path, "--append", "--format", "ndjson"], d);
    await snapshot(["--out", path, "--append", "--format", "ndjson"], d);
    const objects = read(path).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(objects.length, 6);
    assert.deepEqual(Object.keys(objects[0]).slice(0, 3), ["snapshotTime", "hostName", "protocol"]);
    assert.equal(objects[5].processName, 'web, "quoted"');
  });

  it("--append to an empty file writes the header", async () => {
    const path = fresh();
    nodeFs.writeFileSync(path, "");
    await snapshot(["--out", path, "--append", "--fields", "localPort"], deps());
    assert.equal(
      read(path),
      "snapshotTime,hostName,localPort\r\n" +
        ["1000", "1001", "1002"].map((p) => `2026-02-03T04:05:06.007Z,host-a,${p}\r\n`).join(""),
    );
  });

  it("--append to a file of blank lines (and a byte order mark) writes the header in their place", async () => {
    const rows = ["1000", "1001", "1002"].map((p) => `2026-02-03T04:05:06.007Z,host-a,${p}\r\n`);
    for (
      const [blank, kept] of [["\n", ""], ["\r\n", ""], ["\ufeff", "\ufeff"], [
        "\ufeff\r\n \t\n",
        "\ufeff",
      ]]
    ) {
      const path = fresh();
      nodeFs.writeFileSync(path, blank);
      const errors: string[] = [];
      assert.equal(
        await snapshot(["--out", path, "--append", "--fields", "localPort"], deps({ errors })),
        0,
        JSON.stringify(errors),
      );
      assert.equal(read(path), kept + "snapshotTime,hostName,localPort\r\n" + rows.join(""));
    }
    // NDJSON: the byte order mark goes too, which a JSON reader would refuse.
    const path = fresh("ndjson");
    nodeFs.writeFileSync(path, "\ufeff\n");
    assert.equal(await snapshot(["--out", path, "--append", "--fields", "localPort"], deps()), 0);
    assert.deepEqual(
      read(path).split("\n").slice(0, -1).map((line) => JSON.parse(line).localPort),
      [1000, 1001, 1002],
    );
    // A blank line before content is content: the header check still applies.
    const other = fresh();
    nodeFs.writeFileSync(other, "\r\nsomething,else\r\n");
    const errors: string[] = [];
    assert.equal(await snapshot(["--out", other, "--append"], deps({ errors })), 1);
    assert.match(errors[0], /its header "" differs/);
  });

  it("--append starts on a new line when the file does not end with one", async () => {
    const path = fresh("ndjson");
    nodeFs.writeFileSync(
      path,
      '{"snapshotTime":"2026-01-01T00:00:00.000Z","hostName":"h","pid":1}',
    );
    await snapshot(["--out", path, "--append", "--format", "ndjson", "--fields", "pid"], deps());
    assert.equal(
      read(path).split("\n")[1],
      '{"snapshotTime":"2026-02-03T04:05:06.007Z",' +
        '"hostName":"host-a","pid":42}',
    );
  });

  it("--append refuses a CSV file with other columns and leaves it alone", async () => {
    const path = fresh();
    nodeFs.writeFileSync(path, "a,b\r\n1,2\r\n");
    const errors: string[] = [];
    const code = await snapshot(["--out", path, "--append"], deps({ errors }));
    assert.equal(code, 1);
    assert.equal(read(path), "a,b\r\n1,2\r\n");
    assert.equal(errors.length, 1);
    assert.ok(errors[0].includes(`"${path}"`), errors[0]);
    assert.match(errors[0], /header "a,b" differs/);
  });

  it("--append to CSV names an NDJSON file as such, and shows at most 100 characters of its line", async () => {
    const refused = async (content: string) => {
      const path = fresh();
      nodeFs.writeFileSync(path, content);
      const errors: string[] = [];
      assert.equal(await snapshot(["--out", path, "--append"], deps({ errors })), 1);
      assert.equal(read(path), content);
      assert.equal(errors.length, 1);
      return errors[0];
    };
    const record = JSON.stringify({ snapshotTime: "t", hostName: "h", x: "y".repeat(5000) });
    const ndjson = await refused(record + "\n");
    assert.match(
      ndjson,
      /its first line "\{"snapshotTime":"t",.*\.\.\." is an NDJSON record, not a CSV header/,
    );
    assert.ok(ndjson.length < 400, `${ndjson.length} characters`);
    const wide = await refused(`a,${"x".repeat(5000)}\r\n1,2\r\n`);
    assert.match(wide, /its header "a,x{98}\.\.\." differs from this snapshot's "snapshotTime,/);
    assert.ok(wide.length < 800, `${wide.length} characters`);
  });

  it("--append takes a header with the same columns however it is quoted (Export-Csv quotes all)", async () => {
    const path = fresh();
    const header = '"snapshotTime","hostName","pid"\r\n';
    nodeFs.writeFileSync(path, header);
    const errors: string[] = [];
    const code = await snapshot(["--out", path, "--append", "--fields", "pid"], deps({ errors }));
    assert.deepEqual(errors, []);
    assert.equal(code, 0);
    const lines = read(path).split("\r\n");
    assert.equal(lines[0], header.trimEnd(), "the header as it was");
    assert.ok(lines.length > 2, "rows appended");
    // Other columns, however quoted, are still refused.
    const other = fresh();
    nodeFs.writeFileSync(other, '"snapshotTime","hostName","ppid"\r\n');
    assert.equal(await snapshot(["--out", other, "--append", "--fields", "pid"], deps({})), 1);
  });

  it("--append leaves a folder in the lock file's place alone, and says so", async () => {
    const path = fresh();
    nodeFs.writeFileSync(path, "");
    nodeFs.mkdirSync(`${path}.lock`);
    // Old enough to count as an abandoned lock, were it one.
    nodeFs.utimesSync(`${path}.lock`, new Date(0), new Date(0));
    const errors: string[] = [];
    const code = await snapshot(["--out", path, "--append"], deps({ errors }));
    assert.equal(code, 1);
    assert.ok(nodeFs.statSync(`${path}.lock`).isDirectory(), "the folder is still there");
    assert.equal(read(path), "");
    assert.equal(errors.length, 1);
    assert.match(errors[0], /\.lock" is in the way of the append lock and is not a file/);
  });

  it("--append --format ndjson refuses a CSV file, or records with other fields, and leaves it alone", async () => {
    const refused = async (content: string, args: string[], pattern: RegExp) => {
      const path = fresh("ndjson");
      nodeFs.writeFileSync(path, content);
      const errors: string[] = [];
      const code = await snapshot(["--out", path, "--append", ...args], deps({ errors }));
      assert.equal(code, 1);
      assert.equal(read(path), content);
      assert.equal(errors.length, 1);
      assert.match(errors[0], pattern);
    };
    await refused(
      "snapshotTime,hostName,pid\r\n2026-01-01T00:00:00.000Z,h,1\r\n",
      ["--format", "ndjson", "--fields", "pid"],
      /its first line "snapshotTime,hostName,pid" is not an NDJSON record: append in the same format/,
    );
    await refused(
      '{"snapshotTime":"2026-01-01T00:00:00.000Z","hostName":"h","pid":1}\n',
      ["--fields", "pid,localPort"],
      /its records have the fields "snapshotTime,hostName,pid" and this snapshot's "snapshotTime,hostName,pid,localPort": append with the same fields and format/,
    );
    await refused("[1,2]\n", ["--fields", "pid"], /"\[1,2\]" is not an NDJSON record/);
    // A first record too long to read whole is not checked: the snapshot is added.
    const path = fresh("ndjson");
    const long = JSON.stringify({
      snapshotTime: "t",
      hostName: "h",
      pid: 1,
      x: "y".repeat(1 << 20),
    });
    nodeFs.writeFileSync(path, long + "\n");
    assert.equal(await snapshot(["--out", path, "--append", "--fields", "pid"], deps()), 0);
    assert.equal(read(path).trimEnd().split("\n").length, 4);
  });

  it("without --append: replaces the file whole, keeps its permissions, leaves no temporary file", async () => {
    const dir = nodeFs.mkdtempSync(join(work, "replace-"));
    const path = join(dir, "conns.csv");
    nodeFs.writeFileSync(path, "old content\n");
    nodeFs.chmodSync(path, 0o640);
    assert.equal(await snapshot(["--out", path, "--fields", "localPort"], deps()), 0);
    assert.equal(read(path).split("\r\n")[0], "snapshotTime,hostName,localPort");
    assert.equal(read(path).includes("old content"), false);
    assert.equal(nodeFs.statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(nodeFs.readdirSync(dir), ["conns.csv"]);
  });

  it("without --append, as root: the new file keeps the old one's owner and group", {
    skip: process.getuid?.() !== 0 && "only root may give a file to another user",
  }, async () => {
    const dir = nodeFs.mkdtempSync(join(work, "owner-"));
    const path = join(dir, "conns.csv");
    nodeFs.writeFileSync(path, "old content\n");
    nodeFs.chownSync(path, 65534, 65533);
    nodeFs.chmodSync(path, 0o604);
    assert.equal(await snapshot(["--out", path, "--fields", "localPort"], deps()), 0);
    const stat = nodeFs.statSync(path);
    assert.equal(read(path).includes("old content"), false);
    assert.deepEqual([stat.uid, stat.gid, stat.mode & 0o777], [65534, 65533, 0o604]);
  });

  it("a missing directory: exit 1, the message names the file", async () => {
    for (const append of [[], ["--append"]]) {
      const path = join(work, "no-such-dir", "conns.csv");
      const errors: string[] = [];
      assert.equal(await snapshot(["--out", path, ...append], deps({ errors })), 1);
      assert.equal(errors.length, 1);
      assert.match(errors[0], /^procconn: Cannot (write|append) the snapshot to ".*no-such-dir/);
    }
  });

  it("writes through a symbolic link instead of replacing the link", async () => {
    const dir = nodeFs.mkdtempSync(join(work, "link-"));
    nodeFs.writeFileSync(join(dir, "real.csv"), "old\n");
    nodeFs.symlinkSync("real.csv", join(dir, "link.csv"));
    assert.equal(await snapshot(["--out", join(dir, "link.csv"), "--fields", "pid"], deps()), 0);
    assert.equal(nodeFs.lstatSync(join(dir, "link.csv")).isSymbolicLink(), true);
    assert.match(read(join(dir, "real.csv")), /^snapshotTime,hostName,pid\r\n/);
  });

  it("leaves a link alone whose target does not resolve (a dangling link, /dev/stdout)", async () => {
    const dir = nodeFs.mkdtempSync(join(work, "dangling-"));
    // A link to a file that does not exist, and one to what /dev/stdout names: a descriptor
    // of this process that is no file (fd 2000 is not open, so it does not resolve either).
    nodeFs.symlinkSync("nothere.csv", join(dir, "d.csv"));
    nodeFs.symlinkSync("/proc/self/fd/2000", join(dir, "so.csv"));
    for (const name of ["d.csv", "so.csv"]) {
      for (const append of [[], ["--append"]]) {
        const errors: string[] = [];
        const path = join(dir, name);
        assert.equal(await snapshot(["--out", path, ...append], deps({ errors })), 1);
        assert.equal(errors.length, 1, errors.join("\n"));
        assert.match(errors[0], /^procconn: Cannot (write|append) the snapshot to ".*":/);
        assert.equal(nodeFs.lstatSync(path).isSymbolicLink(), true, `${name} was replaced`);
      }
    }
    assert.deepEqual(nodeFs.readdirSync(dir).sort(), ["d.csv", "so.csv"]);
  });

  it("refuses a target that is not a regular file", async () => {
    for (const append of [[], ["--append"]]) {
      const errors: string[] = [];
      assert.equal(await snapshot(["--out", work, ...append], deps({ errors })), 1);
      assert.match(errors[0], /snapshot to ".*": it is not a regular file$/);
    }
  });

  it("rejects an output format other than csv and ndjson", async () => {
    const request = {
      ...parseArgs(["snapshot", "--out", fresh()]),
      format: "table" as const,
      formatGiven: true,
    };
    await assert.rejects(
      runSnapshot(request, deps()),
      /snapshot writes csv or ndjson, not "table"/,
    );
  });

  it("without --format, a .ndjson or .jsonl file gets NDJSON and any other CSV", async () => {
    for (const extension of ["ndjson", "JSONL"]) {
      const path = fresh(extension);
      assert.equal(await snapshot(["--out", path], deps()), 0);
      const objects = read(path).trimEnd().split("\n").map((l) => JSON.parse(l));
      assert.equal(objects.length, 3, extension);
    }
    for (const name of ["conns.csv", "conns.log", "conns", "dir.ndjson/conns"]) {
      assert.equal(snapshotFormat(name, { format: "csv", formatGiven: false }), "csv", name);
    }
  });

  it("--format wins over the file's name", async () => {
    const path = fresh("ndjson");
    assert.equal(await snapshot(["--out", path, "--format", "csv"], deps()), 0);
    assert.match(read(path), /^snapshotTime,hostName,protocol,/);
  });

  it("refuses a .json file without --format, naming it, and writes nothing", async () => {
    const path = fresh("json");
    await assert.rejects(
      snapshot(["--out", path], deps()),
      /snapshot writes csv or ndjson, not JSON \(".*\.json"\): name the file \.ndjson or \.csv/,
    );
    assert.equal(nodeFs.existsSync(path), false);
    assert.equal(await snapshot(["--out", path, "--format", "ndjson"], deps()), 0);
    assert.equal(read(path).trimEnd().split("\n").length, 3);
  });
});

/** node:fs, except that writes to `target` fail as chosen. */
function failingFs(
  target: string,
  fail: "half-then-error" | "wrong-bytes" | "rename",
): SnapshotFs {
  const targetFds = new Set<number>();
  return {
    ...nodeFs,
    openSync(path, flags, mode) {
      const fd = nodeFs.openSync(path, flags, mode);
      if (path === target || (path.endsWith(".tmp") && fail !== "rename")) targetFds.add(fd);
      return fd;
    },
    closeSync(fd) {
      // A closed fd's number is given to the next file opened.
      targetFds.delete(fd);
      nodeFs.closeSync(fd);
    },
    writeSync(fd, buffer, offset, length, position) {
      if (!targetFds.has(fd)) return nodeFs.writeSync(fd, buffer, offset, length, position);
      if (fail === "wrong-bytes") {
        const copy = buffer.slice();
        copy[offset + length - 2] ^= 0x20;
        return nodeFs.writeSync(fd, copy, offset, length, position);
      }
      nodeFs.writeSync(fd, buffer, offset, Math.floor(length / 2), position);
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    },
    renameSync(from, to) {
      if (fail === "rename") {
        throw Object.assign(new Error(`EACCES: permission denied, rename '${from}'`), {
          code: "EACCES",
        });
      }
      nodeFs.renameSync(from, to);
    },
  };
}

describe("snapshot --check", () => {
  /** Deps whose source fails the test if a listing is asked for. */
  const checkDeps = (errors: string[]) =>
    deps({
      errors,
      source: {
        name: "unasked",
        listSockets: () => Promise.reject(new Error("--check listed the sockets")),
        describeProcesses: () => Promise.reject(new Error("--check described processes")),
      },
    });
  const leftBeside = (path: string) =>
    nodeFs.readdirSync(join(path, "..")).filter((name) => name.startsWith(path.split("/").pop()!));

  it("passes a file a snapshot can be added to, and lists and writes nothing", async () => {
    const cases: [string, string[]][] = [
      ["csv", []],
      ["ndjson", []],
      ["csv", ["--fields", "pid,localPort"]],
    ];
    for (const [ext, args] of cases) {
      const path = fresh(ext);
      assert.equal(await snapshot(["--out", path, "--append", ...args], deps()), 0);
      const before = read(path);
      const errors: string[] = [];
      const code = await snapshot(
        ["--out", path, "--append", "--check", ...args],
        checkDeps(errors),
      );
      assert.deepEqual([code, errors], [0, []], `${ext} ${args}`);
      assert.equal(read(path), before);
      assert.deepEqual(leftBeside(path), [path.split("/").pop()], "no lock or record left");
    }
    // A file not there yet (in a folder that is), empty, or of blank lines: an append makes it.
    const missing = fresh();
    assert.equal(await snapshot(["--out", missing, "--append", "--check"], checkDeps([])), 0);
    assert.equal(nodeFs.existsSync(missing), false, "--check makes no file");
    for (const content of ["", "\r\n\r\n"]) {
      const path = fresh();
      nodeFs.writeFileSync(path, content);
      assert.equal(await snapshot(["--out", path, "--append", "--check"], checkDeps([])), 0);
    }
  });

  it("refuses what the write would refuse, in the same words, and leaves the file alone", async () => {
    const cases: { content: string | null; ext: string; args: string[] }[] = [
      { content: "a,b\r\n1,2\r\n", ext: "csv", args: ["--append"] },
      { content: '{"snapshotTime":"t","hostName":"h","pid":1}\n', ext: "csv", args: ["--append"] },
      { content: "snapshotTime,hostName,pid\r\n", ext: "ndjson", args: ["--append"] },
      {
        content: '{"snapshotTime":"t","hostName":"h","pid":1}\n',
        ext: "ndjson",
        args: ["--append", "--fields", "pid,localPort"],
      },
      { content: null, ext: "csv", args: ["--append"] }, // the folder is missing
      { content: null, ext: "csv", args: [] },
    ];
    for (const { content, ext, args } of cases) {
      const path = content === null ? join(work, "no-such-dir", `conns.${ext}`) : fresh(ext);
      if (content !== null) nodeFs.writeFileSync(path, content);
      const checked: string[] = [];
      const code = await snapshot(["--out", path, "--check", ...args], checkDeps(checked));
      const written: string[] = [];
      assert.equal(await snapshot(["--out", path, ...args], deps({ errors: written })), 1);
      assert.deepEqual([code, checked], [1, written], `${content} ${args}`);
      if (content !== null) assert.equal(read(path), content);
    }
  });

  it("refuses a folder in the file's place, with or without --append", async () => {
    for (const append of [[], ["--append"]]) {
      const errors: string[] = [];
      const code = await snapshot(["--out", work, "--check", ...append], checkDeps(errors));
      assert.equal(code, 1);
      assert.match(
        errors[0],
        /^procconn: Cannot (write|append) the snapshot to ".*": it is not a regular file$/,
      );
    }
  });
});

describe("runSnapshot failures keep the file intact", () => {
  for (const fail of ["half-then-error", "wrong-bytes"] as const) {
    it(`--append, ${fail}: exit 1, the earlier content byte for byte, the lock released`, async () => {
      const path = fresh();
      await snapshot(["--out", path, "--append"], deps());
      const before = nodeFs.readFileSync(path);
      const errors: string[] = [];
      const code = await snapshot(
        ["--out", path, "--append"],
        deps({ errors, source: fakeSource(500), fs: failingFs(path, fail) }),
      );
      assert.equal(code, 1);
      assert.deepEqual(nodeFs.readFileSync(path), before);
      assert.equal(errors.length, 1);
      assert.ok(errors[0].startsWith(`procconn: Cannot append the snapshot to "${path}": `));
      assert.match(errors[0], fail === "wrong-bytes" ? /other bytes/ : /ENOSPC/);
      assert.equal(nodeFs.existsSync(path + ".lock"), false);
    });
  }

  it("--append to a file that was not there, disk full: exit 1, no file left behind", async () => {
    const dir = nodeFs.mkdtempSync(join(work, "fail-"));
    const path = join(dir, "conns.ndjson");
    const errors: string[] = [];
    const fs = failingFs(path, "half-then-error");
    assert.equal(await snapshot(["--out", path, "--append"], deps({ errors, fs })), 1);
    assert.match(errors[0], /ENOSPC/);
    assert.deepEqual(nodeFs.readdirSync(dir), [], "neither the file nor its lock or record");
  });

  it("--append, the lock cannot be written (disk full): exit 1, no lock left behind", async () => {
    const path = fresh();
    await snapshot(["--out", path, "--append"], deps());
    const before = nodeFs.readFileSync(path);
    const errors: string[] = [];
    const fs = failingFs(path + ".lock", "half-then-error");
    assert.equal(await snapshot(["--out", path, "--append"], deps({ errors, fs })), 1);
    assert.match(errors[0], /ENOSPC/);
    assert.deepEqual(nodeFs.readFileSync(path), before);
    assert.equal(
      nodeFs.existsSync(path + ".lock"),
      false,
      "an empty lock would hold up the next run",
    );
  });

  for (const fail of ["half-then-error", "rename"] as const) {
    it(`replacing, ${fail}: exit 1, the old file untouched, no temporary file left`, async () => {
      const dir = nodeFs.mkdtempSync(join(work, "fail-"));
      const path = join(dir, "conns.csv");
      nodeFs.writeFileSync(path, "old,content\r\n");
      const errors: string[] = [];
      const code = await snapshot(["--out", path], deps({ errors, fs: failingFs(path, fail) }));
      assert.equal(code, 1);
      assert.equal(read(path), "old,content\r\n");
      assert.deepEqual(nodeFs.readdirSync(dir), ["conns.csv"]);
      assert.ok(errors[0].startsWith(`procconn: Cannot write the snapshot to "${path}": `));
      if (fail === "rename") {
        assert.match(errors[0], /: no permission to replace the existing file \(EACCES\)$/);
      }
    });
  }

  it("replacing in a sticky folder: says that only the file's owner may replace it", async () => {
    // As /tmp: anyone may create a file there, but replace only their own.
    const dir = nodeFs.mkdtempSync(join(work, "sticky-"));
    nodeFs.chmodSync(dir, 0o1777);
    const path = join(dir, "conns.csv");
    nodeFs.writeFileSync(path, "old\r\n");
    const errors: string[] = [];
    assert.equal(
      await snapshot(["--out", path], deps({ errors, fs: failingFs(path, "rename") })),
      1,
    );
    assert.match(
      errors[0],
      new RegExp(`no permission to replace the existing file: in "${dir}" only a file's owner`),
    );
    assert.equal(read(path), "old\r\n");
  });
});

describe("a file that cannot be written", () => {
  // Real folders and files; a refused permission is scripted, since the tests run as root.
  const denied = (code: string): SnapshotFs => ({
    ...nodeFs,
    realpathSync: () => {
      throw Object.assign(new Error(`${code}: permission denied, lstat`), { code });
    },
    statSync: () => {
      throw Object.assign(new Error(`${code}: permission denied, stat`), { code });
    },
  });
  for (const append of [false, true]) {
    const verb = append ? "append the snapshot to" : "write the snapshot to";
    const args = (path: string) => ["--out", path, ...(append ? ["--append"] : [])];

    it(`${append ? "--append" : "replacing"}: names the folder at fault, not a file made in it`, async () => {
      const missing = join(work, "no-such-folder", "conns.csv");
      const aFile = fresh("txt");
      nodeFs.writeFileSync(aFile, "");
      const cases: [string, SnapshotFs | undefined, string][] = [
        [
          missing,
          undefined,
          `the folder "${join(work, "no-such-folder")}" does not exist (ENOENT)`,
        ],
        [join(aFile, "conns.csv"), undefined, `"${aFile}" is not a folder (ENOTDIR)`],
        [join(work, "x.csv"), denied("EACCES"), `no permission to reach "${work}" (EACCES)`],
        [work, undefined, "it is not a regular file"],
      ];
      if (process.platform === "linux") {
        // A folder that exists, on a file system that answers ENOENT for a new file.
        cases.push([
          "/proc/procconn-snapshot.csv",
          undefined,
          `"/proc" does not let files be created in it (ENOENT)`,
        ]);
      }
      for (const [path, fs, reason] of cases) {
        const errors: string[] = [];
        assert.equal(await snapshot(args(path), deps({ errors, fs })), 1, path);
        assert.deepEqual(errors, [`procconn: Cannot ${verb} "${path}": ${reason}`]);
      }
      assert.equal(nodeFs.existsSync(join(work, "no-such-folder")), false);
    });
  }

  it("an existing file this user may not write is left as it is: not replaced, not appended to", async () => {
    // As a read-only file of another user in a folder open to all: the folder would let a rename
    // replace it, as Export-Csv and an editor do not.
    for (const append of [false, true]) {
      const dir = nodeFs.mkdtempSync(join(work, "read-only-"));
      const path = join(dir, "conns.csv");
      nodeFs.writeFileSync(path, "old\r\n");
      const real = nodeFs.realpathSync(path);
      const fs: SnapshotFs = {
        ...nodeFs,
        openSync: (file: string, flags: string, mode?: number) => {
          if ((file === path || file === real) && flags !== "r") {
            throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), {
              code: "EACCES",
            });
          }
          return nodeFs.openSync(file, flags, mode);
        },
      };
      const errors: string[] = [];
      const args = ["--out", path, ...(append ? ["--append"] : [])];
      assert.equal(await snapshot(args, deps({ errors, fs })), 1);
      const verb = append ? "append the snapshot to" : "write the snapshot to";
      assert.deepEqual(errors, [
        `procconn: Cannot ${verb} "${path}": no permission to write to the file (EACCES)`,
      ]);
      assert.equal(read(path), "old\r\n");
      assert.deepEqual(nodeFs.readdirSync(dir), ["conns.csv"]);
    }
  });

  it("a refused rename names the folder", async () => {
    const dir = nodeFs.mkdtempSync(join(work, "rename-"));
    const path = join(dir, "conns.csv");
    const errors: string[] = [];
    await snapshot(["--out", path], deps({ errors, fs: failingFs(path, "rename") }));
    assert.deepEqual(errors, [
      `procconn: Cannot write the snapshot to "${path}": ` +
      `no permission to create files in "${dir}" (EACCES)`,
    ]);
  });
});

describe("the append lock", () => {
  const lockBody = (pid: number, host: string) =>
    JSON.stringify({ pid, host, token: "someone-else" }) + "\n";

  it("waits while another process holds the lock, and gives up after the timeout", async () => {
    const path = fresh();
    nodeFs.writeFileSync(
      path + ".lock",
      lockBody(process.pid, (await import("node:os")).hostname()),
    );
    const errors: string[] = [];
    const started = Date.now();
    const code = await snapshot(
      ["--out", path, "--append"],
      deps({ errors, lock: { timeoutMs: 300, retryMs: 10 } }),
    );
    assert.equal(code, 1);
    assert.ok(Date.now() - started >= 300);
    assert.equal(nodeFs.existsSync(path), false, "nothing written without the lock");
    assert.match(errors[0], /lock file ".*\.lock" was held/);
    assert.equal(nodeFs.existsSync(path + ".lock"), true, "someone else's lock is left alone");
  });

  it("writes as soon as the holder releases the lock", async () => {
    const path = fresh();
    const { hostname } = await import("node:os");
    nodeFs.writeFileSync(path + ".lock", lockBody(process.pid, hostname()));
    const pending = snapshot(["--out", path, "--append"], deps({ lock: { retryMs: 10 } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(nodeFs.existsSync(path), false, "still waiting");
    nodeFs.unlinkSync(path + ".lock");
    assert.equal(await pending, 0);
    assert.equal(crlfLines(read(path)).length, 4);
  });

  it("takes over a lock older than staleMs", async () => {
    const path = fresh();
    nodeFs.writeFileSync(path + ".lock", lockBody(process.pid, "another-host"));
    const old = new Date(Date.now() - 120_000);
    nodeFs.utimesSync(path + ".lock", old, old);
    assert.equal(
      await snapshot(["--out", path, "--append"], deps({ lock: { staleMs: 60_000 } })),
      0,
    );
    assert.equal(nodeFs.existsSync(path + ".lock"), false);
    assert.equal(nodeFs.readdirSync(work).some((f) => f.includes(".abandoned")), false);
  });

  it("takes over a lock that has named no holder for 5 s, and waits on a fresh one", async () => {
    const path = fresh();
    nodeFs.writeFileSync(path + ".lock", "");
    const blank = new Date(Date.now() - 6_000);
    nodeFs.utimesSync(path + ".lock", blank, blank);
    const lock = { staleMs: 60_000, timeoutMs: 2000, retryMs: 10 };
    assert.equal(await snapshot(["--out", path, "--append"], deps({ lock })), 0);
    assert.equal(nodeFs.existsSync(path + ".lock"), false);
    // One just created is being written: left alone.
    nodeFs.writeFileSync(path + ".lock", "");
    const errors: string[] = [];
    const short = { ...lock, timeoutMs: 200 };
    assert.equal(await snapshot(["--out", path, "--append"], deps({ errors, lock: short })), 1);
    assert.match(errors[0], /was held/);
    nodeFs.unlinkSync(path + ".lock");
  });

  it("takes over at once a lock of a process of this host that has exited", async () => {
    const deadPid = spawnSync(process.execPath, ["--version"]).pid;
    assert.ok(deadPid > 0);
    const path = fresh();
    const { hostname } = await import("node:os");
    nodeFs.writeFileSync(path + ".lock", lockBody(deadPid, hostname()));
    const code = await snapshot(["--out", path, "--append"], deps({ lock: { timeoutMs: 2000 } }));
    assert.equal(code, 0);
    assert.equal(nodeFs.existsSync(path + ".lock"), false);
  });
});

describe("concurrent appends", () => {
  /**
   * Checks a CSV snapshot log: one header, every row whole, and (unless `keysMayRepeat`) every
   * block, keyed by snapshotTime and hostName, in one piece.
   */
  function checkBlocks(text: string, columns: number, keysMayRepeat = false): Map<string, number> {
    const lines = crlfLines(text);
    assert.equal(lines[0].split(",")[0], "snapshotTime");
    assert.equal(lines.filter((l) => l.startsWith("snapshotTime,")).length, 1, "one header");
    const blocks = new Map<string, number>();
    let current = "";
    for (const line of lines.slice(1)) {
      const cells = line.split(",");
      assert.equal(cells.length, columns, `a whole row: ${line}`);
      const key = cells[0] + " " + cells[1];
      if (key !== current) {
        if (!keysMayRepeat) assert.equal(blocks.has(key), false, `the block ${key} is split`);
        current = key;
      }
      blocks.set(key, (blocks.get(key) ?? 0) + 1);
    }
    return blocks;
  }

  it("procconn snapshot --append run five times at once: one header, five whole blocks", async () => {
    const path = fresh();
    // A socket of this process, so that every snapshot has at least one row.
    const server = net.createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const runs = Array.from(
      { length: 5 },
      () =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(DENO, [
            "run",
            "-A",
            "--no-check",
            "main.ts",
            "snapshot",
            "--append",
            "--out",
            path,
            "--fields",
            "protocol,localPort,pid",
            "--pid",
            String(process.pid),
          ], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
          let stderr = "";
          child.stderr!.on("data", (d) => (stderr += d));
          child.on("close", (code) => resolve({ code, stderr }));
        }),
    );
    const results = await Promise.all(runs);
    server.close();
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const text = read(path);
    // Runs that read the clock in the same millisecond on one host share a key, and the lock may
    // let another run write between them, so keys may repeat here; that blocks are never mixed
    // is checked by the next test, whose keys are all different.
    const blocks = checkBlocks(text, 5, true);
    const listenRows = crlfLines(text).filter((l) => l.endsWith(`,TCP,${port},${process.pid}`));
    assert.equal(listenRows.length, 5, "the listener is in every snapshot");
    assert.ok(blocks.size >= 1 && blocks.size <= 5, `${blocks.size} blocks`);
    assert.equal(nodeFs.existsSync(path + ".lock"), false);
  });

  it("four processes appending 5000-row snapshots five times each lose and mix nothing", async () => {
    const path = fresh();
    const probe = join(work, "append_probe.ts");
    nodeFs.writeFileSync(
      probe,
      `${probeHead(5000)}const [out, id] = Deno.args;
for (let k = 0; k < 5; k++) {
  const code = await runSnapshot(parseArgs(["snapshot", "--append", "--out", out, "--fields",
    "protocol,localPort,state"]), { source, hostName: "probe-" + id,
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, k)), lock: { retryMs: 5 } });
  if (code !== 0) Deno.exit(code);
}
`,
    );
    const runs = Array.from({ length: 4 }, (_, id) => runProbe(probe, [path, String(id)]));
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr);
    const blocks = checkBlocks(read(path), 5);
    assert.equal(blocks.size, 20);
    for (const [key, rows] of blocks) assert.equal(rows, 5000, key);
  });
});

describe("an append killed in the middle of its write", () => {
  /** Runs an append in a child that SIGKILLs itself once half of its rows are on disk. */
  async function killedAppend(
    path: string,
    format: "csv" | "ndjson",
  ): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
    const probe = join(work, `killed_probe_${format}.ts`);
    nodeFs.writeFileSync(
      probe,
      `import * as fs from "node:fs";
import process from "node:process";
${probeHead(3000)}const [out, format] = Deno.args;
let target = -1;
const killing = { ...fs,
  openSync(p, flags, mode) { const fd = fs.openSync(p, flags, mode); if (p === out) target = fd; return fd; },
  writeSync(fd, buffer, offset, length, position) {
    if (fd !== target) return fs.writeSync(fd, buffer, offset, length, position);
    fs.writeSync(fd, buffer, offset, Math.floor(length / 2), position);
    fs.fsyncSync(fd);
    process.kill(process.pid, "SIGKILL");
  },
};
await runSnapshot(parseArgs(["snapshot", "--append", "--out", out, "--format", format]),
  { source, hostName: "killed", fs: killing });
Deno.exit(3);
`,
    );
    return await runProbe(probe, [path, format]);
  }

  for (const format of ["csv", "ndjson"] as const) {
    it(`${format}: the next append cuts the partial snapshot off, says so, and adds its own whole`, async () => {
      const path = fresh(format);
      assert.equal(await snapshot(["--out", path, "--append"], deps()), 0);
      const before = nodeFs.readFileSync(path);
      const killed = await killedAppend(path, format);
      assert.equal(killed.signal, "SIGKILL", killed.stderr);
      // What the killed run left: half a snapshot, its record of the length before, its lock.
      assert.ok(nodeFs.statSync(path).size > before.length);
      assert.deepEqual(
        JSON.parse(read(path + ".unfinished")).size,
        before.length,
      );
      assert.ok(nodeFs.existsSync(path + ".lock"));

      const errors: string[] = [];
      const later = new Date("2026-02-03T05:00:00.000Z");
      assert.equal(
        await snapshot(["--out", path, "--append"], deps({ errors, now: () => later })),
        0,
      );
      const text = read(path);
      assert.ok(text.startsWith(before.toString("utf8")), "the earlier snapshot is kept");
      assert.equal(text.includes("killed"), false, "nothing of the killed run is left");
      const added = text.slice(before.length);
      if (format === "csv") {
        assert.equal(crlfLines(added).length, 3);
        assert.ok(crlfLines(added).every((l) => l.startsWith("2026-02-03T05:00:00.000Z,host-a,")));
      } else {
        const lines = added.split("\n").slice(0, -1);
        assert.equal(lines.length, 3);
        for (const line of lines) assert.equal(JSON.parse(line).hostName, "host-a");
      }
      assert.equal(errors.length, 1);
      assert.match(
        errors[0],
        /^procconn: an earlier append to ".*" was stopped before it finished: its partial snapshot \(\d+ bytes at the end\) was removed$/,
      );
      assert.equal(nodeFs.existsSync(path + ".unfinished"), false);
      assert.equal(nodeFs.existsSync(path + ".lock"), false);
    });
  }

  it("a record left for a file that was replaced since leaves the new file alone", async () => {
    const path = fresh();
    assert.equal(await snapshot(["--out", path], deps()), 0);
    // Another file's record (another inode), with a length shorter than this file.
    nodeFs.writeFileSync(path + ".unfinished", JSON.stringify({ size: 10, dev: 1, ino: 1 }));
    const before = read(path);
    const errors: string[] = [];
    assert.equal(await snapshot(["--out", path, "--append"], deps({ errors })), 0);
    assert.ok(read(path).startsWith(before));
    assert.equal(crlfLines(read(path)).length, 1 + 3 + 3);
    assert.deepEqual(errors, []);
    assert.equal(nodeFs.existsSync(path + ".unfinished"), false);
  });

  it("a record cut short (its run stopped while writing it, before any row) is dropped", async () => {
    for (const cut of ['{"si', "null", ""]) {
      const path = fresh();
      assert.equal(await snapshot(["--out", path], deps()), 0);
      const before = read(path);
      nodeFs.writeFileSync(path + ".unfinished", cut);
      const errors: string[] = [];
      assert.equal(await snapshot(["--out", path, "--append"], deps({ errors })), 0);
      assert.ok(read(path).startsWith(before), JSON.stringify(cut));
      assert.equal(crlfLines(read(path)).length, 1 + 3 + 3);
      assert.deepEqual(errors, []);
      assert.equal(nodeFs.existsSync(path + ".unfinished"), false);
    }
  });

  it("a whole append leaves no record behind, and writes it before its rows", async () => {
    const path = fresh();
    assert.equal(await snapshot(["--out", path, "--append"], deps()), 0);
    const seen: boolean[] = [];
    const watching: SnapshotFs = {
      ...nodeFs,
      writeSync(fd, buffer, offset, length, position) {
        if (length > 200) seen.push(nodeFs.existsSync(path + ".unfinished"));
        return nodeFs.writeSync(fd, buffer, offset, length, position);
      },
    };
    assert.equal(await snapshot(["--out", path, "--append"], deps({ fs: watching })), 0);
    assert.deepEqual(seen, [true]);
    assert.equal(nodeFs.existsSync(path + ".unfinished"), false);
  });
});

describe("a replace killed in the middle of its write", () => {
  /** Runs a replace in a child that SIGKILLs itself once half of its temporary file is written. */
  async function killedReplace(path: string): Promise<{ signal: NodeJS.Signals | null }> {
    const probe = join(work, "killed_replace_probe.ts");
    nodeFs.writeFileSync(
      probe,
      `import * as fs from "node:fs";
import process from "node:process";
${probeHead(300)}const temps = new Set();
const killing = { ...fs,
  openSync(p, flags, mode) {
    const fd = fs.openSync(p, flags, mode);
    if (p.endsWith(".tmp")) temps.add(fd);
    return fd;
  },
  writeSync(fd, buffer, offset, length, position) {
    if (!temps.has(fd)) return fs.writeSync(fd, buffer, offset, length, position);
    fs.writeSync(fd, buffer, offset, Math.floor(length / 2), position);
    process.kill(process.pid, "SIGKILL");
  },
};
await runSnapshot(parseArgs(["snapshot", "--out", Deno.args[0]]),
  { source, hostName: "killed", fs: killing });
Deno.exit(3);
`,
    );
    return await runProbe(probe, [path]);
  }

  it("the next replace removes its temporary file once it has sat for a minute, and says so", async () => {
    const dir = nodeFs.mkdtempSync(join(work, "killed-replace-"));
    const path = join(dir, "conns.csv");
    assert.equal(await snapshot(["--out", path], deps()), 0);
    const before = read(path);
    assert.equal((await killedReplace(path)).signal, "SIGKILL");
    assert.equal(read(path), before, "the file itself is untouched");
    const [left] = nodeFs.readdirSync(dir).filter((name) => name !== "conns.csv");
    const made = /^\.conns\.csv\.(\d+)\.[0-9a-f]{16}\.tmp$/.exec(left);
    assert.ok(made, left);
    const pid = Number(made[1]);

    // Alongside it: names and files that are not an abandoned temporary file of this one.
    const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
    const kept = [
      `.conns.csv.${sleeper.pid}.0123456789abcdef.tmp`, // its process still runs
      `.other.csv.${pid}.0123456789abcdef.tmp`, // another file's
      `.conns.csv.${pid}.not-hex-digits-xx.tmp`, // not a name procconn makes
      `.conns.csv.${pid}.fedcba9876543210.tmp.bak`,
    ];
    for (const name of kept) nodeFs.writeFileSync(join(dir, name), "x");
    nodeFs.symlinkSync(path, join(dir, `.conns.csv.${pid}.00000000000000ff.tmp`));
    kept.push(`.conns.csv.${pid}.00000000000000ff.tmp`);
    try {
      // Just left: a run of another host writing to a shared folder could look the same.
      const errors: string[] = [];
      assert.equal(await snapshot(["--out", path], deps({ errors })), 0);
      assert.deepEqual(errors, []);
      assert.ok(nodeFs.existsSync(join(dir, left)));

      const aMinuteAgo = new Date(Date.now() - 61_000);
      for (const name of [left, ...kept]) {
        nodeFs.lutimesSync(join(dir, name), aMinuteAgo, aMinuteAgo);
      }
      assert.equal(await snapshot(["--out", path], deps({ errors })), 0);
      assert.deepEqual(errors, [
        `procconn: an earlier snapshot (pid ${pid}) was stopped before it finished: its ` +
        `temporary file "${join(dir, left)}" was removed`,
      ]);
      assert.deepEqual(nodeFs.readdirSync(dir).sort(), ["conns.csv", ...kept].sort());
    } finally {
      sleeper.kill();
    }
  });
});

describe("a full disk", () => {
  it("is told in the same words when replacing and when appending", async () => {
    for (const append of [false, true]) {
      const path = fresh();
      assert.equal(await snapshot(["--out", path], deps()), 0);
      const errors: string[] = [];
      const args = ["--out", path, ...(append ? ["--append"] : [])];
      const fs = failingFs(path, "half-then-error");
      assert.equal(await snapshot(args, deps({ errors, fs })), 1);
      assert.deepEqual(errors, [
        `procconn: Cannot ${append ? "append the snapshot to" : "write the snapshot to"} ` +
        `"${path}": no space left on the device (ENOSPC)`,
      ]);
    }
  });
});
