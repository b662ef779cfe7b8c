/**
 * Memory of `procconn watch` on a long run: a simulated hour (3600 refreshes, one per simulated
 * second) of a host with 10,000 connections and steady churn, run as fast as the machine allows
 * (the wait between refreshes is skipped). The real watch loop runs (`runWatch`, NDJSON events)
 * against a scripted backend; the events are counted and dropped.
 *
 * ```sh
 * node_modules/.bin/deno run -A --v8-flags=--expose-gc bench/watch_memory.ts
 * node_modules/.bin/deno run -A bench/watch_memory.ts --refreshes 600 --connections 2000
 * ```
 *
 * Prints RSS and V8 heap at the start (after the first refresh, when the working set of one
 * listing exists), every simulated ten minutes, and at the end, with the growth since the start
 * and since the first ten minutes (once V8 has sized its heap to the allocation rate). With
 * `--expose-gc` each sample follows a full collection, so the heap figures show what is retained
 * rather than garbage not yet collected. Nothing is asserted: the numbers are for reading.
 *
 * @module
 */
import process from "node:process";
import { parseArgs as readCommandLine } from "node:util";
import type { TextWriter } from "../cli/_io.ts";
import { parseArgs } from "../cli/args.ts";
import { runWatch } from "../cli/watch.ts";
import type { ProcessInfo, RawSocket, SocketSource } from "../core/source.ts";
import type { TcpState } from "../core/record.ts";

interface Options {
  refreshes: number;
  connections: number;
  /** Share of the connections closed, and as many opened, per refresh. */
  churn: number;
  /** Share of the connections that change state per refresh. */
  changes: number;
  processes: number;
}

function options(args: readonly string[]): Options {
  const o: Options = {
    refreshes: 3600,
    connections: 10_000,
    churn: 0.01,
    changes: 0.005,
    processes: 200,
  };
  const allowed =
    "expected --refreshes N, --connections N, --churn F, --changes F or --processes N";
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = readCommandLine({
      args: [...args],
      options: Object.fromEntries(Object.keys(o).map((key) => [key, { type: "string" }])),
      strict: true,
    }));
  } catch (err) {
    throw new RangeError(`${(err as Error).message}: ${allowed}`);
  }
  for (const [key, text] of Object.entries(values)) {
    const value = Number(text);
    if (typeof text !== "string" || text.trim() === "" || !(value >= 0)) {
      throw new RangeError(`Invalid --${key} "${text}": expected a number of at least 0`);
    }
    o[key as keyof Options] = value;
  }
  return o;
}

/** A small seeded generator (mulberry32), so every run simulates the same hour. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATES: readonly TcpState[] = ["ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT2", "TIME_WAIT"];

/**
 * A backend whose sockets change at every listing: some close, as many open (new ports, new
 * owners), some change state, and now and then a pid is reused by a new process.
 */
function churningSource(o: Options, onListing: (n: number) => void): SocketSource {
  const rand = random(42);
  const starts = new Map<number, string>();
  const base = Date.parse("2026-01-01T00:00:00.000Z");
  for (let p = 0; p < o.processes; p++) starts.set(1000 + p, new Date(base + p).toISOString());
  let nextPort = 0;
  const socket = (): RawSocket => {
    const port = 1024 + (nextPort++ % 60000);
    const protocol = rand() < 0.9 ? "TCP" : "UDP";
    const v4 = rand() < 0.8;
    return {
      protocol,
      family: v4 ? "IPv4" : "IPv6",
      localAddress: v4 ? "10.0.0.2" : "fd00::2",
      localPort: port,
      remoteAddress: v4 ? "10.1.0.9" : "fd00:1::9",
      remotePort: 443,
      state: "ESTABLISHED",
      pids: [1000 + Math.floor(rand() * o.processes)],
    };
  };
  const sockets = Array.from({ length: o.connections }, socket);
  for (const s of sockets) fixUdp(s);
  let listings = 0;
  return {
    name: "churn",
    listSockets() {
      if (listings > 0) {
        for (let i = 0; i < o.connections * o.churn; i++) {
          sockets[Math.floor(rand() * sockets.length)] = fixUdp(socket());
        }
        for (let i = 0; i < o.connections * o.changes; i++) {
          const s = sockets[Math.floor(rand() * sockets.length)];
          if (s.protocol === "TCP") s.state = STATES[Math.floor(rand() * STATES.length)];
        }
        if (rand() < 0.05) {
          const pid = 1000 + Math.floor(rand() * o.processes);
          starts.set(pid, new Date(base + listings * 1000).toISOString());
        }
      }
      onListing(listings++);
      // A new array of new objects each time, as a real backend returns.
      return Promise.resolve(sockets.map((s) => ({ ...s, pids: [...s.pids] })));
    },
    describeProcesses(pids) {
      const out = new Map<number, ProcessInfo>();
      for (const pid of pids) {
        out.set(pid, {
          pid,
          name: `worker-${pid}`,
          path: `/usr/lib/app/worker-${pid}`,
          parentPid: 1,
          startTime: starts.get(pid) ?? null,
          unavailable: {},
        });
      }
      return Promise.resolve(out);
    },
  };
}

