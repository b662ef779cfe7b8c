/**
 * `procconn snapshot`: the listing with `snapshotTime` and `hostName` on every row, written to a
 * file whole or not at all.
 *
 * Replacing: the snapshot goes to a temporary file in the target's directory, which is then
 * renamed over the target, so a reader sees the old file or the new one. Appending: the whole
 * batch is built in memory, then written in one write at the end of the file while an exclusive
 * lock file (`<file>.lock`) is held, then read back; a failure truncates the file to its earlier
 * length, and an append killed in the middle is cut off by the next one (`<file>.unfinished`
 * records the length to go back to). Only node:fs is used, so this runs the same on Deno and
 * Node.
 *
 * @module
 */
import * as nodeFs from "node:fs";
import { hostname } from "node:os";
import { parse as parseCsv } from "csv-parse/sync";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { listConnections } from "../core/list.ts";
import type { Connection } from "../core/record.ts";
import type { SocketSource } from "../core/source.ts";
import { defaultSource } from "../ffi/mod.ts";
import { createFormatter } from "../formatters/mod.ts";
import { ListingNotes } from "./_gaps.ts";
import { writeError } from "./_io.ts";
import { type CliRequest, UsageError } from "./args.ts";

/** The fields a snapshot adds in front of the chosen record fields. */
export const SNAPSHOT_FIELDS = ["snapshotTime", "hostName"] as const;

/** The formats a snapshot can be written in. */
export type SnapshotFormat = "csv" | "ndjson";

/** The node:fs functions a snapshot uses; tests wrap them to simulate failures. */
export interface SnapshotFs {
  /** As `fs.openSync`. */
  openSync(path: string, flags: string, mode?: number): number;
  /** As `fs.closeSync`. */
  closeSync(fd: number): void;
  /** As `fs.writeSync(fd, buffer, offset, length, position)`. */
  writeSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): number;
  /** As `fs.readSync(fd, buffer, offset, length, position)`. */
  readSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number;
  /** As `fs.fsyncSync`. */
  fsyncSync(fd: number): void;
  /** As `fs.ftruncateSync`. */
  ftruncateSync(fd: number, length: number): void;
  /** As `fs.fstatSync`; `dev` and `ino` tell one file from another of the same name. */
  fstatSync(fd: number): { size: number; dev?: number; ino?: number };
  /** As `fs.fchmodSync`. */
  fchmodSync(fd: number, mode: number): void;
  /** As `fs.statSync`. */
  statSync(
    path: string,
  ): {
    mode: number;
    mtimeMs: number;
    uid?: number;
    gid?: number;
    size?: number;
    dev?: number;
    ino?: number;
    isFile(): boolean;
  };
  /** As `fs.fchownSync`; optional for stand-ins without owners. */
  fchownSync?(fd: number, uid: number, gid: number): void;
  /** As `fs.realpathSync`. */
  realpathSync(path: string): string;
  /** As `fs.lstatSync`; optional for stand-ins without symbolic links. */
  lstatSync?(path: string): { isSymbolicLink(): boolean };
  /** As `fs.renameSync`. */
  renameSync(from: string, to: string): void;
  /** As `fs.linkSync`. */
  linkSync(existing: string, link: string): void;
  /** As `fs.unlinkSync`. */
  unlinkSync(path: string): void;
  /** As `fs.readFileSync(path, "utf8")`. */
  readFileSync(path: string, encoding: "utf8"): string;
  /** As `fs.readdirSync(path)`; optional for stand-ins without folders. */
  readdirSync?(path: string): string[];
}

/** How long to wait for the append lock, and when a lock left behind counts as abandoned. */
export interface LockOptions {
  /** Give up waiting after this many milliseconds (default 90 s). */
  timeoutMs?: number;
  /**
   * A lock file older than this is abandoned (default 60 s). A lock written by a process of this
   * host that no longer runs is abandoned at once, and one that names no holder after 5 s.
   */
  staleMs?: number;
  /** Pause between attempts, in milliseconds (default 20, plus up to as much again at random). */
  retryMs?: number;
}

/** What `runSnapshot` uses from the outside world; tests replace parts of it. */
export interface SnapshotDeps {
  /** The socket backend (default: the one for this OS). */
  source?: SocketSource;
  /** The clock that gives `snapshotTime` (default: `new Date()`). */
  now?: () => Date;
  /** The `hostName` column (default: `os.hostname()`). */
  hostName?: string;
  /** The file system (default: node:fs). */
  fs?: SnapshotFs;
  /** The append lock's timing. */
  lock?: LockOptions;
  /** Where error messages go (default: standard error). */
  reportError?: (line: string) => void;
}

/** A snapshot rendered as text: the header (empty for NDJSON) and the rows. */
export interface SnapshotText {
  /** The CSV header line, or empty. */
  header: string;
  /** Every row. */
  body: string;
  /**
   * The fields of each row, in order: what an NDJSON file appended to must already hold (a CSV
   * file's header says it). Absent: not checked.
   */
  fields?: readonly string[];
}

