/**
 * The C library calls the Linux backend makes: a netlink socket for sock_diag dumps, and
 * directory reads and `readlinkat` for the fd scan. One symbol table, opened through the
 * runtime adapter (`Deno.dlopen`, or koffi on Node).
 *
 * FFI does not capture `errno`: a negative result only says that the call failed.
 *
 * @module
 */
import { loadKoffi } from "../_koffi.ts";
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
 * Why native calls cannot be made without asking, or null when they can: Deno with the FFI
 * permission granted (a prompt would stop a listing in the middle), or Node with koffi loadable
 * (the package, or the addon the single executable carries). Where they cannot, the Linux
 * backend reads procfs.
 *
 * @returns The reason, or null.
 */
export function nativeCallsUnavailable(): string | null {
  if (!deno) {
    try {
      loadKoffi();
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  if (typeof deno.dlopen !== "function") return "this Deno has no FFI";
  try {
    return deno.permissions.querySync({ name: "ffi" }).state === "granted"
      ? null
      : "FFI is not allowed (--allow-ffi)";
  } catch {
    return "FFI is not allowed (--allow-ffi)";
  }
}

/** Whether native calls can be made without asking (see {@linkcode nativeCallsUnavailable}). */
export function nativeCallsGranted(): boolean {
  return nativeCallsUnavailable() === null;
}
