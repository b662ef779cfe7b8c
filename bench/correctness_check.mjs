#!/usr/bin/env node
// @ts-check
/**
 * Small correctness check: with a few hundred loopback sockets held by a handful of processes,
 * the (protocol, local, remote, pid) tuples procconn reports equal those of `ss -tuanp`
 * (every pid of a shared socket; UDP compared on local endpoint and pid). Exits 1 with a
 * readable diff when they differ. Speed is not measured here.
 *
 * ```sh
 * node bench/correctness_check.mjs            # or: deno run -A bench/correctness_check.mjs
 * ```
 *
 * From a test:
 *
 * ```js ignore
 * import { checkCorrectness } from "../../bench/correctness_check.mjs";
 * const result = await checkCorrectness();
 * if (!result.ok) throw new Error(result.report);
 * ```
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  hasProgram,
  missingProcconnFiles,
  procconnCommand,
  run,
  startLoadgen,
} from "./_harness.mjs";
import {
  compareWithPsutil,
  compareWithSs,
  describeComparison,
  onlyProtocol,
  parseProcconn,
  parsePsutil,
  parseSs,
  PSUTIL_DUMP,
} from "./_tuples.mjs";

/** @typedef {import("./_tuples.mjs").Tuple} Tuple */
/** @typedef {import("./_tuples.mjs").Comparison} Comparison */

/** The Debian Python, which has `python3-psutil` (a pyenv `python3` on PATH may not). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/**
 * What the tools reported, taken in the order ss, procconn, psutil, ss.
 *
 * @typedef {object} Snapshot
 * @property {Tuple[]} ssBefore `ss -tuanp` before procconn.
 * @property {Tuple[]} procconn procconn's tuples.
 * @property {number} procconnRecords How many records procconn printed.
 * @property {Tuple[] | null} psutil psutil's tuples, when asked for.
 * @property {Tuple[]} ssAfter `ss -tuanp` after procconn (and psutil).
 * @property {number[]} [headless] Owners procconn named whose main thread had ended (their
 *   `/proc/<pid>/fd` is empty, so ss and psutil show their sockets without an owner).
 */

/**
 * Runs a command and returns its stdout, or throws with its stderr when it fails.
 *
 * @param {string[]} argv Program and arguments.
 * @param {string} what Name of the tool for the message.
 * @returns {Promise<string>} Its stdout.
 */