/**
 * Runs `procconn snapshot`: lists the connections with the request's filters and writes them to
 * `request.out` as CSV or NDJSON ({@linkcode snapshotFormat}), with `snapshotTime` (ISO 8601
 * UTC, the same on every row of one snapshot) and `hostName` in front of the chosen fields. With
 * `request.append` the rows are added to the file (a CSV header only when the file is new or
 * empty); otherwise the file is replaced atomically. A file that cannot be written is left as it
 * was. With `request.check` nothing is listed or written: the file is only checked
 * ({@linkcode checkSnapshotTarget}).
 *
 * @param request The parsed command line (`action: "snapshot"`).
 * @param deps The backend, clock, host name, file system and lock timing to use.
 * @returns The exit code: 0 written, 1 not written (the reason is reported, naming the file).
 * @throws {UsageError} When there is no output file or the format is not csv or ndjson.
 * @throws Errors of the listing.
 *
 * @example
 * ```ts ignore
 * import { runSnapshot } from "./snapshot.ts";
 * import { parseArgs } from "./args.ts";
 * const code = await runSnapshot(parseArgs(["snapshot", "--out", "conns.csv", "--append"]));
 * ```
 */
export async function runSnapshot(request: CliRequest, deps: SnapshotDeps = {}): Promise<number> {
  const path = request.out;
  if (path === undefined || path === "") {
    throw new UsageError("snapshot needs --out <file>: the file to write");
  }
  const format = snapshotFormat(path, request);
  const fs = deps.fs ?? nodeFs;
  if (request.check) {
    const empty = renderSnapshot([], {
      format,
      fields: request.fields,
      time: new Date(),
      hostName: "",
    });
    try {
      checkSnapshotTarget(path, empty, { append: request.append, fs });
      return 0;
    } catch (err) {
      (deps.reportError ?? writeError)(`procconn: ${(err as Error).message}`);
      return 1;
    }
  }
  const source = deps.source ?? await defaultSource({ bpf: request.bpf });
  const rows = await listConnections({ ...request.filters, ...request.enrich, source });
  const text = renderSnapshot(rows, {
    format,
    fields: request.fields,
    time: (deps.now ?? (() => new Date()))(),
    hostName: deps.hostName ?? hostname(),
  });
  try {
    if (request.append) {
      const removed = await appendSnapshot(path, text, { fs, lock: deps.lock });
      if (removed > 0) {
        (deps.reportError ?? writeError)(
          `procconn: an earlier append to "${path}" was stopped before it finished: its partial ` +
            `snapshot (${removed} bytes at the end) was removed`,
        );
      }
    } else {
      for (const left of replaceFile(path, text.header + text.body, fs)) {
        (deps.reportError ?? writeError)(
          `procconn: an earlier snapshot (pid ${left.pid}) was stopped before it finished: its ` +
            `temporary file "${left.path}" was removed`,
        );
      }
    }
    await new ListingNotes(request.filters).addAll(rows).report(source);
    return 0;
  } catch (err) {
    (deps.reportError ?? writeError)(`procconn: ${(err as Error).message}`);
    return 1;
  }
}

/**
 * The format of a snapshot: `--format` when given, else the file's name decides (`.ndjson` and
 * `.jsonl` NDJSON, anything else CSV). A `.json` file without `--format` is refused: a snapshot
 * cannot be one JSON document that later snapshots append to.
 *
 * @param path The file to write.
 * @param request The format asked for, and whether it was given.
 * @returns The format to write.
 * @throws {UsageError} For a format other than csv or ndjson, or a `.json` file without one.
 *
 * @example
 * ```ts
 * import { snapshotFormat } from "./snapshot.ts";
 * snapshotFormat("conns.jsonl", { format: "csv", formatGiven: false }); // "ndjson"
 * ```
 */
export function snapshotFormat(
  path: string,
  request: Pick<CliRequest, "format" | "formatGiven">,
): SnapshotFormat {
  if (request.formatGiven) {
    if (request.format === "csv" || request.format === "ndjson") return request.format;
    throw new UsageError(`snapshot writes csv or ndjson, not "${request.format}"`);
  }
  const extension = /\.([^./\\]*)$/.exec(path)?.[1].toLowerCase();
  if (extension === "ndjson" || extension === "jsonl") return "ndjson";
  if (extension === "json") {
    throw new UsageError(
      `snapshot writes csv or ndjson, not JSON ("${path}"): name the file .ndjson or .csv, ` +
        "or give --format",
    );
  }
  return "csv";
}

