#!/usr/bin/env node
// @ts-check
/**
 * procconn against ss, netstat, lsof and psutil on one machine, in one run.
 *
 * ```sh
 * node bench/compare.mjs                 # speed + correctness at 40k sockets, peak RSS at 100k,
 *                                        # cold start, one watch refresh at 10k
 * node bench/compare.mjs --speed --write # only the 40k comparison; replace bench/results.md
 * ```
 *
 * Prints a markdown report on stdout (progress on stderr); `--write` also writes it to
 * `bench/results.md`. Every load generator is stopped on exit, on failure and on Ctrl-C.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  firstLine,
  hasProgram,
  killAll,
  machineInfo,
  missingProcconnFiles,
  procconnCommand,
  ROOT,
  run,
  startLoadgen,
  stats,
  timeCommand,
} from "./_harness.mjs";
import { judge, SYSTEM_PYTHON, takeSnapshot } from "./correctness_check.mjs";
import { readOptions } from "./_options.mjs";

/** @typedef {import("./_harness.mjs").Loadgen} Loadgen */
/** @typedef {import("./_harness.mjs").Timing} Timing */

/** Targets from the performance issue. */
export const TARGETS = { psutilRatio: 0.4, peakRssMb: 200, coldStartMs: 80 };

const USAGE = `Usage: node bench/compare.mjs [modes] [options]

Modes (default: all four):
  --speed             time procconn, ss, netstat, lsof and psutil at ~40k sockets, and check
                      that procconn's rows equal ss's and psutil's in the same run
  --rss               peak RSS of procconn at ~100k sockets (/usr/bin/time -v)
  --cold              cold start of "procconn --version" (hyperfine when installed)
  --watch             CPU time of one watch refresh at ~10k sockets (bench/watch_refresh_cpu.ts)

Options:
  --connections N     loopback connections for --speed (default 20000: 40,000 sockets)
  --processes P       processes holding them (default 50)
  --runs R            timed runs per tool after one warm-up (default 5)
  --rss-connections N connections for --rss (default 50000: 100,000 sockets)
  --rss-runs R        procconn runs for --rss (default 3)
  --cold-runs R       runs for --cold (default 30)
  --watch-connections N
                      connections for --watch (default 5000, over 20 processes: 10,000 sockets)
  --watch-runs R      runs of the refresh script for --watch (default 3)
  --write             also write the report to bench/results.md
  -h, --help          show this help

procconn runs as the README's command (package.json's "procconn" script) with
node_modules/.bin/deno; set PROCCONN_CMD to time another command (for example a compiled binary).
`;

/**
 * Options of a benchmark run.
 *
 * @typedef {object} CompareOptions
 * @property {boolean} speed Run the 40k comparison.
 * @property {boolean} rss Run the 100k peak RSS measurement.
 * @property {boolean} cold Run the cold start measurement.
 * @property {boolean} watch Run the watch refresh measurement.
 * @property {number} connections Connections for the speed run.
 * @property {number} processes Processes for the speed run.
 * @property {number} runs Timed runs per tool.
 * @property {number} rssConnections Connections for the RSS run.
 * @property {number} rssRuns procconn runs in the RSS run.
 * @property {number} coldRuns Runs of the cold start.
 * @property {number} watchConnections Connections for the watch refresh measurement.
 * @property {number} watchRuns Runs of the refresh script.
 * @property {boolean} write Write bench/results.md.
 */

/**
 * Parses the command line.
 *
 * @param {string[]} args Arguments after the script name.
 * @returns {CompareOptions | null} The options, or null when help was asked for.
 * @throws {RangeError} On an unknown flag or a bad number; the message quotes it.
 */
export function parseCompareArgs(args) {
  const read = readOptions(args, ["speed", "rss", "cold", "watch", "write"], {
    connections: 1,
    processes: 2,
    runs: 1,
    "rss-connections": 1,
    "rss-runs": 1,
    "cold-runs": 1,
    "watch-connections": 1,
    "watch-runs": 1,
  });
  if (read === null) return null;
  const number = (/** @type {string} */ name, /** @type {number} */ fallback) =>
    read.numbers.get(name) ?? fallback;
  const parts = ["speed", "rss", "cold", "watch"];
  // Naming no part runs them all.
  const all = !parts.some((part) => read.switches.has(part));
  return {
    speed: all || read.switches.has("speed"),
    rss: all || read.switches.has("rss"),
    cold: all || read.switches.has("cold"),
    watch: all || read.switches.has("watch"),
    connections: number("connections", 20000),
    processes: number("processes", 50),
    runs: number("runs", 5),
    rssConnections: number("rss-connections", 50000),
    rssRuns: number("rss-runs", 3),
    coldRuns: number("cold-runs", 30),
    watchConnections: number("watch-connections", 5000),
    watchRuns: number("watch-runs", 3),
    write: read.switches.has("write"),
  };
}

