/**
 * A reader for the kernel's own type information (BTF, `/sys/kernel/btf/vmlinux`), just enough
 * to load a BPF iterator: the type id of a function, and the byte offsets of a few struct
 * members. The blob is read in chunks through a caller's `read` (pread semantics) and never held
 * whole: it is 5-6 MB, and a fresh buffer that size costs more to fault in than the walk itself.
 *
 * Layout facts (include/uapi/linux/btf.h, Documentation/bpf/btf.rst): a 24-byte header, then the
 * type section, whose records are numbered from 1 in order, then the string section of
 * NUL-terminated names that records point into by offset.
 *
 * @module
 */

/** Reads bytes of the blob from `offset` into `into`; returns how many (0 at the end). */
export type BtfRead = (offset: number, into: Uint8Array) => number;

/** What to look up: function names, and for each struct name the members wanted. */
export interface BtfQuery {
  /** `BTF_KIND_FUNC` names (e.g. `bpf_iter_task_file`). */
  funcs: readonly string[];
  /** Struct name -> member names (direct members, not inside an anonymous union). */
  structs: Readonly<Record<string, readonly string[]>>;
}

/** What was found; a name the blob does not have is missing from the maps. */
export interface BtfAnswer {
  /** Function name -> type id. */
  funcs: Map<string, number>;
  /** `struct.member` -> byte offset of the member in the struct. */
  members: Map<string, number>;
}

/**
 * Finds the first place `needle` occurs in `haystack`: its index, or -1. `memmem` from the C
 * library is much faster than {@linkcode findBytes} at it.
 */
export type BtfFind = (haystack: Uint8Array, needle: Uint8Array) => number;

/** Options of {@linkcode lookUpBtf}. */
export interface BtfOptions {
  /** Bytes read at a time (default 256 KiB); a type record longer than that is read whole. */
  chunkSize?: number;
  /** How names are searched for in the string section (default {@linkcode findBytes}). */
  find?: BtfFind;
}

/** `BTF_MAGIC` as a little-endian u16 reads it; a big-endian blob reads 0x9feb. */
const BTF_MAGIC = 0xeb9f;
const HEADER_SIZE = 24;
const KIND_INT = 1;
const KIND_ARRAY = 3;
const KIND_STRUCT = 4;
const KIND_UNION = 5;
const KIND_ENUM = 6;
const KIND_FUNC = 12;
const KIND_FUNC_PROTO = 13;
const KIND_VAR = 14;
const KIND_DATASEC = 15;
const KIND_DECL_TAG = 17;
const KIND_ENUM64 = 19;
const KIND_MAX = 19;
/** Bytes read at a time. */
const CHUNK_SIZE = 256 * 1024;

/** Bytes that follow the 12-byte common part of a type record, by kind and member count. */
function trailingBytes(kind: number, vlen: number): number {
  switch (kind) {
    case KIND_INT:
    case KIND_VAR:
    case KIND_DECL_TAG:
      return 4;
    case KIND_ARRAY:
      return 12;
    case KIND_STRUCT:
    case KIND_UNION:
    case KIND_DATASEC:
    case KIND_ENUM64:
      return vlen * 12;
    case KIND_ENUM:
    case KIND_FUNC_PROTO:
      return vlen * 8;
    default:
      return 0;
  }
}

/** Fills `into` from `offset` (several reads if need be); returns the bytes read. */
function readFully(read: BtfRead, offset: number, into: Uint8Array): number {
  let got = 0;
  while (got < into.length) {
    const n = read(offset + got, into.subarray(got));
    if (n <= 0) break;
    got += n;
  }
  return got;
}

/**
 * The first place `needle` occurs in `haystack`, or -1: a search in JavaScript, for when no
 * faster one is at hand. It tries each place the needle's first byte occurs.
 *
 * @param haystack Where to search.
 * @param needle What to search for (at least one byte).
 * @returns The index of its first occurrence, or -1.
 *
 * @example
 * ```ts
 * import { findBytes } from "./btf.ts";
 * findBytes(new Uint8Array([0, 1, 2, 0, 1, 3]), new Uint8Array([1, 3])); // 4
 * ```
 */
