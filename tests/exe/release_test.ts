// The release bundles, packed from stand-in executables and read back with tools we did not write
// (python's zipfile, GNU tar, sha256sum).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const ROOT = new URL("../../", import.meta.url).pathname;
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;

function release(dist: string) {
  return spawnSync("node", [join(ROOT, "scripts/release.mjs"), "--dist", dist], {
    encoding: "utf8",
  });
}

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

describe("scripts/release.mjs", { skip: process.platform !== "linux" }, () => {
  it("refuses a command line it cannot read with one line and exit code 2", () => {
    const cases: [string[], RegExp][] = [
      [["--bogus"], /^release: Unknown option '--bogus'.*: usage: node scripts\/release\.mjs /],
      [["--dist"], /^release: Option '--dist <value>' argument missing: usage: /],
      [["dist"], /^release: Unexpected argument 'dist'.*: usage: /],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync("node", [join(ROOT, "scripts/release.mjs"), ...args], {
        encoding: "utf8",
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    }
  });

  it("packs both bundles with the executable, schema, README and checksums", () => {
    const dist = mkdtempSync(join(tmpdir(), "procconn-release-"));
    try {
      writeFileSync(join(dist, "procconn-node.exe"), "MZ stand-in windows executable");
      writeFileSync(join(dist, "procconn-node"), "\x7fELF stand-in linux executable");
      const r = release(dist);
      assert.equal(r.status, 0, r.stderr);

      const win = `procconn-${VERSION}-windows-x64`;
      const lin = `procconn-${VERSION}-linux-x64`;
      run("sha256sum", ["-c", "SHA256SUMS"], dist);

      const out = join(dist, "x");
      run("python3", ["-m", "zipfile", "-e", `${win}.zip`, out], dist);
      run("tar", ["-xzf", `${lin}.tar.gz`, "-C", out], dist);
      for (const folder of [win, lin]) {
        run("sha256sum", ["-c", "SHA256SUMS"], join(out, folder));
        const schema = readFileSync(join(out, folder, "connection.schema.json"), "utf8");
        assert.equal(schema, readFileSync(join(ROOT, "schema/connection.schema.json"), "utf8"));
        assert.match(readFileSync(join(out, folder, "README.txt"), "utf8"), /built on node/);
        // The PowerShell module, whole, beside the executable it runs.
        const moduleSource = join(ROOT, "ps-wrapper/ProcConn");
        const files = readdirSync(moduleSource, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile()).map((e) =>
            join(e.parentPath, e.name).slice(moduleSource.length)
          );
        assert.ok(
          files.includes("/ProcConn.psd1") && files.includes("/Public/Get-ProcConnection.ps1"),
        );
        for (const file of files) {
          assert.equal(
            readFileSync(join(out, folder, "ProcConn", file), "utf8"),
            readFileSync(join(moduleSource, file), "utf8"),
            file,
          );
        }
        assert.match(
          readFileSync(join(out, folder, "SHA256SUMS"), "utf8"),
          / {2}ProcConn\/Public\/Get-ProcConnection\.ps1$/m,
        );
      }
      assert.equal(
        readFileSync(join(out, win, "procconn.exe"), "utf8"),
        "MZ stand-in windows executable",
      );
      const listing = run("tar", ["-tvzf", `${lin}.tar.gz`], dist);
      assert.match(listing, /^-rwxr-xr-x .* procconn-[\d.]+-linux-x64\/procconn$/m);
      assert.match(
        readFileSync(join(out, win, "README.txt"), "utf8"),
        /koffi\.node.*\n.*removes it/,
      );
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });

  it("prefers the deno compile executables when both are there", () => {
    const dist = mkdtempSync(join(tmpdir(), "procconn-release-"));
    try {
      for (const f of ["procconn.exe", "procconn-node.exe", "procconn", "procconn-node"]) {
        writeFileSync(join(dist, f), f);
      }
      const r = release(dist);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /windows-x64\.zip \(procconn\.exe, deno\)/);
      assert.match(r.stdout, /linux-x64\.tar\.gz \(procconn, deno\)/);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });

  it("fails with one message naming what to build when an executable is missing", () => {
    const dist = mkdtempSync(join(tmpdir(), "procconn-release-"));
    try {
      const r = release(dist);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.match(r.stderr, /no windows-x64 executable .*deno task compile.*npm run build:exe/);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
