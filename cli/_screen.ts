/**
 * The terminal side of `procconn watch`: entering and leaving the full-screen view, reading the
 * quit keys, and drawing one frame. Uses node:process so it behaves the same on Deno and Node.
 *
 * @module
 */
import process from "node:process";
import type { ChangeKind } from "../core/diff.ts";
import type { Connection } from "../core/record.ts";
import { TCP_STATES } from "../core/fields.ts";
import { createTableFormatter } from "../formatters/table.ts";

/** What `watch` needs from the terminal; tests pass a fake. */
export interface Terminal {
  /** Whether standard output is a terminal. */
  isTerminal(): boolean;
  /** The terminal size; 0 where unknown. */
  size(): { columns: number; rows: number };
  /**
   * Starts listening for the user's wish to quit: `q` or Ctrl-C (keys read in raw mode when
   * standard input is a terminal), and SIGINT, SIGTERM and SIGHUP.
   *
   * @param onQuit Called when the user quits, with the signal when one asked (not for a key);
   *   may be called more than once.
   * @returns A function that stops listening and puts standard input back in its normal mode.
   */
  listen(onQuit: (signal?: StopSignal) => void): () => void;
}

/** The signals that ask `watch` to stop (of them, Windows delivers SIGINT only). */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** A signal that asks `watch` to stop. */
export type StopSignal = (typeof SIGNALS)[number];
/** Each stop signal's number, for the exit code of a process it ends (128 + the number). */
export const SIGNAL_NUMBERS: Readonly<Record<StopSignal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

/**
 * Listens for SIGINT, SIGTERM and SIGHUP, those of them this OS lets a program listen for.
 *
 * @param onSignal Called with each signal that arrives.
 * @returns A function that stops listening (the signals' default actions are back).
 */
export function listenForSignals(onSignal: (signal: StopSignal) => void): () => void {
  const listening: [StopSignal, () => void][] = [];
  for (const signal of SIGNALS) {
    const handler = () => onSignal(signal);
    try {
      process.on(signal, handler);
      listening.push([signal, handler]);
    } catch {
      // Windows has no SIGTERM or SIGHUP listeners; Ctrl-C arrives as SIGINT, or as a key in
      // raw mode.
    }
  }
  return () => {
    for (const [signal, handler] of listening.splice(0)) process.off(signal, handler);
  };
}

/**
 * Sends `signal` to this process once no one listens for it: the process ends as the signal
 * ends a program that does not catch it, so a caller sees it was stopped, not that it finished.
 *
 * @param signal The signal that asked to stop.
 */
export function raiseSignal(signal: StopSignal): void {
  // Windows has no such signals to send: there a "kill" is TerminateProcess with exit code 1,
  // which would read as a failure, so the caller's exit code (128 + the number) says it instead.
  if (process.platform === "win32") return;
  try {
    process.kill(process.pid, signal);
  } catch {
    // Not allowed to signal itself: the caller's exit code says it.
  }
}

// Alternate screen, cursor hidden, no line wrap (an overlong line is clipped, not wrapped, so a
// frame always has the same number of lines).
/** Text that switches to the full-screen view. */
export const ENTER_SCREEN = "\x1b[?1049h\x1b[?25l\x1b[?7l";
/** Text that returns to the normal screen with the cursor shown. */
export const LEAVE_SCREEN = "\x1b[?7h\x1b[?25h\x1b[?1049l";

/** `q`, `Q` and Ctrl-C (ETX, which raw mode delivers as a byte instead of a signal). */
const QUIT_KEYS = ["q", "Q", "\x03"];

/**
 * Returns the real terminal of this process.
 *
 * @returns The terminal on standard input and output.
 */
export function systemTerminal(): Terminal {
  return {
    isTerminal: () => process.stdout.isTTY === true,
    size: () => ({ columns: process.stdout.columns ?? 0, rows: process.stdout.rows ?? 0 }),
    listen(onQuit) {
      const stdin = process.stdin;
      const raw = stdin.isTTY === true && typeof stdin.setRawMode === "function";
      const onData = (chunk: Uint8Array | string) => {
        const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
        if (QUIT_KEYS.some((key) => text.includes(key))) onQuit();
      };
      const stopSignals = listenForSignals(onQuit);
      if (raw) {
        stdin.setRawMode(true);
        stdin.on("data", onData);
        stdin.resume();
      }
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        stopSignals();
        if (raw) {
          stdin.off("data", onData);
          try {
            stdin.setRawMode(false);
          } finally {
            stdin.pause();
          }
        }
      };
    },
  };
}

/** One line of the live view: a record and what happened to it at the last refresh. */
export interface ScreenRow {
  /** The record (for a closed endpoint, as last seen). */
  connection: Connection;
  /** The change at the last refresh, or null when the row is unchanged. */
  mark: ChangeKind | null;
}

/** What one frame shows besides the rows. */
export interface FrameOptions {
  /** Columns of the table. */
  fields: readonly string[];
  /** Terminal width in columns; 0 when unknown (80 is assumed). */
  columns: number;
  /** Terminal height in lines; 0 when unknown (24 is assumed). */
  rows: number;
  /** Whether ANSI colour is allowed. */
  color: boolean;
  /** When the listing was read. */
  time: Date;
  /** Milliseconds between refreshes. */
  intervalMs: number;
  /** Lines under the counts saying what the listing could not see; none by default. */
  notes?: readonly string[];
}

