// scripts/compile.ts for real: the offline failure (denort cannot be downloaded), DENORT_BIN
// handling, and the permissions and files that end up in a compiled executable.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { denortCachePath, nodeModulesExcludes } from "../../scripts/compile.ts";

const SCRIPT = fileURLToPath(new URL("../../scripts/compile.ts", import.meta.url));
const decoder = new TextDecoder();
const isLinuxX64 = Deno.build.os === "linux" && Deno.build.arch === "x86_64";

/** Runs compile.ts with exactly the given environment (plus PATH and HOME). */
async function compile(args: string[], env: Record<string, string>) {
  const base: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "SystemRoot", "TEMP", "TMP"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", SCRIPT, ...args],
    clearEnv: true,
    env: { ...base, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** A proxy on a closed port: the denort download fails at once, network or not. */
const NO_NETWORK = { HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" };

Deno.test("compile.ts stops with one message naming both fixes when denort cannot be downloaded", async () => {
  const denoDir = await Deno.makeTempDir({ prefix: "procconn-denodir-" });
  const outDir = await Deno.makeTempDir({ prefix: "procconn-dist-" });
  try {
    const r = await compile(["--out-dir", outDir], { DENO_DIR: denoDir, ...NO_NETWORK });
    assert.equal(r.code, 1, r.stderr);
    const version = Deno.version.deno;
    const triple = "x86_64-unknown-linux-gnu";
    assert.match(r.stderr, /^compile: Cannot build procconn: the Deno runtime \(denort /);
    assert.ok(r.stderr.includes(`denort ${version} for ${triple}`), r.stderr);
    assert.ok(
      r.stderr.includes(`DENORT_BIN=<path to the unzipped denort binary of Deno ${version}`),
    );
    const zip = join(denoDir, "dl", "release", `v${version}`, `denort-${triple}.zip`);
    assert.ok(r.stderr.includes(`put denort-${triple}.zip of Deno ${version} at ${zip}`), r.stderr);
    // One message: no backtrace, no second target attempted, nothing written.
    assert.doesNotMatch(r.stderr, /Stack backtrace|procconn\.exe/);
    assert.equal(r.stderr.match(/^compile:/gm)?.length, 1);
    assert.deepEqual([...Deno.readDirSync(outDir)], []);
  } finally {
    await Deno.remove(denoDir, { recursive: true });
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test("compile.ts rejects a DENORT_BIN that is missing or not an executable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "procconn-denort-" });
  try {
    const missing = join(dir, "denort");
    let r = await compile(["--out-dir", dir], { DENORT_BIN: missing });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^compile: Cannot read DENORT_BIN "${missing}": `));

    const text = join(dir, "denort.txt");
    Deno.writeTextFileSync(text, "#!/bin/sh\necho not a runtime\n");
    r = await compile(["--out-dir", dir], { DENORT_BIN: text });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^compile: Invalid DENORT_BIN ".*denort\.txt": it is not an executable/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "compile.ts refuses a --target the DENORT_BIN runtime is not for",
  ignore: !isLinuxX64,
  async fn() {
    const r = await compile(["--target", "windows"], { DENORT_BIN: Deno.execPath() });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /is the runtime for x86_64-unknown-linux-gnu, so it cannot build x86_64-pc-windows-msvc/,
    );
  },
});

Deno.test({
  // The deno binary stands in for denort: the result is no working program, but it is what
  // deno compile writes, so the baked permissions and the embedded files can be read from it.
  name:
    "compile.ts builds only the DENORT_BIN target, with the needed permissions and no build tools",
  ignore: !isLinuxX64,
  async fn() {
    const outDir = await Deno.makeTempDir({ prefix: "procconn-dist-" });
    try {
      const r = await compile(["--out-dir", outDir], { DENORT_BIN: Deno.execPath() });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /building only procconn; skipped procconn\.exe/);
      assert.deepEqual([...Deno.readDirSync(outDir)].map((e) => e.name), ["procconn"]);
      const bytes = Deno.readFileSync(join(outDir, "procconn"));
      const text = decoder.decode(bytes.subarray(Deno.statSync(Deno.execPath()).size));
      const match = /"permissions":(\{[^{}]*\[[^\]]*\][^{}]*\})/.exec(text);
      assert.ok(match, "no permissions in the executable's metadata");
      const p = JSON.parse(match[1]);
      // Deno reads /proc only with every permission granted, so the Linux build has them all.
      const allows = Object.keys(p).filter((k) => k.startsWith("allow_"));
      assert.ok(allows.length >= 8, `too few permission kinds in ${match[1]}`);
      for (const name of allows) assert.deepEqual(p[name], [], `${name} should be granted`);
      assert.equal(p.prompt, false);
      // The V8 settings of the README's command are baked in too.
      assert.match(text, /"v8_flags":\[[^\]]*"--max-semi-space-size=2"\]/);
      // The runtime dependencies go in; the deno binary and build tools stay out.
      assert.ok(text.includes("csv-stringify"), "the runtime dependencies are not embedded");
      // The fd-scan worker is started by URL, so it is embedded only because it is included.
      assert.ok(text.includes("SCAN_SYMBOLS"), "the fd-scan worker is not embedded");
      // main.ts imports each command's code when it runs (deno.json loads these imports
      // lazily under deno run); the executable must still carry all of them.
      for (const name of ["runList", "runWatch", "runSnapshot"]) {
        assert.ok(text.includes(`function ${name}(`), `${name}'s module is not embedded`);
      }
      // package.json itself is embedded and names the dev tools, so look for their files.
      assert.ok(!text.includes("postject-api.h"), "a build tool (postject) was embedded");
      const added = bytes.length - Deno.statSync(Deno.execPath()).size;
      assert.ok(added < 40 * 2 ** 20, `the program added ${added} bytes: node_modules not pruned`);
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  },
});

Deno.test("nodeModulesExcludes keeps the runtime dependency tree and drops the rest", () => {
  const root = Deno.makeTempDirSync({ prefix: "procconn-modules-" });
  try {
    const pkg = (dir: string, manifest: Record<string, unknown>) => {
      Deno.mkdirSync(join(root, dir), { recursive: true });
      Deno.writeTextFileSync(join(root, dir, "package.json"), JSON.stringify(manifest));
    };
    pkg(".", { dependencies: { a: "1", koffi: "3" }, devDependencies: { tool: "1" } });
    pkg("node_modules/a", { name: "a", dependencies: { b: "1", "@s/y": "1" } });
    pkg("node_modules/b", { name: "b", optionalDependencies: { "@t/z": "1" } });
    pkg("node_modules/tool", { name: "tool" });
    pkg("node_modules/koffi", { name: "koffi" });
    pkg("node_modules/@s/x", { name: "@s/x" });
    pkg("node_modules/@s/y", { name: "@s/y" });
    pkg("node_modules/@t/z", { name: "@t/z" });
    pkg("node_modules/@u/w", { name: "@u/w" });
    Deno.mkdirSync(join(root, "node_modules/.bin"));
    Deno.writeTextFileSync(join(root, "node_modules/.package-lock.json"), "{}");
    assert.deepEqual(nodeModulesExcludes(root), [
      "node_modules/.bin",
      "node_modules/.package-lock.json",
      "node_modules/@s/x",
      "node_modules/@u",
      "node_modules/koffi",
      "node_modules/tool",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("denortCachePath follows the DENO_DIR's separator", () => {
  assert.equal(
    denortCachePath("/root/.cache/deno/", "2.9.5", "x86_64-unknown-linux-gnu"),
    "/root/.cache/deno/dl/release/v2.9.5/denort-x86_64-unknown-linux-gnu.zip",
  );
  assert.equal(
    denortCachePath("C:\\Users\\me\\AppData\\Local\\deno", "2.9.5", "x86_64-pc-windows-msvc"),
    "C:\\Users\\me\\AppData\\Local\\deno\\dl\\release\\v2.9.5\\denort-x86_64-pc-windows-msvc.zip",
  );
});

Deno.test("compile.ts refuses a command line it cannot read with one line and exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /^compile: Unknown option '--bogus'.*: usage: compile\.ts \[--target/],
    [["--target"], /^compile: Option '--target <value>' argument missing: usage: compile\.ts /],
    [["--target", "mac"], /^compile: Invalid target "mac": expected linux, windows or all\n$/],
    [["dist"], /^compile: Unexpected argument 'dist'.*: usage: compile\.ts /],
  ];
  for (const [args, message] of cases) {
    const r = await compile(args, NO_NETWORK);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});