/**
 * Renders one snapshot with the project's CSV or NDJSON formatter.
 *
 * @param rows The records.
 * @param options The format, the record fields, the snapshot time and the host name.
 * @returns The header (CSV only) and the rows, each row led by `snapshotTime` and `hostName`.
 *
 * @example
 * ```ts
 * import { renderSnapshot } from "./snapshot.ts";
 * const text = renderSnapshot([], { format: "csv", fields: ["pid"],
 *   time: new Date("2026-01-01T00:00:00Z"), hostName: "web1" });
 * // text.header === "snapshotTime,hostName,pid\r\n", text.body === ""
 * ```
 */
export function renderSnapshot(
  rows: readonly Connection[],
  options: { format: SnapshotFormat; fields: readonly string[]; time: Date; hostName: string },
): SnapshotText {
  const fields = [...SNAPSHOT_FIELDS, ...options.fields.filter((f) => !isSnapshotField(f))];
  const formatter = createFormatter(options.format, { fields });
  const header = formatter.begin();
  const stamp = { snapshotTime: options.time.toISOString(), hostName: options.hostName };
  const parts: string[] = [];
  for (const row of rows) parts.push(formatter.record({ ...stamp, ...row }));
  parts.push(formatter.end());
  return { header, body: parts.join(""), fields };
}

function isSnapshotField(field: string): boolean {
  return (SNAPSHOT_FIELDS as readonly string[]).includes(field);
}

/**
 * Replaces a file atomically: writes a temporary file next to it (keeping the old file's
 * permissions, and its owner and group where this user may give them, as root may), flushes it to
 * disk and renames it over the target. On failure the temporary file is removed and the target is
 * untouched. The temporary files of earlier replaces of the same file that were stopped before
 * they finished (killed, or the machine went down) are removed first
 * ({@linkcode removeAbandonedTemps}).
 *
 * @param path The file to replace or create.
 * @param text The new content.
 * @param fs The file system.
 * @returns The abandoned temporary files that were removed, each with the pid that made it.
 * @throws {Error} `Cannot write the snapshot to "<path>": <reason>`.
 */
export function replaceFile(
  path: string,
  text: string,
  fs: SnapshotFs = nodeFs,
): AbandonedTemp[] {
  const fail = (err: unknown) =>
    new Error(`Cannot write the snapshot to "${path}": ${(err as Error).message}`, { cause: err });
  // Write through a symbolic link to the file it names, and keep that file's permissions.
  let target = path;
  let mode: number | undefined;
  let owner: { uid?: number; gid?: number } = {};
  let file = true;
  try {
    target = fs.realpathSync(path);
    const stat = fs.statSync(target);
    file = stat.isFile();
    mode = stat.mode & 0o777;
    owner = stat;
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") {
      throw fail(new Error(lookupReason(fs, err, dirname(path))));
    }
    // A link whose target does not resolve (a dangling link, or /dev/stdout naming a pipe) is
    // left alone: renaming over it would replace the link itself.
    let link = false;
    try {
      link = fs.lstatSync?.(path).isSymbolicLink() ?? false;
    } catch {
      // nothing there: a new file
    }
    if (link) {
      throw fail(
        new Error(
          "it is a symbolic link to something that does not exist or is not a file; " +
            "give the path of a regular file",
        ),
      );
    }
  }
  if (!file) throw fail(new Error("it is not a regular file"));
  if (mode !== undefined) {
    // A file this user may not write is not replaced either, though its folder would let the
    // rename through: as an editor or Export-Csv leaves it (and as Windows refuses to rename over
    // a read-only file). Opening it to write changes nothing.
    try {
      fs.closeSync(fs.openSync(target, "r+"));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EACCES" || code === "EPERM") {
        throw fail(new Error(`no permission to write to the file (${code})`));
      }
      // Anything else shows in the write below, with its own words.
    }
  }
  const removed = removeAbandonedTemps(fs, target);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomToken()}.tmp`);
  let fd: number | undefined;
  let replacing = false;
  try {
    fd = fs.openSync(temp, "wx", mode ?? 0o666);
    if (mode !== undefined) {
      if (process.platform !== "win32" && owner.uid !== undefined && owner.gid !== undefined) {
        const [uid, gid, made] = [owner.uid, owner.gid, fd];
        // Only root may give a file away; anyone else's new file is theirs, as an editor's is.
        ignoreError(() => fs.fchownSync?.(made, uid, gid));
      }
      fs.fchmodSync(fd, mode);
    }
    writeAll(fs, fd, new TextEncoder().encode(text), 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    replacing = mode !== undefined;
    fs.renameSync(temp, target);
  } catch (err) {
    if (fd !== undefined) ignoreError(() => fs.closeSync(fd!));
    ignoreError(() => fs.unlinkSync(temp));
    throw fail(
      new Error(
        replacing ? replaceReason(fs, err, target) : folderReason(fs, err, dirname(target)),
      ),
    );
  }
  return removed;
}

/** A temporary file that an earlier replace left behind, and the pid of the run that made it. */
export interface AbandonedTemp {
  path: string;
  pid: number;
}

/**
 * How long a temporary file must have gone unchanged before it counts as abandoned: a run that
 * writes it changes it within moments, and a process that no longer runs here may be one of
 * another host writing to a shared folder.
 */
const ABANDONED_TEMP_MS = 60_000;

/**
 * Removes the temporary files `.<name>.<pid>.<16 hex digits>.tmp` that earlier replaces of
 * `target` left in its folder when they were stopped before they could rename or remove them.
 * Only regular files are removed, and only those whose pid no longer runs here and that have not
 * changed for a minute; anything that cannot be looked at or removed is left as it is.
 */
function removeAbandonedTemps(fs: SnapshotFs, target: string): AbandonedTemp[] {
  const folder = dirname(target);
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = fs.readdirSync?.(folder) ?? [];
  } catch {
    return [];
  }
  const removed: AbandonedTemp[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const made = /^(\d{1,10})\.[0-9a-f]{16}$/.exec(name.slice(prefix.length, -".tmp".length));
    const pid = Number(made?.[1]);
    if (!made || pid === process.pid || processRuns(pid)) continue;
    const path = join(folder, name);
    try {
      if (fs.lstatSync?.(path).isSymbolicLink()) continue;
      const stat = fs.statSync(path);
      if (!stat.isFile() || Date.now() - stat.mtimeMs < ABANDONED_TEMP_MS) continue;
      fs.unlinkSync(path);
      removed.push({ path, pid });
    } catch {
      // Gone already, or not ours to remove: left as it is.
    }
  }
  return removed;
}

/**
 * A refusal to rename the new file over an existing one: the folder let procconn create its
 * temporary file, so what is refused is replacing that file (in a sticky folder such as /tmp,
 * only its owner may; on Windows, a file another program holds open).
 */
function replaceReason(fs: SnapshotFs, err: unknown, target: string): string {
  const code = (err as { code?: string }).code;
  if (code !== "EACCES" && code !== "EPERM" && code !== "EBUSY") {
    return folderReason(fs, err, dirname(target));
  }
  let why = "";
  try {
    // The sticky bit (S_ISVTX) of the folder.
    if ((fs.statSync(dirname(target)).mode & 0o1000) !== 0) {
      why = `: in "${dirname(target)}" only a file's owner may replace it`;
    }
  } catch {
    // The folder's mode is only a hint.
  }
  return `no permission to replace the existing file${why} (${code})`;
}

