/**
 * Processes under `/proc`: which processes hold which sockets (one pass over every
 * `/proc/<pid>/fd`), and what each process is (name, path, parent, start time, command line,
 * user, systemd unit). Uses `node:fs` so it runs on Deno and Node alike.
 *
 * Processes come and go while procconn reads: a process that vanishes mid-scan is normal, as is
 * one whose files this user may not read. Neither is an error; the fields say why they are null.
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Reason } from "../../core/record.ts";
import type { ProcessField, ProcessInfo, ProcessSummary } from "../../core/source.ts";
import { type Libc, O_CLOEXEC, O_RDONLY } from "./_libc.ts";
import { direntNameOffsets, socketInodeOfBytes, socketInodeOfLink } from "./fd_links.ts";
import {
  joinCmdline,
  parseBootTime,
  parseEffectiveUid,
  parsePasswd,
  parseProcStat,
  parseSystemdUnit,
  PF_KTHREAD,
  type ProcStat,
  startTimeIso,
} from "./procfs.ts";

/** Where procfs is mounted, and where the user database is; tests point these elsewhere. */
export interface ProcfsOptions {
  /** The procfs mount point; defaults to `/proc`. */
  procRoot?: string;
  /** The user database for user names; defaults to `/etc/passwd`. */
  passwdFile?: string;
}

/** Which processes hold which sockets. */
export interface SocketOwners {
  /** Socket inode -> every pid holding it, ascending. */
  byInode: Map<number, number[]>;
  /**
   * True when the fd directory of some process could not be read (permission), so a socket
   * missing from `byInode` may belong to a process this user cannot see.
   */
  incomplete: boolean;
}

/** What a failed read of a file of a live-or-dead process means. */
type ReadFailure = "process-exited" | "access-denied";

/** Maps a file-system error to what it says about the process, or null when it says nothing. */
function failureOf(err: unknown): ReadFailure | null {
  const code = (err as { code?: unknown })?.code;
  if (code === "ENOENT" || code === "ESRCH") return "process-exited";
  if (code === "EACCES" || code === "EPERM") return "access-denied";
  return null;
}

/** Runs a read; a known failure comes back as its meaning, anything else is thrown. */
function attempt<T>(read: () => T): { value: T } | { failure: ReadFailure } {
  try {
    return { value: read() };
  } catch (err) {
    const failure = failureOf(err);
    if (failure === null) throw err;
    return { failure };
  }
}

