/**
 * Pure decoders for the fd scan: the `socket:[<inode>]` target of a `/proc/<pid>/fd/<n>` link
 * (as text from `node:fs`, or as the bytes `readlinkat` wrote), and the `linux_dirent64` records
 * `getdents64` fills a buffer with.
 *
 * `struct linux_dirent64` (getdents64(2); glibc's `struct dirent64` is the same): `d_ino` u64 @0,
 * `d_off` s64 @8, `d_reclen` u16 @16, `d_type` u8 @18, `d_name` NUL-terminated @19, as gcc 12.2
 * printed them on x86_64 with glibc 2.36; the layout is the same on every architecture.
 *
 * @module
 */

/** Offset of `d_reclen` in a `linux_dirent64` record. */
const D_RECLEN = 16;
/** Offset of `d_name` in a `linux_dirent64` record. */
const D_NAME = 19;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const PREFIX = "socket:[";
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Reads the inode out of an fd link's target text.
 *
 * @param link The link's target, e.g. `socket:[12345]`.
 * @returns The inode, or null when the link is not a socket.
 *
 * @example
 * ```ts
 * import { socketInodeOfLink } from "./fd_links.ts";
 * socketInodeOfLink("socket:[12345]"); // 12345
 * socketInodeOfLink("/dev/null"); // null
 * ```
 */
export function socketInodeOfLink(link: string): number | null {
  if (!link.startsWith(PREFIX) || link.charCodeAt(link.length - 1) !== 0x5d) return null;
  const end = link.length - 1;
  if (end === PREFIX.length) return null;
  let inode = 0;
  for (let i = PREFIX.length; i < end; i++) {
    const c = link.charCodeAt(i);
    if (c < ZERO || c > NINE) return null;
    inode = inode * 10 + (c - ZERO);
  }
  return inode;
}

const PREFIX_BYTES = [...PREFIX].map((ch) => ch.charCodeAt(0));

/**
 * Reads the inode out of an fd link's target as bytes (what `readlinkat` wrote: no NUL).
 *
 * @param bytes The buffer `readlinkat` filled.
 * @param length How many bytes it wrote.
 * @returns The inode, or null when the link is not a socket.
 *
 * @example
 * ```ts
 * import { socketInodeOfBytes } from "./fd_links.ts";
 * const link = new TextEncoder().encode("socket:[77]");
 * socketInodeOfBytes(link, link.length); // 77
 * ```
 */
export function socketInodeOfBytes(bytes: Uint8Array, length: number): number | null {
  const end = length - 1;
  if (end <= PREFIX_BYTES.length || end >= bytes.length || bytes[end] !== 0x5d) return null;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (bytes[i] !== PREFIX_BYTES[i]) return null;
  let inode = 0;
  for (let i = PREFIX_BYTES.length; i < end; i++) {
    const c = bytes[i];
    if (c < ZERO || c > NINE) return null;
    inode = inode * 10 + (c - ZERO);
  }
  return inode;
}

/** Raised when a `getdents64` buffer does not hold whole records. */
export class DirentFormatError extends Error {
  /** Where the bad record starts. */
  readonly offset: number;

  /**
   * @param offset Where the bad record starts.
   * @param problem What is wrong with it.
   */
  constructor(offset: number, problem: string) {
    super(`Malformed directory record at byte ${offset}: ${problem}`);
    this.name = "DirentFormatError";
    this.offset = offset;
  }
}

/**
 * Finds the names in a buffer of `linux_dirent64` records, leaving out `.` and `..`. Each name
 * is NUL-terminated in place, so `bytes.subarray(offset)` can be passed to a C call as is.
 *
 * @param bytes The buffer `getdents64` filled.
 * @param length How many bytes it returned.
 * @returns The offset of each name, in directory order.
 * @throws {DirentFormatError} When a record's length is too short or runs past the end.
 *
 * @example
 * ```ts
 * import { direntNameOffsets } from "./fd_links.ts";
 * const rec = new Uint8Array(24);
 * rec[16] = 24; // d_reclen
 * rec.set([0x33, 0], 19); // d_name "3"
 * direntNameOffsets(rec, rec.length); // [19]
 * ```
 */
export function direntNameOffsets(bytes: Uint8Array, length: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names: number[] = [];
  let off = 0;
  while (off < length) {
    if (off + D_NAME >= length) {
      throw new DirentFormatError(off, `${length - off} bytes left, too few for a record`);
    }
    const reclen = view.getUint16(off + D_RECLEN, HOST_LITTLE_ENDIAN);
    if (reclen <= D_NAME || off + reclen > length) {
      throw new DirentFormatError(off, `record length ${reclen} does not fit`);
    }
    const name = off + D_NAME;
    const dot = bytes[name] === DOT &&
      (bytes[name + 1] === 0 || (bytes[name + 1] === DOT && bytes[name + 2] === 0));
    if (!dot) names.push(name);
    off += reclen;
  }
  return names;
}
