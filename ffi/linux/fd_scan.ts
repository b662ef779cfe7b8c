/**
 * The fd scan of one process: which sockets `/proc/<pid>/fd/*` refers to. The directory is read
 * with `getdents64` and each entry resolved with `readlinkat` relative to it when the C library
 * is bound, or through plain file calls otherwise. The file calls are passed in (`../_files.ts`
 * in procconn; tests pass stand-ins that fail on cue).
 *
 * @module
 */
import { direntNameOffsets, socketInodeOfBytes, socketInodeOfLink } from "./fd_links.ts";
import { O_CLOEXEC, O_RDONLY } from "./_libc_symbols.ts";

/** What a failed read of a file of a live-or-dead process means. */
export type ReadFailure = "process-exited" | "access-denied";

/** Maps a file-system error to what it says about the process, or null when it says nothing. */
export function failureOf(err: unknown): ReadFailure | null {
  const code = (err as { code?: unknown })?.code;
  if (code === "ENOENT" || code === "ESRCH") return "process-exited";
  if (code === "EACCES" || code === "EPERM") return "access-denied";
  return null;
}

/**
 * Whether an error is Deno's refusal of a name or link target that is not UTF-8 (Linux names are
 * bytes; Node decodes such a target with U+FFFD for each bad byte instead).
 *
 * @param err What a file call threw.
 * @returns True for that refusal.
 *
 * @example
 * ```ts
 * import { notUtf8 } from "./fd_scan.ts";
 * notUtf8(Object.assign(new Error("not valid UTF-8"), { name: "InvalidData" })); // true
 * notUtf8(new Error("other")); // false
 * ```
 */
export function notUtf8(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === "InvalidData";
}

/** Runs a read; a known failure comes back as its meaning, anything else is thrown. */
export function attempt<T>(read: () => T): { value: T } | { failure: ReadFailure } {
  try {
    return { value: read() };
  } catch (err) {
    const failure = failureOf(err);
    if (failure === null) throw err;
    return { failure };
  }
}

/** The file calls of the plain scan; errors carry `code` (`ENOENT`, `EACCES`, ...). */
export interface FdFiles {
  /** The names in a directory. */
  readDir(dir: string): string[];
  /** The target of a symbolic link. */
  readLink(path: string): string;
}

/** The C library calls of the native scan (a subset of `LIBC_SYMBOLS`). */
export interface FdCalls {
  open(path: Uint8Array, flags: number): number;
  close(fd: number): number;
  getdents64: ((fd: number, buffer: Uint8Array, length: bigint) => number | bigint) | null;
  readlinkat(
    dirFd: number,
    path: Uint8Array,
    buffer: Uint8Array,
    length: bigint,
  ): number | bigint;
}

/** Called once for each socket a process holds (and again for each further fd to it). */
export type OwnerSink = (inode: number, pid: number) => void;

/** Bytes of one `getdents64` read: about 700 fd entries. */
const DIRENT_BUFFER_SIZE = 16 * 1024;
/** Longest link target read; `socket:[4294967295]` is 20 bytes, and longer ones are not sockets. */
const LINK_BUFFER_SIZE = 64;
const DIRENT_LENGTH = BigInt(DIRENT_BUFFER_SIZE);
const LINK_LENGTH = BigInt(LINK_BUFFER_SIZE);
/** Longest fd directory path encoded for `open`. */
const PATH_BUFFER_SIZE = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Scans fd directories, reusing its buffers from one process to the next.
 *
 * @example
 * ```ts
 * import { readdirSync, readlinkSync } from "node:fs";
 * import { FdScanner } from "./fd_scan.ts";
 * const scanner = new FdScanner({ readDir: readdirSync, readLink: readlinkSync });
 * const inodes: number[] = [];
 * scanner.scan("/proc/self/fd", 0, (inode) => inodes.push(inode));
 * ```
 */
export class FdScanner {
  readonly #files: FdFiles;
  readonly #calls: FdCalls | null;
  /** How many fds the last `scan` found in its directory. */
  #entries = 0;
  readonly #dents = new Uint8Array(DIRENT_BUFFER_SIZE);
  readonly #link = new Uint8Array(LINK_BUFFER_SIZE);
  readonly #path = new Uint8Array(PATH_BUFFER_SIZE);

