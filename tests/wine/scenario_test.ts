// The Windows engine end to end, as Windows code: run by tests/wine/run.sh with the Windows
// deno.exe under Wine 10, where iphlpapi.dll and kernel32.dll answer from the live socket and
// process tables. A child deno.exe holds known sockets; the library and the CLI must report
// each of them with the child as owner and this process as its parent.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseArgs } from "../../cli/args.ts";
import { runWatch } from "../../cli/watch.ts";
import { PERMISSIONS } from "../../scripts/compile.ts";
import { type Connection, listConnections, validateConnection } from "../../mod.ts";
import {
  type Endpoint,
  expectedEndpoints,
  type RunningChild,
  startSocketChild,
} from "../_socket_child.ts";
import { shippedSchemaCheck } from "../_json_schema.ts";
import { systemLibraryPath } from "../../ffi/_native.ts";
import { createWindowsSource } from "../../ffi/windows/engine.ts";
import { readProcessCreations } from "../../ffi/windows/_process_details.ts";
import { NTDLL_SYMBOLS } from "../../ffi/windows/_symbols.ts";
import { filetimeToIso } from "../../ffi/windows/decode.ts";

const MAIN_SCRIPT = fileURLToPath(new URL("../../main.ts", import.meta.url));
/** The shipped JSON Schema, which every row from the Windows engine must satisfy too. */
const shipped = shippedSchemaCheck();
/** Slack allowed around the child's start time (clock granularity, Wine's bookkeeping). */
const START_SLACK_MS = 5_000;

/** Starts the child; Windows here always has an IPv6 loopback, so its TCP v6 pair must be there. */
async function startChild(): Promise<RunningChild> {
  const child = await startSocketChild();
  if (!child.sockets.tcp6) {
    await child.stop();
    throw new Error("The child could not open its TCP pair on ::1");
  }
  return child;
}

/**
 * Runs the CLI (Windows code too) with the given permissions as `--format json <args>`, checks
 * that it succeeded, and returns its rows and what it said on stderr.
 */
async function runJson(
  permissions: readonly string[],
  args: readonly string[],
): Promise<{ rows: Connection[]; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "--no-lock", MAIN_SCRIPT, "--format", "json", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `procconn exited with ${output.code}: ${stderr}`);
  return { rows: JSON.parse(new TextDecoder().decode(output.stdout)), stderr };
}

/** The CLI's rows of one process: `--format json --pid <pid>`. */
async function cliRows(permissions: readonly string[], pid: number): Promise<Connection[]> {
  return (await runJson(permissions, ["--pid", String(pid)])).rows;
}

function describeEndpoint(e: Endpoint): string {
  const remote = e.remoteAddress === null ? "*" : `[${e.remoteAddress}]:${e.remotePort}`;
  return `${e.protocol} ${e.family} [${e.localAddress}]:${e.localPort} -> ${remote} ${e.state}`;
}

function sameEndpoint(row: Connection, e: Endpoint): boolean {
  return row.protocol === e.protocol && row.family === e.family &&
    row.localAddress === e.localAddress && row.localPort === e.localPort &&
    row.remoteAddress === e.remoteAddress && row.remotePort === e.remotePort &&
    row.state === e.state;
}

/**
 * Checks that every endpoint of the child is reported exactly once, owned by the child, with the
 * child's process details, and that nothing else is reported for it.
 */
