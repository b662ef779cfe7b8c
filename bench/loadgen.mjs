#!/usr/bin/env node
// @ts-check
/**
 * Loopback TCP load generator: P worker processes each listen on 127.0.0.1:0 and connect to the
 * other workers' listeners until N connections are established, so every connection is two
 * sockets owned by two processes (N=20000, P=50 gives 40,000 sockets plus 50 listeners).
 *
 * ```sh
 * node bench/loadgen.mjs --connections 20000 --processes 50
 * ```
 *
 * Prints one JSON line on stdout once every connection is established and accepted:
 * `{"ready":true,"connections":N,"listeners":P,"sockets":2N+P,"pids":[...],"launcherPid":...}`,
 * then holds until stdin closes, or SIGTERM / SIGINT / SIGHUP. Workers leave when the launcher
 * goes away, even when it is killed with SIGKILL (their IPC channel closes), and reset their
 * connections on the way out so no TIME_WAIT sockets linger after a run.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { readOptions } from "./_options.mjs";

const HOST = "127.0.0.1";
/** File descriptors a Node process uses besides its sockets (stdio, epoll, IPC, libuv). */
const FD_OVERHEAD = 64;
/** Connection attempts each worker keeps in flight. */
const CONCURRENCY = 64;
/** How long a run may take to establish every connection. */
const READY_TIMEOUT_MS = 300_000;

const USAGE = `Usage: node bench/loadgen.mjs [--connections N] [--processes P] [--ignore-stdin]

Opens N loopback TCP connections (127.0.0.1) held by P worker processes: 2N sockets plus
P listeners. Prints {"ready":true,...} once all are established, then holds until stdin
closes (or, with --ignore-stdin, until SIGTERM / SIGINT).

  --connections N   connections to open (default 20000)
  --processes P     worker processes (default 50; raised when the open-file limit needs it)
  --ignore-stdin    do not stop when stdin closes
`;

/**
 * Reads the open-file limits of this process from `/proc/self/limits`.
 *
 * @returns {{ soft: number, hard: number }} The limits; `Infinity` for unlimited.
 */
function openFileLimits() {
  const text = readFileSync("/proc/self/limits", "utf8");
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) throw new Error(`Unreadable /proc/self/limits: no "Max open files" line`);
  const num = (/** @type {string} */ s) => s === "unlimited" ? Infinity : Number(s);
  return { soft: num(m[1]), hard: num(m[2]) };
}

/**
 * Plans the run: how many workers, and whether their soft open-file limit must be raised.
 *
 * @param {number} connections Connections asked for.
 * @param {number} processes Workers asked for.
 * @param {{ soft: number, hard: number }} limits The open-file limits.
 * @returns {{ processes: number, raiseTo: number | null }} Workers to start; the soft limit
 *   to set in each worker, or null to keep the inherited one.
 */
export function planWorkers(connections, processes, limits) {
  // Each worker holds its share of outgoing connections, about as many accepted ones, and
  // its listener.
  const need = (/** @type {number} */ p) => 2 * Math.ceil(connections / p) + 1 + FD_OVERHEAD;
  if (need(processes) <= limits.soft) return { processes, raiseTo: null };
  if (need(processes) <= limits.hard) {
    return { processes, raiseTo: Number.isFinite(limits.hard) ? limits.hard : need(processes) };
  }
  let p = processes;
  while (need(p) > limits.hard) p++;
  return { processes: p, raiseTo: Number.isFinite(limits.hard) ? limits.hard : null };
}

/**
 * Parses the launcher's command line.
 *
 * @param {string[]} args Arguments after the script name.
 * @returns {{ connections: number, processes: number, ignoreStdin: boolean } | null} The
 *   options, or null when help was asked for.
 * @throws {RangeError} On an unknown flag or a bad number; the message quotes it.
 */
export function parseLoadgenArgs(args) {
  const read = readOptions(args, ["ignore-stdin"], { connections: 1, processes: 2 });
  if (read === null) return null;
  return {
    connections: read.numbers.get("connections") ?? 20000,
    processes: read.numbers.get("processes") ?? 50,
    ignoreStdin: read.switches.has("ignore-stdin"),
  };
}

/**
 * Sends an IPC message to the launcher; a no-op once the channel is gone.
 *
 * @param {object} message The message.
 */
function tell(message) {
  if (process.connected && process.send) process.send(message);
}

/** The worker: one listener, its share of outgoing connections, and the accepted ones. */
function worker() {
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  let accepted = 0;
  let reportQueued = false;
  const reportAccepted = () => {
    if (reportQueued) return;
    reportQueued = true;
    setTimeout(() => {
      reportQueued = false;
      tell({ type: "accepted", count: accepted });
    }, 50);
  };
  const leave = () => {
    // A reset instead of a FIN: the kernel keeps no TIME_WAIT socket for an aborted connection.
    for (const s of sockets) s.resetAndDestroy();
    process.exit(0);
  };
  process.on("disconnect", leave);
  process.on("SIGTERM", leave);
  process.on("SIGINT", leave);
  process.on("SIGHUP", leave);

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => sockets.delete(socket));
    accepted++;
    reportAccepted();
  });
  server.on("error", (err) => {
    tell({ type: "error", message: `Listener failed: ${err.message}` });
    process.exit(1);
  });
  server.listen({ host: HOST, port: 0, backlog: 4096 }, () => {
    const address = server.address();
    tell({ type: "listening", port: typeof address === "object" && address ? address.port : 0 });
  });

  process.on("message", (/** @type {any} */ message) => {
    if (message?.type !== "connect") return;
    /** @type {number[]} */
    const targets = message.targets;
    const total = message.count;
    let started = 0, done = 0, retries = 0;
    const next = () => {
      if (started >= total) return;
      const port = targets[started % targets.length];
      started++;
      const attempt = () => {
        const socket = net.connect({ host: HOST, port });
        socket.once("connect", () => {
          sockets.add(socket);
          socket.removeAllListeners("error");
          socket.on("error", () => sockets.delete(socket));
          done++;
          if (done === total) tell({ type: "connected", count: done });
          else next();
        });
        socket.once("error", (err) => {
          socket.destroy();
          // A full accept queue or a short burst of port pressure: try again a little later.
          if (++retries > total + 1000) {
            tell({ type: "error", message: `Connect to ${HOST}:${port} failed: ${err.message}` });
            process.exit(1);
          }
          setTimeout(attempt, 20);
        });
      };
      attempt();
    };
    if (total === 0) tell({ type: "connected", count: 0 });
    for (let i = 0; i < Math.min(CONCURRENCY, total); i++) next();
  });
}

