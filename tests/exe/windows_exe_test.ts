// The Windows Node single executable (dist/procconn-node.exe, or PROCCONN_NODE_EXE), run as
// Windows code: under Wine through tests/exe/wine.sh, or on Windows itself. It must describe a
// live listener exactly as `deno run main.ts` does, which exercises koffi's addon carried inside
// the executable against the real iphlpapi.dll and kernel32.dll. Elsewhere it is ignored.
//
// Node under Wine cannot write to a pipe, so the executable runs through cmd.exe with its
// output redirected to files.
import assert from "node:assert/strict";
import { join } from "node:path";
import { VERSION } from "../../version.ts";
import { ADDON_DIR_PREFIX } from "../../node/_sea_addon.ts";
import { assertListenerRows, MAIN, parseRows, ROOT, sortRows, startListener } from "./_harness.ts";

const decoder = new TextDecoder();
const exe = Deno.env.get("PROCCONN_NODE_EXE") ?? join(ROOT, "dist", "procconn-node.exe");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the executable through cmd.exe, stdout and stderr redirected to files. */
async function runExe(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "procconn-exe-out-" });
  try {
    const out = join(dir, "stdout.txt");
    const err = join(dir, "stderr.txt");
    const quoted = args.map((a) => (/^[\w.,:=-]+$/.test(a) ? a : `"${a}"`)).join(" ");
    const result = await new Deno.Command("cmd.exe", {
      args: ["/d", "/s", "/c", `""${exe}" ${quoted} > "${out}" 2> "${err}""`],
      windowsRawArguments: true,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    const read = (file: string) => {
      try {
        return Deno.readTextFileSync(file);
      } catch {
        return "";
      }
    };
    return { code: result.code, stdout: read(out), stderr: read(err) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runDeno(args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function addonDirs(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith(ADDON_DIR_PREFIX)
  );
}

Deno.test({
  name: "the Windows Node single executable",
  ignore: Deno.build.os !== "windows",
  async fn(t) {
    try {
      Deno.statSync(exe);
    } catch {
      throw new Error(
        `${exe} does not exist: build it with node scripts/build_exe.mjs --target windows`,
      );
    }

    await t.step("prints its version, runtime and platform", async () => {
      const r = await runExe(["--version"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`^procconn ${VERSION} \\(node \\d+\\.\\d+\\.\\d+; windows x86_64\\)\\r?\\n$`),
      );
    });

    await t.step("reports a live listener exactly as deno run main.ts does", async () => {
      const listener = await startListener();
      try {
        const args = ["--pid", String(listener.sockets.pid), "--format", "json"];
        const fromNode = await runExe(args);
        const fromDeno = await runDeno(args);
        assert.equal(fromNode.code, 0, fromNode.stderr);
        assert.equal(fromDeno.code, 0, fromDeno.stderr);
        const nodeRows = sortRows(parseRows(fromNode.stdout, "the executable"));
        const denoRows = sortRows(parseRows(fromDeno.stdout, "deno run main.ts"));
        const owner = denoRows.find((r) => r.pid === listener.sockets.pid);
        assert.ok(owner?.processPath, "deno run main.ts gave no path for the listener");
        assertListenerRows(nodeRows, listener.sockets, {
          name: "deno.exe",
          path: owner.processPath,
        });
        assert.match(owner.processPath, /\\deno\.exe$/i);
        assert.deepEqual(nodeRows, denoRows);
      } finally {
        await listener.stop();
      }
    });

    await t.step("removes the addon it wrote, at exit or on the next run", async () => {
      const temp = await Deno.makeTempDir({ prefix: "procconn-exe-temp-" });
      try {
        const env = { TEMP: temp, TMP: temp };
        const first = await runExe(["--tcp", "--format", "ndjson"], env);
        assert.equal(first.code, 0, first.stderr);
        const afterFirst = addonDirs(temp);
        // Windows keeps a loaded DLL locked until its process is gone, so one may remain.
        assert.ok(afterFirst.length <= 1, `left ${afterFirst.join(", ")}`);
        const second = await runExe(["--tcp", "--format", "ndjson"], env);
        assert.equal(second.code, 0, second.stderr);
        const afterSecond = addonDirs(temp);
        assert.ok(afterSecond.length <= 1, `left ${afterSecond.join(", ")}`);
        for (const dir of afterFirst) {
          assert.ok(!afterSecond.includes(dir), `the first run's ${dir} was not removed`);
        }
      } finally {
        await Deno.remove(temp, { recursive: true }).catch(() => {});
      }
    });
  },
});
