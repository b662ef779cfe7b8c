/**
 * Picks the socket backend for the running OS. Each backend has the same shape
 * (`SocketSource`); an OS without one gets a backend that fails with a typed error. Only the
 * running OS's backend is loaded: on Linux the Windows one is some twenty modules that would
 * only slow the start.
 *
 * @module
 */
import { type SocketSource, UnsupportedPlatformError } from "../core/source.ts";
import { osName } from "./_runtime.ts";

/** Options of {@linkcode defaultSource}. */
export interface DefaultSourceOptions {
  /**
   * The source will list again and again (as `watch` does): it may keep helpers running
   * between listings, so call its `close()` when done.
   */
  repeated?: boolean;
  /**
   * Linux: let a listing read socket owners through a BPF iterator where it can (default
   * true); false keeps to `/proc/<pid>/fd`.
   */
  bpf?: boolean;
}

/**
 * Loads and returns the backend for this OS.
 *
 * @param options Whether the source is for repeated listings, and may use BPF on Linux.
 * @returns The platform's socket source.
 * @throws {UnsupportedPlatformError} On an OS procconn has no backend for.
 *
 * @example
 * ```ts ignore
 * import { defaultSource } from "./mod.ts";
 * const source = await defaultSource();
 * console.log(source.name); // the backend, e.g. "windows-iphlpapi"
 * ```
 */
export async function defaultSource(options: DefaultSourceOptions = {}): Promise<SocketSource> {
  const os = osName();
  if (os === "linux") {
    const { createLinuxSource } = await import("./linux/engine.ts");
    return createLinuxSource({
      keepScanWorker: options.repeated === true,
      ...(options.bpf === false ? { bpfOwners: false } : {}),
    });
  }
  if (os === "windows") return (await import("./windows/engine.ts")).createWindowsSource();
  throw new UnsupportedPlatformError(os);
}

/**
 * A check of whether standard output's reader has gone, made without writing to it; undefined
 * where the OS or the runtime's permissions give none (Windows; Linux without native calls).
 * `watch` asks it between refreshes, so that `procconn watch | head -1` ends once `head` has its
 * line even while nothing changes.
 *
 * @returns The check, or undefined.
 *
 * @example
 * ```ts ignore
 * import { outputReaderCheck } from "./mod.ts";
 * const gone = await outputReaderCheck();
 * gone?.(); // false while stdout has a reader
 * ```
 */
export async function outputReaderCheck(): Promise<(() => boolean) | undefined> {
  if (osName() !== "linux") return undefined;
  const { nativeCallsGranted } = await import("./linux/_libc.ts");
  if (!nativeCallsGranted()) return undefined;
  const { readerGone } = await import("./linux/output.ts");
  return () => readerGone(1);
}
