/**
 * Symbolic link targets that may not be UTF-8. Linux names are bytes: a program may run from a
 * path such as `/tmp/\xffx`, and any user can start one. Node decodes such a target with U+FFFD
 * for each byte that is not UTF-8; Deno refuses it (an `InvalidData` error). Here the target's
 * bytes are then read through the C library and decoded as Node decodes them.
 *
 * @module
 */
import { files } from "../_files.ts";
import { loadLibc, nativeCallsGranted } from "./_libc.ts";
import { notUtf8 } from "./fd_scan.ts";

/** `AT_FDCWD` (fcntl.h): a path relative to the working directory, or absolute. */
const AT_FDCWD = -100;
/** `PATH_MAX`: the longest target `readlink` gives whole. */
const PATH_MAX = 4096;

/**
 * The target of a symbolic link as text, each byte that is not UTF-8 as U+FFFD.
 *
 * @param path The link.
 * @param readBytes Reads the target's bytes when the runtime refuses it as text; by default
 *   through the C library's `readlinkat`, when native calls are granted.
 * @returns The target, or null when it is not UTF-8 and its bytes cannot be read here (Deno
 *   without the FFI permission).
 * @throws The file call's error (`ENOENT`, `EACCES`, ...) when the link cannot be read.
 *
 * @example
 * ```ts
 * import { linkTarget } from "./_link_target.ts";
 * console.log(linkTarget("/proc/self/exe")); // e.g. "/usr/bin/deno"
 * ```
 */
export function linkTarget(
  path: string,
  readBytes: ((path: string) => Uint8Array | null) | null = nativeReadLink,
): string | null {
  try {
    return files.readLink(path);
  } catch (err) {
    if (!notUtf8(err)) throw err;
    const bytes = readBytes === null ? null : readBytes(path);
    return bytes === null ? null : new TextDecoder().decode(bytes);
  }
}

/** The link's target bytes through `readlinkat`; null without native calls. */
function nativeReadLink(path: string): Uint8Array | null {
  if (!nativeCallsGranted()) return null;
  const buffer = new Uint8Array(PATH_MAX);
  const n = Number(
    loadLibc().symbols.readlinkat(
      AT_FDCWD,
      new TextEncoder().encode(`${path}\0`),
      buffer,
      BigInt(buffer.length),
    ),
  );
  if (n < 0) {
    // Readable a moment ago as a refusal of its bytes: the process has gone since.
    throw Object.assign(new Error(`Cannot read the link "${path}": it is gone`), {
      code: "ENOENT",
    });
  }
  return buffer.slice(0, n);
}
