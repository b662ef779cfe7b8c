// @ts-check
/**
 * Process plumbing for the benchmark: starting and always stopping load generators, running a
 * command with its output captured or discarded, timing a command with its peak RSS, and a
 * description of the machine. Works under Node and under Deno's Node compatibility layer.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root (the folder above `bench/`). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LOADGEN = path.join(ROOT, "bench", "loadgen.mjs");

/**
 * The Node binary that runs the load generator: this one under Node, `node` from PATH under
 * Deno.
 *
 * @returns {string} The program to spawn.
 */
export function nodeBinary() {
  return "Deno" in globalThis ? "node" : process.execPath;
}

/**
 * The command that runs procconn: `$PROCCONN_CMD` split on spaces when set, else the README's
 * command (package.json's `procconn` script, with its permissions and V8 flags) run by the repo's
 * Deno binary (`node_modules/.bin/deno`, what `npm run` resolves `deno` to, without npm's own
 * start-up).
 *
 * @returns {string[]} The program and its first arguments.
 */
export function procconnCommand() {
  const custom = process.env.PROCCONN_CMD;
  if (custom) return custom.trim().split(/\s+/);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const [deno, ...args] = String(pkg.scripts.procconn).trim().split(/\s+/);
  if (deno !== "deno") throw new Error(`Unexpected procconn script: ${pkg.scripts.procconn}`);
  return [path.join(ROOT, "node_modules", ".bin", "deno"), ...args];
}

/**
 * Whether the procconn CLI and the Linux engine are present in the checkout.
 *
 * @returns {string[]} The missing files; empty when both exist.
 */
export function missingProcconnFiles() {
  const needed = ["main.ts", path.join("ffi", "linux", "engine.ts")];
  return needed.filter((f) => {
    try {
      return !statSync(path.join(ROOT, f)).isFile();
    } catch {
      return true;
    }
  });
}

/** @type {Set<import("node:child_process").ChildProcess>} */
const live = new Set();
let hooked = false;

/** Kills every load generator still running (SIGTERM; they reset their sockets and leave). */
export function killAll() {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
  live.clear();
}

/** Installs, once, the handlers that stop the load generators on exit, Ctrl-C and SIGTERM. */
function hookCleanup() {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const [signal, code] of /** @type {const} */ ([["SIGINT", 130], ["SIGTERM", 143]])) {
    process.on(signal, () => {
      killAll();
      process.exit(code);
    });
  }
}

/**
 * A running load generator.
 *
 * @typedef {object} Loadgen
 * @property {number} connections Connections established.
 * @property {number} sockets TCP sockets it holds (both ends of each connection and listeners).
 * @property {number[]} pids The worker processes holding the sockets.
 * @property {number} launcherPid The launcher process.
 * @property {() => Promise<void>} stop Closes its stdin and waits until it and its workers
 *   are gone.
 */

/**
 * Starts `bench/loadgen.mjs` and resolves once it reports every connection established. The
 * launcher and its workers are stopped when `stop()` is called, when this process exits, and
 * on SIGINT / SIGTERM; if this process is killed outright, the launcher sees its stdin close.
 *
 * @param {{ connections: number, processes: number, timeoutMs?: number }} options Size of
 *   the load, and how long to wait for it (default 5 minutes).
 * @returns {Promise<Loadgen>} The running load generator.
 * @throws {Error} When it fails or is not ready in time; the message includes its stderr.
 */
export function startLoadgen(options) {
  hookCleanup();
  const args = [
    LOADGEN,
    "--connections",
    String(options.connections),
    "--processes",
    String(options.processes),
  ];
  const child = spawn(nodeBinary(), args, { stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
    else child.once("exit", () => resolve(undefined));
  });
  const stop = async () => {
    live.delete(child);
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGTERM"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    let out = "", err = "";
    const timeout = options.timeoutMs ?? 300_000;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`Load generator not ready after ${timeout / 1000} s: ${err.trim()}`));
    }, timeout);
    child.stderr?.on("data", (d) => err += d);
    child.stdout?.on("data", (d) => {
      out += d;
      const newline = out.indexOf("\n");
      if (newline < 0) return;
      clearTimeout(timer);
      let line;
      try {
        line = JSON.parse(out.slice(0, newline));
      } catch {
        stop();
        reject(new Error(`Unexpected load generator output "${out.slice(0, newline)}"`));
        return;
      }
      resolve({
        connections: line.connections,
        sockets: line.sockets,
        pids: line.pids,
        launcherPid: line.launcherPid,
        stop,
      });
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      reject(
        new Error(
          `Load generator ended before it was ready (${
            signal ?? `exit code ${code}`
          }): ${err.trim()}`,
        ),
      );
    });
  });
}

/**
 * The result of one command run.
 *
 * @typedef {object} RunResult
 * @property {number | null} code Exit code (null when killed by a signal).
 * @property {string} stdout Captured standard output ("" when discarded).
 * @property {string} stderr Captured standard error.
 * @property {number} ms Wall-clock time from spawn to exit, in milliseconds.
 */

