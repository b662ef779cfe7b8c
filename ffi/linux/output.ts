/**
 * Whether anyone still reads an output: a pipe whose reader has closed it (`procconn watch |
 * head -1` once `head` has its line) is seen without writing to it, so a stream that has nothing
 * to write for a while can still end when its reader goes.
 *
 * @module
 */
import { loadLibc } from "./_libc.ts";
import { POLLERR, POLLHUP, POLLNVAL } from "./_libc_symbols.ts";

/**
 * Asks the kernel, without waiting, whether the reader of `fd` has gone: `poll` reports
 * `POLLERR` on the writing end of a pipe with no reader left, `POLLHUP` on a terminal or socket
 * whose other end hung up, and `POLLNVAL` when `fd` is not open.
 *
 * @param fd The descriptor written to (1 for standard output).
 * @returns True when nothing written to it can be read any more.
 *
 * @example
 * ```ts ignore
 * import { readerGone } from "./output.ts";
 * readerGone(1); // false while standard output has a reader
 * ```
 */
export function readerGone(fd: number): boolean {
  // struct pollfd { int fd; short events; short revents; }, in the machine's byte order.
  const pollfd = new Int32Array(2);
  pollfd[0] = fd;
  const ready = loadLibc().symbols.poll(new Uint8Array(pollfd.buffer), 1n, 0);
  if (ready <= 0) return false; // nothing to report, or poll failed: keep writing
  const revents = new Int16Array(pollfd.buffer)[3];
  return (revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0;
}