/** The numeric entries of the procfs root: one per process. */
function pidDirs(procRoot: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39 && /^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/** Records that `pid` holds the socket `inode`; a pid is listed once per socket. */
function addOwner(byInode: Map<number, number[]>, inode: number, pid: number): void {
  const pids = byInode.get(inode);
  if (!pids) byInode.set(inode, [pid]);
  else if (pids[pids.length - 1] !== pid) pids.push(pid);
}

/**
 * Scans one process's fds with `node:fs`.
 *
 * @returns False when some fd (or the whole directory) could not be read for lack of rights.
 */
function scanProcessFs(dir: string, pid: number, byInode: Map<number, number[]>): boolean {
  const listing = attempt(() => readdirSync(dir));
  if ("failure" in listing) return listing.failure !== "access-denied";
  let complete = true;
  for (const fd of listing.value) {
    const link = attempt(() => readlinkSync(`${dir}/${fd}`));
    if ("failure" in link) {
      if (link.failure === "access-denied") complete = false;
      continue;
    }
    const inode = socketInodeOfLink(link.value);
    if (inode !== null) addOwner(byInode, inode, pid);
  }
  return complete;
}

/** Bytes of one `getdents64` read: about 700 fd entries. */
const DIRENT_BUFFER_SIZE = 16 * 1024;
/** Longest link target read; `socket:[4294967295]` is 20 bytes, and longer ones are not sockets. */
const LINK_BUFFER_SIZE = 64;
const DIRENT_LENGTH = BigInt(DIRENT_BUFFER_SIZE);
const LINK_LENGTH = BigInt(LINK_BUFFER_SIZE);
/** Longest fd directory path encoded for `open`. */
const PATH_BUFFER_SIZE = 4096;

/** Buffers reused across processes by the native scan. */
interface NativeScan {
  libc: Libc;
  dents: Uint8Array;
  link: Uint8Array;
  path: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Scans one process's fds with direct system calls: the directory opened once, read with
 * `getdents64`, and each entry resolved with `readlinkat` relative to it, so the kernel does
 * not walk `/proc/<pid>/fd/` again for every fd. FFI does not say why a call failed; when one
 * does, `node:fs` repeats that read to learn why (the process exited, or access is denied).
 *
 * @returns False when some fd (or the whole directory) could not be read for lack of rights.
 */
function scanProcessNative(
  dir: string,
  pid: number,
  byInode: Map<number, number[]>,
  scan: NativeScan,
): boolean {
  const c = scan.libc.symbols;
  const { written } = encoder.encodeInto(dir, scan.path);
  if (written >= scan.path.length - 1 || c.getdents64 === null) {
    return scanProcessFs(dir, pid, byInode);
  }
  scan.path[written] = 0;
  const dirFd = c.open(scan.path, O_RDONLY | O_CLOEXEC);
  if (dirFd < 0) return scanProcessFs(dir, pid, byInode);
  let complete = true;
  try {
    for (;;) {
      const got = Number(c.getdents64(dirFd, scan.dents, DIRENT_LENGTH));
      if (got === 0) break;
      if (got < 0) return scanProcessFs(dir, pid, byInode) && complete;
      for (const name of direntNameOffsets(scan.dents, got)) {
        const length = Number(
          c.readlinkat(dirFd, scan.dents.subarray(name), scan.link, LINK_LENGTH),
        );
        if (length < 0) {
          const end = scan.dents.indexOf(0, name);
          const fd = decoder.decode(scan.dents.subarray(name, end));
          const link = attempt(() => readlinkSync(`${dir}/${fd}`));
          if ("failure" in link) {
            if (link.failure === "access-denied") complete = false;
            continue;
          }
          const inode = socketInodeOfLink(link.value);
          if (inode !== null) addOwner(byInode, inode, pid);
          continue;
        }
        const inode = socketInodeOfBytes(scan.link, length);
        if (inode !== null) addOwner(byInode, inode, pid);
      }
    }
  } finally {
    c.close(dirFd);
  }
  return complete;
}

/**
 * Builds the socket inode -> pids map in one pass over `/proc/<pid>/fd/*`, whose links read
 * `socket:[<inode>]` for sockets. After `fork` several processes hold the same socket; all are
 * kept.
 *
 * @param options Where procfs is mounted.
 * @param libc When given, the scan reads each fd directory with `getdents64` and its links with
 *   `readlinkat` through this C library instead of `node:fs` (same result, fewer system calls).
 * @returns The owners of every socket this user can see, and whether some could not be seen.
 *
 * @example
 * ```ts
 * import { scanSocketOwners } from "./processes.ts";
 * const { byInode, incomplete } = scanSocketOwners();
 * console.log(byInode.size, incomplete);
 * ```
 */
export function scanSocketOwners(options: ProcfsOptions = {}, libc?: Libc): SocketOwners {
  const root = options.procRoot ?? "/proc";
  const byInode = new Map<number, number[]>();
  const native: NativeScan | undefined = libc && {
    libc,
    dents: new Uint8Array(DIRENT_BUFFER_SIZE),
    link: new Uint8Array(LINK_BUFFER_SIZE),
    path: new Uint8Array(PATH_BUFFER_SIZE),
  };
  let incomplete = false;
  for (const pid of pidDirs(root)) {
    const dir = `${root}/${pid}/fd`;
    const complete = native
      ? scanProcessNative(dir, pid, byInode, native)
      : scanProcessFs(dir, pid, byInode);
    if (!complete) incomplete = true;
  }
  for (const pids of byInode.values()) if (pids.length > 1) pids.sort((a, b) => a - b);
  return { byInode, incomplete };
}

/**
 * Reads the boot time from `/proc/stat`.
 *
 * @param options Where procfs is mounted.
 * @returns Seconds since the epoch at which the system booted.
 */
function readBootTime(options: ProcfsOptions): number {
  const file = `${options.procRoot ?? "/proc"}/stat`;
  return parseBootTime(readFileSync(file, "latin1"), file);
}

/** Everything a process description needs that is shared between processes. */
interface Context {
  root: string;
  bootTime: number;
  userNames: () => Map<number, string>;
}

function context(options: ProcfsOptions): Context {
  let names: Map<number, string> | undefined;
  return {
    root: options.procRoot ?? "/proc",
    bootTime: readBootTime(options),
    userNames: () => {
      if (names) return names;
      // Only local accounts: users from NSS sources (LDAP, sssd) come out as their uid.
      const passwd = attempt(() => readFileSync(options.passwdFile ?? "/etc/passwd", "utf8"));
      names = "value" in passwd ? parsePasswd(passwd.value) : new Map();
      return names;
    },
  };
}

const utf8 = new TextEncoder();

/** Whether a command name may have been cut: the kernel keeps at most 15 bytes of it. */
function maybeCut(comm: string): boolean {
  return utf8.encode(comm).length >= 15;
}

/** The executable name: comm is cut at 15 bytes, and then the image's file name is better. */
function processName(comm: string, path: string | null): string {
  if (!maybeCut(comm) || path === null) return comm;
  const base = path.replace(/ \(deleted\)$/, "").replace(/^.*\//, "");
  return base.startsWith(comm) ? base : comm;
}

function readStat(root: string, pid: number): { value: ProcStat } | { failure: ReadFailure } {
  const file = `${root}/${pid}/stat`;
  return attempt(() => parseProcStat(readFileSync(file, "utf8"), file));
}

/** Zombie (`Z`) or dead (`X`): the process has exited and only its table entry remains. */
function isDead(state: string): boolean {
  return state === "Z" || state === "X";
}

function describeOne(pid: number, ctx: Context): ProcessInfo {
  const dir = `${ctx.root}/${pid}`;
  const stat = readStat(ctx.root, pid);
  if ("failure" in stat) {
    const why = stat.failure;
    return {
      pid,
      name: null,
      path: null,
      parentPid: null,
      startTime: null,
      commandLine: null,
      userName: null,
      services: null,
      unavailable: {
        name: why,
        path: why,
        parentPid: why,
        startTime: why,
        commandLine: why,
        userName: why,
        services: why,
      },
    };
  }
  const { comm, parentPid, startTicks, flags, state } = stat.value;
  const unavailable: Partial<Record<ProcessField, Reason>> = {};
  const zombie = isDead(state);

  const cmdline = attempt(() => readFileSync(`${dir}/cmdline`, "utf8"));
  const joined = "value" in cmdline ? joinCmdline(cmdline.value) : null;
  // No image and no command line: a kernel thread, or a process that is exiting (a zombie's
  // memory is already gone), which a second look at its state tells apart.
  const imageless = (): Reason => {
    if ((flags & PF_KTHREAD) !== 0) return "system-process";
    if (zombie) return "process-exited";
    const again = readStat(ctx.root, pid);
    if ("failure" in again || isDead(again.value.state)) return "process-exited";
    return "system-process";
  };

  let path: string | null = null;
  const exe = attempt(() => readlinkSync(`${dir}/exe`));
  if ("value" in exe) {
    // A " (deleted)" suffix stays: the image was replaced or removed while running.
    path = exe.value;
  } else if (exe.failure === "access-denied") {
    unavailable.path = "access-denied";
  } else if ((flags & PF_KTHREAD) !== 0 || zombie || joined === "") {
    unavailable.path = imageless();
  } else {
    unavailable.path = "value" in readStat(ctx.root, pid) ? "not-found" : "process-exited";
  }

  let commandLine: string | null = null;
  if ("failure" in cmdline) unavailable.commandLine = cmdline.failure;
  else if (joined === "") unavailable.commandLine = imageless();
  else commandLine = joined;

  let userName: string | null = null;
  const status = attempt(() => {
    const file = `${dir}/status`;
    return parseEffectiveUid(readFileSync(file, "utf8"), file);
  });
  if ("value" in status) userName = ctx.userNames().get(status.value) ?? String(status.value);
  else unavailable.userName = status.failure;

  let services: string[] | null = null;
  const cgroup = attempt(() => readFileSync(`${dir}/cgroup`, "utf8"));
  if ("value" in cgroup) {
    const unit = parseSystemdUnit(cgroup.value);
    services = unit === null ? [] : [unit];
  } else unavailable.services = cgroup.failure;

  return {
    pid,
    name: processName(comm, path),
    path,
    parentPid,
    startTime: startTimeIso(ctx.bootTime, startTicks),
    commandLine,
    userName,
    services,
    unavailable,
  };
}

/**
 * Describes processes from `/proc/<pid>/stat` (name, parent, start time), the `exe` link (full
 * path), `cmdline`, `status` (effective user) and `cgroup` (systemd unit). Every pid asked for
 * gets an entry: a pid that no longer exists has its fields null with `process-exited`, a field
 * this user may not read is null with `access-denied`, and a kernel thread has no path or
 * command line (`system-process`).
 *
 * @param pids The processes to describe.
 * @param options Where procfs and the user database are.
 * @returns pid -> description.
 *
 * @example
 * ```ts
 * import { describeProcesses } from "./processes.ts";
 * import process from "node:process";
 * const self = describeProcesses([process.pid]).get(process.pid)!;
 * console.log(self.name, self.path, self.parentPid, self.startTime);
 * ```
 */
export function describeProcesses(
  pids: Iterable<number>,
  options: ProcfsOptions = {},
): Map<number, ProcessInfo> {
  const ctx = context(options);
  const out = new Map<number, ProcessInfo>();
  for (const pid of pids) if (!out.has(pid)) out.set(pid, describeOne(pid, ctx));
  return out;
}

/**
 * Lists every process with its parent, name and start time (one `stat` read each, plus the
 * `exe` link when the 15-character command name may be cut). Processes that exit while the
 * list is read are left out.
 *
 * @param options Where procfs is mounted.
 * @returns One summary per process.
 *
 * @example
 * ```ts
 * import { listProcesses } from "./processes.ts";
 * const init = listProcesses().find((p) => p.pid === 1);
 * console.log(init?.name);
 * ```
 */
export function listProcesses(options: ProcfsOptions = {}): ProcessSummary[] {
  const root = options.procRoot ?? "/proc";
  const bootTime = readBootTime(options);
  const out: ProcessSummary[] = [];
  for (const pid of pidDirs(root)) {
    const stat = readStat(root, pid);
    if ("failure" in stat) continue;
    const { comm, parentPid, startTicks } = stat.value;
    let name = comm;
    if (maybeCut(comm)) {
      const exe = attempt(() => readlinkSync(`${root}/${pid}/exe`));
      name = processName(comm, "value" in exe ? exe.value : null);
    }
    out.push({ pid, parentPid, name, startTime: startTimeIso(bootTime, startTicks) });
  }
  return out;
}
