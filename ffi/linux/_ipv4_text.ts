/**
 * IPv4 address text shared between sockets: thousands of sockets on one address (loopback, a
 * busy server's own address) then hold one string instead of thousands of equal copies, and the
 * text is built once.
 *
 * @module
 */
import { formatIPv4 } from "../../core/address.ts";

/**
 * Address (as a 32-bit number) -> text. Bounded, so a long `watch` over ever-changing peers
 * does not grow it without end.
 */
const texts = new Map<number, string>();
const MAX_TEXTS = 4096;

/**
 * Formats the 4 bytes at `at` as dotted IPv4 text, reusing the string of an earlier call.
 *
 * @param bytes The buffer holding the address, network order.
 * @param at Where the 4 bytes start.
 * @returns The text, e.g. `127.0.0.1`.
 */
export function ipv4Text(bytes: Uint8Array, at: number): string {
  const key = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>>
    0;
  let text = texts.get(key);
  if (text === undefined) {
    if (texts.size >= MAX_TEXTS) texts.clear();
    text = formatIPv4(bytes, at);
    texts.set(key, text);
  }
  return text;
}
