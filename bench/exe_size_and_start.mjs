// @ts-check
/**
 * Sizes and start times of procconn's single executables, next to running from source:
 *
 *   node bench/exe_size_and_start.mjs [--runs N] [--write]
 *
 * Build the executables first (`node scripts/build_exe.mjs`, `deno task compile`); what is not
 * built is listed as such. Times are wall-clock from spawn to exit with output discarded: the
 * first run of each command, then min / median / max of N more. The page cache is not dropped
 * (that needs root and disturbs the machine), so "first" means first after the build, not a cold
 * disk. `--write` writes bench/exe_size_and_start.md; otherwise the report goes to stdout.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIST = path.join(ROOT, "dist");
const CACHE = path.join(ROOT, ".cache", "exe");
const DENO = path.join(ROOT, "node_modules", ".bin", "deno");
const OUTPUT = path.join(ROOT, "bench", "exe_size_and_start.md");

/** @param {string} file */
function sizeOf(file) {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

/** @param {number | null} bytes */
function mib(bytes) {
  return bytes === null ? "not built" : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The first file under `dir` whose path ends with `suffix`, searched two levels deep. */
function findUnder(/** @type {string} */ dir, /** @type {string} */ suffix) {
  if (!existsSync(dir)) return null;
  for (const name of readdirSync(dir)) {
    const candidate = path.join(dir, name, suffix);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Runs a command once; returns the wall time in ms, or the failure.
 *
 * @param {string[]} command
 * @returns {{ ms: number } | { error: string }}
 */
function timeOnce(command) {
  const start = process.hrtime.bigint();
  const r = spawnSync(command[0], command.slice(1), {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) return { error: r.error.message };
  if (r.status !== 0) {
    return { error: `exit ${r.status}: ${(r.stderr ?? "").trim().slice(0, 200)}` };
  }
  return { ms };
}

/**
 * @typedef {{ first: number, min: number, median: number, max: number }} Timing
 */

/**
 * Times a command: its first run, then `runs` more.
 *
 * @param {string[]} command
 * @param {number} runs
 * @returns {Timing | { error: string }}
 */
function timeCommand(command, runs) {
  const first = timeOnce(command);
  if ("error" in first) return { error: first.error };
  /** @type {number[]} */
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = timeOnce(command);
    if ("error" in t) return { error: t.error };
    times.push(t.ms);
  }
  times.sort((a, b) => a - b);
  return {
    first: first.ms,
    min: times[0],
    median: times[Math.floor(times.length / 2)],
    max: times[times.length - 1],
  };
}

function machine() {
  const cpus = os.cpus();
  let distro = "";
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
  } catch {
    // not Linux, or no os-release
  }
  const load = os.loadavg().map((n) => n.toFixed(2)).join(" / ");
  return `${cpus.length} CPUs (${cpus[0]?.model ?? "unknown"}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}` +
    `${distro ? `, ${distro}` : ""}; load average ${load}`;
}

function main() {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "10" }, write: { type: "boolean" } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`Invalid --runs "${values.runs}": expected a whole number from 1`);
  }
  const nodeExe = path.join(DIST, "procconn-node");
  const nodeWinExe = path.join(DIST, "procconn-node.exe");
  const denoExe = path.join(DIST, "procconn");
  const denoWinExe = path.join(DIST, "procconn.exe");
  const bundle = path.join(CACHE, "procconn.cjs");
  const addon = findUnder(path.join(CACHE, "npm"), path.join("package", "win32_x64", "koffi.node"));
  const nodeWinBase = findUnder(path.join(CACHE, "npm"), path.join("package", "bin", "node.exe"));

  const sizes = [
    [
      "dist/procconn-node (Linux, Node SEA)",
      sizeOf(nodeExe),
      `node ${process.versions.node}: ${mib(sizeOf(process.execPath))}`,
    ],
    [
      "dist/procconn-node.exe (Windows, Node SEA + koffi)",
      sizeOf(nodeWinExe),
      `node.exe: ${mib(nodeWinBase ? sizeOf(nodeWinBase) : null)}`,
    ],
    ["dist/procconn (Linux, deno compile)", sizeOf(denoExe), "denort for the target"],
    ["dist/procconn.exe (Windows, deno compile)", sizeOf(denoWinExe), "denort for the target"],
    [".cache/exe/procconn.cjs (the bundle inside the Node SEAs)", sizeOf(bundle), ""],
    [
      "koffi.node (win32-x64 addon carried in the .exe)",
      addon ? sizeOf(addon) : null,
      "written to %TEMP% at run time",
    ],
  ];

  /** @type {[string, string[] | null][]} */
  const subjects = [
    [
      "deno run main.ts (source)",
      existsSync(DENO) ? [DENO, "run", "-A", "--no-lock", "main.ts"] : null,
    ],
    ["node procconn.cjs (bundle, no SEA)", existsSync(bundle) ? ["node", bundle] : null],
    ["dist/procconn-node (Node SEA)", existsSync(nodeExe) ? [nodeExe] : null],
    ["dist/procconn (deno compile)", existsSync(denoExe) ? [denoExe] : null],
  ];
  const workloads = [["--version", ["--version"]], ["listing (`--format json`)", [
    "--format",
    "json",
  ]]];

  const lines = [
    "# procconn executables: size and start time",
    "",
    "Measured by `node bench/exe_size_and_start.mjs --write` on one machine; the numbers describe",
    "that machine at that time.",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine()}`,
    `- Node: ${process.version}; runs per command: 1 first + ${runs} timed`,
    "",
    "## Sizes",
    "",
    "| File | Size | Base binary |",
    "| --- | ---: | --- |",
    ...sizes.map(([name, bytes, base]) =>
      `| ${name} | ${mib(/** @type {number|null} */ (bytes))} | ${base} |`
    ),
    "",
    "## Start time (ms, spawn to exit, output discarded)",
    "",
    "| Command | Workload | First | Min | Median | Max |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const [name, command] of subjects) {
    for (const [workload, args] of workloads) {
      if (!command) {
        lines.push(`| ${name} | ${workload} | not built | | | |`);
        continue;
      }
      const t = timeCommand([...command, ...args], runs);
      if ("error" in t) {
        lines.push(`| ${name} | ${workload} | failed: ${t.error.replace(/\|/g, "/")} | | | |`);
      } else {
        const f = (/** @type {number} */ n) => n.toFixed(0);
        lines.push(
          `| ${name} | ${workload} | ${f(t.first)} | ${f(t.min)} | ${f(t.median)} | ${f(t.max)} |`,
        );
      }
    }
  }
  if (!existsSync(denoExe)) {
    lines.push(
      "",
      "`dist/procconn` is built by `deno task compile` (scripts/compile.ts), which needs denort, the",
      "Deno runtime that `deno compile` downloads; where it cannot be downloaded, provide it with",
      "DENORT_BIN or a pre-seeded DENO_DIR as compile.ts explains.",
    );
  }
  lines.push(
    "",
    "Not measured here: the Windows executables (they run under Wine on this machine, whose start-up",
    "cost would dominate). On first use of the Windows engine the Node .exe writes koffi.node to a",
    "private folder `%TEMP%\\procconn-koffi-<pid>-<random>\\` and removes it at exit; Windows keeps",
    "a loaded DLL locked, so when that fails the next run removes it.",
    "",
  );
  const text = lines.join("\n");
  if (values.write) {
    writeFileSync(OUTPUT, text);
    // The repo's formatter aligns the tables, so the file passes `deno fmt --check`.
    if (existsSync(DENO)) {
      spawnSync(DENO, ["fmt", "--quiet", OUTPUT], { cwd: ROOT, stdio: "inherit" });
    }
    process.stdout.write(`wrote ${path.relative(ROOT, OUTPUT)}\n`);
  } else {
    process.stdout.write(text);
  }
}

main();
