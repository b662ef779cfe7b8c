// @ts-check
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { hasProgram, missingProcconnFiles } from "./_harness.mjs";
import { makeTuple } from "./_tuples.mjs";
import { checkCorrectness, judge, mainThreadEnded } from "./correctness_check.mjs";

describe("judge", () => {
  // A load generator with two workers (pids 1 and 2), one connection between them, and one
  // socket of an unrelated process (pid 9).
  const listener1 = makeTuple("TCP", "127.0.0.1", 4001, null, null, 1);
  const listener2 = makeTuple("TCP", "127.0.0.1", 4002, null, null, 2);
  const out = makeTuple("TCP", "127.0.0.1", 50000, "127.0.0.1", 4002, 1);
  const back = makeTuple("TCP", "127.0.0.1", 4002, "127.0.0.1", 50000, 2);
  const dns = makeTuple("UDP", "127.0.0.53", 53, null, null, 9);
  const load = { pids: [1, 2], sockets: 4 };
  const all = [listener1, listener2, out, back, dns];

  it("passes when procconn and ss agree and every load socket is there", () => {
    const v = judge(
      { ssBefore: all, procconn: all, procconnRecords: 5, psutil: all, ssAfter: all },
      load,
    );
    assert.equal(v.ok, true, v.report);
    assert.deepEqual(v.loadgen, { expected: 4, found: 4 });
    assert.equal(v.checks.length, 3);
  });

  it("fails with the missing tuple in the report", () => {
    const v = judge(
      {
        ssBefore: all,
        procconn: all.filter((t) => t !== back),
        procconnRecords: 4,
        psutil: null,
        ssAfter: all,
      },
      load,
    );
    assert.equal(v.ok, false);
    assert.match(
      v.report,
      /only in the peer \(1\):\n {4}TCP 127\.0\.0\.1:4002 -> 127\.0\.0\.1:50000 pid=2/,
    );
    assert.match(v.report, /3 of 4 \(MISSING OR EXTRA\)/);
  });

  it("fails when a UDP owner differs", () => {
    const moved = { ...dns, pid: 10 };
    const v = judge(
      {
        ssBefore: all,
        procconn: [listener1, listener2, out, back, moved],
        procconnRecords: 5,
        psutil: null,
        ssAfter: all,
      },
      load,
    );
    assert.equal(v.ok, false);
    assert.match(v.report, /^UDP: .*DIFFERENT/m);
  });

  it("does not pass two empty listings", () => {
    const v = judge(
      { ssBefore: [], procconn: [], procconnRecords: 0, psutil: null, ssAfter: [] },
      load,
    );
    assert.equal(v.ok, false);
    assert.match(v.report, /0 of 4/);
  });
});

const ready = process.platform === "linux" && hasProgram("ss") &&
  missingProcconnFiles().length === 0;

describe("procconn against ss on real sockets", {
  skip: !ready && "needs Linux, ss and procconn's main.ts",
}, () => {
  it("reports the same (protocol, local, remote, pid) tuples as ss", async () => {
    const verdict = await checkCorrectness();
    assert.ok(verdict.ok, verdict.report);
    assert.equal(verdict.loadgen.found, 304);
  });

  it("agrees with ss while a process whose main thread ended holds a socket", {
    skip: !hasProgram("python3") && "needs python3",
  }, async () => {
    // ss shows its listener without an owner; procconn names it.
    const child = spawn("python3", ["-c", HEADLESS_PY], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      const port = Number(await firstLine(child));
      const pid = /** @type {number} */ (child.pid);
      for (let i = 0; i < 100 && !mainThreadEnded(pid); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(mainThreadEnded(pid), "the main thread has not ended");
      assert.equal(mainThreadEnded(process.pid), false);
      const verdict = await checkCorrectness();
      assert.ok(verdict.ok, verdict.report);
      assert.match(verdict.report, new RegExp(`127\\.0\\.0\\.1:${port} -> \\* pid=${pid}`));
    } finally {
      child.stdin.end();
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(null) : child.once("exit", resolve)
      );
    }
  });
});

const HEADLESS_PY = `
import ctypes, socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
threading.Thread(target=sys.stdin.read).start()
print(s.getsockname()[1], flush=True)
ctypes.CDLL(None).pthread_exit(None)
`;

/**
 * The first line a child prints.
 *
 * @param {import("node:child_process").ChildProcess & { stdout: import("node:stream").Readable }} child
 *   The child.
 * @returns {Promise<string>} The line.
 */
function firstLine(child) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      lines.close();
      resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`the child exited with ${code}`)));
  });
}
