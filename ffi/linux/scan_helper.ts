/**
 * The helper thread of the fd scan (Deno only): a worker that takes pids from a shared claim
 * list and scans their fd directories while the main thread does other work. The CLI starts it
 * before loading its own modules ({@linkcode startEarlyScanHelper}), so the scan runs while
 * they load; the first listing then takes it over ({@linkcode takeEarlyScanHelper}) instead of
 * starting its own.
 *
 * It imports no Node module, so starting it does not load the Node compatibility layer.
 *
 * @module
 */
import { PidClaims, type ScanReply, type ScanRequest } from "./fd_scan.ts";

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

/**
 * Open files in the whole system above which a second thread pays off. Starting a worker costs
 * about 20 ms of wall time (most of it when the process exits); reading fd links goes at about
 * 450,000 a second per thread, so halving the scan saves that much from about 18,000 fds on.
 */
export const PARALLEL_MIN_OPEN_FILES = 20_000;

/** A helper thread scanning fd directories, and the pids it shares with the main thread. */
export interface ScanHelper {
  /** The procfs mount point it scans. */
  readonly root: string;
  /** Every pid to scan, as listed when the helper started. */
  readonly pids: readonly number[];
  /** The shared claims: each pid goes to whichever thread takes it first. */
  readonly claims: PidClaims;
  /** The helper's reply, or null when no worker could be started (the main thread scans all). */
  readonly reply: Promise<ScanReply> | null;
  /** Stops the worker (a no-op when there is none). */
  terminate(): void;
}

/** Whether a helper thread can share the scan: Deno, with workers and shared memory. */
export function canShareScan(): boolean {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return typeof g.Deno?.dlopen === "function" && typeof g.Worker === "function" &&
    typeof g.SharedArrayBuffer === "function";
}

/** The pids among the names of a procfs root's entries. */
export function numericEntries(names: Iterable<string>): number[] {
  const pids: number[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39 && /^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/**
 * Starts a worker that scans the fd directories of `pids` under `root`, taking them one at a
 * time from shared claims that the main thread takes from too.
 *
 * @param root The procfs mount point.
 * @param pids The processes to scan.
 * @returns The helper; its `reply` is null when the worker could not be started.
 *
 * @example
 * ```ts ignore
 * import { launchScanHelper } from "./scan_helper.ts";
 * const helper = launchScanHelper("/proc", [1]);
 * for (const pid of helper.claims) console.log("this thread scans", pid);
 * await helper.reply;
 * helper.terminate();
 * ```
 */
export function launchScanHelper(root: string, pids: readonly number[]): ScanHelper {
  const claims = PidClaims.create(pids);
  let worker: Worker | null = null;
  let reply: Promise<ScanReply> | null = null;
  try {
    const w = new Worker(new URL("./_scan_worker.ts", import.meta.url).href, { type: "module" });
    reply = new Promise((resolve) => {
      w.onmessage = (event: MessageEvent<ScanReply>) => resolve(event.data);
      w.onerror = (event) => {
        event.preventDefault();
        resolve({ ok: false, message: event.message });
      };
    });
    w.postMessage({ root, claims: claims.buffer } satisfies ScanRequest);
    worker = w;
  } catch {
    // No worker: the main thread takes every pid.
  }
  return { root, pids, claims, reply, terminate: () => worker?.terminate() };
}

let early: ScanHelper | null = null;

/**
 * Starts the helper thread on `/proc` ahead of the first listing, when that listing would start
 * one anyway: on Linux under Deno with the FFI permission granted, and when the system has at
 * least {@linkcode PARALLEL_MIN_OPEN_FILES} open files. Otherwise does nothing. A helper that no
 * listing takes over is stopped by {@linkcode stopEarlyScanHelper}.
 *
 * The pids are those running now, a little before the socket tables are read: as with any
 * scan made before the tables, a process started in between is not among the owners.
 *
 * @returns Whether a helper was started.
 *
 * @example
 * ```ts ignore
 * import { startEarlyScanHelper, stopEarlyScanHelper } from "./scan_helper.ts";
 * startEarlyScanHelper();
 * // ... load modules, parse the command line, list ...
 * stopEarlyScanHelper();
 * ```
 */
export function startEarlyScanHelper(): boolean {
  if (early || !deno || deno.build.os !== "linux" || !canShareScan()) return false;
  try {
    if (deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
    const allocated = parseInt(deno.readTextFileSync("/proc/sys/fs/file-nr"), 10);
    if (!(allocated >= PARALLEL_MIN_OPEN_FILES)) return false;
    const names = Array.from(deno.readDirSync("/proc"), (entry) => entry.name);
    early = launchScanHelper("/proc", numericEntries(names));
    return true;
  } catch {
    return false; // the listing decides on its own, as without an early start
  }
}

/**
 * Hands the helper started by {@linkcode startEarlyScanHelper} to the caller, once.
 *
 * @param root The procfs mount point the caller scans; only `/proc` matches.
 * @returns The helper, or null when none was started, it was taken already, or `root` differs.
 *
 * @example
 * ```ts
 * import { takeEarlyScanHelper } from "./scan_helper.ts";
 * takeEarlyScanHelper("/proc"); // null: none was started
 * ```
 */
export function takeEarlyScanHelper(root: string): ScanHelper | null {
  if (!early || root !== early.root) return null;
  const helper = early;
  early = null;
  return helper;
}

/**
 * Stops the early helper if no listing took it over (`--version`, `--help`, a usage error).
 *
 * @example
 * ```ts
 * import { stopEarlyScanHelper } from "./scan_helper.ts";
 * stopEarlyScanHelper(); // nothing to stop
 * ```
 */
export function stopEarlyScanHelper(): void {
  if (!early) return;
  early.claims.cancel();
  early.terminate();
  early = null;
}
