// @ts-check
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { hasProgram, nodeBinary, ROOT, startLoadgen } from "./_harness.mjs";
import { parseLoadgenArgs, planWorkers } from "./loadgen.mjs";
import { parseSs, socketKey } from "./_tuples.mjs";

const linux = process.platform === "linux" && hasProgram("ss");

/**
 * Whether a process exists.
 *
 * @param {number} pid The process id.
 * @returns {boolean} True while it runs.
 */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until none of the processes exists, or fails after `ms`.
 *
 * @param {number[]} pids The processes.
 * @param {number} ms How long to wait.
 */
async function waitGone(pids, ms) {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) {
      assert.fail(`Still running after ${ms} ms: ${pids.filter(alive).join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The TCP tuples ss sees right now.
 *
 * @returns {import("./_tuples.mjs").Tuple[]} The tuples.
 */
function ssTcp() {
  const r = spawnSync("ss", ["-tanp"], { encoding: "utf8", maxBuffer: 1 << 30 });
  return parseSs(r.stdout);
}

describe("planWorkers", () => {
  it("keeps the processes and the limit when the soft limit suffices", () => {
    assert.deepEqual(planWorkers(20000, 50, { soft: 20000, hard: 20000 }), {
      processes: 50,
      raiseTo: null,
    });
  });

  it("raises the soft limit to the hard limit when only the hard limit suffices", () => {
    assert.deepEqual(planWorkers(20000, 10, { soft: 1024, hard: 1048576 }), {
      processes: 10,
      raiseTo: 1048576,
    });
  });

  it("spreads over more processes when even the hard limit is too low", () => {
    const plan = planWorkers(20000, 10, { soft: 1024, hard: 1024 });
    assert.equal(plan.raiseTo, 1024);
    // 2 * ceil(20000 / p) + 1 + 64 <= 1024 needs ceil(20000 / p) <= 479: first at p = 42.
    assert.equal(plan.processes, 42);
  });
});

describe("parseLoadgenArgs", () => {
  it("reads both flags in either spelling", () => {
    assert.deepEqual(parseLoadgenArgs(["--connections", "10", "--processes=3"]), {
      connections: 10,
      processes: 3,
      ignoreStdin: false,
    });
    assert.equal(parseLoadgenArgs(["--help"]), null);
  });

  it("rejects bad values and unknown flags, quoting them", () => {
    assert.throws(() => parseLoadgenArgs(["--connections", "ten"]), /Invalid --connections "ten"/);
    assert.throws(() => parseLoadgenArgs(["--processes", "1"]), /Invalid --processes "1"/);
    assert.throws(() => parseLoadgenArgs(["--host", "x"]), /Unknown option "--host"/);
  });
});

describe("loadgen on real sockets", { skip: !linux && "needs Linux and ss" }, () => {
  it("holds 2N+P loopback sockets owned by its workers, and leaves nothing behind", async () => {
    const load = await startLoadgen({ connections: 60, processes: 3 });
    let mine;
    try {
      assert.equal(load.sockets, 123);
      assert.equal(load.pids.length, 3);
      const pids = new Set(load.pids);
      mine = ssTcp().filter((t) => t.pid !== null && pids.has(t.pid));
      assert.equal(mine.length, 123);
      assert.equal(mine.filter((t) => t.remote === null).length, 3);
      for (const t of mine) {
        assert.equal(t.local, "127.0.0.1");
        if (t.remote !== null) assert.equal(t.remote, "127.0.0.1");
      }
      // Each worker holds both outgoing and accepted connections.
      for (const pid of load.pids) {
        assert.ok(mine.filter((t) => t.pid === pid).length >= 2 * 20, `pid ${pid}`);
      }
    } finally {
      await load.stop();
    }
    await waitGone([...load.pids, load.launcherPid], 5000);
    // Connections were reset, not closed: no TIME_WAIT (or any other) socket of them is left.
    const left = new Set(ssTcp().map(socketKey));
    assert.deepEqual(mine.map(socketKey).filter((k) => left.has(k)), []);
  });

  it("takes its workers down when the launcher is killed with SIGKILL", async () => {
    const child = spawn(nodeBinary(), [
      path.join(ROOT, "bench", "loadgen.mjs"),
      "--connections",
      "20",
      "--processes",
      "2",
    ], { stdio: ["pipe", "pipe", "inherit"] });
    const line = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(JSON.parse(out));
      });
      child.once("exit", (code) => reject(new Error(`Load generator ended (code ${code})`)));
    });
    assert.equal(line.ready, true);
    assert.equal(line.sockets, 42);
    child.kill("SIGKILL");
    await waitGone([...line.pids, line.launcherPid], 5000);
    child.stdin.destroy();
  });

  it("stops with exit code 0 on SIGTERM", async () => {
    const child = spawn(nodeBinary(), [
      path.join(ROOT, "bench", "loadgen.mjs"),
      "--connections",
      "10",
      "--processes",
      "2",
      "--ignore-stdin",
    ], { stdio: ["ignore", "pipe", "inherit"] });
    const pids = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(JSON.parse(out).pids);
      });
      child.once("exit", (code) => reject(new Error(`Load generator ended (code ${code})`)));
    });
    const ended = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    child.kill("SIGTERM");
    const { code, signal } = /** @type {{ code: number | null, signal: string | null }} */ (
      await ended
    );
    // Deno's child_process reports the signal it sent rather than the exit code the handler
    // chose (seen with Deno 2.9); Node reports the exit code.
    if ("Deno" in globalThis && code === null) assert.equal(signal, "SIGTERM");
    else assert.equal(code, 0);
    await waitGone(pids, 5000);
  });
});
