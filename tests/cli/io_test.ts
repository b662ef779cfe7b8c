import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { PYTHON } from "../ffi/linux/_children.ts";
import { mixedParts } from "./_mixed_text.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

// A parent that hands procconn a non-blocking pipe and reads it only after a while, as a Node
// REPL that left its terminal non-blocking would.
const HARNESS = `
import os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
p = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
os.close(w)
time.sleep(1.0)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    data += chunk
sys.stdout.buffer.write(data)
sys.stderr.buffer.write(p.stderr.read())
sys.exit(p.wait())
`;

describe("stdout writer", () => {
  it("a full non-blocking stdout ends with a clear error, never with repeated output", {
    skip: PYTHON === null && "needs python3",
  }, () => {
    const r = spawnSync(PYTHON!.path, [
      "-c",
      HARNESS,
      Deno.execPath(),
      "run",
      "-A",
      "tests/cli/_write_lines.ts",
    ], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^Standard output is in non-blocking mode and its reader fell behind/);
    // What did arrive is the start of the text, each line once.
    const lines = r.stdout.split("\n");
    lines.pop();
    assert.ok(lines.length > 0);
    lines.forEach((line, i) => assert.equal(line, `line ${i} ${"x".repeat(20)}`));
  });

  const cli = {
    Deno: [Deno.execPath(), "run", "-A", "main.ts"],
    Node: ["node", "--import", "tsx", "node/main.ts"],
  };
  for (const [runtime, command] of Object.entries(cli)) {
    it(
      `a stdout that refuses the write (/dev/full) is one error line naming it, under ${runtime}`,
      {
        skip: !existsSync("/dev/full") && "no /dev/full",
      },
      () => {
        for (const args of [["--version"], ["--help"], ["--format", "json", "--pid", "1"]]) {
          const full = openSync("/dev/full", "w");
          try {
            const r = spawnSync(command[0], [...command.slice(1), ...args], {
              cwd: ROOT,
              encoding: "utf8",
              stdio: ["ignore", full, "pipe"],
            });
            assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
            assert.match(
              r.stderr,
              /^procconn: Cannot write to standard output: .*(No space left on device|ENOSPC).*\n$/,
            );
            assert.equal(r.stderr.split("\n").length, 2, `one line: ${r.stderr}`);
          } finally {
            closeSync(full);
          }
        }
      },
    );
  }

  const expected = new TextEncoder().encode(mixedParts().join(""));
  const runs = {
    Deno: [Deno.execPath(), "run", "-A", "tests/cli/_write_mixed.ts"],
    Node: ["node", "--import", "tsx", "tests/cli/_write_mixed.ts"],
  };
  for (const [runtime, command] of Object.entries(runs)) {
    it(`writes every byte of the text once and in order, under ${runtime}`, () => {
      const r = spawnSync(command[0], command.slice(1), { cwd: ROOT, maxBuffer: 64 * 2 ** 20 });
      assert.equal(r.status, 0, String(r.stderr));
      assert.equal(r.stdout.length, expected.length);
      assert.ok(Buffer.compare(r.stdout, expected) === 0, "the bytes differ");
    });
  }
  it("hands back a promise only for the writes that flush, and writes everything in order", () => {
    const code = `
      import { stdoutWriter } from "./cli/_io.ts";
      const out = stdoutWriter(16);
      const answers = [];
      for (const text of ["abc", "", "defghijklmnop", "qr"]) {
        const flushed = out.write(text);
        answers.push(flushed instanceof Promise ? "flushed" : String(flushed));
        await flushed;
      }
      await out.flush();
      console.error(JSON.stringify(answers));
    `;
    const r = spawnSync(Deno.execPath(), ["eval", "--ext=ts", code], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "abcdefghijklmnopqr");
    assert.deepEqual(JSON.parse(r.stderr), ["undefined", "undefined", "flushed", "undefined"]);
  });
});
