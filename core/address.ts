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
 * Whether an IPv6 address needs a zone (scope id) to name one place: link-local unicast
 * (`fe80::/10`), and interface-local or link-local multicast (`ff01::/16`, `ff02::/16` and the
 * same scopes with other flags, such as `ff12::`), which every interface has its own of.
 *
 * @param bytes The buffer holding the address.
 * @param offset Where the 16 bytes start.
 * @returns True for an address that is only meaningful with its interface.
 *
 * @example
 * ```ts
 * import { isScopedIPv6 } from "./address.ts";
 * const group = new Uint8Array(16); group[0] = 0xff; group[1] = 0x02; group[15] = 1;
 * isScopedIPv6(group); // true: ff02::1, all nodes on one link
 * ```
 */
export function isScopedIPv6(bytes: Uint8Array, offset = 0): boolean {
  const first = bytes[offset], second = bytes[offset + 1];
  if (first === 0xfe) return (second & 0xc0) === 0x80;
  if (first !== 0xff) return false;
  const scope = second & 0x0f;
  return scope === 1 || scope === 2;
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
    // No leading zeros: `010` is 8 to inet_aton and 10 to others, so it means nothing for sure.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(parts[i])) return null;
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

/**
 * Primary weights, in en-US collation order, of the characters addresses (and the interface names
 * of scope ids) are written with; 0 for any other character.
 */
const PRIMARY_WEIGHT: Uint8Array = (() => {
  const table = new Uint8Array(128);
  const order = "_-:.@/%+0123456789";
  for (let i = 0; i < order.length; i++) table[order.charCodeAt(i)] = i + 1;
  for (let c = 0; c < 26; c++) table[0x61 + c] = table[0x41 + c] = order.length + 1 + c;
  return table;
})();

let collator: Intl.Collator | undefined;

function covered(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || PRIMARY_WEIGHT[c] === 0) return false;
  }
  return true;
}

/**
 * Compares two address texts as the en-US collation does (`Intl.Collator("en-US").compare`):
 * `:` before `.`, digits before letters, letters ignoring case, and lower case first only when
 * nothing else differs. Address texts are answered without the collator, whose first use costs
 * about 10 ms (ICU builds it); any other text goes to the collator.
 *
 * @param a One text.
 * @param b The other.
 * @returns Negative when `a` sorts first, positive when `b` does, 0 when they collate equal.
 *
 * @example
 * ```ts
 * import { compareAddressText } from "./address.ts";
 * ["fe80::1%eth1", "::1", "fe80::1%Eth0"].sort(compareAddressText);
 * // ["::1", "fe80::1%Eth0", "fe80::1%eth1"]
 * ```
 */
export function compareAddressText(a: string, b: string): number {
  // A backend's malformed row (no address at all) must not stop the ordering: the record check
  // that follows names it. The collator compares such values as their text.
  if (typeof a !== "string" || typeof b !== "string" || !covered(a) || !covered(b)) {
    return (collator ??= new Intl.Collator("en-US")).compare(a, b);
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = PRIMARY_WEIGHT[a.charCodeAt(i)] - PRIMARY_WEIGHT[b.charCodeAt(i)];
    if (d !== 0) return d;
  }
  if (a.length !== b.length) return a.length - b.length;
  // The same letters but for case: the first lower-case letter where they differ goes first.
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return y - x;
  }
  return 0;
}
