// The Linux Node single executable, run natively: it is built from the current sources (or
// taken from PROCCONN_NODE_EXE), then must describe a live listener exactly as
// `deno run main.ts` does.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Connection } from "../../core/record.ts";
import { VERSION } from "../../version.ts";
import { assertListenerRows, MAIN, parseRows, ROOT, sortRows, startListener } from "./_harness.ts";

const decoder = new TextDecoder();
const isLinuxX64 = Deno.build.os === "linux" && Deno.build.arch === "x86_64";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const out = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Builds the Linux executable into `dir` with scripts/build_exe.mjs. */
async function buildExecutable(dir: string): Promise<string> {
  const build = await run("node", [
    "scripts/build_exe.mjs",
    "--target",
    "linux",
    "--out-dir",
    dir,
    "--cache-dir",
    join(dir, "cache"),
  ]);
  assert.equal(build.code, 0, `build_exe.mjs failed:\n${build.stderr}${build.stdout}`);
  return join(dir, "procconn-node");
}

Deno.test({
  name: "the Linux Node single executable",
  ignore: !isLinuxX64,
  async fn(t) {
    const work = await Deno.makeTempDir({ prefix: "procconn-exe-test-" });
    try {
      const exe = Deno.env.get("PROCCONN_NODE_EXE") ?? await buildExecutable(work);
      const nodeVersion = (await run("node", ["-p", "process.versions.node"])).stdout.trim();

      await t.step("prints its version, runtime and platform", async () => {
        const r = await run(exe, ["--version"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `procconn ${VERSION} (node ${nodeVersion}; linux x86_64)\n`);
      });

      await t.step("exits with 2 on a bad option, with the reason on stderr", async () => {
        const r = await run(exe, ["--no-such-option"]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /^procconn: .*--no-such-option/);
        assert.equal(r.stdout, "");
      });

      await t.step("reports a live listener exactly as deno run main.ts does", async () => {
        const listener = await startListener();
        try {
          const pid = String(listener.sockets.pid);
          const args = ["--pid", pid, "--format", "json"];
          const [fromNode, fromDeno] = await Promise.all([
            run(exe, args),
            run(Deno.execPath(), ["run", "-A", "--no-lock", MAIN, ...args]),
          ]);
          assert.equal(fromNode.code, 0, fromNode.stderr);
          assert.equal(fromDeno.code, 0, fromDeno.stderr);
          const nodeRows = sortRows(parseRows(fromNode.stdout, "the executable"));
          const denoRows = sortRows(parseRows(fromDeno.stdout, "deno run main.ts"));
          assertListenerRows(nodeRows, listener.sockets, {
            name: "deno",
            path: Deno.realPathSync(Deno.execPath()),
          });
          // Every field of every row, not only the ones checked above.
          assert.deepEqual(nodeRows, denoRows);
        } finally {
          await listener.stop();
        }
      });

      await t.step(
        "--stats: counters through netlink, as under Deno; none for a listener",
        async () => {
          const listener = await startListener();
          try {
            const pid = listener.sockets.pid;
            const r = await run(exe, [
              "--pid",
              String(pid),
              "--tcp",
              "-4",
              "--stats",
              "--format",
              "json",
            ]);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stderr, "");
            const rows = parseRows(r.stdout, "the executable");
            const listen = rows.find((row) =>
              row.localPort === listener.sockets.tcp4.listenPort &&
              row.state === "LISTEN"
            );
            const client = rows.find((row) => row.localPort === listener.sockets.tcp4.clientPort);
            assert.ok(listen && client, r.stdout);
            assert.equal(listen.bytesIn, null);
            assert.equal(listen.unavailable.bytesIn, "not-applicable");
            // The client's SYN counts as one byte acknowledged.
            assert.ok(typeof client.bytesOut === "number" && client.bytesOut >= 1, r.stdout);
            assert.equal(client.unavailable.bytesIn, undefined);
          } finally {
            await listener.stop();
          }
        },
      );

      await t.step("a closed stderr ends quietly, as a closed stdout does", async () => {
        // The reader of stderr (`true`) is gone before the note on the unknown pid is written.
        const script = `"$@" --pid 4194304 2>&1 >/dev/null | true; echo "\${PIPESTATUS[0]}"`;
        for (const command of [[exe], [Deno.execPath(), "run", "-A", "--no-lock", MAIN]]) {
          const r = await run("bash", ["-c", script, "bash", ...command]);
          assert.equal(r.stdout, "0\n", `${command[0]}: ${r.stderr}`);
          assert.equal(r.stderr, "");
        }
      });

      await t.step("loads its native addon without leaving a file behind", async () => {
        const tmp = await Deno.makeTempDir({ dir: work, prefix: "tmp-" });
        const r = await run(exe, ["--tcp", "--stats", "--format", "ndjson"], { TMPDIR: tmp });
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /counters/);
        assert.deepEqual([...Deno.readDirSync(tmp)], []);
      });

      await t.step({
        name: "where the addon cannot load (a noexec TMPDIR), lists from /proc/net and says why",
        ignore: Deno.uid() !== 0,
        fn: async () => {
          const tmp = await Deno.makeTempDir({ dir: work, prefix: "noexec-" });
          const mount = await run("mount", ["-t", "tmpfs", "-o", "noexec,size=8m", "tmpfs", tmp]);
          assert.equal(mount.code, 0, mount.stderr);
          const listener = await startListener();
          try {
            const pid = String(listener.sockets.pid);
            const args = ["--pid", pid, "--tcp", "-4", "--stats", "--format", "json"];
            const r = await run(exe, args, { TMPDIR: tmp });
            assert.equal(r.code, 0, r.stderr);
            const rows = parseRows(r.stdout, "the executable");
            const client = rows.find((row) => row.localPort === listener.sockets.tcp4.clientPort);
            assert.equal(client?.unavailable.bytesIn, "not-supported", r.stdout);
            assert.match(
              r.stderr,
              new RegExp(
                "^procconn: 2 connections have no TCP counters: the TCP tables were read from " +
                  "/proc/net, which has none \\(they come through netlink sock_diag, not used " +
                  "here: Cannot load the native addon from an unnamed file in .*failed to map " +
                  "segment.*\\)\n$",
              ),
            );
            // The same endpoints as with the addon.
            const withAddon = parseRows((await run(exe, args)).stdout, "the executable");
            const key = (row: Connection) =>
              `${row.localPort} ${row.remotePort} ${row.state} ${row.pid}`;
            assert.deepEqual(rows.map(key).sort(), withAddon.map(key).sort());
          } finally {
            await listener.stop();
            await run("umount", [tmp]);
          }
        },
      });
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
