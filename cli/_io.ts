/**
 * Terminal output for Deno and Node: buffered writes to stdout that end quietly when the reader
 * goes away (`procconn | head`), and the few terminal facts the CLI needs.
 *
 * @module
 */

import { VERSION } from "../version.ts";

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;
// Node's process object; never read under Deno, where touching `globalThis.process` loads the
// Node compatibility layer (milliseconds of start-up for nothing).
// deno-lint-ignore no-explicit-any
const nodeProcess = deno ? undefined : (globalThis as any).process as any;

/** Thrown by a writer when the reading end of stdout is closed. */
export class BrokenPipe extends Error {
  constructor() {
    super("Standard output was closed");
    this.name = "BrokenPipe";
  }
}

/** A text sink. */
export interface TextWriter {
  /**
   * Queues text, and flushes when enough is buffered. Returns the flush's promise when it
   * flushed, and nothing when it only queued: a loop that writes many small pieces awaits only
   * the writes that flush, not one promise per piece.
   */
  write(text: string): Promise<void> | undefined;
  /** Writes everything still buffered. */
  flush(): Promise<void>;
}

function isBrokenPipe(err: unknown): boolean {
  if (deno && err instanceof deno.errors.BrokenPipe) return true;
  const code = (err as { code?: string })?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

/** Thrown when stdout is non-blocking and full: what was written cannot be known any more. */
export class StdoutWouldBlock extends Error {
  constructor() {
    super(
      "Standard output is in non-blocking mode and its reader fell behind, so the output is " +
        "incomplete: write to a file or a pipe that blocks (e.g. procconn ... | cat)",
    );
    this.name = "StdoutWouldBlock";
  }
}

/**
 * Writes to stdout synchronously: one listing is tens of megabytes, and awaiting an async write
 * per 64 KiB chunk left the process idle between chunks. A descriptor the parent made
 * non-blocking answers WouldBlock when it is full; Deno's stdout is line-buffered underneath and
 * may already have taken part of the chunk by then, so retrying would write that part twice
 * (its async write fails the same way). The listing stops with a clear error instead.
 */
function writeAllDeno(bytes: Uint8Array): Promise<void> {
  let off = 0;
  try {
    while (off < bytes.length) off += deno!.stdout.writeSync(bytes.subarray(off));
  } catch (err) {
    if (err instanceof deno!.errors.WouldBlock) throw new StdoutWouldBlock();
    throw err;
  }
  return Promise.resolve();
}

function writeAllNode(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    nodeProcess.stdout.write(bytes, (err: unknown) => err ? reject(err) : resolve());
  });
}

/** Chunks whose UTF-8 may exceed this are encoded into a buffer of their own. */
const REUSED_BUFFER_LIMIT = 1 << 20;

/**
 * Creates a buffered writer on standard output. A closed stdout surfaces as {@linkcode BrokenPipe}.
 *
 * @param highWater Bytes to buffer before writing.
 * @returns The writer.
 */
