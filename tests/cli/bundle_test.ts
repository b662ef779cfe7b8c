// The bundle of the command line (`scripts/bundle_app.mjs`, `cli/_bundle.ts`): main.ts runs it
// while it matches its sources and runs the sources once one changes, and both give the same
// answers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { type BundleManifest, bundleState, MANIFEST_PATH } from "../../cli/_bundle.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = process.execPath;
const MARKER = "procconn-bundle-test-marker";
const hasEsbuild = existsSync(join(ROOT, "node_modules", "esbuild", "package.json"));

/** A checkout in a temporary folder: `files` written, and a manifest of them. */
function fakeCheckout(files: Record<string, string>): { root: URL; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "procconn-bundle-"));
  const sources: [string, number, number][] = [];
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
    const info = statSync(join(dir, path));
    sources.push([path, info.size, Math.trunc(info.mtimeMs)]);
  }
  const manifest: BundleManifest = { format: 1, entry: "app.js", sources };
  mkdirSync(join(dir, "gen", "app"), { recursive: true });
  writeFileSync(join(dir, MANIFEST_PATH), JSON.stringify(manifest));
  return { root: new URL(`file://${dir}/`), dir };
}

describe("bundleState", () => {
  it("gives the entry while every source has its size and time, and why not otherwise", () => {
    const { root, dir } = fakeCheckout({ "cli/a.ts": "export const a = 1;\n", "b.ts": "//\n" });
    try {
      assert.deepEqual(bundleState(root), { entry: new URL("gen/app/app.js", root) });

      // The same size, another time (a save that changed one character, a checkout).
      const later = new Date(statSync(join(dir, "b.ts")).mtimeMs + 5000);
      utimesSync(join(dir, "b.ts"), later, later);
      assert.deepEqual(bundleState(root), { unused: "b.ts changed since the bundle was made" });

      // Another size, the same time.
      const { root: root2, dir: dir2 } = fakeCheckout({ "c.ts": "const c = 1;\n" });
      const kept = statSync(join(dir2, "c.ts"));
      writeFileSync(join(dir2, "c.ts"), "const c = 12;\n");
      utimesSync(join(dir2, "c.ts"), kept.atime, kept.mtime);
      assert.deepEqual(bundleState(root2), { unused: "c.ts changed since the bundle was made" });
      rmSync(dir2, { recursive: true });

      rmSync(join(dir, "cli", "a.ts"));
      assert.deepEqual(bundleState(root), { unused: "cli/a.ts cannot be read" });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("does not use a bundle without a readable, well-formed manifest", () => {
    const { root, dir } = fakeCheckout({ "a.ts": "1;\n" });
    try {
      const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_PATH), "utf8"));
      const variants: [unknown, string][] = [
        [{ ...manifest, format: 2 }, "not a bundle manifest"],
        [{ ...manifest, entry: "../../elsewhere.js" }, "not a bundle manifest"],
        [{ ...manifest, sources: [] }, "not a bundle manifest"],
        [{ ...manifest, sources: [["a.ts", "3"]] }, "not a bundle manifest"],
      ];
      for (const [value, why] of variants) {
        writeFileSync(join(dir, MANIFEST_PATH), JSON.stringify(value));
        const state = bundleState(root);
        assert.ok("unused" in state && state.unused.endsWith(why), JSON.stringify(state));
      }
      writeFileSync(join(dir, MANIFEST_PATH), "{ not json");
      assert.deepEqual(bundleState(root), { unused: `${MANIFEST_PATH} is not a bundle manifest` });
      rmSync(join(dir, MANIFEST_PATH));
      assert.deepEqual(bundleState(root), { unused: `no ${MANIFEST_PATH}` });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("the bundle of this checkout", {
  skip: !hasEsbuild && process.env.CI !== "true" && "esbuild is not installed",
}, () => {
  it("is up to date with the sources (the test command writes it first)", () => {
    assert.deepEqual(bundleState(new URL(`file://${ROOT}`)), {
      entry: new URL(`file://${ROOT}gen/app/app.js`),
    });
  });

  // A copy of the checkout with the bundle, times kept, where a source can be touched.
  let copy = "";
  before(() => {
    copy = mkdtempSync(join(tmpdir(), "procconn-checkout-"));
    const listed = spawnSync("git", [
      "ls-files",
      "-z",
      "--cached",
      "--others",
      "--exclude-standard",
    ], { cwd: ROOT, encoding: "utf8" });
    assert.equal(listed.status, 0, listed.stderr);
    const tracked = listed.stdout.split("\0").filter(Boolean);
    for (const path of [...tracked, "gen"]) {
      if (!existsSync(join(ROOT, path))) continue;
      mkdirSync(dirname(join(copy, path)), { recursive: true });
      cpSync(join(ROOT, path), join(copy, path), { recursive: true, preserveTimestamps: true });
    }
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    // A marker in the bundle's entry tells which code ran.
    appendFileSync(
      join(copy, "gen", "app", "app.js"),
      `\nconsole.error(${JSON.stringify(MARKER)});\n`,
    );
  });
  after(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  const run = (...args: string[]) => runWith(["-A"], ...args);
  const runWith = (permissions: string[], ...args: string[]) => {
    const r = spawnSync(DENO, ["run", ...permissions, "--no-check", "main.ts", ...args], {
      cwd: copy,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("is not used by a run that may not read the checkout, which asks for nothing", () => {
    const limited = runWith(["--allow-env"], "--state", "nonsense");
    assert.equal(limited.status, 2, limited.stderr);
    assert.match(limited.stderr, /^procconn: .*nonsense/);
    assert.ok(!limited.stderr.includes(MARKER), limited.stderr);
    assert.ok(run("--state", "nonsense").stderr.includes(MARKER));
  });

  it("is not used for help and the version, which load as little from the sources", () => {
    for (const flag of ["--help", "-h", "--version", "-V"]) {
      const r = run(flag);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!r.stderr.includes(MARKER), `${flag}: ${r.stderr}`);
    }
  });

  it("runs while it matches the sources, and the sources once one changes; same answers", () => {
    const marker = MARKER;
    // This test process's own listening socket, listed alone.
    const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = String(server.addr.port);
      const commands = [
        ["--state", "nonsense"],
        ["--tree", "--pid", String(Deno.pid)],
        ["--format", "json", "--pid", String(Deno.pid), "--port", port],
        ["--format", "csv", "--pid", String(Deno.pid), "--port", port],
      ];
      const bundled = commands.map((args) => run(...args));
      for (const r of bundled) assert.ok(r.stderr.includes(marker), r.stderr);
      // A source that changes makes the bundle stale.
      const args = join(copy, "cli", "args.ts");
      const later = new Date(statSync(args).mtimeMs + 2000);
      utimesSync(args, later, later);
      const sources = commands.map((args) => run(...args));
      commands.forEach((command, i) => {
        const [b, s] = [bundled[i], sources[i]];
        assert.ok(!s.stderr.includes(marker), s.stderr);
        assert.deepEqual(
          { ...b, stderr: b.stderr.replace(`${marker}\n`, "") },
          s,
          command.join(" "),
        );
      });
      assert.equal(bundled[0].status, 2);
      const listed = JSON.parse(bundled[2].stdout);
      assert.equal(listed.length, 1);
      assert.equal(listed[0].localPort, server.addr.port);
      assert.equal(listed[0].pid, Deno.pid);
    } finally {
      server.close();
    }
  });
});