function assertChildRows(rows: readonly Connection[], child: RunningChild, source: string): void {
  const listing = rows.map(describeEndpoint).join("\n  ");
  for (const row of rows) {
    validateConnection(row);
    assert.deepEqual(
      shipped(row),
      [],
      `${source}: against the JSON Schema: ${JSON.stringify(row)}`,
    );
    assert.equal(row.pid, child.sockets.pid, `${source}: a row of another process:\n  ${listing}`);
  }
  const expected = expectedEndpoints(child.sockets);
  for (const endpoint of expected) {
    const matches = rows.filter((row) => sameEndpoint(row, endpoint));
    assert.equal(
      matches.length,
      1,
      `${source}: ${describeEndpoint(endpoint)} found ${matches.length} times in:\n  ${listing}`,
    );
    const row = matches[0];
    const what = `${source}: ${describeEndpoint(endpoint)}`;
    assert.equal(row.processName?.toLowerCase(), "deno.exe", `${what}: processName`);
    assert.match(row.processPath ?? "", /^[A-Za-z]:\\.+\\deno\.exe$/i, `${what}: processPath`);
    assert.equal(
      row.processPath?.toLowerCase(),
      Deno.execPath().toLowerCase(),
      `${what}: processPath is not the deno.exe that started the child`,
    );
    assert.equal(row.parentPid, Deno.pid, `${what}: parentPid`);
    assert.notEqual(row.processStartTime, null, `${what}: processStartTime is null`);
    const started = Date.parse(row.processStartTime!);
    assert.ok(
      started >= child.spawnedAt - START_SLACK_MS && started <= child.readyAt + START_SLACK_MS,
      `${what}: processStartTime ${row.processStartTime} is not between the spawn at ` +
        `${new Date(child.spawnedAt).toISOString()} and the ready line at ` +
        `${new Date(child.readyAt).toISOString()}`,
    );
    for (const field of ["pid", "processName", "processPath", "parentPid", "processStartTime"]) {
      assert.equal(
        field in row.unavailable,
        false,
        `${what}: ${field} is marked unavailable (${JSON.stringify(row.unavailable)})`,
      );
    }
  }
  assert.equal(rows.length, expected.length, `${source}: unexpected extra rows:\n  ${listing}`);
}

Deno.test({
  name: "Windows engine under Wine: a child's TCP v4/v6 and UDP endpoints with their process",
  ignore: Deno.build.os !== "windows",
  async fn(t) {
    const child = await startChild();
    try {
      await t.step("listConnections({ pids }) reports each endpoint of the child", async () => {
        const rows = await listConnections({ pids: [child.sockets.pid] });
        assertChildRows(rows, child, "listConnections");
      });

      await t.step("the CLI (--format json --pid) reports the same rows", async () => {
        const rows = await cliRows(["-A"], child.sockets.pid);
        assert.ok(Array.isArray(rows), "--format json did not print an array");
        assertChildRows(rows, child, "procconn --format json");
      });

      await t.step(
        "enrichment: user, and a reason for every field Wine does not answer",
        async () => {
          const rows = await listConnections({ pids: [child.sockets.pid], stats: true });
          assert.ok(rows.length > 0);
          for (const row of rows) {
            const what = describeEndpoint(row);
            assert.deepEqual(shipped(row), [], `${what}: against the JSON Schema`);
            assert.match(row.userName ?? "", /^[^\\]+\\[^\\]+$/, `${what}: userName DOMAIN\\user`);
            // Each of these is either a value or null with its reason, never a silent null.
            for (
              const field of ["commandLine", "connectionCreated", "services", "sessionId"] as const
            ) {
              if (row[field] === null) {
                assert.ok(row.unavailable[field], `${what}: ${field} is null without a reason`);
              }
            }
            if (row.protocol === "UDP" || row.state === "LISTEN") {
              assert.equal(row.unavailable.bytesIn, "not-applicable", `${what}: bytesIn`);
            } else if (row.bytesIn === null) {
              assert.ok(row.unavailable.bytesIn, `${what}: bytesIn is null without a reason`);
            }
          }
        },
      );

      await t.step(
        "--enable-stats: refused without a terminal or --yes; with --yes, a reason per row",
        async () => {
          const run = (...args: string[]) =>
            new Deno.Command(Deno.execPath(), {
              args: [
                "run",
                "-A",
                "--no-lock",
                MAIN_SCRIPT,
                "--pid",
                String(child.sockets.pid),
                "--tcp",
                "--format",
                "json",
                ...args,
              ],
              stdin: "null",
              stdout: "piped",
              stderr: "piped",
            }).output();
          const asked = await run("--enable-stats");
          const said = new TextDecoder().decode(asked.stderr);
          assert.equal(asked.code, 2, said);
          assert.match(said, /^procconn: --enable-stats changes the system .* add --yes/);
          assert.equal(said.trim().includes("\n"), false, `one line: ${said}`);
          assert.equal(asked.stdout.length, 0, "nothing listed");

          const yes = await run("--enable-stats", "--yes");
          const saidYes = new TextDecoder().decode(yes.stderr);
          assert.equal(yes.code, 0, saidYes);
          // The connections without counters are counted on stderr, with the reason.
          assert.match(
            saidYes,
            /^procconn: \d+ connections? ha(s|ve) no TCP counters: this Windows does not answer GetPerTcpConnectionEStats for them$/m,
          );
          const rows: Connection[] = JSON.parse(new TextDecoder().decode(yes.stdout));
          assert.ok(rows.some((r) => r.state === "ESTABLISHED"));
          for (const r of rows) {
            // Wine implements no EStats (Get answers "not implemented").
            const expected = r.state === "ESTABLISHED" ? "not-supported" : "not-applicable";
            assert.equal(r.bytesIn, null);
            assert.equal(r.unavailable.bytesIn, expected, describeEndpoint(r));
          }
        },
      );

      await t.step("the CLI with the permissions baked into the Windows executable", async () => {
        assertChildRows(await cliRows(PERMISSIONS.windows, child.sockets.pid), child, "baked");
      });

      await t.step("--tree from this process reaches the child's endpoints", async () => {
        const rows = await listConnections({ pids: [Deno.pid], tree: true, protocols: ["TCP"] });
        const childRows = rows.filter((r) => r.pid === child.sockets.pid);
        assert.ok(
          childRows.some((r) => r.localPort === child.sockets.tcp4.listenPort),
          `the child's listener is missing from the tree of ${Deno.pid}`,
        );
      });
    } finally {
      await child.stop();
    }
  },
});