/**
 * A failure to open the file to append to, in words: the file's own permission when it exists,
 * else its folder's (creating it was refused).
 */
function openReason(fs: SnapshotFs, err: unknown, path: string): string {
  const code = (err as { code?: string }).code;
  if ((code === "EACCES" || code === "EPERM") && fileExists(fs, path)) {
    return `no permission to write to the file (${code})`;
  }
  return folderReason(fs, err, dirname(path));
}

/** Whether something is at `path`. */
function fileExists(fs: SnapshotFs, path: string): boolean {
  try {
    fs.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A failure to look the file up, in words about its folder where the folder is the cause. */
function lookupReason(fs: SnapshotFs, err: unknown, folder: string): string {
  const code = (err as { code?: string }).code;
  if (code === "EACCES" || code === "EPERM") return `no permission to reach "${folder}" (${code})`;
  return folderReason(fs, err, folder);
}

/**
 * A failure to make or rename a file in a folder (the temporary file, the lock), in words about
 * the folder the user named rather than the file procconn made in it; other failures keep their
 * message. The error code stays at the end.
 */
function folderReason(fs: SnapshotFs, err: unknown, folder: string): string {
  const code = (err as { code?: string }).code;
  const words: Record<string, string> = {
    ENOENT: folderExists(fs, folder)
      ? `"${folder}" does not let files be created in it`
      : `the folder "${folder}" does not exist`,
    ENOTDIR: `"${folder}" is not a folder`,
    EACCES: `no permission to create files in "${folder}"`,
    EPERM: `no permission to create files in "${folder}"`,
    EROFS: `"${folder}" is on a read-only file system`,
  };
  return code !== undefined && Object.hasOwn(words, code)
    ? `${words[code]} (${code})`
    : writeReason(err);
}

/**
 * A failure to write, in the same words whichever way the snapshot is written (a replace or an
 * append); other failures keep their message. The error code stays at the end.
 */
function writeReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  const words: Record<string, string> = {
    ENOSPC: "no space left on the device",
    EDQUOT: "the disk quota is used up",
    EFBIG: "the file would grow larger than its file system or its limit allows",
    EIO: "the device reported an input/output error",
  };
  return code !== undefined && Object.hasOwn(words, code)
    ? `${words[code]} (${code})`
    : (err as Error).message;
}

/** Whether `folder` is a folder: a file system such as /proc answers ENOENT for a new file. */
function folderExists(fs: SnapshotFs, folder: string): boolean {
  try {
    return !fs.statSync(folder).isFile();
  } catch {
    return false;
  }
}

/**
 * Appends one snapshot to a file under an exclusive lock: the header only when the file is new
 * or empty, a line break first when the file does not end with one, then the rows, in one write,
 * flushed and read back. A failure truncates the file to its length before the write. Before it
 * writes, the append records the file's length in `<file>.unfinished`, and removes that record
 * once the rows are written whole: an append that finds such a record (its run was killed, or the
 * machine went down, in the middle) first cuts the file back to that length.
 *
 * @param path The file to append to (created when missing).
 * @param text The snapshot.
 * @param options The file system and the lock timing.
 * @returns The bytes of an unfinished earlier append that were cut off (0 when there were none).
 * @throws {Error} `Cannot append the snapshot to "<path>": <reason>`, also when an existing CSV
 * file has another header (other columns).
 */
export async function appendSnapshot(
  path: string,
  text: SnapshotText,
  options: { fs?: SnapshotFs; lock?: LockOptions } = {},
): Promise<number> {
  const fs = options.fs ?? nodeFs;
  const fail = (reason: string, cause?: unknown) =>
    new Error(`Cannot append the snapshot to "${path}": ${reason}`, { cause });
  try {
    if (!fs.statSync(path).isFile()) throw new Error("it is not a regular file");
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") {
      throw fail(lookupReason(fs, err, dirname(path)), err);
    }
  }
  let release: () => void;
  try {
    release = await acquireLock(fs, path + ".lock", options.lock ?? {});
  } catch (err) {
    throw fail(folderReason(fs, err, dirname(path)), err);
  }
  try {
    let opened: { fd: number; created: boolean };
    try {
      opened = openForAppend(fs, path);
    } catch (err) {
      throw fail(openReason(fs, err, path), err);
    }
    const { fd, created } = opened;
    try {
      const undo = `${path}.unfinished`;
      const removed = undoUnfinished(fs, fd, undo, fail);
      appendLocked(fs, fd, text, undo, fail);
      return removed;
    } catch (err) {
      // A file this append made is not left behind, empty, by its failure.
      if (created) removeIfEmptySame(fs, fd, path);
      throw err;
    } finally {
      ignoreError(() => fs.closeSync(fd));
    }
  } finally {
    release();
  }
}