export function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(needle[0]); i !== -1 && i <= last;) {
    let k = 1;
    while (k < needle.length && haystack[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
    i = haystack.indexOf(needle[0], i + 1);
  }
  return -1;
}

/**
 * Finds where each wanted name starts in the string section: the first place it occurs whole,
 * with a NUL before and after it. Names in vmlinux BTF are stored once each, whole; a name found
 * only as the tail of a longer one is not found. The section is read a chunk at a time, each
 * chunk overlapping the last by a needle's length less one byte, so no name is cut in two.
 */
function findNames(
  read: BtfRead,
  start: number,
  length: number,
  names: readonly string[],
  buffer: Uint8Array,
  find: BtfFind,
): Map<string, number> {
  const encoder = new TextEncoder();
  const needles = names.map((name) => encoder.encode(`\0${name}\0`));
  const overlap = Math.max(...needles.map((needle) => needle.length)) - 1;
  if (overlap >= buffer.length) {
    throw new RangeError(`Invalid chunk size ${buffer.length}: a name is longer than a chunk`);
  }
  const found = new Map<string, number>();
  let base = 0;
  while (base < length && found.size < names.length) {
    const size = Math.min(buffer.length, length - base);
    const got = readFully(read, start + base, buffer.subarray(0, size));
    if (got < size) throw new RangeError(`Invalid BTF: the string section ends early at ${base}`);
    const chunk = buffer.subarray(0, got);
    for (let w = 0; w < names.length; w++) {
      if (found.has(names[w])) continue;
      const at = find(chunk, needles[w]);
      if (at >= 0) found.set(names[w], base + at + 1);
    }
    if (base + got >= length) break;
    base += got - overlap;
  }
  return found;
}

/**
 * Looks up function type ids and struct member offsets in a BTF blob. The walk stops as soon as
 * everything asked for is found (in vmlinux the iterator functions are about half-way).
 *
 * @param read Reads the blob (e.g. pread on `/sys/kernel/btf/vmlinux`).
 * @param query The functions and struct members wanted.
 * @param options The read size.
 * @returns What was found; absent names are simply missing.
 * @throws {RangeError} When the blob is not little-endian BTF or is cut short.
 *
 * @example
 * ```ts ignore
 * import { lookUpBtf } from "./btf.ts";
 * const blob = Deno.readFileSync("/sys/kernel/btf/vmlinux");
 * const answer = lookUpBtf((offset, into) => {
 *   const part = blob.subarray(offset, offset + into.length);
 *   into.set(part);
 *   return part.length;
 * }, { funcs: ["bpf_iter_task_file"], structs: { file: ["f_inode"] } });
 * answer.members.get("file.f_inode"); // 32 on Linux 6.18 x86_64
 * ```
 */
export function lookUpBtf(read: BtfRead, query: BtfQuery, options: BtfOptions = {}): BtfAnswer {
  const header = new Uint8Array(HEADER_SIZE);
  if (readFully(read, 0, header) < HEADER_SIZE) {
    throw new RangeError("Invalid BTF: shorter than its header");
  }
  const head = new DataView(header.buffer);
  const magic = head.getUint16(0, true);
  if (magic !== BTF_MAGIC) {
    throw new RangeError(
      `Invalid BTF magic 0x${magic.toString(16)}: expected 0x${BTF_MAGIC.toString(16)} ` +
        "(little-endian BTF)",
    );
  }
  const headerLength = head.getUint32(4, true);
  const typeStart = headerLength + head.getUint32(8, true);
  const typeLength = head.getUint32(12, true);
  const stringStart = headerLength + head.getUint32(16, true);
  const stringLength = head.getUint32(20, true);

  const structNames = Object.keys(query.structs);
  const memberNames = structNames.flatMap((name) => query.structs[name]);
  const chunkSize = options.chunkSize ?? CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 64) {
    throw new RangeError(`Invalid chunk size ${chunkSize}: expected an integer of at least 64`);
  }
  const buffer = new Uint8Array(chunkSize);
  const names = findNames(
    read,
    stringStart,
    stringLength,
    [...new Set([...query.funcs, ...structNames, ...memberNames])],
    buffer,
    options.find ?? findBytes,
  );

  const answer: BtfAnswer = { funcs: new Map(), members: new Map() };
  // name offset -> what it names, for the kinds looked at.
  const funcByOffset = new Map<number, string>();
  for (const name of query.funcs) {
    const at = names.get(name);
    if (at !== undefined) funcByOffset.set(at, name);
  }
  const structByOffset = new Map<number, string>();
  for (const name of structNames) {
    const at = names.get(name);
    if (at !== undefined) structByOffset.set(at, name);
  }
  let pending = funcByOffset.size + structByOffset.size;

  let view: DataView = new DataView(buffer.buffer);
  let chunk: Uint8Array = buffer;
  let chunkStart = 0; // offset in the type section of chunk[0]
  let chunkLength = 0;
  let position = 0; // offset in the type section of the next record
  let id = 1;
  while (position < typeLength && pending > 0) {
    // Each record is whole in the chunk: 12 bytes, then its trailing part.
    let at = position - chunkStart;
    if (at + 12 > chunkLength) {
      ({ chunk, view, chunkLength } = refill(read, typeStart, typeLength, position, chunk, 12));
      chunkStart = position;
      at = 0;
    }
    const nameOffset = view.getUint32(at, true);
    const info = view.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === 0 || kind > KIND_MAX) {
      throw new RangeError(`Invalid BTF: unknown kind ${kind} of type ${id}`);
    }
    const size = 12 + trailingBytes(kind, vlen);
    if (at + size > chunkLength) {
      ({ chunk, view, chunkLength } = refill(read, typeStart, typeLength, position, chunk, size));
      chunkStart = position;
      at = 0;
    }
    if (kind === KIND_FUNC) {
      const name = funcByOffset.get(nameOffset);
      if (name !== undefined && !answer.funcs.has(name)) {
        answer.funcs.set(name, id);
        pending--;
      }
    } else if (kind === KIND_STRUCT) {
      const name = structByOffset.get(nameOffset);
      if (name !== undefined) {
        structByOffset.delete(nameOffset);
        pending--;
        const bitfields = info >>> 31 === 1;
        for (const member of query.structs[name]) {
          const memberOffset = names.get(member);
          if (memberOffset === undefined) continue;
          for (let m = 0; m < vlen; m++) {
            const record = at + 12 + m * 12;
            if (view.getUint32(record, true) !== memberOffset) continue;
            const raw = view.getUint32(record + 8, true);
            const bits = bitfields ? raw & 0xffffff : raw;
            // A bitfield has no byte offset of its own; it is left out.
            if (bits % 8 === 0 && !(bitfields && raw >>> 24 !== 0)) {
              answer.members.set(`${name}.${member}`, bits / 8);
            }
            break;
          }
        }
      }
    }
    position += size;
    id++;
  }
  return answer;
}

/** Reads the type section from `position` on into a chunk big enough for `need` bytes. */
function refill(
  read: BtfRead,
  typeStart: number,
  typeLength: number,
  position: number,
  chunk: Uint8Array,
  need: number,
): { chunk: Uint8Array; view: DataView; chunkLength: number } {
  if (position + need > typeLength) {
    throw new RangeError(`Invalid BTF: a type at ${position} runs past the type section`);
  }
  if (need > chunk.length) chunk = new Uint8Array(need);
  const want = Math.min(chunk.length, typeLength - position);
  const got = readFully(read, typeStart + position, chunk.subarray(0, want));
  if (got < need) throw new RangeError(`Invalid BTF: the type section ends early at ${position}`);
  return { chunk, view: new DataView(chunk.buffer, chunk.byteOffset, got), chunkLength: got };
}