Deno.test({
  name: "Windows watch loop under Wine: a socket opened then closed shows as opened, closed",
  ignore: Deno.build.os !== "windows",
  async fn() {
    const request = parseArgs([
      "watch",
      "--format",
      "ndjson",
      "--interval",
      "200ms",
      "--count",
      "8",
      "--tcp",
      "--pid",
      String(Deno.pid),
    ]);
    let text = "";
    const out = {
      write: (chunk: string) => {
        text += chunk;
        return Promise.resolve();
      },
      flush: () => Promise.resolve(),
    };
    // The listener opens after the 2nd refresh and closes after the 5th, whatever the time each
    // refresh takes under Wine: the loop's own wait between refreshes drives it.
    let listener: Deno.Listener | undefined;
    let port = 0;
    let waits = 0;
    const sleep = (ms: number) => {
      waits++;
      if (waits === 2) {
        listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        port = (listener.addr as Deno.NetAddr).port;
      }
      if (waits === 5) listener?.close();
      return new Promise<void>((r) => setTimeout(r, ms));
    };
    assert.equal(await runWatch(request, out, { sleep }), 0);
    assert.ok(port > 0, "the watch loop waited between refreshes");
    const events = text.trim().split("\n").map((line) => JSON.parse(line));
    const mine = events.filter((e) => e.localPort === port && e.state === "LISTEN");
    assert.deepEqual(
      mine.map((e) => [e.event, e.pid]),
      [["opened", Deno.pid], ["closed", Deno.pid]],
      `events for port ${port}:\n${text}`,
    );
  },
});

Deno.test({
  name: "Windows engine under Wine: a thread id given as --pid is named as a thread of its " +
    "process; this process's token elevation is read",
  ignore: Deno.build.os !== "windows",
  async fn() {
    // This process's own thread: its id comes from kernel32, not from procconn.
    const k32 = Deno.dlopen(systemLibraryPath("kernel32.dll"), {
      GetCurrentThreadId: { parameters: [], result: "u32" },
    });
    let thread: number;
    try {
      thread = k32.symbols.GetCurrentThreadId();
    } finally {
      k32.close();
    }
    assert.notEqual(thread, Deno.pid, "a thread id is no process id on Windows");
    const source = createWindowsSource();
    assert.deepEqual(source.processesOfThreads!([thread, Deno.pid]), new Map([[thread, Deno.pid]]));
    // The same real kernel32 and advapi32 read this process's token: Wine answers whether it is
    // elevated (so a note knows whether to advise elevating).
    assert.equal(typeof source.runsElevated!(), "boolean", "TokenElevation was read");
    const { rows, stderr } = await runJson(["-A"], ["--pid", String(thread)]);
    assert.deepEqual(rows, []);
    assert.match(
      stderr,
      new RegExp(
        `${thread} is a thread of pid ${Deno.pid} \\(--pid ${Deno.pid} lists its sockets\\)`,
      ),
    );
  },
});