/**
 * Refuses to add rows to a file of `size` bytes whose rows are not the snapshot's: a CSV header
 * with other columns, an NDJSON record in a CSV file, NDJSON records with other fields.
 */
function checkSameColumns(
  fs: SnapshotFs,
  fd: number,
  size: number,
  text: SnapshotText,
  fail: (reason: string, cause?: unknown) => Error,
): void {
  const header = text.header.replace(/\r?\n$/, "");
  if (header === "") {
    if (text.fields) checkRecordFields(fs, fd, size, text.fields, fail);
    return;
  }
  const existing = firstLine(fs, fd, size).line;
  if (existing.startsWith("{")) {
    throw fail(
      `its first line "${excerpt(existing)}" is an NDJSON record, not a CSV header: ` +
        "append in the same format, or to another file",
    );
  }
  if (existing !== header && !sameCsvHeader(existing, header)) {
    throw fail(
      `its header "${excerpt(existing)}" differs from this snapshot's "${header}": ` +
        "append with the same fields and format, or to another file",
    );
  }
}

/**
 * Checks, writing nothing, that a snapshot could be written to `path` now: for a replace, that
 * its folder exists and the path is not a folder; for an append, also that an existing file holds
 * the same format and columns. What it does not know until it writes (permissions, space) is left
 * to the write. A scheduled task registered with a file it can never append to fails at every run;
 * this says so when it is registered.
 *
 * @param path The file a snapshot would be written to.
 * @param text The snapshot's header and fields (its rows are not needed).
 * @param options Whether it would be appended, and the file system.
 * @throws {Error} `Cannot append the snapshot to "<path>": <reason>` (or `Cannot write …` for a
 *   replace), with the reason an append or a replace would give.
 */
export function checkSnapshotTarget(
  path: string,
  text: SnapshotText,
  options: { append: boolean; fs?: SnapshotFs },
): void {
  const fs = options.fs ?? nodeFs;
  const fail = (reason: string, cause?: unknown) =>
    new Error(
      `Cannot ${options.append ? "append" : "write"} the snapshot to "${path}": ${reason}`,
      { cause },
    );
  try {
    if (!fs.statSync(path).isFile()) throw new Error("it is not a regular file");
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === undefined) throw fail((err as Error).message, err);
    if (code !== "ENOENT") throw fail(lookupReason(fs, err, dirname(path)), err);
    const folder = dirname(path);
    if (!folderExists(fs, folder)) {
      throw fail(folderReason(fs, err, folder), err);
    }
    return;
  }
  if (!options.append) return;
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (err) {
    throw fail(lookupReason(fs, err, dirname(path)), err);
  }
  try {
    const found = fs.fstatSync(fd).size;
    const blank = blankLength(fs, fd, found, text.header !== "");
    if (found > 0 && blank === null) checkSameColumns(fs, fd, found, text, fail);
  } finally {
    ignoreError(() => fs.closeSync(fd));
  }
}

