// The portable unit tests, run by Node (through the tsx loader) instead of Deno: the core,
// the formatters, the Linux engine, the Windows decoders and the koffi adapter must pass there
// too, since the Node build ships the same modules.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import process from "node:process";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The test files Node runs: every `*_test.ts` of these folders, plus single files. */
const FOLDERS = ["tests/core", "tests/formatters", "tests/ffi/linux"];
const FILES = [
  "tests/ffi/windows/decode_test.ts",
  "tests/node/koffi_test.ts",
  "tests/node/sea_addon_test.ts",
];

function testFiles(): string[] {
  const files: string[] = [];
  for (const folder of FOLDERS) {
    const dir = join(ROOT, folder);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith("_test.ts")) files.push(join(dir, name));
    }
  }
  for (const file of FILES) {
    if (existsSync(join(ROOT, file))) files.push(join(ROOT, file));
  }
  return files;
}

// deno-lint-ignore no-explicit-any
const underDeno = typeof (globalThis as any).Deno?.version?.deno === "string";

it("the portable unit tests pass under Node", () => {
  const files = testFiles();
  assert.ok(
    files.some((f) => relative(ROOT, f).startsWith(join("tests", "core"))),
    "no core tests found",
  );
  const tsx = join(ROOT, "node_modules", "tsx");
  assert.ok(existsSync(tsx), `the tsx loader is missing (${tsx}): run npm ci`);
  const node = underDeno ? "node" : process.execPath;
  // A parent `node --test` marks its children with NODE_TEST_CONTEXT, which changes their
  // output format; this run reports for itself.
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete env.NODE_TEST_CONTEXT;
  const result = spawnSync(
    node,
    ["--import", "tsx", "--test", "--test-reporter=tap", ...files.map((f) => relative(ROOT, f))],
    { cwd: ROOT, encoding: "utf8", env, timeout: 300_000 },
  );
  assert.equal(result.error, undefined, `cannot run ${node}: ${result.error?.message}`);
  const output = `${result.stdout}${result.stderr}`;
  const count = (name: string) => {
    const match = new RegExp(`^# ${name} (\\d+)$`, "m").exec(output);
    return match ? Number(match[1]) : Number.NaN;
  };
  const failed = count("fail");
  const passed = count("pass");
  const failures = output.split("\n").filter((line) => /^\s*not ok /.test(line)).join("\n");
  assert.equal(result.status, 0, `Node reported failures:\n${failures}\n${output.slice(-4000)}`);
  assert.equal(failed, 0);
  assert.ok(passed > 0, `Node ran no tests:\n${output.slice(-2000)}`);
});
