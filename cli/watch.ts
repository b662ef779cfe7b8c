/**
 * `procconn watch`: the listing, refreshed. On a terminal a full-screen live view; otherwise, or
 * with `--format ndjson`, a stream of events, one JSON object per line.
 *
 * @module
 */
import { type ConnectionChange, createChangeTracker } from "../core/diff.ts";
import { eventLine, toEvent } from "../core/events.ts";
import { type EnrichmentCache, listConnections } from "../core/list.ts";
import type { Connection } from "../core/record.ts";
import type { SocketSource } from "../core/source.ts";
import { defaultSource, outputReaderCheck } from "../ffi/mod.ts";
import { ListingNotes } from "./_gaps.ts";
import { BrokenPipe, runsAsRoot, type TextWriter, writeError } from "./_io.ts";
import {
  ENTER_SCREEN,
  type FrameOptions,
  LEAVE_SCREEN,
  listenForSignals,
  raiseSignal,
  renderFrame,
  renderLastFrame,
  type ScreenRow,
  SIGNAL_NUMBERS,
  type StopSignal,
  systemTerminal,
  type Terminal,
} from "./_screen.ts";
import { type CliRequest, UsageError } from "./args.ts";

/** What `runWatch` uses from the outside world; tests and benchmarks replace parts of it. */
export interface WatchDeps {
  /** The socket backend (default: the one for this OS). */
  source?: SocketSource;
  /** The wall clock that stamps each refresh (default: `new Date()`). */
  now?: () => Date;
  /**
   * Waits between refreshes and must return early when `signal` is aborted (default: a timer).
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The terminal (default: this process's). */
  terminal?: Terminal;
  /** Where the event stream says what it could not see (default: standard error). */
  warn?: (line: string) => void;
  /** Whether this process runs as root (default: asked of the OS); decides the advice given. */
  root?: boolean;
  /**
   * Whether the reader of the event stream has gone, asked between refreshes (default: a check
   * of standard output where the OS has one, see `outputReaderCheck`; null for none).
   */
  readerGone?: (() => boolean) | null;
  /**
   * Starts listening for the signals that stop the event stream, calling `onSignal` with each;
   * returns a function that stops listening (default: SIGINT, SIGTERM and SIGHUP of this process).
   * The live view hears them through `terminal`.
   */
  signals?: (onSignal: (signal: StopSignal) => void) => () => void;
  /** Ends the process by the signal that stopped it (default: sends it to this process again). */
  raise?: (signal: StopSignal) => void;
}

/** How often the event stream asks whether its reader has gone while it waits. */
const READER_CHECK_MS = 250;

/**
 * Runs `procconn watch`: lists the connections every `request.intervalMs` with the request's
 * filters, `request.count` times or until interrupted.
 *
 * On a terminal with the table format, a full-screen view shows the rows sorted by process, with
 * the endpoints opened since the last refresh in green (`+`), those closed in red (`-`, shown for
 * one refresh) and those whose TCP state changed in yellow (`~`); the first frame marks nothing.
 * `q` or Ctrl-C quits, and the terminal is always put back (normal screen, cursor shown, raw mode
 * off). When `request.count` runs out, the last frame is drawn again on the normal screen, so it
 * stays in view after procconn ends.
 *
 * Otherwise each refresh writes one NDJSON line per change: `{"time", "event", "previousState",
 * ...record}` with `event` one of `opened`, `closed`, `changed` (see `core/events.ts`). The first
 * refresh writes `opened` for every endpoint present, so a log of the stream alone tells what was
 * open at any time. The records carry every field, whatever `--fields` says.
 *
 * What a refresh could not see (owners or processes refused, sockets in other network namespaces)
 * is said as a listing says it: in the live view on lines under the counts, kept up to date; in the
 * event stream once on standard error, after the first refresh, so stdout stays pure NDJSON.
 *
 * SIGINT, SIGTERM or SIGHUP stops either mode cleanly: the event stream finishes the lines it is
 * writing (a second signal does not wait for a reader that has stopped reading), the live view
 * puts the terminal back; then the signal ends the process, as it ends a program that does not
 * catch it (exit status 128 + its number), so a caller can tell "stopped" from "finished".
 *
 * @param request The parsed command line (`action: "watch"`).
 * @param out Standard output.
 * @param deps The backend, clock, timer and terminal to use instead of the real ones.
 * @returns The exit code: 0, also when standard output was closed by its reader; 128 + the
 *   signal's number when a signal stopped it and sending it again did not end the process.
 * @throws Errors of the listing (after the terminal has been put back).
 *
 * @example
 * ```ts ignore
 * import { runWatch } from "./watch.ts";
 * import { parseArgs } from "./args.ts";
 * import { stdoutWriter } from "./_io.ts";
 * await runWatch(parseArgs(["watch", "--format", "ndjson", "--count", "2"]), stdoutWriter());
 * ```
 */
