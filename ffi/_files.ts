/**
 * Synchronous file reads for the OS backends, through the runtime's own calls: Deno's under Deno,
 * so that a listing never loads Deno's Node compatibility layer (importing any `node:` module
 * costs tens of milliseconds of start-up), and `node:fs` under Node. Failures carry Node's error
 * `code` (`ENOENT`, `EACCES`, ...) on both.
 *
 * @module
 */

import { nodeBuiltin } from "./_runtime.ts";

/** The file calls the backends use. */
export interface SyncFiles {
  /** A whole file as text: `utf8` (bad sequences become U+FFFD) or `latin1` (one char a byte). */
  readText(path: string, encoding: "utf8" | "latin1"): string;
  /** The names in a directory, without `.` and `..`. */
  readDir(path: string): string[];
  /** The target of a symbolic link. */
  readLink(path: string): string;
  /** The size `stat` reports for a path (links followed). */
  size(path: string): number;
}

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

/** Bytes decoded one char per byte (ISO-8859-1, as Node's `latin1`; not WHATWG's windows-1252). */
function latin1(bytes: Uint8Array): string {
  const CHUNK = 8192;
  let text = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    text += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return text;
}

function denoFiles(d: typeof Deno): SyncFiles {
  return {
    readText: (path, encoding) =>
      encoding === "utf8" ? d.readTextFileSync(path) : latin1(d.readFileSync(path)),
    readDir: (path) => Array.from(d.readDirSync(path), (entry) => entry.name),
    readLink: (path) => d.readLinkSync(path),
    size: (path) => d.statSync(path).size,
  };
}

type NodeFs = typeof import("node:fs");

function nodeFiles(): SyncFiles {
  let fs: NodeFs | undefined;
  const get = (): NodeFs => fs ??= nodeBuiltin("node:fs") as NodeFs;
  return {
    readText: (path, encoding) => get().readFileSync(path, encoding),
    readDir: (path) => get().readdirSync(path),
    readLink: (path) => get().readlinkSync(path),
    size: (path) => get().statSync(path).size,
  };
}

/** The file calls of the running runtime. */
export const files: SyncFiles = deno?.readFileSync ? denoFiles(deno) : nodeFiles();
