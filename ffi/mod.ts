/**
 * Picks the socket backend for the running OS. Each backend has the same shape
 * (`SocketSource`); an OS without one gets a backend that fails with a typed error.
 *
 * @module
 */
import { type SocketSource, UnsupportedPlatformError } from "../core/source.ts";
import { createLinuxSource } from "./linux/engine.ts";
import { createWindowsSource } from "./windows/engine.ts";
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
 * Returns the backend for this OS.
 *
 * @param options Whether the source is for repeated listings, and may use BPF on Linux.
 * @returns The platform's socket source.
 * @throws {UnsupportedPlatformError} On an OS procconn has no backend for.
 */
export function defaultSource(options: DefaultSourceOptions = {}): SocketSource {
  const os = osName();
  if (os === "linux") {
    return createLinuxSource({
      keepScanWorker: options.repeated === true,
      ...(options.bpf === false ? { bpfOwners: false } : {}),
    });
  }
  if (os === "windows") return createWindowsSource();
  throw new UnsupportedPlatformError(os);
}
