// The Linux Node single executable, run natively: it is built from the current sources (or
// taken from PROCCONN_NODE_EXE), then must describe a live listener exactly as
// `deno run main.ts` does.
import assert from "node:assert/strict";
import { join } from "node:path";
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
        "--stats: no counters from /proc/net, said once on stderr, and none for a listener",
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
            const rows = parseRows(r.stdout, "the executable");
            const listen = rows.find((row) =>
              row.localPort === listener.sockets.tcp4.listenPort &&
              row.state === "LISTEN"
            );
            const client = rows.find((row) => row.localPort === listener.sockets.tcp4.clientPort);
            assert.ok(listen && client, r.stdout);
            assert.equal(listen.bytesIn, null);
            assert.equal(listen.unavailable.bytesIn, "not-applicable");
            assert.equal(client.bytesIn, null);
            assert.equal(client.unavailable.bytesIn, "not-supported");
            const established = rows.filter((row) => row.state === "ESTABLISHED").length;
            assert.equal(
              r.stderr,
              `procconn: ${established} connections have no TCP counters: the socket tables were ` +
                "read from /proc/net, which has none (procconn reads them through netlink " +
                "sock_diag, under Deno with FFI allowed)\n",
            );
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

      await t.step("carries and writes no native addon on Linux", async () => {
        const tmp = await Deno.makeTempDir({ dir: work, prefix: "tmp-" });
        const r = await run(exe, ["--tcp", "--format", "ndjson"], { TMPDIR: tmp });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual([...Deno.readDirSync(tmp)], []);
      });
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
