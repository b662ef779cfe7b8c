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

/**
 * Returns the backend for this OS.
 *
 * @returns The platform's socket source.
 * @throws {UnsupportedPlatformError} On an OS procconn has no backend for.
 */
export function defaultSource(): SocketSource {
  const os = osName();
  if (os === "linux") return createLinuxSource();
  if (os === "windows") return createWindowsSource();
  throw new UnsupportedPlatformError(os);
}
