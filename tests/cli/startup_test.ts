// What each command line loads before it can answer. main.ts loads only the code that picks the
// bundle or the sources; the version alone is answered from cli/_io.ts; `--help`, `--version`
// with other arguments and a usage error are answered from cli/app.ts's static imports alone,
// so those must not reach the schema library, the engines or the formatters; and no listing may
// load a Node built-in (under Deno, the first one loads its Node compatibility layer: tens of
// milliseconds of start-up).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DENO = process.execPath;

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}

/** The module graph of `entry`, as `deno info --json` reports it. */
function graph(entry: string): Map<string, Dependency[]> {
  const r = spawnSync(DENO, ["info", "--json", entry], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as {
    modules: { specifier: string; dependencies?: Dependency[] }[];
  };
  return new Map(info.modules.map((m) => [m.specifier, m.dependencies ?? []]));
}

/** Every module `entry` loads before its code runs: static imports, followed transitively. */
function staticClosure(entry: string): string[] {
  const modules = graph(entry);
  const root = new URL(entry, `file://${ROOT}`).href;
  const seen = new Set<string>([root]);
  const pending = [root];
  while (pending.length > 0) {
    for (const dep of modules.get(pending.pop()!) ?? []) {
      const target = dep.code?.specifier;
      if (!target || dep.isDynamic || seen.has(target)) continue;
      seen.add(target);
      pending.push(target);
    }
  }
  return [...seen].map((s) =>
    s.startsWith(`file://${ROOT}`) ? s.slice(`file://${ROOT}`.length) : s
  );
}

describe("start-up", () => {
  it("main.ts loads the command line only once it has picked the bundle or the sources", () => {
    assert.deepEqual(staticClosure("main.ts"), ["main.ts"]);
  });
  it("the version alone is answered by two small modules", () => {
    // main.ts answers `--version` and `-V` alone from cli/_io.ts, without the parser.
    assert.deepEqual(staticClosure("cli/_io.ts").sort(), ["cli/_io.ts", "version.ts"]);
  });
  it("help, the version and usage errors load no schema, engine or formatter", () => {
    const loaded = staticClosure("cli/app.ts");
    const heavy = loaded.filter((m) =>
      /node_modules\/(zod|csv-stringify)\/|^gen\/|^core\/_zod\.ts$|^core\/record\.ts$|^core\/list\.ts$|^ffi\/|^formatters\/formatter\.ts$|^node:/
        .test(m)
    );
    assert.deepEqual(heavy, []);
    assert.ok(loaded.includes("cli/args.ts"), loaded.join("\n"));
  });
  it("a listing loads no Node built-in", () => {
    // On Linux: the command's modules, and the engine ffi/mod.ts loads for this OS.
    const command = staticClosure("cli/list.ts");
    assert.ok(command.includes("ffi/mod.ts"), command.join("\n"));
    const loaded = [...new Set([...command, ...staticClosure("ffi/linux/engine.ts")])];
    assert.deepEqual(loaded.filter((m) => m.startsWith("node:")), []);
    // Records are checked by the schema as compiled at install (scripts/bundle_zod.mjs); zod
    // itself is loaded only to name the fields of a record that fails (core/check.ts).
    assert.ok(loaded.includes("gen/connection_check.js"), "the compiled check is loaded");
    assert.deepEqual(
      loaded.filter((m) =>
        /node_modules\/zod\/|^gen\/zod\.js$|^core\/(_zod|schema|record)\.ts$/.test(m)
      ),
      [],
    );
    // Only the running OS's engine is loaded (ffi/mod.ts imports each on demand).
    assert.deepEqual(loaded.filter((m) => m.startsWith("ffi/windows/")), []);
    // The CSV writer is loaded only for --format csv.
    assert.deepEqual(loaded.filter((m) => /csv-stringify|^formatters\/csv\.ts$/.test(m)), []);
  });
  it("a record that fails the check of a listing without zod is named in full once explained", () => {
    // A fresh runtime that imports the check alone, as a listing does.
    const code = `
      import { checkListed, explainInvalid, InvalidConnectionError } from "./core/check.ts";
      let error;
      try {
        checkListed({ protocol: "TCP", family: "IPv4", localAddress: "", localPort: 1 });
      } catch (err) {
        error = err;
      }
      const explained = await explainInvalid(error);
      console.log(JSON.stringify({
        fromCheck: error instanceof InvalidConnectionError,
        explained: explained.message,
      }));
    `;
    const r = spawnSync(DENO, ["eval", "--ext=ts", code], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const { fromCheck, explained } = JSON.parse(r.stdout);
    assert.equal(fromCheck, true, "zod was not loaded, so the check threw its own error");
    assert.match(explained, /^Invalid connection record: localAddress: .*remoteAddress: /);
  });
});
