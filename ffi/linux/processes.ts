/**
 * Processes under `/proc`: which processes hold which sockets (one pass over every
 * `/proc/<pid>/fd`), and what each process is (name, path, parent, start time, command line,
 * user, systemd unit). Reads through `../_files.ts`, so it runs on Deno and Node alike.
 *
 * Processes come and go while procconn reads: a process that vanishes mid-scan is normal, as is
 * one whose files this user may not read. Neither is an error; the fields say why they are null.
 *
 * @module
 */
import { files } from "../_files.ts";
import type { Reason } from "../../core/record.ts";
import type {
  OtherNetwork,
  ProcessField,
  ProcessInfo,
  ProcessSummary,
  RunningImage,
} from "../../core/source.ts";
import type { Libc } from "./_libc.ts";
import { linkTarget } from "./_link_target.ts";
import { bpfOwnersBlocker, type OwnerIteration, startOwnerIteration } from "./bpf_owners.ts";
import { OwnerMap, type OwnerTable } from "./owner_table.ts";
import {
  attempt,
  FdScanner,
  PidClaims,
  type ReadFailure,
  type ScanReply,
  type ScanRequest,
} from "./fd_scan.ts";
import {
  joinCmdline,
  parseBootTime,
  parseEffectiveUid,
  parsePasswd,
  parseProcStat,
  parseSockstat,
  parseSystemdUnit,
  parseThreadGroup,
  PF_EXITING,
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

/** Options of the fd scan: where procfs is, and which processes to look through. */
export interface OwnerScanOptions extends ProcfsOptions {
  /**
   * Look through these processes only (a selection such as `--pid`); a socket none of them
   * holds is then missing from the result. Default: every process under the procfs root.
   */
  pids?: readonly number[];
}

/** Which processes hold which sockets. */
export interface SocketOwners {
  /** Socket inode -> every pid holding it, ascending. */
  byInode: OwnerTable;
  /**
   * True when the fd directory of some process could not be read (permission), so a socket
   * missing from `byInode` may belong to a process this user cannot see.
   */
  incomplete: boolean;
}

/** The numeric entries of the procfs root: one per process. */
function pidDirs(procRoot: string): number[] {
  const pids: number[] = [];
  for (const name of files.readDir(procRoot)) {
    const c = name.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39 && /^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/**
 * Builds the socket inode -> pids map in one pass over `/proc/<pid>/fd/*`, whose links read
 * `socket:[<inode>]` for sockets. After `fork` several processes hold the same socket; all are
 * kept.
 *
 * @param options Where procfs is mounted, and the processes to look through (default all).
 * @param libc When given, the scan reads each fd directory with `getdents64` and its links with
 *   `readlinkat` through this C library instead of plain file calls (same result, fewer system calls).
 * @returns The owners of every socket this user can see, and whether some could not be seen.
 *
 * @example
 * ```ts
 * import { scanSocketOwners } from "./processes.ts";
 * const { byInode, incomplete } = scanSocketOwners();
 * console.log(byInode.size, incomplete);
 * ```
 */
export function scanSocketOwners(options: OwnerScanOptions = {}, libc?: Libc): SocketOwners {
  const root = options.procRoot ?? "/proc";
  const scanner = new FdScanner(files, libc?.symbols ?? null);
  const owners = new OwnerMap();
  const pids = options.pids ?? pidDirs(root);
  owners.incomplete = !scanner.scanAll(root, pids, owners.add).complete;
  return owners.finish();
}

/** An fd scan under way: see {@linkcode startSocketOwnerScan}. */
export interface OwnerScan {
  /** Scans what is left, waits for the helper thread, and returns the owners. */
  finish(): Promise<SocketOwners>;
  /** Stops the helper thread without a result (the listing failed). */
  cancel(): void;
  /** After `finish`: how many processes the helper thread scanned (0 without one). */
  readonly helperScanned: number;
  /** Processes taken for scanning so far (before `finish`, only the helper thread takes any). */
  readonly taken: number;
  /** True when a helper thread was asked to share the scan: it is scanning meanwhile. */
  readonly shared: boolean;
}

/**
 * Open files in the whole system above which a second thread pays off. Starting a worker costs
 * about 20 ms of wall time (most of it when the process exits); reading fd links goes at about
 * 450,000 a second per thread, so halving the scan saves that much from about 18,000 fds on.
 */
const PARALLEL_MIN_OPEN_FILES = 20_000;

/**
 * Whether a selection of processes holds enough open files for its scan to be shared: `stat` of
 * `/proc/<pid>/fd` counts them (Linux 6.2 and later; earlier kernels say 0, and the selection is
 * scanned on one thread). One process is never shared: the threads take whole processes.
 */
function manyOpenFilesIn(root: string, pids: readonly number[]): boolean {
  if (pids.length < 2) return false;
  let open = 0;
  for (const pid of pids) {
    const size = attempt(() => files.size(`${root}/${pid}/fd`));
    if ("value" in size) open += size.value;
    if (open >= PARALLEL_MIN_OPEN_FILES) return true;
  }
  return false;
}

/** Whether the system has enough open files (`sys/fs/file-nr`) for the scan to be shared. */
function manyOpenFiles(root: string): boolean {
  const text = attempt(() => files.readText(`${root}/sys/fs/file-nr`, "latin1"));
  if ("failure" in text) return false;
  const allocated = parseInt(text.value, 10);
  return Number.isFinite(allocated) && allocated >= PARALLEL_MIN_OPEN_FILES;
}

/** Whether a helper thread can share the scan: Deno, with workers and shared memory. */
function canShareScan(): boolean {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  return typeof g.Deno?.dlopen === "function" && typeof g.Worker === "function" &&
    typeof g.SharedArrayBuffer === "function";
}

/**
 * The fd-scan worker thread. Starting one blocks this thread for 35-40 ms on a slow machine, and
 * its code starts cold, so a source that lists again and again (`watch`) keeps one between
 * listings; a single listing ends its own. Requests are numbered, so a reply that arrives after
 * its listing stopped waiting (the worker never started on it) is not taken for the next one's.
 *
 * @example
 * ```ts ignore
 * import { ScanWorker, startSocketOwnerScan } from "./processes.ts";
 * import { loadLibc } from "./_libc.ts";
 * const worker = new ScanWorker();
 * try {
 *   for (let i = 0; i < 3; i++) {
 *     await startSocketOwnerScan({ parallel: true, worker }, loadLibc()).finish();
 *   }
 * } finally {
 *   worker.close();
 * }
 * ```
 */
export class ScanWorker {
  #worker: Worker | null = null;
  #lastId = 0;
  readonly #waiting = new Map<number, (reply: ScanReply) => void>();

  /** True while a worker thread is running. */
  get running(): boolean {
    return this.#worker !== null;
  }

  /**
   * Sends one scan to the worker, starting the thread first when none is running.
   *
   * @param root The procfs mount point.
   * @param claims The shared pid list.
   * @returns The worker's reply (`ok: false` when it failed or was stopped).
   * @throws {Error} When no worker thread can be started.
   */
  request(root: string, claims: SharedArrayBuffer): Promise<ScanReply> {
    const worker = this.#worker ?? this.#start();
    const id = ++this.#lastId;
    const reply = new Promise<ScanReply>((resolve) => this.#waiting.set(id, resolve));
    worker.postMessage({ id, root, claims } satisfies ScanRequest);
    return reply;
  }

  /** Ends the thread; a request still waiting gets a reply that says it was stopped. */
  close(): void {
    this.#end("the fd-scan worker was stopped", true);
  }

  #start(): Worker {
    const worker = new Worker(new URL("./_scan_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (event: MessageEvent<ScanReply>) => {
      const resolve = this.#waiting.get(event.data.id);
      this.#waiting.delete(event.data.id);
      resolve?.(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#end(event.message, false);
    };
    this.#worker = worker;
    return worker;
  }

  #end(message: string, stopped: boolean): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const [id, resolve] of this.#waiting) resolve({ id, ok: false, message, stopped });
    this.#waiting.clear();
  }
}

/**
 * Starts the fd scan of {@linkcode scanSocketOwners} so that it runs beside other work. On Deno
 * with the C library bound, and when the system has many open files (at least 20,000 in
 * `sys/fs/file-nr`, or always with `parallel: true`), a worker thread starts taking processes
 * from a shared list at once; the main thread joins in when `finish` is called, and each process
 * is scanned by exactly one of them. Otherwise, or with `parallel: false`, `finish` does the
 * whole scan on this thread. A selection of processes (`pids`) is shared the same way when the
 * selected processes hold at least 20,000 files between them. Either way the result is the same
 * map.
 *
 * Sockets are read while the worker scans, as `ss -p` reads them after its scan: a socket
 * opened in between may be listed without its owner (`no-owner`), as with any tool that cannot
 * read both at one instant.
 *
 * @param options Where procfs is mounted, which processes to look through (default all), whether
 *   a helper thread may be used, and the
 *   {@linkcode ScanWorker} to use (it stays running for the next scan; without one, a worker is
 *   started for this scan and ended by `finish` or `cancel`).
 * @param libc The bound C library; without it the scan runs on this thread through plain file calls.
 * @returns The scan under way.
 * @throws {Error} From `finish`, when the given `worker` was closed while the scan waited for it.
 *
 * @example
 * ```ts
 * import { startSocketOwnerScan } from "./processes.ts";
 * const scan = startSocketOwnerScan();
 * // ... read the socket tables meanwhile ...
 * const { byInode } = await scan.finish();
 * console.log(byInode.size);
 * ```
 */
export function startSocketOwnerScan(
  options: OwnerScanOptions & { parallel?: boolean; worker?: ScanWorker } = {},
  libc?: Libc,
): OwnerScan {
  const root = options.procRoot ?? "/proc";
  const sequential: OwnerScan = {
    finish: () => new Promise((resolve) => resolve(scanSocketOwners(options, libc))),
    cancel: () => {},
    helperScanned: 0,
    taken: 0,
    shared: false,
  };
  if (!libc || options.parallel === false || !canShareScan()) return sequential;
  if (options.parallel !== true) {
    const many = options.pids ? manyOpenFilesIn(root, options.pids) : manyOpenFiles(root);
    if (!many) return sequential;
  }
  let pids: readonly number[];
  try {
    pids = options.pids ?? pidDirs(root);
  } catch {
    return sequential; // and fails there, as the scan on one thread would
  }
  const claims = PidClaims.create(pids);
  const helper = options.worker ?? new ScanWorker();
  // A worker of this scan's own ends with it; a given one stays for the next scan.
  const release = () => {
    if (helper !== options.worker) helper.close();
  };
  let reply: Promise<ScanReply> | null = null;
  try {
    reply = helper.request(root, claims.buffer);
  } catch {
    // No worker: this thread takes every pid.
  }
  let helperScanned = 0;
  return {
    get helperScanned() {
      return helperScanned;
    },
    get taken() {
      return claims.taken;
    },
    shared: reply !== null,
    async finish() {
      const scanner = new FdScanner(files, libc.symbols);
      let owners = new OwnerMap();
      owners.incomplete = !scanner.scanAll(root, claims, owners.add).complete;
      if (reply === null || claims.cancel()) {
        release();
        return owners.finish();
      }
      const result = await reply;
      release();
      if (result.ok) {
        helperScanned = result.scanned;
        for (let i = 0; i < result.inodes.length; i++) owners.add(result.inodes[i], result.pids[i]);
        if (result.incomplete) owners.incomplete = true;
        return owners.finish();
      }
      // Stopped on purpose: the listing was abandoned, so no result is wanted.
      if (result.stopped) throw new Error(result.message);
      // The worker failed part-way, and its share is unknown: scan everything here.
      owners = new OwnerMap();
      owners.incomplete = !scanner.scanAll(root, pids, owners.add).complete;
      return owners.finish();
    },
    cancel() {
      claims.cancel();
      // A worker still scanning for a failed listing is ended; a kept one starts again later.
      helper.close();
    },
  };
}

/** What a source remembers of its BPF owner scans. */
export interface BpfOwnerState {
  /** True when the last scan read the owners through BPF. */
  used: boolean;
  /** Why the kernel refused the iterator; later scans of the same source go through the fds. */
  failure: string | null;
}

/**
 * Why socket owners cannot be read through the BPF iterator here, or null when they can be
 * tried: Deno with the C library bound, procfs at `/proc`, no earlier refusal, and what
 * `bpfOwnersBlocker` checks.
 *
 * @param procRoot The procfs mount point the listing reads.
 * @param libc The bound C library, if any.
 * @param state The source's memory of earlier scans.
 * @returns A short reason, or null.
 */
export function bpfOwnersUnavailable(
  procRoot: string,
  libc: Libc | undefined,
  state: BpfOwnerState,
): string | null {
  if (state.failure !== null) return state.failure;
  if (!libc) return "native calls are off";
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno as typeof Deno | undefined;
  if (typeof deno?.UnsafePointer?.of !== "function") return "needs Deno";
  if (procRoot !== "/proc") return "procfs is not at /proc";
  return bpfOwnersBlocker(files, deno.build.arch);
}

/**
 * Reads socket owners through the kernel's BPF task-file iterator (see `bpf_owners.ts`): the
 * program is loaded at once, and on Deno the kernel walks every process's socket fds on another
 * thread while the caller goes on; `finish` waits for that output (nothing is left out for lack
 * of rights). Check {@linkcode bpfOwnersUnavailable} first. Should the kernel refuse the program
 * all the same, `finish` scans `/proc/<pid>/fd` on this thread instead, and `state` keeps the
 * refusal so that later scans go there directly.
 *
 * @param options Where procfs is mounted (it must be `/proc`).
 * @param libc The bound C library.
 * @param state The source's memory of earlier scans; told how this one went by `finish`.
 * @param expected About how many socket fds there are (sizes the read; 0 when unknown).
 * @returns The scan, under way.
 *
 * @example
 * ```ts ignore
 * import { bpfOwnersUnavailable, startBpfOwnerScan } from "./processes.ts";
 * import { loadLibc } from "./_libc.ts";
 * const libc = loadLibc();
 * const state = { used: false, failure: null };
 * if (bpfOwnersUnavailable("/proc", libc, state) === null) {
 *   const { byInode } = await startBpfOwnerScan({}, libc, state).finish();
 *   console.log(byInode.size, state.used);
 * }
 * ```
 */
export function startBpfOwnerScan(
  options: ProcfsOptions,
  libc: Libc,
  state: BpfOwnerState,
  expected = 0,
): OwnerScan {
  const root = options.procRoot ?? "/proc";
  // The program is loaded and the kernel starts walking the processes' files now (on another
  // thread), while the caller reads the socket tables.
  let iteration: OwnerIteration | null = null;
  let failure: string | null = null;
  try {
    // deno-lint-ignore no-explicit-any
    const arch = (globalThis as any).Deno.build.arch as string;
    iteration = startOwnerIteration(libc.symbols, arch, expected);
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }
  /** The iterator's owners, with the fds of the processes it wrote nothing for. */
  const viaIterator = (
    owners: OwnerMap,
    holders: ReadonlySet<number>,
  ): SocketOwners => {
    // Processes the iterator wrote nothing for hold no socket, or were started since, or are
    // hidden from it (a kernel may shield a process, as some sandboxes do their init): their
    // fd directories are read as usual, so such a process is found or counted as unreadable
    // just as the fd scan alone would.
    const rest = pidDirs(root).filter((pid) => !holders.has(pid));
    const scanner = new FdScanner(files, libc.symbols);
    owners.incomplete = !scanner.scanAll(root, rest, owners.add).complete;
    return owners.finish();
  };
  return {
    finish: async () => {
      if (iteration) {
        const owners = new OwnerMap();
        const holders = new Set<number>();
        let last = -1;
        let read = false;
        try {
          await iteration.finish((inode, pid) => {
            owners.add(inode, pid);
            // A process's records come together.
            if (pid !== last) holders.add(last = pid);
          }, (records) => owners.reserve(records));
          read = true;
        } catch (err) {
          failure = err instanceof Error ? err.message : String(err);
        }
        if (read) {
          state.used = true;
          return viaIterator(owners, holders);
        }
      }
      state.used = false;
      state.failure = failure;
      return scanSocketOwners(options, libc);
    },
    // The iterator is closed once its read ends, waited for or not.
    cancel: () => {},
    helperScanned: 0,
    taken: 0,
    shared: false,
  };
}

/**
 * Reads the boot time from `/proc/stat`.
 *
 * @param options Where procfs is mounted.
 * @returns Seconds since the epoch at which the system booted.
 */
function readBootTime(options: ProcfsOptions): number {
  const file = `${options.procRoot ?? "/proc"}/stat`;
  return parseBootTime(files.readText(file, "latin1"), file);
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
      const passwd = attempt(() => files.readText(options.passwdFile ?? "/etc/passwd", "utf8"));
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

const utf8Text = new TextDecoder();

/**
 * Whether `name` is longer than `comm` and starts with it. comm is the name's first 15 bytes, so
 * a character the kernel cut in the middle ends comm as U+FFFD: then the name's own first 15
 * bytes, decoded the same way, are compared.
 */
function startsWithComm(name: string, comm: string): boolean {
  if (name.length > comm.length && name.startsWith(comm)) return true;
  if (!comm.endsWith("\ufffd")) return false;
  const bytes = utf8.encode(name);
  return bytes.length > 15 && utf8Text.decode(bytes.subarray(0, 15)) === comm;
}

/**
 * The executable name. The kernel keeps at most 15 bytes of it (comm); when comm may have been
 * cut, the first of these whose file name starts with comm is the whole name: the image the
 * process runs, the name it was started by (argv[0]: a link to the image, as `busybox` applets
 * are), and the script an interpreter runs (argv[1]: the kernel names a script's process after
 * the script, and runs the interpreter with the script's path after it).
 *
 * @param comm The name from `stat`.
 * @param path The image's path, or null.
 * @param cmdline The raw command line (NUL-separated), or a function that reads it, or null.
 */
function processName(
  comm: string,
  path: string | null,
  cmdline: string | null | (() => string | null),
): string {
  if (!maybeCut(comm)) return comm;
  const named = (file: string | undefined) => {
    // The folder part ends at the last "/" (a folder's name may hold a line break).
    const bare = file?.replace(/ \(deleted\)$/, "");
    const base = bare?.slice(bare.lastIndexOf("/") + 1);
    return base !== undefined && startsWithComm(base, comm) ? base : null;
  };
  const fromImage = named(path ?? undefined);
  if (fromImage !== null) return fromImage;
  const args = (typeof cmdline === "function" ? cmdline() : cmdline)?.split("\0");
  return named(args?.[0]) ?? named(args?.[1]) ?? comm;
}

function readStat(root: string, pid: number): { value: ProcStat } | { failure: ReadFailure } {
  const file = `${root}/${pid}/stat`;
  return attempt(() => parseProcStat(files.readText(file, "utf8"), file));
}

/** Zombie (`Z`) or dead (`X`): the process has exited and only its table entry remains. */
function isDead(state: string): boolean {
  return state === "Z" || state === "X";
}

/**
 * The `/proc` directory of a thread of `pid` that still runs, other than its main thread: after
 * the main thread ends (pthread_exit) the process runs on, but its own directory no longer shows
 * an image, command line or files. Null when there is none.
 */
function liveThreadDir(root: string, pid: number): string | null {
  const tasks = attempt(() => files.readDir(`${root}/${pid}/task`));
  if ("failure" in tasks) return null;
  for (const tid of tasks.value) {
    if (tid === String(pid)) continue;
    const file = `${root}/${pid}/task/${tid}/stat`;
    const stat = attempt(() => parseProcStat(files.readText(file, "utf8"), file));
    if ("value" in stat && !isDead(stat.value.state)) return `${root}/${pid}/task/${tid}`;
  }
  return null;
}

function describeOne(pid: number, ctx: Context): ProcessInfo {
  let dir = `${ctx.root}/${pid}`;
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
  let zombie = isDead(state);
  if (zombie) {
    // Only the main thread may have ended: then the others tell what the process is.
    const live = liveThreadDir(ctx.root, pid);
    if (live !== null) [dir, zombie] = [live, false];
  }

  const cmdline = attempt(() => files.readText(`${dir}/cmdline`, "utf8"));
  const joined = "value" in cmdline ? joinCmdline(cmdline.value) : null;
  // No image and no command line: a kernel thread, or a process that is exiting (a zombie's
  // memory is already gone, and so is that of a process still freeing it), which a second look
  // at its state tells apart.
  const exited = (): boolean => {
    if (zombie || (flags & PF_EXITING) !== 0) return true;
    const again = readStat(ctx.root, pid);
    return "failure" in again || isDead(again.value.state) ||
      (again.value.flags & PF_EXITING) !== 0;
  };
  const imageless = (): Reason => {
    if ((flags & PF_KTHREAD) !== 0) return "system-process";
    return exited() ? "process-exited" : "system-process";
  };

  let path: string | null = null;
  const exe = attempt(() => linkTarget(`${dir}/exe`));
  if ("value" in exe) {
    // A " (deleted)" suffix stays: the image was replaced or removed while running. A path that
    // is not UTF-8 cannot be read as text without native calls under Deno.
    if (exe.value === null) unavailable.path = "not-supported";
    else path = exe.value;
  } else if (exe.failure === "access-denied") {
    unavailable.path = "access-denied";
  } else if ((flags & PF_KTHREAD) !== 0 || zombie || joined === "") {
    unavailable.path = imageless();
  } else {
    unavailable.path = exited() ? "process-exited" : "not-found";
  }

  let commandLine: string | null = null;
  if ("failure" in cmdline) unavailable.commandLine = cmdline.failure;
  else if (joined === "") unavailable.commandLine = imageless();
  else commandLine = joined;

  let userName: string | null = null;
  const status = attempt(() => {
    const file = `${dir}/status`;
    return parseEffectiveUid(files.readText(file, "utf8"), file);
  });
  if ("value" in status) userName = ctx.userNames().get(status.value) ?? String(status.value);
  else unavailable.userName = status.failure;

  let services: string[] | null = null;
  const cgroup = attempt(() => files.readText(`${dir}/cgroup`, "utf8"));
  if ("value" in cgroup) {
    const unit = parseSystemdUnit(cgroup.value);
    services = unit === null ? [] : [unit];
  } else unavailable.services = cgroup.failure;

  return {
    pid,
    name: processName(comm, path, "value" in cmdline ? cmdline.value : null),
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
      const exe = attempt(() => linkTarget(`${root}/${pid}/exe`));
      name = processName(comm, "value" in exe ? exe.value : null, () => {
        const cmdline = attempt(() => files.readText(`${root}/${pid}/cmdline`, "utf8"));
        return "value" in cmdline ? cmdline.value : null;
      });
    }
    out.push({ pid, parentPid, name, startTime: startTimeIso(bootTime, startTicks) });
  }
  return out;
}

/** The `sockstat` counts of TCP and UDP sockets, TIME_WAIT included. */
const INET_COUNTS = ["TCP", "TCP:tw", "UDP", "TCP6", "UDP6"];

/**
 * The processes among `pids` whose open files this user may not read (`/proc/<pid>/fd` refused),
 * so the sockets they hold cannot be tied to them. A process that has exited is not among them.
 *
 * @param options Where procfs is mounted.
 * @param pids The processes to look at.
 * @returns Their pids, ascending.
 *
 * @example
 * ```ts
 * import { unreadableFdDirs } from "./processes.ts";
 * unreadableFdDirs({}, [1]); // [] as root; [1] for a user who may not read init's files
 * ```
 */
export function unreadableFdDirs(options: ProcfsOptions, pids: Iterable<number>): number[] {
  const root = options.procRoot ?? "/proc";
  const out: number[] = [];
  for (const pid of new Set(pids)) {
    const read = attempt(() => files.readDir(`${root}/${pid}/fd`));
    if ("failure" in read && read.failure === "access-denied") out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

/**
 * The process that `id` is a thread of, when `id` names a thread other than a process's main
 * thread. `/proc/<id>` answers for every thread (only its listing leaves them out), and its fd
 * directory is the whole process's, so a thread id must not be taken for a process.
 *
 * @param options Where procfs is mounted.
 * @param id A process or thread id.
 * @returns The id of the thread's process; null for a process, or an id that does not run.
 *
 * @example
 * ```ts
 * import { threadGroupOf } from "./processes.ts";
 * threadGroupOf({}, 1); // null: init is a process
 * ```
 */
export function threadGroupOf(options: ProcfsOptions, id: number): number | null {
  const file = `${options.procRoot ?? "/proc"}/${id}/status`;
  try {
    const group = parseThreadGroup(files.readText(file, "latin1"), file);
    return group === id ? null : group;
  } catch {
    return null; // gone, or unreadable: the scan says what it finds
  }
}

/**
 * Where the image a process runs can be read: its `exe` link, which opens the file the process
 * was started from even after that file was deleted or replaced, and in another mount namespace
 * opens that namespace's file. After the main thread ends (pthread_exit) the link is read through
 * a thread that still runs.
 *
 * @param options Where procfs is mounted.
 * @param pid The process.
 * @param startTime Its start time as {@linkcode describeProcesses} gave it: `stillSame` is false
 *   once the pid names a process started at another time.
 * @returns The link to open and the check to make once it is open.
 *
 * @example
 * ```ts
 * import { describeProcesses, runningImage } from "./processes.ts";
 * import { openSync } from "node:fs";
 * import process from "node:process";
 * const self = describeProcesses([process.pid]).get(process.pid)!;
 * const image = runningImage({}, process.pid, self.startTime);
 * const fd = openSync(image.file, "r"); // the running image, whatever is at self.path now
 * image.stillSame(); // true: this process still runs, so fd is its image
 * ```
 */
export function runningImage(
  options: ProcfsOptions,
  pid: number,
  startTime: string | null,
): RunningImage {
  const root = options.procRoot ?? "/proc";
  const stat = readStat(root, pid);
  let dir = `${root}/${pid}`;
  if ("value" in stat && isDead(stat.value.state)) dir = liveThreadDir(root, pid) ?? dir;
  return {
    file: `${dir}/exe`,
    stillSame: () => {
      if (startTime === null) return false;
      const now = readStat(root, pid);
      if ("failure" in now) return false;
      return startTimeIso(readBootTime(options), now.value.startTicks) === startTime;
    },
  };
}

/**
 * The network namespaces other than this process's that hold TCP or UDP sockets: netlink and
 * `/proc/net` show only the namespace they are asked from, so a container's sockets are missing
 * from a listing made outside it. Each namespace's sockets are counted from the `sockstat` and
 * `sockstat6` files `/proc/<pid>/net/` shows for the first of its processes (the namespace's own
 * counters: reading its socket tables instead would walk every socket of the machine). A process
 * whose namespace cannot be read (another user's, without privileges) is left out. Each
 * namespace's pids are in order, but for its first process that is not a kernel thread, which
 * leads.
 *
 * @param options Where procfs is mounted.
 * @param pids Look at these processes only (default every process).
 * @returns The namespaces with sockets, in the order their lowest pids come.
 *
 * @example
 * ```ts
 * import { otherNetworkNamespaces } from "./processes.ts";
 * for (const n of otherNetworkNamespaces()) {
 *   console.log(`${n.sockets} sockets in ${n.namespace}: nsenter -t ${n.pids[0]} -n procconn`);
 * }
 * ```
 */
export function otherNetworkNamespaces(
  options: ProcfsOptions = {},
  pids?: Iterable<number>,
): OtherNetwork[] {
  const root = options.procRoot ?? "/proc";
  const own = attempt(() => files.readLink(`${root}/self/ns/net`));
  if (!("value" in own)) return [];
  const found = new Map<string, number[]>();
  for (const pid of pids ? [...new Set(pids)].sort((a, b) => a - b) : pidDirs(root)) {
    const link = attempt(() => files.readLink(`${root}/${pid}/ns/net`));
    if (!("value" in link) || link.value === own.value) continue;
    const list = found.get(link.value);
    if (list) list.push(pid);
    else found.set(link.value, [pid]);
  }
  const out: OtherNetwork[] = [];
  for (const [namespace, members] of found) {
    let sockets = 0;
    for (const file of ["sockstat", "sockstat6"]) {
      const text = attempt(() => files.readText(`${root}/${members[0]}/net/${file}`, "latin1"));
      if (!("value" in text)) continue;
      const counts = parseSockstat(text.value);
      for (const label of INET_COUNTS) sockets += counts.get(label) ?? 0;
    }
    if (sockets > 0) out.push({ namespace, pids: userProcessFirst(root, members), sockets });
  }
  return out;
}

/**
 * `pids` (in order) with the first that is not a kernel thread moved to the front: the pid a hint
 * names (`nsenter -t <pid> -n`) should be a process the user knows, not kthreadd, which is the
 * first the host's namespace shows from inside another one where pid 1 cannot be read.
 */
function userProcessFirst(root: string, pids: number[]): number[] {
  const at = pids.findIndex((pid) => {
    const stat = readStat(root, pid);
    return "value" in stat && (stat.value.flags & PF_KTHREAD) === 0;
  });
  return at <= 0 ? pids : [pids[at], ...pids.slice(0, at), ...pids.slice(at + 1)];
}