/**
 * Runs a command and waits for it.
 *
 * @param {string[]} argv Program and arguments.
 * @param {{ cwd?: string, capture?: boolean, env?: Record<string, string>, timeoutMs?: number }}
 *   [options] Working directory (default the repo root); `capture: false` sends stdout to
 *   /dev/null; extra environment variables; a time limit after which the command is killed
 *   (default 10 minutes).
 * @returns {Promise<RunResult>} The exit code, the output and the time taken.
 */
export function run(argv, options = {}) {
  const capture = options.capture ?? true;
  const devnull = capture ? null : openSync("/dev/null", "w");
  const started = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", devnull ?? "pipe", "pipe"],
  });
  /** @type {Buffer[]} */
  const out = [];
  /** @type {Buffer[]} */
  const err = [];
  child.stdout?.on("data", (d) => out.push(d));
  child.stderr?.on("data", (d) => err.push(d));
  const limit = options.timeoutMs ?? 600_000;
  const killer = setTimeout(() => {
    err.push(Buffer.from(`\n(killed after ${limit / 1000} s)`));
    child.kill("SIGKILL");
  }, limit);
  return new Promise((resolve, reject) => {
    child.once("error", (e) => {
      clearTimeout(killer);
      if (devnull !== null) closeSync(devnull);
      reject(new Error(`Cannot run "${argv[0]}": ${e.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(killer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (devnull !== null) closeSync(devnull);
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ms,
      });
    });
  });
}

/**
 * One timed run.
 *
 * @typedef {object} Timing
 * @property {number} ms Wall-clock time in milliseconds.
 * @property {number | null} maxRssKb Peak resident set size in KiB (from `/usr/bin/time`), or
 *   null when `/usr/bin/time` is missing.
 * @property {number | null} cpuMs User plus system CPU time in milliseconds (from
 *   `/usr/bin/time`), or null when `/usr/bin/time` is missing.
 * @property {number | null} code Exit code of the command.
 * @property {string} stderr Its standard error (without `/usr/bin/time`'s report).
 */

/**
 * Runs a command with its output discarded and measures wall time and, through
 * `/usr/bin/time`, its peak RSS (time's own start-up, about a millisecond, is included the
 * same way for every tool).
 *
 * @param {string[]} argv Program and arguments.
 * @param {{ cwd?: string }} [options] Working directory (default the repo root).
 * @returns {Promise<Timing>} The measurement.
 */
export async function timeCommand(argv, options = {}) {
  if (!hasProgram("/usr/bin/time")) {
    const r = await run(argv, { cwd: options.cwd, capture: false });
    return { ms: r.ms, maxRssKb: null, cpuMs: null, code: r.code, stderr: r.stderr };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "procconn-bench-"));
  const report = path.join(dir, "time.txt");
  try {
    const r = await run(["/usr/bin/time", "-v", "-o", report, ...argv], {
      cwd: options.cwd,
      capture: false,
    });
    const text = readFileSync(report, "utf8");
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    const user = /User time \(seconds\): ([\d.]+)/.exec(text);
    const sys = /System time \(seconds\): ([\d.]+)/.exec(text);
    return {
      ms: r.ms,
      maxRssKb: rss ? Number(rss[1]) : null,
      cpuMs: user && sys ? (Number(user[1]) + Number(sys[1])) * 1000 : null,
      code: r.code,
      stderr: r.stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether a program can be run: an absolute path that exists, or a name found on PATH.
 *
 * @param {string} program The program.
 * @returns {boolean} True when it exists.
 */
export function hasProgram(program) {
  if (program.includes("/")) {
    try {
      return statSync(program).isFile();
    } catch {
      return false;
    }
  }
  return spawnSync("sh", ["-c", 'command -v "$0"', program], { stdio: "ignore" }).status === 0;
}

/**
 * The first line a command prints (stdout, else stderr), or null when it cannot run.
 *
 * @param {string[]} argv Program and arguments.
 * @returns {string | null} The line.
 */
export function firstLine(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", cwd: ROOT });
  if (r.error) return null;
  const text = (r.stdout || r.stderr || "").trim();
  return text.split("\n")[0].trim() || null;
}

/**
 * Describes the machine the numbers come from.
 *
 * @returns {{ cpus: number, cpuModel: string, memoryGiB: number, kernel: string,
 *   distro: string, openFiles: string }} The description.
 */
export function machineInfo() {
  let distro = "unknown";
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m) distro = m[1];
  } catch {
    // No /etc/os-release: the distribution stays unknown.
  }
  let openFiles = "unknown";
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m) openFiles = `${m[1]} soft / ${m[2]} hard`;
  } catch {
    // Not Linux: the limit stays unknown.
  }
  return {
    cpus: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    distro,
    openFiles,
  };
}

/**
 * Summary statistics of a list of numbers.
 *
 * @param {number[]} values The numbers (at least one).
 * @returns {{ min: number, median: number, max: number }} Minimum, median and maximum.
 */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}
