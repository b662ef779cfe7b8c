/**
 * IP address text: formatting from bytes (both OS backends use it) and parsing for filters.
 *
 * @module
 */

/**
 * Formats 4 bytes in network order as dotted IPv4 text.
 *
 * @param bytes The buffer holding the address.
 * @param offset Where the 4 bytes start.
 * @returns Dotted text such as `127.0.0.1`.
 *
 * @example
 * ```ts
 * import { formatIPv4 } from "./address.ts";
 * formatIPv4(new Uint8Array([10, 0, 0, 1])); // "10.0.0.1"
 * ```
 */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * Formats 16 bytes in network order as IPv6 text (RFC 5952: lower case, longest zero run
 * compressed). IPv4-mapped addresses are written `::ffff:a.b.c.d` so they are recognisable;
 * a non-zero scope id is appended as `%id`.
 *
 * @param bytes The buffer holding the address.
 * @param offset Where the 16 bytes start.
 * @param scopeId The interface index of a scoped (link-local) address, or 0.
 * @returns The address text.
 *
 * @example
 * ```ts
 * import { formatIPv6 } from "./address.ts";
 * const b = new Uint8Array(16); b[0] = 0xfe; b[1] = 0x80; b[15] = 1;
 * formatIPv6(b, 0, 12); // "fe80::1%12"
 * ```
 */
export function formatIPv6(bytes: Uint8Array, offset = 0, scopeId = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  const scope = scopeId ? `%${scopeId}` : "";
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0) {
    if (words[5] === 0xffff) return `::ffff:${formatIPv4(bytes, offset + 12)}${scope}`;
  }
  // Longest run of two or more zero words is replaced by "::" (first one on a tie).
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (bestStart < 0) return hex(words) + scope;
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}${scope}`;
}

/** A parsed address: its family and its bytes in network order. */
export interface ParsedAddress {
  /** 4 for IPv4, 6 for IPv6. */
  version: 4 | 6;
  /** 4 or 16 bytes in network order. */
  bytes: Uint8Array;
}

/**
 * Parses IPv4 or IPv6 text (a `%scope` suffix is ignored).
 *
 * @param text The address text.
 * @returns The parsed address, or null when the text is not an address.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * parseAddress("::1")?.version; // 6
 * parseAddress("300.1.1.1"); // null
 * ```
 */
export function parseAddress(text: string): ParsedAddress | null {
  const bare = text.replace(/%.*$/, "");
  const v4 = parseIPv4(bare);
  if (v4) return { version: 4, bytes: v4 };
  const v6 = parseIPv6(bare);
  return v6 ? { version: 6, bytes: v6 } : null;
}

function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIPv6(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) return null;
  let tail4: Uint8Array | null = null;
  let body = text;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tail4 = parseIPv4(text.slice(lastColon + 1));
    if (!tail4) return null;
    body = text.slice(0, lastColon + 1) + "0:0";
  }
  const [head, rest] = body.split("::");
  const headWords = head ? head.split(":") : [];
  const restWords = rest === undefined ? [] : rest ? rest.split(":") : [];
  const count = headWords.length + restWords.length;
  if (rest === undefined ? count !== 8 : count > 7) return null;
  const words = [...headWords, ...Array(8 - count).fill("0"), ...restWords];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(words[i])) return null;
    const w = parseInt(words[i], 16);
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/**
 * Returns the IPv4 bytes inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else null.
 *
 * @param bytes 16 bytes in network order.
 * @returns The 4 IPv4 bytes, or null.
 *
 * @example
 * ```ts
 * import { mappedIPv4, parseAddress } from "./address.ts";
 * mappedIPv4(parseAddress("::ffff:10.1.2.3")!.bytes); // Uint8Array [10, 1, 2, 3]
 * ```
 */
export function mappedIPv4(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length !== 16) return null;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return bytes.subarray(12, 16);
}