/** What an append in progress records in `<file>.unfinished` before it writes. */
interface UnfinishedAppend {
  /** The file's length before the append. */
  size: number;
  /** The file's device and inode, so that a file replaced since is left alone. */
  dev: number | null;
  ino: number | null;
}

/**
 * Takes back an append that was stopped before it finished (killed, or the machine went down):
 * such a run leaves its `<file>.unfinished` record behind, and the file is cut back to the length
 * the record gives. Runs under the append lock, as every append does.
 *
 * @returns The bytes removed (0 when there was nothing to take back).
 */
function undoUnfinished(
  fs: SnapshotFs,
  fd: number,
  undoPath: string,
  fail: (reason: string, cause?: unknown) => Error,
): number {
  let record: UnfinishedAppend | null;
  try {
    record = JSON.parse(fs.readFileSync(undoPath, "utf8"));
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return 0;
    if (!(err instanceof SyntaxError)) {
      throw fail(`cannot read "${undoPath}": ${(err as Error).message}`, err);
    }
    record = null;
  }
  // A record cut short was being written when the run stopped, before any row was.
  if (typeof record !== "object" || record === null) {
    ignoreError(() => fs.unlinkSync(undoPath));
    return 0;
  }
  const now = fs.fstatSync(fd);
  const same = (record.dev ?? null) === (now.dev ?? null) &&
    (record.ino ?? null) === (now.ino ?? null);
  let removed = 0;
  if (same && Number.isSafeInteger(record.size) && record.size >= 0 && now.size > record.size) {
    try {
      fs.ftruncateSync(fd, record.size);
      fs.fsyncSync(fd);
    } catch (err) {
      throw fail(
        `an earlier append was stopped before it finished, and cutting its partial snapshot off ` +
          `(back to ${record.size} bytes) failed: ${(err as Error).message}`,
        err,
      );
    }
    removed = now.size - record.size;
  }
  try {
    fs.unlinkSync(undoPath);
  } catch (err) {
    throw fail(`cannot remove "${undoPath}": ${(err as Error).message}`, err);
  }
  return removed;
}

/** Writes `<file>.unfinished` (flushed) before an append writes its rows. */
function recordUnfinished(fs: SnapshotFs, fd: number, undoPath: string, size: number): void {
  const stat = fs.fstatSync(fd);
  const record: UnfinishedAppend = { size, dev: stat.dev ?? null, ino: stat.ino ?? null };
  const out = fs.openSync(undoPath, "w", 0o600);
  try {
    writeAll(fs, out, new TextEncoder().encode(JSON.stringify(record) + "\n"), 0);
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(out);
  }
}

function appendLocked(
  fs: SnapshotFs,
  fd: number,
  text: SnapshotText,
  undoPath: string,
  fail: (reason: string, cause?: unknown) => Error,
): void {
  const found = fs.fstatSync(fd).size;
  const blank = blankLength(fs, fd, found, text.header !== "");
  const size = blank ?? found;
  let content = text.body;
  if (size === 0 || blank !== null) content = text.header + text.body;
  else {
    checkSameColumns(fs, fd, size, text, fail);
    if (!endsWithNewline(fs, fd, size)) content = (text.header !== "" ? "\r\n" : "\n") + content;
  }
  if (content === "") return;
  const bytes = new TextEncoder().encode(content);
  try {
    recordUnfinished(fs, fd, undoPath, size);
  } catch (err) {
    ignoreError(() => fs.unlinkSync(undoPath));
    throw fail(`cannot write "${undoPath}": ${writeReason(err)}`, err);
  }
  try {
    if (blank !== null) fs.ftruncateSync(fd, size);
    writeAll(fs, fd, bytes, size);
    fs.fsyncSync(fd);
    verify(fs, fd, bytes, size);
    // Written whole: from here on a stop keeps this snapshot.
    fs.unlinkSync(undoPath);
  } catch (err) {
    let reason = writeReason(err);
    try {
      fs.ftruncateSync(fd, size);
      fs.fsyncSync(fd);
      fs.unlinkSync(undoPath);
    } catch (undo) {
      reason += `; truncating back to ${size} bytes also failed, so the file may end with a ` +
        `partial snapshot, which the next append removes: ${(undo as Error).message}`;
    }
    throw fail(reason, err);
  }
}