/**
 * The launcher: starts the workers, tells them where to connect, prints the ready line and
 * holds.
 *
 * @param {{ connections: number, processes: number, ignoreStdin: boolean }} opts The options.
 */
function launcher(opts) {
  const limits = openFileLimits();
  const plan = planWorkers(opts.connections, opts.processes, limits);
  if (plan.processes !== opts.processes) {
    process.stderr.write(
      `loadgen: ${opts.processes} processes would exceed the open-file limit ${limits.hard}; ` +
        `using ${plan.processes}\n`,
    );
  }
  const self = fileURLToPath(import.meta.url);
  /** @type {import("node:child_process").ChildProcess[]} */
  const workers = [];
  let stopping = false;

  const stop = (/** @type {number} */ code) => {
    if (stopping) return;
    stopping = true;
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGTERM");
    const deadline = setTimeout(() => {
      for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
      process.exit(code);
    }, 5000);
    const waitAll = () => {
      if (workers.every((w) => w.exitCode !== null || w.signalCode !== null)) {
        clearTimeout(deadline);
        process.exit(code);
      }
    };
    for (const w of workers) w.on("exit", waitAll);
    waitAll();
  };
  const fail = (/** @type {string} */ message) => {
    process.stderr.write(`loadgen: ${message}\n`);
    stop(1);
  };
  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(130));
  process.on("SIGHUP", () => stop(0));
  process.on("exit", () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  });
  if (!opts.ignoreStdin) {
    process.stdin.on("end", () => stop(0));
    process.stdin.on("error", () => stop(0));
    process.stdin.resume();
  }

  /** @type {number[]} */
  const ports = new Array(plan.processes).fill(0);
  const connected = new Array(plan.processes).fill(-1);
  const accepted = new Array(plan.processes).fill(0);
  let listening = 0;
  let ready = false;
  const timer = setTimeout(() => {
    const sum = (/** @type {number[]} */ a) => a.reduce((x, y) => x + Math.max(y, 0), 0);
    fail(
      `Not ready after ${READY_TIMEOUT_MS / 1000} s: ${sum(connected)} connected, ` +
        `${sum(accepted)} accepted of ${opts.connections}`,
    );
  }, READY_TIMEOUT_MS);

  const checkReady = () => {
    if (ready || connected.some((c) => c < 0)) return;
    const total = accepted.reduce((a, b) => a + b, 0);
    if (total < opts.connections) return;
    ready = true;
    clearTimeout(timer);
    const line = {
      ready: true,
      connections: opts.connections,
      listeners: plan.processes,
      sockets: 2 * opts.connections + plan.processes,
      pids: workers.map((w) => w.pid),
      launcherPid: process.pid,
    };
    process.stdout.write(JSON.stringify(line) + "\n");
  };

  const share = (/** @type {number} */ i) =>
    Math.floor(opts.connections / plan.processes) +
    (i < opts.connections % plan.processes ? 1 : 0);

  for (let i = 0; i < plan.processes; i++) {
    /** @type {import("node:child_process").StdioOptions} */
    const stdio = ["ignore", "ignore", "inherit", "ipc"];
    const w = plan.raiseTo === null
      ? spawn(process.execPath, [self, "--worker"], { stdio })
      // Node cannot call setrlimit; a shell raises the soft limit and then becomes the worker.
      : spawn("/bin/sh", [
        "-c",
        'ulimit -n "$0" && exec "$@"',
        String(plan.raiseTo),
        process.execPath,
        self,
        "--worker",
      ], { stdio });
    workers.push(w);
    w.on("exit", (code, signal) => {
      if (!stopping) fail(`Worker ${w.pid} ended early (${signal ?? `exit code ${code}`})`);
    });
    w.on("message", (/** @type {any} */ m) => {
      if (m.type === "listening") {
        ports[i] = m.port;
        if (++listening === plan.processes) {
          workers.forEach((wk, j) => {
            const targets = ports.filter((_, k) => k !== j);
            wk.send({ type: "connect", targets, count: share(j) });
          });
        }
      } else if (m.type === "connected") {
        connected[i] = m.count;
        checkReady();
      } else if (m.type === "accepted") {
        accepted[i] = m.count;
        checkReady();
      } else if (m.type === "error") {
        fail(`Worker ${w.pid}: ${m.message}`);
      }
    });
  }
}

const isMain = process.argv[1] !== undefined &&
  fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  if (process.argv[2] === "--worker") {
    worker();
  } else {
    let opts;
    try {
      opts = parseLoadgenArgs(process.argv.slice(2));
    } catch (err) {
      process.stderr.write(`loadgen: ${/** @type {Error} */ (err).message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (opts === null) {
      process.stdout.write(USAGE);
    } else {
      launcher(opts);
    }
  }
}
