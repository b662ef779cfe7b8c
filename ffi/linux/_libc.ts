/**
 * The C library calls the Linux backend makes: a netlink socket for sock_diag dumps, and
 * directory reads and `readlinkat` for the fd scan. One symbol table, opened through the
 * runtime adapter (`Deno.dlopen`, or koffi on Node).
 *
 * FFI does not capture `errno`: a negative result only says that the call failed.
 *
 * @module
 */
import { type NativeLibrary, openLibrary } from "../_native.ts";
import { LIBC_SYMBOLS, libcCandidates } from "./_libc_symbols.ts";

export {
  LIBC_SYMBOLS,
  MSG_TRUNC,
  O_CLOEXEC,
  O_RDONLY,
  SOCK_CLOEXEC,
  SOCK_RAW,
} from "./_libc_symbols.ts";

/** The opened C library. */
export type Libc = NativeLibrary<typeof LIBC_SYMBOLS>;

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

let cached: Libc | undefined;

/**
 * Opens the C library (once per process; it is never unloaded).
 *
 * @returns The bound symbols.
 * @throws {Error} When no C library can be opened or bound (the last error is the `cause`).
 */
export function loadLibc(): Libc {
  if (cached) return cached;
  const failures: string[] = [];
  let last: unknown;
  for (const name of libcCandidates()) {
    try {
      cached = openLibrary(name, LIBC_SYMBOLS);
      return cached;
    } catch (err) {
      last = err;
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new Error(`Cannot open the C library: ${failures.join("; ")}`, { cause: last });
}

/**
 * Whether native calls can be made without asking: Deno with the FFI permission granted (a
 * prompt would stop a listing in the middle). Node is served by procfs unless native calls are
 * asked for explicitly.
 */
export function nativeCallsGranted(): boolean {
  if (typeof deno?.dlopen !== "function") return false;
  try {
    return deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}