function fixUdp(s: RawSocket): RawSocket {
  if (s.protocol === "UDP") {
    s.remoteAddress = null;
    s.remotePort = null;
    s.state = null;
  }
  return s;
}

interface Sample {
  refresh: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
}

function sample(refresh: number): Sample {
  // deno-lint-ignore no-explicit-any
  (globalThis as any).gc?.();
  const m = process.memoryUsage();
  return { refresh, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed };
}

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

async function run(o: Options): Promise<void> {
  const samples: Sample[] = [sample(0)];
  const every = Math.max(1, Math.round(o.refreshes / 6));
  const source = churningSource(o, (n) => {
    // Sampled as listing n begins, i.e. after n refreshes have completed.
    if (n === 1 || (n > 1 && n % every === 0)) samples.push(sample(n));
  });
  let events = 0;
  let bytes = 0;
  const sink: TextWriter = {
    write(text) {
      bytes += text.length;
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) events++;
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
  };
  let clock = Date.parse("2026-01-01T00:00:00.000Z");
  const request = parseArgs([
    "watch",
    "--format",
    "ndjson",
    "--count",
    String(o.refreshes),
    "--interval",
    "1s",
  ]);
  const started = performance.now();
  await runWatch(request, sink, {
    source,
    now: () => new Date(clock += 1000),
    sleep: () => Promise.resolve(),
    terminal: {
      isTerminal: () => false,
      size: () => ({ columns: 0, rows: 0 }),
      listen: () => () => {},
    },
  });
  const seconds = (performance.now() - started) / 1000;
  samples.push(sample(o.refreshes));

  const gc = "gc" in globalThis;
  console.log(
    `procconn watch memory: ${o.refreshes} refreshes of ${o.connections} connections ` +
      `(${o.churn * 100}% closed and opened, ${o.changes * 100}% changing state per refresh)`,
  );
  console.log(
    `${events} events (${mb(bytes)} MB of NDJSON) in ${seconds.toFixed(1)} s, ` +
      `${(o.refreshes / seconds).toFixed(1)} refreshes/s; ` +
      (gc ? "samples after a full GC" : "no --expose-gc: heap figures include uncollected garbage"),
  );
  console.log("");
  console.log("| after refresh | RSS (MB) | heap reserved (MB) | heap used (MB) |");
  console.log("| ------------: | -------: | -----------------: | -------------: |");
  for (const s of samples) {
    console.log(`| ${s.refresh} | ${mb(s.rss)} | ${mb(s.heapTotal)} | ${mb(s.heapUsed)} |`);
  }
  const first = samples.find((s) => s.refresh === 1) ?? samples[0];
  const last = samples[samples.length - 1];
  const peak = Math.max(...samples.map((s) => s.rss));
  const growth = (a: number, b: number) =>
    `${b - a >= 0 ? "+" : ""}${mb(b - a)} MB (${((b / a - 1) * 100).toFixed(1)}%)`;
  console.log("");
  console.log(`RSS at start (after refresh 1): ${mb(first.rss)} MB; at end: ${mb(last.rss)} MB`);
  console.log(`RSS growth: ${growth(first.rss, last.rss)}; peak RSS: ${mb(peak)} MB`);
  console.log(`Heap growth: ${growth(first.heapUsed, last.heapUsed)}`);
  // V8 sizes its heap spaces to the allocation rate during the first refreshes; what happens
  // after that shows whether anything accumulates.
  const warm = samples.find((s) => s.refresh >= every && s.refresh < o.refreshes);
  if (warm) {
    console.log(
      `After warm-up (refresh ${warm.refresh} to ${last.refresh}): RSS ` +
        `${growth(warm.rss, last.rss)}, heap ${growth(warm.heapUsed, last.heapUsed)}`,
    );
  }
}

if (import.meta.main) {
  try {
    await run(options(process.argv.slice(2)));
  } catch (err) {
    console.error(`watch_memory: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
