// node/_sea_addon.ts: loading koffi's addon from an unnamed file (Linux), or writing it to a
// private directory, loading it, and cleaning up after it (Windows; the Linux build of the addon
// stands in for the Windows one the executable carries).
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { after, describe, it } from "node:test";
import type { KoffiModule } from "../../ffi/_koffi.ts";
import {
  ADDON_DIR_PREFIX,
  isSingleExecutable,
  koffiFromSeaAsset,
  loadAddon,
  loadUnnamedAddon,
  removeStaleAddonDirs,
} from "../../node/_sea_addon.ts";

const onLinuxX64 = process.platform === "linux" && process.arch === "x64";
const parent = mkdtempSync(join(tmpdir(), "procconn-addon-test-"));
after(() => rmSync(parent, { recursive: true, force: true }));

function linuxKoffiAddon(): Uint8Array {
  const require = createRequire(import.meta.url);
  const koffiDir = dirname(require.resolve("koffi"));
  const candidates = [
    join(koffiDir, "..", "@koromix", "koffi-linux-x64", "linux_x64", "koffi.node"),
    join(koffiDir, "node_modules", "@koromix", "koffi-linux-x64", "linux_x64", "koffi.node"),
  ];
  const file = candidates.find((f) => existsSync(f));
  assert.ok(file, `koffi's linux-x64 addon is not installed (looked at ${candidates.join(", ")})`);
  return readFileSync(file);
}

describe("loadAddon", { skip: !onLinuxX64 && "uses koffi's linux-x64 addon" }, () => {
  it("writes the addon into a private directory, loads it, and removes it", () => {
    const addon = loadAddon(linuxKoffiAddon(), { tmpDir: parent });
    assert.ok(addon.dir.startsWith(join(parent, `${ADDON_DIR_PREFIX}${process.pid}-`)));
    assert.equal(statSync(addon.dir).mode & 0o777, 0o700);
    assert.equal(addon.file, join(addon.dir, "koffi.node"));
    const koffi = addon.exports as KoffiModule;
    assert.equal(typeof koffi.load, "function");
    assert.match(koffi.version, /^\d+\.\d+\.\d+$/);
    // The raw addon is usable as is: bind and call a function.
    const lib = koffi.load("libc.so.6");
    assert.equal(lib.func("getpid", "int32_t", [])(), process.pid);
    assert.equal(addon.remove(), true);
    assert.equal(existsSync(addon.dir), false);
  });

  it("fails with the file in the message and leaves nothing behind", () => {
    const before = readdirSync(parent).length;
    assert.throws(
      () => loadAddon(new TextEncoder().encode("not a shared object"), { tmpDir: parent }),
      /Cannot load the native addon written to ".*koffi\.node": /,
    );
    assert.equal(readdirSync(parent).length, before);
  });
});

describe("loadUnnamedAddon", { skip: !onLinuxX64 && "uses koffi's linux-x64 addon" }, () => {
  it("loads the addon from a file that never has a name", () => {
    const dir = mkdtempSync(join(parent, "unnamed-"));
    const koffi = loadUnnamedAddon(linuxKoffiAddon(), dir) as KoffiModule;
    assert.match(koffi.version, /^\d+\.\d+\.\d+$/);
    const lib = koffi.load("libc.so.6");
    assert.equal(lib.func("getpid", "int32_t", [])(), process.pid);
    // Nothing was ever visible in the folder.
    assert.deepEqual(readdirSync(dir), []);
  });

  it("fails with the folder in the message when the file cannot be made or loaded", () => {
    assert.throws(
      () => loadUnnamedAddon(linuxKoffiAddon(), join(parent, "missing")),
      /^Error: Cannot load the native addon from an unnamed file in ".*missing": /,
    );
    assert.throws(
      () => loadUnnamedAddon(new TextEncoder().encode("not a shared object"), parent),
      /Cannot load the native addon from an unnamed file in ".*": /,
    );
  });
});

describe("removeStaleAddonDirs", () => {
  it("removes the directories of ended processes only", () => {
    const root = mkdtempSync(join(parent, "stale-"));
    const make = (name: string) => {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, "koffi.node"), "x");
    };
    make(`${ADDON_DIR_PREFIX}999991-AbC123`); // ended
    make(`${ADDON_DIR_PREFIX}999992-XyZ789`); // still running
    make(`${ADDON_DIR_PREFIX}${process.pid}-Own123`); // this process
    make(`${ADDON_DIR_PREFIX}999993-not-ours`); // not a name we create
    make("unrelated");
    const removed = removeStaleAddonDirs(root, (pid) => pid === 999992);
    assert.deepEqual(removed, [join(root, `${ADDON_DIR_PREFIX}999991-AbC123`)]);
    assert.deepEqual(readdirSync(root).sort(), [
      `${ADDON_DIR_PREFIX}${process.pid}-Own123`,
      `${ADDON_DIR_PREFIX}999992-XyZ789`,
      `${ADDON_DIR_PREFIX}999993-not-ours`,
      "unrelated",
    ]);
  });

  it("asks the OS whether a pid runs by default", () => {
    const root = mkdtempSync(join(parent, "alive-"));
    const mine = `${ADDON_DIR_PREFIX}${process.ppid}-Parent`;
    mkdirSync(join(root, mine));
    assert.deepEqual(removeStaleAddonDirs(root), []);
    assert.deepEqual(readdirSync(root), [mine]);
  });

  it("returns nothing for a folder that does not exist", () => {
    assert.deepEqual(removeStaleAddonDirs(join(parent, "missing")), []);
  });
});

describe("outside a single executable", () => {
  it("is not one, and has no addon to load", () => {
    assert.equal(isSingleExecutable(), false);
    assert.throws(() => koffiFromSeaAsset(), /this is not a single executable/);
  });
});