/**
 * A file that holds nothing but line breaks, spaces and tabs, after a UTF-8 byte order mark or
 * without one, is empty: what `Set-Content conns.csv ''` or an editor leaves when a log file is
 * made ready for appends. Returns the length of it to keep, where the snapshot then starts with
 * its header: the byte order mark of a CSV file (spreadsheets read it as UTF-8), nothing of an
 * NDJSON file (a JSON reader refuses the mark). Null for a file with content, or an empty one.
 */
function blankLength(fs: SnapshotFs, fd: number, size: number, csv: boolean): number | null {
  if (size === 0 || size > 4096) return null;
  const bytes = new Uint8Array(size);
  if (fs.readSync(fd, bytes, 0, size, 0) !== size) return null;
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const rest = bytes.subarray(bom);
  // Line feed, carriage return, space, tab.
  if (!rest.every((b) => b === 0x0a || b === 0x0d || b === 0x20 || b === 0x09)) return null;
  return csv ? bom : 0;
}

/**
 * Opens the file for reading and writing at chosen offsets, creating it when missing; `created`
 * tells whether this call made it.
 */
function openForAppend(fs: SnapshotFs, path: string): { fd: number; created: boolean } {
  try {
    return { fd: fs.openSync(path, "r+"), created: false };
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
  try {
    return { fd: fs.openSync(path, "wx+"), created: true };
  } catch (err) {
    // Created by someone else in between: open theirs.
    if ((err as { code?: string }).code === "EEXIST") {
      return { fd: fs.openSync(path, "r+"), created: false };
    }
    throw err;
  }
}

/**
 * Removes `path` when it still is the file open as `fd` (same device and inode) and is empty:
 * what a failed append leaves of the file it created. Anything else is left alone.
 */
function removeIfEmptySame(fs: SnapshotFs, fd: number, path: string): void {
  ignoreError(() => {
    const open = fs.fstatSync(fd);
    const named = fs.statSync(path);
    const known = (n: number | undefined): n is number => typeof n === "number";
    if (
      known(open.dev) && known(open.ino) && open.dev === named.dev && open.ino === named.ino &&
      open.size === 0 && named.size === 0
    ) {
      fs.unlinkSync(path);
    }
  });
}

function writeAll(fs: SnapshotFs, fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (!(n > 0)) throw new Error(`the write stopped after ${done} of ${bytes.length} bytes`);
    done += n;
  }
}

/** Reads back what was written and checks it, and the file's length. */
function verify(fs: SnapshotFs, fd: number, bytes: Uint8Array, position: number): void {
  const size = fs.fstatSync(fd).size;
  if (size !== position + bytes.length) {
    throw new Error(
      `the file is ${size} bytes after the write, expected ${position + bytes.length}`,
    );
  }
  const back = new Uint8Array(bytes.length);
  let got = 0;
  while (got < back.length) {
    const n = fs.readSync(fd, back, got, back.length - got, position + got);
    if (!(n > 0)) break;
    got += n;
  }
  if (got !== bytes.length || !back.every((b, i) => b === bytes[i])) {
    throw new Error("reading the snapshot back gave other bytes than were written");
  }
}

/**
 * The file's first line, without its line break, read from at most `limit` bytes; `complete` is
 * false when the line goes on past them.
 */
/**
 * Whether two CSV header lines name the same columns in the same order, however each is quoted
 * (PowerShell's `Export-Csv` quotes every name): read by csv-parse, as RFC 4180 reads them.
 */
function sameCsvHeader(a: string, b: string): boolean {
  const names = (line: string): string[] | null => {
    try {
      const rows = parseCsv(line, { bom: true, relax_column_count: true }) as string[][];
      return rows.length === 1 ? rows[0] : null;
    } catch {
      return null; // not CSV at all: not the same header
    }
  };
  const [x, y] = [names(a), names(b)];
  return x !== null && y !== null && x.length === y.length && x.every((name, i) => name === y[i]);
}

function firstLine(
  fs: SnapshotFs,
  fd: number,
  size: number,
  limit = 64 * 1024,
): { line: string; complete: boolean } {
  const chunk = new Uint8Array(Math.min(size, limit));
  const n = fs.readSync(fd, chunk, 0, chunk.length, 0);
  const text = new TextDecoder().decode(chunk.subarray(0, n));
  const end = text.indexOf("\n");
  const line = (end < 0 ? text : text.slice(0, end)).replace(/\r$/, "");
  return { line, complete: end >= 0 || n >= size };
}

/**
 * Checks that the NDJSON file appended to holds records with these fields in this order, as
 * the CSV header check does for CSV: its first record is read (a record longer than 1 MiB, a
 * very long command line, is not checked).
 */