const MARKS: Record<ChangeKind, { sign: string; color: string }> = {
  opened: { sign: "+", color: "\x1b[32m" },
  closed: { sign: "-", color: "\x1b[31m" },
  changed: { sign: "~", color: "\x1b[33m" },
};
const COLOR_OFF = "\x1b[39m";

/**
 * Draws one frame of the live view: a title, counts per protocol and per state (and of the
 * changes), the notes if any, then the rows sorted by process in a table. Each row starts with `+` (opened), `-`
 * (closed) or `~` (changed state), and with colour the whole line is green, red or yellow. Rows
 * that do not fit the height are counted in a last line. The frame starts at the top left corner
 * and clears what a longer previous frame left below it.
 *
 * @param rows The current records and the records closed at the last refresh.
 * @param options The columns, the terminal size, colour, the time and the interval.
 * @returns Text to write to the terminal while the full-screen view is active.
 */
export function renderFrame(rows: readonly ScreenRow[], options: FrameOptions): string {
  const lines = frameLines(rows, options, "(q quits)");
  return "\x1b[H" + lines.map((line) => line + "\x1b[K").join("\r\n") + "\x1b[J";
}

/**
 * Draws the last frame of a live view that ran its `--count` out, for the normal screen it
 * returns to: the same lines as {@link renderFrame}, as plain lines (colour aside) that stay on
 * the terminal after procconn ends.
 *
 * @param rows The current records and the records closed at the last refresh.
 * @param options The columns, the terminal size, colour, the time and the interval.
 * @returns Text to write once the full-screen view has been left, ending with a newline.
 */
export function renderLastFrame(rows: readonly ScreenRow[], options: FrameOptions): string {
  return frameLines(rows, options, "(last refresh)").join("\n") + "\n";
}

function frameLines(rows: readonly ScreenRow[], options: FrameOptions, hint: string): string[] {
  const width = options.columns > 0 ? options.columns : 80;
  const height = options.rows > 0 ? options.rows : 24;
  const sorted = sortByProcess(rows);
  const notes = options.notes ?? [];
  // Above the table: the title, the counts, the notes and a blank line.
  const room = Math.max(1, height - 3 - notes.length - 2);
  // Only the rows on screen are laid out; a busy host has tens of thousands.
  const shown = sorted.length <= room ? sorted : sorted.slice(0, room - 1);
  const table = createTableFormatter({
    fields: options.fields,
    width: Math.max(1, width - 2),
    color: options.color,
  });
  table.begin();
  for (const row of shown) table.record(row.connection);
  // Header, rule, one line per row, footer.
  const tableLines = table.end().replace(/\n$/, "").split("\n");

  const lines = [titleLine(options, hint), countLine(rows), ...notes, ""];
  lines.push("  " + tableLines[0], "  " + tableLines[1]);
  shown.forEach(({ mark }, i) => {
    const text = tableLines[i + 2];
    if (!mark) lines.push("  " + text);
    else if (options.color) {
      lines.push(`${MARKS[mark].color}${MARKS[mark].sign} ${text}${COLOR_OFF}`);
    } else lines.push(`${MARKS[mark].sign} ${text}`);
  });
  if (shown.length < sorted.length) {
    lines.push(`  … ${sorted.length - shown.length} more rows: narrow the view with filters`);
  }
  return lines;
}

function titleLine(options: FrameOptions, hint: string): string {
  const every = options.intervalMs % 1000 === 0
    ? `${options.intervalMs / 1000}s`
    : `${options.intervalMs}ms`;
  const clock = options.time.toTimeString().slice(0, 8);
  return `procconn watch  every ${every}  ${clock}  ${hint}`;
}

function countLine(rows: readonly ScreenRow[]): string {
  const protocols = new Map<string, number>();
  const states = new Map<string, number>();
  const marks = { opened: 0, closed: 0, changed: 0 };
  let current = 0;
  for (const { connection: c, mark } of rows) {
    if (mark) marks[mark]++;
    if (mark === "closed") continue;
    current++;
    protocols.set(c.protocol, (protocols.get(c.protocol) ?? 0) + 1);
    if (c.state) states.set(c.state, (states.get(c.state) ?? 0) + 1);
  }
  const byProtocol = [...protocols].sort().map(([p, n]) => `${p} ${n}`).join("  ");
  const byState = TCP_STATES.filter((s) => states.has(s)).map((s) => `${s} ${states.get(s)}`)
    .join("  ");
  const changes = `+${marks.opened} opened  -${marks.closed} closed  ~${marks.changed} changed`;
  // The changes come second: on a narrow terminal the line is cut at its end, and what changed
  // matters more there than the count of each state.
  const parts = [`${current} ${current === 1 ? "endpoint" : "endpoints"}`, changes];
  if (byProtocol) parts.push(byProtocol);
  if (byState) parts.push(byState);
  return parts.join(" | ");
}

/** Sorts by process name (any case), then pid; rows of one process keep their order. */
function sortByProcess(rows: readonly ScreenRow[]): ScreenRow[] {
  return rows.toSorted((a, b) => {
    const an = a.connection.processName?.toLowerCase() ?? null;
    const bn = b.connection.processName?.toLowerCase() ?? null;
    if (an !== bn) {
      if (an === null) return 1;
      if (bn === null) return -1;
      return an < bn ? -1 : 1;
    }
    return (a.connection.pid ?? Infinity) - (b.connection.pid ?? Infinity) || 0;
  });
}