export async function runWatch(
  request: CliRequest,
  out: TextWriter,
  deps: WatchDeps = {},
): Promise<number> {
  const terminal = deps.terminal ?? systemTerminal();
  if (request.format === "table" && request.formatGiven && !terminal.isTerminal()) {
    throw new UsageError(
      "watch --format table draws a live view on a terminal, and standard output is not one: " +
        "leave --format out (or give --format ndjson) for a stream of events",
    );
  }
  let stoppedBy: StopSignal | null;
  try {
    stoppedBy = request.format === "table" && terminal.isTerminal()
      ? await liveView(request, out, terminal, deps)
      : await eventStream(request, out, deps);
  } catch (err) {
    if (err instanceof BrokenPipe) return 0;
    throw err;
  }
  if (stoppedBy === null) return 0;
  (deps.raise ?? raiseSignal)(stoppedBy);
  return 128 + SIGNAL_NUMBERS[stoppedBy];
}

/** Calls `onRefresh` with each listing, spaced `intervalMs` apart, until done or aborted. */
async function refreshLoop(
  request: CliRequest,
  deps: WatchDeps,
  signal: AbortSignal,
  onRefresh: (rows: Connection[], time: Date, notes: () => Promise<string[]>) => Promise<void>,
): Promise<void> {
  // Made for repeated listings: the Linux source keeps its fd-scan worker between refreshes.
  const source = deps.source ?? await defaultSource({ repeated: true, bpf: request.bpf });
  const cache: EnrichmentCache = {}; // hashes and DNS answers survive refreshes
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? timer;
  let started = 0;
  try {
    for (let n = 0; request.count === undefined || n < request.count; n++) {
      if (n > 0) {
        const wait = request.intervalMs - (performance.now() - started);
        if (wait > 0) await sleep(wait, signal);
      }
      if (signal.aborted) return;
      started = performance.now();
      const listing = listConnections({ ...request.filters, ...request.enrich, source, cache });
      const rows = await unlessAborted(listing, signal);
      if (rows === undefined) return;
      // What a listing would say on stderr: refusals, a selection that does not run, and
      // other network namespaces.
      const notes = () =>
        new ListingNotes(request.filters).addAll(rows).lines(source, deps.root ?? runsAsRoot());
      await onRefresh(rows, now(), notes);
    }
  } finally {
    // What the source keeps running would keep the process alive; an abandoned listing that
    // still waits for it fails quietly (unlessAborted dropped it).
    source.close?.();
  }
}