function checkRecordFields(
  fs: SnapshotFs,
  fd: number,
  size: number,
  fields: readonly string[],
  fail: (reason: string) => Error,
): void {
  const { line, complete } = firstLine(fs, fd, size, 1 << 20);
  if (!complete) return;
  let keys: string[] | null = null;
  try {
    const value = JSON.parse(line);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      keys = Object.keys(value);
    }
  } catch {
    // not JSON: said below
  }
  if (keys === null) {
    throw fail(
      `its first line "${excerpt(line)}" is not an NDJSON record: ` +
        "append in the same format, or to another file",
    );
  }
  if (keys.join(",") !== fields.join(",")) {
    throw fail(
      `its records have the fields "${keys.join(",")}" and this snapshot's "${fields.join(",")}"` +
        ": append with the same fields and format, or to another file",
    );
  }
}

/** A line from the file as an error shows it: its first 100 characters. */
function excerpt(line: string): string {
  return line.length > 100 ? `${line.slice(0, 100)}...` : line;
}

function endsWithNewline(fs: SnapshotFs, fd: number, size: number): boolean {
  const last = new Uint8Array(1);
  return fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a;
}

/** How long a lock file may be without its holder's name before it counts as abandoned. */
const BLANK_LOCK_MS = 5_000;

interface LockContent {
  pid: number;
  host: string;
  token: string;
}

/**
 * Takes the lock file: created with `wx` (O_EXCL), so exactly one process holds it. Waits while
 * another process holds it; removes a lock that is abandoned (see {@linkcode LockOptions}).
 *
 * @returns The function that releases the lock (removing the file only if it is still ours).
 */
async function acquireLock(
  fs: SnapshotFs,
  lockPath: string,
  options: LockOptions,
): Promise<() => void> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const staleMs = options.staleMs ?? 60_000;
  const retryMs = options.retryMs ?? 20;
  const mine: LockContent = { pid: process.pid, host: hostname(), token: randomToken() };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(lockPath, "wx");
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
    }
    if (fd !== undefined) {
      try {
        writeAll(fs, fd, new TextEncoder().encode(JSON.stringify(mine) + "\n"), 0);
      } catch (err) {
        // A lock that names no holder would hold up the next run until it counts as stale.
        ignoreError(() => fs.closeSync(fd!));
        ignoreError(() => fs.unlinkSync(lockPath));
        throw err;
      }
      fs.closeSync(fd);
      return () => releaseLock(fs, lockPath, mine.token);
    }
    if (breakAbandonedLock(fs, lockPath, staleMs, mine.token)) continue;
    if (Date.now() >= deadline) {
      throw new Error(
        `the lock file "${lockPath}" was held for more than ${Math.round(timeoutMs / 1000)} s: ` +
          "another snapshot is writing, or remove the file if none is",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, retryMs + Math.random() * retryMs));
  }
}

function releaseLock(fs: SnapshotFs, lockPath: string, token: string): void {
  try {
    if (readLock(fs, lockPath)?.token === token) fs.unlinkSync(lockPath);
  } catch {
    // Gone already (taken as abandoned by another process): nothing to release.
  }
}

function readLock(fs: SnapshotFs, lockPath: string): LockContent | null {
  try {
    const value = JSON.parse(fs.readFileSync(lockPath, "utf8"));
    return typeof value?.token === "string" ? value : null;
  } catch {
    return null;
  }
}

/**
 * Removes a lock whose holder is gone: a process of this host that no longer runs, or a file
 * older than `staleMs`. The lock is first renamed aside, and put back when what was moved turns
 * out to be a fresh lock that replaced the abandoned one in between.
 *
 * @returns True when the caller should try again at once.
 */
function breakAbandonedLock(
  fs: SnapshotFs,
  lockPath: string,
  staleMs: number,
  token: string,
): boolean {
  let stat: ReturnType<SnapshotFs["statSync"]>;
  try {
    stat = fs.statSync(lockPath);
  } catch {
    return true; // released in the meantime
  }
  // Never a lock: a folder (or anything else) of that name is the user's, and stays.
  if (!stat.isFile()) {
    throw new Error(
      `"${lockPath}" is in the way of the append lock and is not a file: move it, or write to ` +
        "another file",
    );
  }
  const mtime = stat.mtimeMs;
  const holder = readLock(fs, lockPath);
  const age = Date.now() - mtime;
  // A lock file still being written has no content yet; give it time. Its holder writes it the
  // moment it is created, so one still without a holder after BLANK_LOCK_MS was left by a run
  // that failed in between.
  const dead = holder === null
    ? age > BLANK_LOCK_MS
    : holder.host === hostname() && !processRuns(holder.pid);
  if (age <= staleMs && !dead) return false;
  const aside = `${lockPath}.${token}.abandoned`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return true; // someone else moved or released it
  }
  const moved = readLock(fs, aside);
  if (moved?.token !== holder?.token) {
    ignoreError(() => fs.linkSync(aside, lockPath));
  }
  ignoreError(() => fs.unlinkSync(aside));
  return true;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== "ESRCH";
  }
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function ignoreError(action: () => void): void {
  try {
    action();
  } catch {
    // best effort clean-up; the original error is the one to report
  }
}