Deno.test({
  name:
    "Windows engine under Wine: system DLLs come from the directory GetSystemDirectoryW names, " +
    "whatever SystemRoot says",
  ignore: Deno.build.os !== "windows",
  async fn() {
    // Wine's system directory; a default Windows install says C:\Windows\System32.
    const system = "c:\\windows\\system32";
    assert.equal(systemLibraryPath("kernel32.dll").toLowerCase(), `${system}\\kernel32.dll`);
    // A process started with SystemRoot pointing at a folder its starter controls.
    const native = new URL("../../ffi/_native.ts", import.meta.url).href;
    const code = `import { systemLibraryPath } from ${JSON.stringify(native)};\n` +
      `console.log(systemLibraryPath("iphlpapi.dll"));`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-lock", code],
      env: { SystemRoot: "Z:\\procconn", windir: "Z:\\procconn" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(out.code, 0, decoder.decode(out.stderr));
    assert.equal(decoder.decode(out.stdout).trim().toLowerCase(), `${system}\\iphlpapi.dll`);
  },
});

Deno.test({
  name: "Windows engine under Wine: NtQuerySystemInformation lists the child under this process, " +
    "created when GetProcessTimes says",
  ignore: Deno.build.os !== "windows",
  async fn() {
    const child = await startChild();
    const nt = Deno.dlopen(systemLibraryPath("ntdll.dll"), NTDLL_SYMBOLS);
    try {
      const created = readProcessCreations(nt.symbols);
      assert.ok(created, "SystemProcessInformation was read and decoded");
      assert.ok(created.has(Deno.pid), "this process is listed");
      const entry = created.get(child.sockets.pid);
      assert.ok(entry, `the child ${child.sockets.pid} is listed`);
      assert.equal(entry.parentPid, Deno.pid, "its parent is this process");
      assert.notEqual(entry.created, 0n, "a creation time is given");
      // The start time read through the child's own handle (GetProcessTimes) is the same instant.
      const [row] = await listConnections({ pids: [child.sockets.pid] });
      assert.equal(filetimeToIso(entry.created), row.processStartTime);
      if (row.sessionId !== null) assert.equal(entry.sessionId, row.sessionId, "the same session");
      // The process list the tree is built from takes its start times from this list.
      const listed = await createWindowsSource().listProcesses!();
      assert.deepEqual(listed.find((p) => p.pid === child.sockets.pid), {
        pid: child.sockets.pid,
        parentPid: Deno.pid,
        name: row.processName,
        startTime: row.processStartTime,
      });
    } finally {
      nt.close();
      await child.stop();
    }
  },
});

Deno.test({
  name:
    "Windows engine under Wine: an image path outside ASCII comes back exactly, and --name finds it",
  ignore: Deno.build.os !== "windows",
  async fn() {
    // Accents, CJK and a character outside the BMP (a UTF-16 surrogate pair), in the folder and in
    // the image name: QueryFullProcessImageNameW's UTF-16 must come back as the same text.
    const dir = await Deno.makeTempDir({ prefix: "procconn-ü日本🦕-" });
    const image = `${dir}\\dëno-日本-🦕.exe`;
    try {
      try {
        await Deno.link(Deno.execPath(), image);
      } catch {
        await Deno.copyFile(Deno.execPath(), image);
      }
      const child = await startSocketChild(image);
      try {
        const rows = await listConnections({ pids: [child.sockets.pid] });
        assert.ok(rows.length > 0, "no rows for the child");
        for (const row of rows) {
          assert.equal(row.processName, "dëno-日本-🦕.exe", `${describeEndpoint(row)}: name`);
          assert.equal(
            row.processPath?.toLowerCase(),
            image.toLowerCase(),
            `${describeEndpoint(row)}: path`,
          );
        }
        const { rows: named } = await runJson(["-A"], ["--name", "DËNO-日本-🦕"]);
        assert.deepEqual(
          named.map((r) => [r.pid, r.processName, r.processPath?.toLowerCase()]),
          rows.map((r) => [r.pid, r.processName, r.processPath?.toLowerCase()]),
          "--name with the image name (other case, no .exe) finds the same rows",
        );
      } finally {
        await child.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