export function stdoutWriter(highWater = 64 * 1024): TextWriter {
  const encoder = new TextEncoder();
  const write = deno ? writeAllDeno : writeAllNode;
  if (!deno) nodeProcess.stdout.on("error", () => {}); // reported through the write callback
  let parts: string[] = [];
  let size = 0;
  // One buffer serves every chunk. A new one per chunk gives the process fresh pages to fault in
  // (tens of megabytes over a big listing) that only a later garbage collection gives back. A
  // flush is awaited before the next one starts, so the buffer is free again by then.
  let buffer = new Uint8Array(0);
  const encode = (text: string): Uint8Array => {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    const most = text.length * 3;
    if (most > REUSED_BUFFER_LIMIT) return encoder.encode(text);
    if (buffer.length < most) buffer = new Uint8Array(Math.max(most, 4 * highWater));
    return buffer.subarray(0, encoder.encodeInto(text, buffer).written);
  };
  const flush = async () => {
    if (parts.length === 0) return;
    const bytes = encode(parts.length === 1 ? parts[0] : parts.join(""));
    parts = [];
    size = 0;
    try {
      await write(bytes);
    } catch (err) {
      if (isBrokenPipe(err)) throw new BrokenPipe();
      if (err instanceof StdoutWouldBlock) throw err;
      // Said as what could not be written to: "No space left on device" alone could be any file.
      throw new Error(`Cannot write to standard output: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    write(text: string) {
      if (!text) return;
      parts.push(text);
      size += text.length;
      return size >= highWater ? flush() : undefined;
    },
    flush,
  };
}

let stderrGuarded = false;

/**
 * Characters that would make a line on stderr say something other than its text: C0 and C1
 * controls and DEL (a line break, a terminal's escape sequences), the Unicode line and
 * paragraph separators, and the bidirectional overrides and isolates that reorder what follows.
 */
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` with each unprintable character written as its escape (`\n`, `\x1b`, `\u202e`), so
 * that a value echoed in a message, such as a bad option value or a file name, stays on its one
 * line and cannot drive the terminal.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ??
      (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`);
  });
}

/**
 * Writes one line to standard error, its unprintable characters escaped ({@linkcode printable});
 * a closed stderr is ignored (nothing left to tell).
 */
export function writeError(text: string): void {
  const line = printable(text);
  if (deno) {
    try {
      deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
    } catch {
      // stderr closed
    }
    return;
  }
  // Node reports a failed write to stderr (EPIPE) as an 'error' event, which kills the process
  // when nothing listens for it.
  if (!stderrGuarded) {
    nodeProcess.stderr.on("error", () => {});
    stderrGuarded = true;
  }
  try {
    nodeProcess.stderr.write(line + "\n");
  } catch {
    // stderr closed
  }
}

/** Width of the terminal on stdout, or 0 when stdout is not a terminal. */
export function terminalWidth(): number {
  try {
    if (deno) return deno.stdout.isTerminal() ? deno.consoleSize().columns : 0;
    return nodeProcess.stdout.isTTY ? nodeProcess.stdout.columns ?? 0 : 0;
  } catch {
    return 0;
  }
}

/** Reads an environment variable, or undefined when it is unset or cannot be read. */
export function env(name: string): string | undefined {
  try {
    return deno ? deno.env.get(name) : nodeProcess.env[name];
  } catch {
    return undefined;
  }
}

/**
 * Reads a whole text file, or standard input for `-`, as UTF-8.
 *
 * @param path The file, or `-`.
 * @returns Its text.
 * @throws {Error} The file system's error (with its `code`, e.g. `ENOENT`).
 */
export async function readInputText(path: string): Promise<string> {
  if (path !== "-") {
    if (deno) return await deno.readTextFile(path);
    const { readFile } = await import("node:fs/promises");
    return await readFile(path, "utf8");
  }
  if (deno) return await new Response(deno.stdin.readable).text();
  // The stream decodes: a character split between two chunks comes out whole.
  nodeProcess.stdin.setEncoding("utf8");
  let text = "";
  for await (const chunk of nodeProcess.stdin) text += chunk;
  return text;
}

/**
 * True when this process runs as root (uid 0) on a Unix system; false otherwise, also where the
 * uid cannot be read (Windows, or no permission to ask).
 */
export function runsAsRoot(): boolean {
  try {
    return deno ? deno.uid() === 0 : nodeProcess.getuid?.() === 0;
  } catch {
    return false;
  }
}

/**
 * Writes `text` (help, the version) to standard output and gives the exit code: 0 when written
 * or when the reader went away (`procconn --help | head -1`), 1 with a message on standard error
 * when the write failed.
 */
export async function printText(text: string): Promise<number> {
  const out = stdoutWriter();
  try {
    await out.write(text);
    await out.flush();
    return 0;
  } catch (err) {
    if (err instanceof BrokenPipe) return 0;
    writeError(`procconn: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** The line `--version` prints: procconn's version, then runtime, OS and architecture. */
export function versionText(): string {
  return `procconn ${VERSION} (${runtimeDescription()})\n`;
}

/** Platform text for `--version`: runtime and version, OS and architecture. */
export function runtimeDescription(): string {
  if (deno) return `deno ${deno.version.deno}; ${deno.build.os} ${deno.build.arch}`;
  const os = nodeProcess.platform === "win32" ? "windows" : nodeProcess.platform;
  const arch = nodeProcess.arch === "x64" ? "x86_64" : nodeProcess.arch;
  return `node ${nodeProcess.versions.node}; ${os} ${arch}`;
}