async function output(argv, what) {
  const r = await run(argv);
  if (r.code !== 0) {
    throw new Error(`${what} failed (exit code ${r.code}): ${r.stderr.trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

/**
 * Takes the snapshots the comparisons need: `ss -tuanp`, procconn (`--format json`),
 * optionally psutil, then `ss -tuanp` again.
 *
 * @param {{ psutil?: boolean }} [options] Also run psutil (with {@linkcode SYSTEM_PYTHON}).
 * @returns {Promise<Snapshot>} The parsed outputs.
 * @throws {Error} When a tool is missing or fails; the message says which and why.
 */
export async function takeSnapshot(options = {}) {
  const missing = missingProcconnFiles();
  if (missing.length) {
    throw new Error(`procconn is not complete yet: missing ${missing.join(", ")}`);
  }
  if (!hasProgram("ss")) throw new Error(`"ss" not found: apt-get install -y iproute2`);
  if (options.psutil && !hasProgram(SYSTEM_PYTHON)) {
    throw new Error(`"${SYSTEM_PYTHON}" not found: apt-get install -y python3-psutil`);
  }
  const ssBefore = parseSs(await output(["ss", "-tuanp"], "ss -tuanp"));
  const json = await output([...procconnCommand(), "--format", "json"], "procconn");
  const records = JSON.parse(json);
  const procconn = parseProcconn(records);
  const psutil = options.psutil
    ? parsePsutil(await output([SYSTEM_PYTHON, "-c", PSUTIL_DUMP], "psutil"))
    : null;
  const ssAfter = parseSs(await output(["ss", "-tuanp"], "ss -tuanp"));
  const owners = new Set(procconn.flatMap((t) => t.pid === null ? [] : [t.pid]));
  const headless = [...owners].filter(mainThreadEnded);
  return { ssBefore, procconn, procconnRecords: records.length, psutil, ssAfter, headless };
}

/**
 * Whether a process runs on after its main thread ended: the process's own state reads zombie
 * (Z) while one of its threads still runs, as after pthread_exit in the main thread.
 *
 * @param {number} pid The process.
 * @returns {boolean} True for such a process; false for any other, or one that is gone.
 */
export function mainThreadEnded(pid) {
  const state = (/** @type {string} */ file) => {
    try {
      return /^State:\s+(\S)/m.exec(readFileSync(file, "latin1"))?.[1] ?? null;
    } catch {
      return null;
    }
  };
  if (state(`/proc/${pid}/status`) !== "Z") return false;
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) =>
      tid !== String(pid) && !["Z", "X", null].includes(state(`/proc/${pid}/task/${tid}/status`))
    );
  } catch {
    return false;
  }
}

/**
 * One named comparison.
 *
 * @typedef {object} Check
 * @property {string} title What was compared.
 * @property {Comparison} result The outcome.
 */

/**
 * The verdict on one snapshot.
 *
 * @typedef {object} Verdict
 * @property {boolean} ok True when every check passed.
 * @property {Check[]} checks The set comparisons.
 * @property {{ expected: number, found: number }} loadgen The load generator's sockets and
 *   how many of them procconn reported with a load-generator pid.
 * @property {string} report Readable text: one line per check, the differences, the count.
 */

/**
 * Judges a snapshot: TCP and UDP against ss, psutil (when taken) on the sockets it reports,
 * and that procconn saw every load-generator socket with its owner, so an empty or failed
 * listing on both sides cannot pass.
 *
 * @param {Snapshot} snap The snapshot.
 * @param {{ pids: number[], sockets: number }} loadgen The running load generator(s).
 * @returns {Verdict} The verdict.
 */
export function judge(snap, loadgen) {
  const tcp = (/** @type {Tuple[]} */ t) => onlyProtocol(t, "TCP");
  const udp = (/** @type {Tuple[]} */ t) => onlyProtocol(t, "UDP");
  const headless = new Set(snap.headless ?? []);
  /** @type {Check[]} */
  const checks = [
    {
      title: "TCP: procconn vs ss -tanp (protocol, local, remote, every pid)",
      result: compareWithSs(tcp(snap.procconn), tcp(snap.ssBefore), tcp(snap.ssAfter), headless),
    },
    {
      title: "UDP: procconn vs ss -uanp (protocol, local, every pid)",
      result: compareWithSs(udp(snap.procconn), udp(snap.ssBefore), udp(snap.ssAfter), headless),
    },
  ];
  if (snap.psutil) {
    checks.push({
      title: "TCP+UDP: procconn vs psutil (same sockets, psutil's one pid among procconn's)",
      result: compareWithPsutil(snap.procconn, snap.psutil, snap.ssBefore, snap.ssAfter, headless),
    });
  }
  const pids = new Set(loadgen.pids);
  const found =
    snap.procconn.filter((t) => t.protocol === "TCP" && t.pid !== null && pids.has(t.pid)).length;
  const loadgenOk = found === loadgen.sockets;
  let report = "";
  for (const c of checks) report += describeComparison(c.title, c.result);
  report += `Load-generator sockets reported with their owner: ${found} of ${loadgen.sockets}` +
    `${loadgenOk ? "" : " (MISSING OR EXTRA)"}\n`;
  return {
    ok: loadgenOk && checks.every((c) => c.result.ok),
    checks,
    loadgen: { expected: loadgen.sockets, found },
    report,
  };
}

/**
 * Starts a small load (default 150 connections over 4 processes: 304 sockets), snapshots ss and
 * procconn, stops the load and judges the snapshot. A socket another program opens and closes
 * entirely while procconn runs is seen by procconn and by neither ss snapshot, so a differing
 * snapshot is taken again (up to `attempts` times); the report keeps every failed attempt.
 *
 * @param {{ connections?: number, processes?: number, attempts?: number }} [options] Size of
 *   the load, and how many snapshots to try (default 3).
 * @returns {Promise<Verdict>} The verdict; `ok` false with the diff in `report` when the sets
 *   differ in every attempt.
 * @throws {Error} When procconn, ss or the load generator cannot run.
 */
export async function checkCorrectness(options = {}) {
  const missing = missingProcconnFiles();
  if (missing.length) {
    throw new Error(`procconn is not complete yet: missing ${missing.join(", ")}`);
  }
  const attempts = options.attempts ?? 3;
  const load = await startLoadgen({
    connections: options.connections ?? 150,
    processes: options.processes ?? 4,
  });
  try {
    let earlier = "";
    for (let attempt = 1;; attempt++) {
      const verdict = judge(await takeSnapshot(), load);
      if (verdict.ok || attempt >= attempts) {
        return { ...verdict, report: earlier + verdict.report };
      }
      earlier += `Attempt ${attempt} differed:\n${verdict.report.replace(/^(?=.)/gm, "  ")}\n`;
    }
  } finally {
    await load.stop();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const verdict = await checkCorrectness();
    process.stdout.write(verdict.report);
    process.stdout.write(verdict.ok ? "procconn matches ss\n" : "procconn DIFFERS from ss\n");
    process.exitCode = verdict.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`correctness check: ${/** @type {Error} */ (err).message}\n`);
    process.exitCode = 1;
  }
}