/** Streams events until done; returns the signal that stopped it, or null. */
async function eventStream(
  request: CliRequest,
  out: TextWriter,
  deps: WatchDeps,
): Promise<StopSignal | null> {
  const tracker = createChangeTracker();
  const warn = deps.warn ?? writeError;
  const raise = deps.raise ?? raiseSignal;
  let first = true;
  // A reader that has gone is noticed without a write, or a stream with nothing new to say
  // would outlive it (`watch | head -1`): the wait, or a listing in progress, is cut short.
  const readerGone = deps.readerGone === undefined ? await outputReaderCheck() : deps.readerGone;
  const end = new AbortController();
  const checks = readerGone
    ? setInterval(() => readerGone() && end.abort(), READER_CHECK_MS)
    : undefined;
  // A signal ends the stream between lines: the lines being written are finished (a reader such
  // as a log shipper never gets half a record), and no new listing starts. A second signal
  // ends the process at once, for a reader that no longer reads.
  let stoppedBy: StopSignal | null = null;
  let stopListening = () => {};
  stopListening = (deps.signals ?? listenForSignals)((signal) => {
    if (stoppedBy === null) {
      stoppedBy = signal;
      end.abort();
      return;
    }
    stopListening();
    raise(signal);
  });
  try {
    await refreshLoop(request, deps, end.signal, async (rows, time, notes) => {
      for (const change of tracker.update(rows)) await out.write(eventLine(toEvent(change, time)));
      await out.flush();
      // Once: a log of the stream needs the caveat, not one per refresh.
      if (first) (await notes()).forEach((line) => warn(line));
      first = false;
    });
  } finally {
    clearInterval(checks);
    stopListening();
  }
  return stoppedBy;
}

/** Shows the live view until quit; returns the signal that stopped it, or null (a key, or done). */
async function liveView(
  request: CliRequest,
  out: TextWriter,
  terminal: Terminal,
  deps: WatchDeps,
): Promise<StopSignal | null> {
  const tracker = createChangeTracker();
  const quit = new AbortController();
  let stoppedBy: StopSignal | null = null;
  let first = true;
  // The last frame drawn, drawn again on the normal screen when the count runs out: the view
  // ends by itself then, and its last state should not vanish with the full screen.
  let last = null as { rows: ScreenRow[]; time: Date; notes: string[] } | null;
  let stopListening = () => {};
  try {
    stopListening = terminal.listen((signal) => {
      if (signal !== undefined && !quit.signal.aborted) stoppedBy = signal;
      quit.abort();
    });
    await out.write(ENTER_SCREEN);
    await out.flush();
    await refreshLoop(request, deps, quit.signal, async (rows, time, notes) => {
      const changes = tracker.update(rows);
      const screenRows = first ? rows.map((connection) => ({ connection, mark: null })) : (
        markRows(rows, changes)
      );
      first = false;
      last = {
        rows: screenRows,
        time,
        notes: (await notes()).map((line) => line.replace(/^procconn: /, "")),
      };
      await out.write(renderFrame(last.rows, frameOptions(request, terminal, last)));
      await out.flush();
    });
  } finally {
    try {
      stopListening();
    } finally {
      try {
        await out.write(LEAVE_SCREEN);
        await out.flush();
      } catch {
        // The screen is gone with the reader; nothing to put back.
      }
    }
  }
  if (!quit.signal.aborted && last !== null) {
    await out.write(renderLastFrame(last.rows, frameOptions(request, terminal, last)));
    await out.flush();
  }
  return stoppedBy;
}

/** How a frame of `request`'s live view is drawn on `terminal` at its current size. */
function frameOptions(
  request: CliRequest,
  terminal: Terminal,
  frame: { time: Date; notes: string[] },
): FrameOptions {
  const size = terminal.size();
  return {
    fields: request.fields,
    columns: size.columns,
    rows: size.rows,
    color: request.color,
    time: frame.time,
    intervalMs: request.intervalMs,
    notes: frame.notes,
  };
}

/** The current rows with their marks, followed by the rows closed since the last refresh. */
function markRows(rows: readonly Connection[], changes: readonly ConnectionChange[]): ScreenRow[] {
  const marks = new Map<Connection, ConnectionChange["event"]>();
  const closed: ScreenRow[] = [];
  for (const change of changes) {
    if (change.event === "closed") closed.push({ connection: change.connection, mark: "closed" });
    else marks.set(change.connection, change.event);
  }
  return [
    ...rows.map((connection) => ({ connection, mark: marks.get(connection) ?? null })),
    ...closed,
  ];
}

/** Resolves with the promise's value, or with undefined as soon as the signal is aborted. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {}); // the listing is abandoned; its failure no longer matters
      resolve(undefined);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** Waits `ms`, or less when the signal is aborted. */
function timer(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