  /**
   * @param files The plain file calls; also used to learn why a native call failed, since FFI
   *   does not capture `errno`.
   * @param calls The C library calls, or null for the plain scan.
   */
  constructor(files: FdFiles, calls: FdCalls | null = null) {
    this.#files = files;
    this.#calls = calls;
  }

  /**
   * Reports every socket the fds in `dir` refer to.
   *
   * @param dir The fd directory, `/proc/<pid>/fd`.
   * @param pid The process it belongs to, passed on to `sink`.
   * @param sink Receives (inode, pid) for each socket fd.
   * @returns False when the fd links (or the whole directory) could not be read for lack of
   *   rights: the first refused link ends the process's scan, since the kernel grants or refuses
   *   them all alike. A process that exits during the scan is not a failure.
   */
  scan(dir: string, pid: number, sink: OwnerSink): boolean {
    this.#entries = 0;
    const c = this.#calls;
    if (c === null || c.getdents64 === null) return this.#scanFiles(dir, pid, sink);
    const { written } = encoder.encodeInto(dir, this.#path);
    if (written >= this.#path.length - 1) return this.#scanFiles(dir, pid, sink);
    this.#path[written] = 0;
    const dirFd = c.open(this.#path, O_RDONLY | O_CLOEXEC);
    if (dirFd < 0) return this.#scanFiles(dir, pid, sink);
    const dents = this.#dents;
    const link = this.#link;
    try {
      for (;;) {
        const got = Number(c.getdents64(dirFd, dents, DIRENT_LENGTH));
        if (got === 0) break;
        if (got < 0) return this.#scanFiles(dir, pid, sink);
        for (const name of direntNameOffsets(dents, got)) {
          this.#entries++;
          const length = Number(c.readlinkat(dirFd, dents.subarray(name), link, LINK_LENGTH));
          if (length >= 0) {
            const inode = socketInodeOfBytes(link, length);
            if (inode !== null) sink(inode, pid);
            continue;
          }
          // Ask again through the file calls, whose error says why. The kernel checks the
          // right to read fd links once per process, not per fd: after one refusal the others
          // would be refused too, so the rest of the directory is not read.
          const fd = decoder.decode(dents.subarray(name, dents.indexOf(0, name)));
          if (!this.#scanOne(`${dir}/${fd}`, pid, sink)) return false;
        }
      }
    } finally {
      c.close(dirFd);
    }
    return true;
  }

  /**
   * Scans `<root>/<pid>/fd` for each pid in turn.
   *
   * @returns How many processes were scanned, and false in `complete` when some fd could not be
   *   read for lack of rights.
   */
  scanAll(
    root: string,
    pids: Iterable<number>,
    sink: OwnerSink,
  ): { scanned: number; complete: boolean } {
    let scanned = 0;
    let complete = true;
    for (const pid of pids) {
      scanned++;
      if (!this.scan(`${root}/${pid}/fd`, pid, sink)) complete = false;
      else if (this.#entries === 0) {
        // A process whose main thread has ended (pthread_exit) while others run on shows an
        // empty fd directory; its files are in the directory of any other thread. Without this,
        // its sockets would have no owner, as ss and lsof show them.
        const other = this.#otherThreadFdDir(root, pid);
        if (other !== null && !this.scan(other, pid, sink)) complete = false;
      }
    }
    return { scanned, complete };
  }

  /** The fd directory of a thread of `pid` other than its main one, or null when it has none. */
  #otherThreadFdDir(root: string, pid: number): string | null {
    const tasks = attempt(() => this.#files.readDir(`${root}/${pid}/task`));
    if ("failure" in tasks) return null;
    const other = tasks.value.find((tid) => tid !== String(pid));
    return other === undefined ? null : `${root}/${pid}/task/${other}/fd`;
  }

  #scanFiles(dir: string, pid: number, sink: OwnerSink): boolean {
    const listing = attempt(() => this.#files.readDir(dir));
    if ("failure" in listing) return listing.failure !== "access-denied";
    this.#entries = listing.value.length;
    for (const fd of listing.value) {
      // One refusal stands for the whole process, as in `scan`.
      if (!this.#scanOne(`${dir}/${fd}`, pid, sink)) return false;
    }
    return true;
  }

  /** One fd through the file calls; false only when it could not be read for lack of rights. */
  #scanOne(path: string, pid: number, sink: OwnerSink): boolean {
    let link;
    try {
      link = attempt(() => this.#files.readLink(path));
    } catch (err) {
      // A target Deno cannot read as text is a file name, never a socket.
      if (notUtf8(err)) return true;
      throw err;
    }
    if ("failure" in link) return link.failure !== "access-denied";
    const inode = socketInodeOfLink(link.value);
    if (inode !== null) sink(inode, pid);
    return true;
  }
}

/** Slots of the shared claim array, then the pids from `FIRST_PID` on. */
const NEXT = 0;
const STATE = 1;
const COUNT = 2;
const FIRST_PID = 3;
/** States of the helper thread: not yet started, scanning, or told not to start. */
const IDLE = 0;
const STARTED = 1;
const CANCELLED = 2;

/**
 * A list of pids in shared memory that two threads take from, one pid at a time, so that each
 * process is scanned by exactly one of them and neither waits for the other to finish a share
 * fixed in advance. It also records whether the helper thread started: a helper that did not
 * start before the main thread took the last pid is cancelled and never waited for.
 *
 * @example
 * ```ts
 * import { PidClaims } from "./fd_scan.ts";
 * const claims = PidClaims.create([10, 20]);
 * claims.next(); // 10
 * claims.next(); // 20
 * claims.next(); // null
 * ```
 */
export class PidClaims {
  readonly #slots: Int32Array;

  /** @param buffer The shared memory made by {@linkcode PidClaims.create}. */
  constructor(buffer: SharedArrayBuffer) {
    this.#slots = new Int32Array(buffer);
  }

  /**
   * Puts pids into new shared memory.
   *
   * @param pids The processes to scan.
   * @returns The claims, whose `buffer` is posted to the helper.
   */
  static create(pids: readonly number[]): PidClaims {
    const buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (FIRST_PID + pids.length));
    const slots = new Int32Array(buffer);
    slots[COUNT] = pids.length;
    slots.set(pids, FIRST_PID);
    return new PidClaims(buffer);
  }

  /** The shared memory. */
  get buffer(): SharedArrayBuffer {
    return this.#slots.buffer as SharedArrayBuffer;
  }

  /** Takes the next pid, or returns null when every pid has been taken. */
  next(): number | null {
    const index = Atomics.add(this.#slots, NEXT, 1);
    return index < this.#slots[COUNT] ? this.#slots[FIRST_PID + index] : null;
  }

  /** How many pids have been taken so far, by either thread. */
  get taken(): number {
    return Math.min(Atomics.load(this.#slots, NEXT), this.#slots[COUNT]);
  }

  /** Takes pids until none is left. */
  *[Symbol.iterator](): Iterator<number> {
    for (let pid = this.next(); pid !== null; pid = this.next()) yield pid;
  }

  /** For the helper: true when it may scan, false when the main thread cancelled it. */
  start(): boolean {
    return Atomics.compareExchange(this.#slots, STATE, IDLE, STARTED) === IDLE;
  }

  /** For the main thread: true when the helper had not started and now never will. */
  cancel(): boolean {
    return Atomics.compareExchange(this.#slots, STATE, IDLE, CANCELLED) === IDLE;
  }
}

/** What the main thread posts to the scan worker. */
export interface ScanRequest {
  /** Numbers the request; the reply carries it back. */
  id: number;
  /** The procfs mount point. */
  root: string;
  /** The shared {@linkcode PidClaims} memory. */
  claims: SharedArrayBuffer;
}

/** What the scan worker posts back: the (inode, pid) pairs it found, in the order found. */
export type ScanReply =
  | {
    /** The request's number. */
    id: number;
    ok: true;
    inodes: Float64Array<ArrayBuffer>;
    pids: Int32Array<ArrayBuffer>;
    incomplete: boolean;
    /** How many processes the worker scanned. */
    scanned: number;
  }
  | {
    /** The request's number. */
    id: number;
    ok: false;
    message: string;
    /** True when the worker was stopped on purpose (the listing was abandoned), not broken. */
    stopped?: boolean;
  };