/**
 * Writes a progress line on stderr.
 *
 * @param {string} text The line.
 */
function progress(text) {
  process.stderr.write(`[bench] ${text}\n`);
}

/**
 * Formats milliseconds for a table.
 *
 * @param {number} ms The value.
 * @returns {string} e.g. `412.3`.
 */
function ms(ms) {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

/**
 * Formats KiB as MB.
 *
 * @param {number | null} kb The value.
 * @returns {string} e.g. `48.2`, or `n/a`.
 */
function mb(kb) {
  return kb === null ? "n/a" : (kb * 1024 / 1e6).toFixed(1);
}

/**
 * Formats an integer with thousands separators.
 *
 * @param {number} n The value.
 * @returns {string} e.g. `40,050`.
 */
function count(n) {
  return n.toLocaleString("en-US");
}

/**
 * Counts the TCP and UDP sockets `ss` sees right now.
 *
 * @returns {{ tcp: number, udp: number }} The counts.
 */
function socketCounts() {
  const lines = (/** @type {string} */ flag) => {
    const r = spawnSync("ss", [flag, "-a", "-n", "-H"], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
    return r.stdout ? r.stdout.split("\n").filter((l) => l.trim()).length : 0;
  };
  return { tcp: lines("-t"), udp: lines("-u") };
}

/**
 * A peer tool to time.
 *
 * @typedef {object} Tool
 * @property {string} name Short name.
 * @property {string[]} argv The command.
 * @property {string} lists What it lists, in words.
 * @property {string | null} missing Why it cannot run (with the package to install), or null.
 */

/**
 * The tools of the speed comparison, procconn first.
 *
 * @returns {Tool[]} The tools.
 */
function tools() {
  /**
   * @param {string} program
   * @param {string} pkg
   */
  const need = (program, pkg) => hasProgram(program) ? null : `apt-get install -y ${pkg}`;
  const psutilMissing = hasProgram(SYSTEM_PYTHON) &&
      spawnSync(SYSTEM_PYTHON, ["-c", "import psutil"], { stdio: "ignore" }).status === 0
    ? null
    : "apt-get install -y python3-psutil";
  return [
    {
      name: "procconn",
      argv: [...procconnCommand(), "--format", "json"],
      lists: "TCP+UDP, IPv4+IPv6, pid, name, path, parent, start time, user (JSON)",
      missing: missingProcconnFiles().length ? "main.ts or ffi/linux/engine.ts missing" : null,
    },
    {
      name: "ss",
      argv: ["ss", "-tanp"],
      lists: "TCP, IPv4+IPv6, pids and names",
      missing: need("ss", "iproute2"),
    },
    {
      name: "netstat",
      argv: ["netstat", "-tanp"],
      lists: "TCP, IPv4+IPv6, one pid/name per socket",
      missing: need("netstat", "net-tools"),
    },
    {
      name: "lsof",
      argv: ["lsof", "-i", "-n", "-P"],
      lists: "TCP+UDP, IPv4+IPv6, one row per process and fd",
      missing: need("lsof", "lsof"),
    },
    {
      name: "psutil",
      argv: [SYSTEM_PYTHON, "-c", "import psutil; psutil.net_connections('inet')"],
      lists: "TCP+UDP, IPv4+IPv6, one pid per socket (Python objects)",
      missing: psutilMissing,
    },
  ];
}

/**
 * Writes a command for the report, shortening the repo path.
 *
 * @param {string[]} argv The command.
 * @returns {string} The text.
 */
function shown(argv) {
  return argv.map((a) => {
    const rel = a.startsWith(ROOT + path.sep) ? path.relative(ROOT, a) : a;
    return /[\s;'()]/.test(rel) ? `"${rel}"` : rel;
  }).join(" ");
}

/**
 * Versions of the tools, for the report.
 *
 * @returns {string[]} One line per tool.
 */
function versions() {
  const deno = path.join(ROOT, "node_modules", ".bin", "deno");
  /** @type {[string, string[], RegExp | null][]} */
  const asks = [
    ["Deno", [deno, "--version"], null],
    ["Node (load generator)", [process.execPath, "--version"], null],
    ["ss", ["ss", "-V"], null],
    ["netstat", ["netstat", "--version"], null],
    ["lsof", ["lsof", "-v"], /revision:\s*(\S+)/],
    [
      "psutil",
      [
        SYSTEM_PYTHON,
        "-c",
        "import psutil, sys; print(psutil.__version__, 'on Python', sys.version.split()[0])",
      ],
      null,
    ],
  ];
  return asks.map(([name, argv, pattern]) => {
    if (pattern === null) return `${name}: ${firstLine(argv) ?? "not installed"}`;
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    const m = r.error ? null : pattern.exec(`${r.stdout}${r.stderr}`);
    return `${name}: ${m ? m[1] : "not installed"}`;
  });
}

/**
 * Starts one or more load generators in turn (at most 20,000 connections each).
 *
 * @param {number} connections Connections in all.
 * @param {number} processesEach Processes per load generator.
 * @returns {Promise<Loadgen[]>} The running load generators.
 */
async function startLoad(connections, processesEach) {
  const parts = Math.ceil(connections / 20000);
  /** @type {Loadgen[]} */
  const loads = [];
  try {
    for (let i = 0; i < parts; i++) {
      const share = Math.floor(connections / parts) + (i < connections % parts ? 1 : 0);
      progress(`starting load generator ${i + 1}/${parts}: ${share} connections`);
      loads.push(await startLoadgen({ connections: share, processes: processesEach }));
    }
  } catch (err) {
    for (const l of loads) await l.stop();
    throw err;
  }
  return loads;
}

/**
 * The speed comparison and the correctness check at ~40k sockets.
 *
 * @param {CompareOptions} opts The options.
 * @returns {Promise<{ markdown: string, ok: boolean }>} The report section; ok false when the
 *   rows differ or procconn failed.
 */
async function speedSection(opts) {
  const list = tools();
  const procconn = list[0];
  if (procconn.missing) throw new Error(`Cannot time procconn: ${procconn.missing}`);
  const baseline = socketCounts();
  const loads = await startLoad(opts.connections, opts.processes);
  try {
    const load = {
      pids: loads.flatMap((l) => l.pids),
      sockets: loads.reduce((a, l) => a + l.sockets, 0),
    };
    const seen = socketCounts();
    progress(`load ready: ${count(load.sockets)} sockets; checking rows against ss and psutil`);
    const snap = await takeSnapshot({ psutil: list[4].missing === null });
    const verdict = judge(snap, load);
    progress(verdict.ok ? "rows identical" : "rows DIFFER");

    const runnable = list.filter((t) => t.missing === null);
    /** @type {Map<string, Timing[]>} */
    const timings = new Map(runnable.map((t) => [t.name, []]));
    /** @type {Map<string, string>} */
    const failures = new Map();
    for (let round = 0; round <= opts.runs; round++) {
      progress(round === 0 ? "warm-up round" : `timed round ${round}/${opts.runs}`);
      // Each round starts with a different tool, so no tool always runs right after another.
      for (let k = 0; k < runnable.length; k++) {
        const tool = runnable[(k + round) % runnable.length];
        const t = await timeCommand(tool.argv);
        if (t.code !== 0) {
          failures.set(tool.name, `exit code ${t.code}: ${t.stderr.trim().slice(0, 300)}`);
        }
        if (round > 0) timings.get(tool.name)?.push(t);
      }
    }

    const summary = new Map(
      [...timings].map(([name, ts]) => {
        const rss = /** @type {number[]} */ (ts.map((t) => t.maxRssKb).filter((v) => v !== null));
        const cpu = /** @type {number[]} */ (ts.map((t) => t.cpuMs).filter((v) => v !== null));
        return [name, {
          time: stats(ts.map((t) => t.ms)),
          rss: rss.length ? stats(rss).max : null,
          cpu: cpu.length ? stats(cpu).median : null,
        }];
      }),
    );
    const ours = summary.get("procconn");
    let md = `## Speed at ${count(load.sockets)} sockets\n\n`;
    md += `Load: ${count(opts.connections)} loopback TCP connections (127.0.0.1) held by ` +
      `${count(load.pids.length)} processes, ${count(load.sockets)} TCP sockets with listeners. ` +
      `The machine had ${count(baseline.tcp)} TCP and ${count(baseline.udp)} UDP sockets ` +
      `before the load and ${count(seen.tcp)} TCP / ${count(seen.udp)} UDP with it; ` +
      `procconn printed ${count(snap.procconnRecords)} records.\n\n`;
    md += `${opts.runs} timed runs per tool after one warm-up, interleaved (each round starts ` +
      `with the next tool). Wall-clock time from spawn to exit, output to /dev/null; CPU time ` +
      `(user + system) and peak RSS from \`/usr/bin/time -v\`. CPU time is less disturbed ` +
      `than wall time by other work on the machine.\n\n`;
    md += "| Tool | Command | Lists | Min ms | Median ms | Max ms | CPU ms (median) | " +
      "Peak RSS MB | procconn / tool (median) |\n";
    md += "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const tool of list) {
      const s = summary.get(tool.name);
      if (!s) {
        md += `| ${tool.name} | \`${shown(tool.argv)}\` | ${tool.lists} | not installed: ` +
          `\`${tool.missing}\` | | | | | |\n`;
        continue;
      }
      const ratio = ours ? (ours.time.median / s.time.median).toFixed(2) : "n/a";
      md += `| ${tool.name} | \`${shown(tool.argv)}\` | ${tool.lists} | ${ms(s.time.min)} | ` +
        `${ms(s.time.median)} | ${ms(s.time.max)} | ${s.cpu === null ? "n/a" : ms(s.cpu)} | ` +
        `${mb(s.rss)} | ` +
        `${tool.name === "procconn" ? "1.00" : `${ratio} x`} |\n`;
    }
    md += "\n";
    const psutil = summary.get("psutil");
    const ok = verdict.ok && !failures.has("procconn");
    if (ours && psutil) {
      const ratio = ours.time.median / psutil.time.median;
      const met = ratio <= TARGETS.psutilRatio;
      md += `Target: procconn at most ${TARGETS.psutilRatio} x psutil's time: ` +
        `${ratio.toFixed(2)} x (median), ${(ours.time.min / psutil.time.min).toFixed(2)} x (min) ` +
        `-> **${met ? "met" : "NOT met"}**.\n\n`;
    }
    for (const [name, why] of failures) md += `- ${name} failed: ${why}\n`;
    if (failures.size) md += "\n";

    md += `## Correctness (same run, same sockets)\n\n`;
    md += "Taken in the order `ss -tuanp`, procconn, psutil, `ss -tuanp`. A tuple in both ss " +
      "snapshots must be in procconn's output, a tuple in neither must not be; tuples that " +
      "changed between the two ss snapshots (other programs on the machine) are counted, not " +
      "held against anyone. Addresses are compared in canonical form without `%scope`.\n\n";
    md += "| Check | Verdict | Compared | Changed while running |\n| --- | --- | ---: | ---: |\n";
    for (const c of verdict.checks) {
      md += `| ${c.title} | ${c.result.ok ? "identical" : "**DIFFERENT**"} | ` +
        `${count(c.result.compared)} | ${count(c.result.churn)} |\n`;
    }
    md += `| Load-generator sockets reported with their owning pid | ` +
      `${verdict.loadgen.found === verdict.loadgen.expected ? "all" : "**MISSING**"} | ` +
      `${count(verdict.loadgen.found)} of ${count(verdict.loadgen.expected)} | |\n\n`;
    md += `Verdict: **${
      verdict.ok ? "procconn's rows are the same" : "procconn's rows DIFFER"
    }**.\n\n`;
    if (!verdict.ok) md += "```text\n" + verdict.report + "```\n\n";
    return { markdown: md, ok };
  } finally {
    for (const l of loads) await l.stop();
  }
}

/**
 * Peak RSS of procconn (and psutil, for scale) at ~100k sockets.
 *
 * @param {CompareOptions} opts The options.
 * @returns {Promise<{ markdown: string, ok: boolean }>} The report section.
 */
async function rssSection(opts) {
  if (missingProcconnFiles().length) throw new Error("Cannot measure procconn: main.ts missing");
  if (!hasProgram("/usr/bin/time")) {
    return {
      markdown: "## Peak RSS\n\nNot measured: `/usr/bin/time` is missing " +
        "(`apt-get install -y time`).\n\n",
      ok: true,
    };
  }
  const loads = await startLoad(opts.rssConnections, 25);
  try {
    const sockets = loads.reduce((a, l) => a + l.sockets, 0);
    const seen = socketCounts();
    progress(`load ready: ${count(sockets)} sockets; measuring peak RSS`);
    const records = await run([...procconnCommand(), "--format", "json"]);
    const rows = records.code === 0 ? JSON.parse(records.stdout).length : null;
    /** @type {[string, string[]][]} */
    const subjects = [["procconn", [...procconnCommand(), "--format", "json"]]];
    if (hasProgram(SYSTEM_PYTHON)) {
      subjects.push([
        "psutil",
        [SYSTEM_PYTHON, "-c", "import psutil; psutil.net_connections('inet')"],
      ]);
    }
    let md = `## Peak RSS at ${count(seen.tcp)} TCP sockets\n\n`;
    md += `Load: ${count(opts.rssConnections)} loopback connections from ${loads.length} load ` +
      `generator(s) (${count(sockets)} sockets); the machine had ${count(seen.tcp)} TCP and ` +
      `${count(seen.udp)} UDP sockets; procconn printed ` +
      `${rows === null ? "nothing (it failed)" : count(rows)} records. ` +
      `"Maximum resident set size" from \`/usr/bin/time -v\`, ${opts.rssRuns} run(s) each.\n\n`;
    md +=
      "| Tool | Command | Peak RSS MB (max of runs) | Median ms |\n| --- | --- | ---: | ---: |\n";
    let ok = records.code === 0;
    /** @type {number | null} */
    let ourPeak = null;
    for (const [name, argv] of subjects) {
      /** @type {Timing[]} */
      const ts = [];
      for (let i = 0; i < opts.rssRuns; i++) ts.push(await timeCommand(argv));
      const rss = ts.map((t) => t.maxRssKb ?? 0);
      const peak = Math.max(...rss);
      if (name === "procconn") ourPeak = peak;
      if (ts.some((t) => t.code !== 0)) ok = false;
      md += `| ${name} | \`${shown(argv)}\` | ${mb(peak)} | ${
        ms(stats(ts.map((t) => t.ms)).median)
      } |\n`;
    }
    if (ourPeak !== null) {
      const met = ourPeak * 1024 / 1e6 <= TARGETS.peakRssMb;
      md += `\nTarget: procconn's peak RSS at most ${TARGETS.peakRssMb} MB at 100k sockets: ` +
        `${mb(ourPeak)} MB -> **${met ? "met" : "NOT met"}**.\n\n`;
    }
    return { markdown: md, ok };
  } finally {
    for (const l of loads) await l.stop();
  }
}

/**
 * Times one command's start-to-exit: hyperfine when installed, else repeated timing.
 *
 * @param {string[]} argv The command.
 * @param {number} runs Timed runs after 3 warm-ups.
 * @returns {Promise<{ s: { min: number, median: number, max: number, mean?: number }, how: string }>}
 */
async function timeStartup(argv, runs) {
  if (!hasProgram("hyperfine")) {
    const times = [];
    for (let i = 0; i < 3 + runs; i++) {
      const r = await run(argv, { capture: false });
      if (i >= 3) times.push(r.ms);
    }
    return {
      s: stats(times),
      how: `repeated timing (hyperfine not installed; 3 warm-ups, ${runs} runs)`,
    };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "procconn-bench-"));
  try {
    const out = path.join(dir, "hyperfine.json");
    const r = await run([
      "hyperfine",
      "-N",
      "--warmup",
      "3",
      "--runs",
      String(runs),
      "--export-json",
      out,
      argv.join(" "),
    ]);
    if (r.code !== 0) throw new Error(`hyperfine failed: ${r.stderr.trim()}`);
    const res = JSON.parse(readFileSync(out, "utf8")).results[0];
    return {
      s: {
        min: res.min * 1000,
        median: res.median * 1000,
        max: res.max * 1000,
        mean: res.mean * 1000,
      },
      how: `hyperfine ${firstLine(["hyperfine", "--version"])?.replace(/^hyperfine /, "") ?? ""}` +
        ` (-N, 3 warm-ups, ${runs} runs)`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Cold start of `procconn --version`, beside the floor of the machine (Deno running an empty
 * script with the same flags), plus one run with an empty DENO_DIR (nothing transpiled yet).
 *
 * @param {CompareOptions} opts The options.
 * @returns {Promise<{ markdown: string, ok: boolean }>} The report section.
 */
async function coldSection(opts) {
  if (missingProcconnFiles().length) throw new Error("Cannot time procconn: main.ts missing");
  const argv = [...procconnCommand(), "--version"];
  const check = await run(argv);
  if (check.code !== 0) throw new Error(`procconn --version failed: ${check.stderr.trim()}`);
  const { s, how } = await timeStartup(argv, opts.coldRuns);
  const emptyDir = mkdtempSync(path.join(os.tmpdir(), "procconn-deno-dir-"));
  let first;
  let floor;
  try {
    first = await run(argv, { capture: false, env: { DENO_DIR: emptyDir } });
    const empty = path.join(emptyDir, "empty.js");
    writeFileSync(empty, "");
    const emptyArgv = [...procconnCommand().slice(0, -1), empty];
    floor = (await timeStartup(emptyArgv, opts.coldRuns)).s;
  } finally {
    rmSync(emptyDir, { recursive: true, force: true });
  }
  const met = s.median <= TARGETS.coldStartMs;
  let md = `## Cold start\n\n`;
  md += `\`${shown(argv)}\` prints \`${
    check.stdout.trim().split("\n")[0]
  }\`; measured with ${how}.\n\n`;
  md += "| Measure | ms |\n| --- | ---: |\n";
  md += `| min | ${ms(s.min)} |\n| median | ${ms(s.median)} |\n`;
  if (s.mean !== undefined) md += `| mean | ${ms(s.mean)} |\n`;
  md += `| max | ${ms(s.max)} |\n`;
  md += `| first run with an empty DENO_DIR (nothing transpiled or cached) | ${ms(first.ms)} |\n`;
  md += `| this machine's floor: the same Deno command running an empty script (median) | ` +
    `${ms(floor.median)} |\n\n`;
  md += `Target: cold start at most ${TARGETS.coldStartMs} ms: ${ms(s.median)} ms (median) -> ` +
    `**${met ? "met" : "NOT met"}**.\n\n`;
  return { markdown: md, ok: true };
}

/** The script that times watch refreshes, relative to the checkout. */
const WATCH_SCRIPT = "bench/watch_refresh_cpu.ts";

/**
 * The CPU time of one `watch` refresh at ~10k sockets: `bench/watch_refresh_cpu.ts` lists as the
 * watch does (one source for every refresh, the change tracker) and prints the CPU and wall time
 * per refresh over 20 refreshes; it runs `watchRuns` times under its own load.
 *
 * @param {CompareOptions} opts The options.
 * @returns {Promise<{ markdown: string, ok: boolean }>} The report section.
 */
async function watchSection(opts) {
  const command = procconnCommand();
  if (process.env.PROCCONN_CMD || command.at(-1) !== "main.ts") {
    return {
      markdown: "## One watch refresh\n\nNot measured: the refresh is timed inside Deno by " +
        `\`${WATCH_SCRIPT}\`, which runs from the checkout, not through PROCCONN_CMD.\n\n`,
      ok: true,
    };
  }
  const argv = [...command.slice(0, -1), WATCH_SCRIPT];
  const processes = 20;
  const loads = await startLoad(opts.watchConnections, processes);
  try {
    const sockets = loads.reduce((a, l) => a + l.sockets, 0);
    progress(`load ready: ${count(sockets)} sockets; timing watch refreshes`);
    /** @type {{ rows: number, cpuMsPerRefresh: number, wallMsPerRefresh: number }[]} */
    const results = [];
    // One run first, not counted, as in the speed comparison.
    for (let i = -1; i < opts.watchRuns; i++) {
      const r = await run(argv);
      const last = r.stdout.trim().split("\n").at(-1) ?? "";
      if (r.code !== 0 || !last.startsWith("{")) {
        throw new Error(`${WATCH_SCRIPT} failed: ${(r.stderr || r.stdout).trim()}`);
      }
      if (i >= 0) results.push(JSON.parse(last));
    }
    const cpu = stats(results.map((r) => r.cpuMsPerRefresh));
    let md = `## One watch refresh at ${count(sockets)} sockets\n\n`;
    md += `Load: ${count(opts.watchConnections)} loopback connections held by ${processes} ` +
      `processes. \`${shown(argv)}\` lists as \`watch\` does (one source for every refresh, ` +
      "the change tracker) and reports the CPU time (user + system) and wall time per refresh " +
      `over 20 refreshes after a first one; ${opts.watchRuns} run(s) after one warm-up.\n\n`;
    md +=
      "| Run | Records | CPU ms per refresh | Wall ms per refresh |\n| ---: | ---: | ---: | ---: |\n";
    results.forEach((r, i) => {
      md += `| ${i + 1} | ${count(r.rows)} | ${ms(r.cpuMsPerRefresh)} | ${
        ms(r.wallMsPerRefresh)
      } |\n`;
    });
    md += `\nMedian: ${ms(cpu.median)} ms of CPU per refresh, so a watch refreshing every second ` +
      `uses about ${(cpu.median / 10).toFixed(0)}% of one core.\n\n`;
    return { markdown: md, ok: true };
  } finally {
    for (const l of loads) await l.stop();
  }
}

/**
 * Runs the selected parts and returns the full report.
 *
 * @param {CompareOptions} opts The options.
 * @returns {Promise<{ markdown: string, ok: boolean }>} The report; ok false when procconn
 *   failed or its rows differ.
 */
export async function compare(opts) {
  const m = machineInfo();
  let md = "# procconn benchmark results\n\n";
  md += "These numbers come from one run on the machine below; they show how procconn compares " +
    "with the other tools **on this machine**, not what it does elsewhere. Reproduce with " +
    "`node bench/compare.mjs --write` (see bench/README.md).\n\n";
  md += `- Date: ${new Date().toISOString()}\n`;
  md += `- Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.kernel}, ` +
    `${m.distro}; open files ${m.openFiles}\n`;
  md +=
    `- Load average at start (1/5/15 min): ${os.loadavg().map((l) => l.toFixed(2)).join(" / ")}` +
    " (other work on the machine adds noise to the timings)\n";
  md += `- procconn: \`${shown(procconnCommand())}\`\n`;
  for (const v of versions()) md += `- ${v}\n`;
  md += "\n";
  let ok = true;
  /** @type {[boolean, (o: CompareOptions) => Promise<{ markdown: string, ok: boolean }>][]} */
  const parts = [
    [opts.speed, speedSection],
    [opts.rss, rssSection],
    [opts.cold, coldSection],
    [opts.watch, watchSection],
  ];
  for (const [wanted, section] of parts) {
    if (!wanted) continue;
    const r = await section(opts);
    md += r.markdown;
    ok &&= r.ok;
  }
  return { markdown: md.replace(/\n+$/, "\n"), ok };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  let opts;
  try {
    opts = parseCompareArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`compare: ${/** @type {Error} */ (err).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts === null) {
    process.stdout.write(USAGE);
  } else {
    try {
      const report = await compare(opts);
      process.stdout.write(report.markdown);
      if (opts.write) {
        const file = path.join(ROOT, "bench", "results.md");
        // The history of what was tried is kept by hand in bench/tried.md and carried along.
        const tried = readFileSync(path.join(ROOT, "bench", "tried.md"), "utf8");
        writeFileSync(file, `${report.markdown.trimEnd()}\n\n${tried}`);
        // The repository's `deno fmt --check` covers bench/: write the tables the way it wants.
        const deno = path.join(ROOT, "node_modules", ".bin", "deno");
        if (hasProgram(deno)) {
          spawnSync(deno, ["fmt", "--quiet", file], { stdio: "ignore", cwd: ROOT });
        }
        progress("wrote bench/results.md");
      }
      process.exitCode = report.ok ? 0 : 1;
    } catch (err) {
      progress(`failed: ${/** @type {Error} */ (err).message}`);
      killAll();
      process.exitCode = 1;
    }
  }
}
