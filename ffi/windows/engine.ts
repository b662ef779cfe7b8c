/**
 * The Windows backend: socket tables from the IP Helper API (iphlpapi.dll) and process details
 * from a Toolhelp snapshot plus per-process queries (kernel32.dll, ntdll.dll, advapi32.dll),
 * called through FFI.
 *
 * The socket tables are read in their owner-module form, which adds each socket's creation time
 * and the module (service) that owns it; where that form fails the owner-pid form is read
 * instead. Every call beyond the basic tables and process queries is optional: a Windows version
 * (or Wine) without it leaves the field null with a reason.
 *
 * @module
 */
import type { Family, Protocol, Reason } from "../../core/record.ts";
import type {
  ProcessInfo,
  ProcessSummary,
  RawSocket,
  SocketQuery,
  SocketSource,
} from "../../core/source.ts";
import { openLibrary, pointerAddress, systemLibraryPath } from "../_native.ts";
import { runtimeName } from "../_runtime.ts";
import type { Lookup } from "./_common.ts";
import { createStatsReader } from "./_estats.ts";
import { createServiceLookup } from "./_owner_module.ts";
import { createUserNameReader, readCommandLine, readProcessCreations } from "./_process_details.ts";
import {
  ADVAPI32_SYMBOLS,
  type Advapi32Symbols,
  AF_INET,
  AF_INET6,
  ERROR_INSUFFICIENT_BUFFER,
  INVALID_HANDLE_VALUE,
  IPHLPAPI_SYMBOLS,
  type IphlpapiSymbols,
  KERNEL32_SYMBOLS,
  type Kernel32Symbols,
  MAX_LONG_PATH_CHARS,
  NO_ERROR,
  NTDLL_SYMBOLS,
  type NtdllSymbols,
  PROCESS_NAME_WIN32,
  PROCESS_QUERY_LIMITED_INFORMATION,
  TCP_TABLE_OWNER_MODULE_ALL,
  TCP_TABLE_OWNER_PID_ALL,
  TH32CS_SNAPPROCESS,
  THREAD_QUERY_LIMITED_INFORMATION,
  TOKEN_ELEVATION_CLASS,
  TOKEN_QUERY,
  UDP_TABLE_OWNER_MODULE,
  UDP_TABLE_OWNER_PID,
} from "./_symbols.ts";
import {
  decodeFiletime,
  decodeProcessEntry,
  decodeTcp4ModuleTable,
  decodeTcp4Table,
  decodeTcp6ModuleTable,
  decodeTcp6Table,
  decodeUdp4ModuleTable,
  decodeUdp4Table,
  decodeUdp6ModuleTable,
  decodeUdp6Table,
  decodeWideString,
  filetimeToIso,
  OWNER_MODULE_TABLE_HEADER,
  OWNER_PID_TABLE_HEADER,
  type OwnerModuleRow,
  type ProcessCreation,
  type ProcessEntry,
  PROCESSENTRY32W_SIZE,
  TCP4_ROW_SIZE,
  TCP6_ROW_SIZE,
  UDP4_ROW_SIZE,
  UDP6_ROW_SIZE,
  UNIX_EPOCH_AS_FILETIME,
} from "./decode.ts";

export type { Advapi32Symbols, IphlpapiSymbols, Kernel32Symbols, NtdllSymbols };

/** The bound DLLs one operation works with, released with `close` when it is done. */
export interface WindowsLibraries {
  /** iphlpapi.dll. */
  iphlpapi: IphlpapiSymbols;
  /** kernel32.dll. */
  kernel32: Kernel32Symbols;
  /** advapi32.dll; without it user names are not supported. */
  advapi32?: Advapi32Symbols;
  /**
   * ntdll.dll; without it command lines are not supported, nor is anything that needs a
   * buffer's address (services, user names).
   */
  ntdll?: NtdllSymbols;
  /** Unloads what was opened. */
  close(): void;
}

/** Options of {@linkcode createWindowsSource}. */
export interface WindowsSourceOptions {
  /**
   * Opens the libraries for one operation. The default loads iphlpapi.dll, kernel32.dll,
   * advapi32.dll and ntdll.dll from System32; tests pass fakes here.
   */
  openLibraries?: () => WindowsLibraries;
}

/** How many times a socket table call is retried when the table outgrows the buffer. */
export const TABLE_ATTEMPTS = 8;
const PID_IDLE = 0;
const PID_SYSTEM = 4;

/**
 * Creates the Windows backend. Libraries are loaded per operation (and unloaded after it), so
 * creating the source has no side effects and works on any OS; calling it needs Windows.
 *
 * @param options Where the native functions come from.
 * @returns The backend, named `windows-iphlpapi`.
 *
 * @example
 * ```ts ignore
 * import { createWindowsSource } from "./engine.ts";
 * const source = createWindowsSource();
 * const sockets = await source.listSockets({ protocols: ["TCP"], families: ["IPv4"] });
 * const processes = await source.describeProcesses(sockets.flatMap((s) => s.pids));
 * ```
 */
export function createWindowsSource(options: WindowsSourceOptions = {}): SocketSource {
  const open = options.openLibraries ?? openSystemLibraries;
  function withLibraries<T>(work: (libs: WindowsLibraries) => T): Promise<T> {
    try {
      const libs = open();
      try {
        return Promise.resolve(work(libs));
      } finally {
        libs.close();
      }
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return {
    name: "windows-iphlpapi",
    listSockets: (query) => withLibraries((libs) => listSockets(libs, query)),
    describeProcesses: (pids) => withLibraries((libs) => describeProcesses(libs, new Set(pids))),
    listProcesses: () => withLibraries(listProcesses),
    processesOfThreads(ids: readonly number[]): Map<number, number> {
      const owners = new Map<number, number>();
      if (ids.length === 0) return owners;
      try {
        // The libraries are opened once for every id: thousands of pids that matched nothing
        // (piped from an old snapshot) are thousands of ids to look at.
        const libs = open();
        try {
          for (const id of ids) {
            const owner = processOfThread(libs.kernel32, id);
            if (owner !== null) owners.set(id, owner);
          }
        } finally {
          libs.close();
        }
      } catch {
        // Only explains a pid that matched nothing: never a reason to fail.
      }
      return owners;
    },
    runsElevated(): boolean | null {
      try {
        const libs = open();
        try {
          return tokenIsElevated(libs);
        } finally {
          libs.close();
        }
      } catch {
        return null; // Only shapes a note's advice.
      }
    },
  };
}

/** Whether this process's token is elevated (TokenElevation); null when it cannot be read. */
function tokenIsElevated(libs: WindowsLibraries): boolean | null {
  const k32 = libs.kernel32, adv = libs.advapi32;
  const closeToken = k32.CloseHandleValue;
  if (
    !k32.GetCurrentProcessId || !closeToken || !adv?.OpenProcessToken || !adv.GetTokenInformation
  ) {
    return null;
  }
  const process = k32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, k32.GetCurrentProcessId());
  if (process === null) return null;
  try {
    const handle = new BigUint64Array(1);
    if (!adv.OpenProcessToken(process, TOKEN_QUERY, handle) || handle[0] === 0n) return null;
    try {
      const elevation = new Uint32Array(1);
      const returned = new Uint32Array(1);
      if (!adv.GetTokenInformation(handle[0], TOKEN_ELEVATION_CLASS, elevation, 4, returned)) {
        return null;
      }
      return elevation[0] !== 0;
    } finally {
      closeToken(handle[0]);
    }
  } finally {
    k32.CloseHandle(process);
  }
}

/**
 * The process that thread `id` runs in, or null when no thread has that id (process and thread
 * ids come from one pool, so a running process's id is no thread's) or it cannot be opened.
 */
function processOfThread(k32: Kernel32Symbols, id: number): number | null {
  if (!k32.OpenThread || !k32.GetProcessIdOfThread) return null;
  const handle = k32.OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, id);
  if (handle === null) return null;
  try {
    const pid = k32.GetProcessIdOfThread(handle);
    return pid === 0 || pid === id ? null : pid;
  } finally {
    k32.CloseHandle(handle);
  }
}

function openSystemLibraries(): WindowsLibraries {
  const opened: { close(): void }[] = [];
  try {
    const iphlpapi = openLibrary(systemLibraryPath("iphlpapi.dll"), IPHLPAPI_SYMBOLS);
    opened.push(iphlpapi);
    const kernel32 = openLibrary(systemLibraryPath("kernel32.dll"), KERNEL32_SYMBOLS);
    opened.push(kernel32);
    // Only optional symbols come from these two; a DLL that does not load leaves their fields
    // unsupported.
    const advapi32 = openOptional("advapi32.dll", ADVAPI32_SYMBOLS);
    if (advapi32) opened.push(advapi32);
    const ntdll = openOptional("ntdll.dll", NTDLL_SYMBOLS);
    if (ntdll) opened.push(ntdll);
    return {
      iphlpapi: iphlpapi.symbols,
      kernel32: kernel32.symbols,
      advapi32: advapi32?.symbols,
      ntdll: ntdll?.symbols,
      close: () => closeAll(opened),
    };
  } catch (err) {
    closeAll(opened);
    throw err;
  }
}

function openOptional<const S extends Deno.ForeignLibraryInterface>(name: string, symbols: S) {
  try {
    return openLibrary(systemLibraryPath(name), symbols);
  } catch {
    return null;
  }
}

function closeAll(opened: { close(): void }[]): void {
  for (const lib of opened.reverse()) lib.close();
}

/** One row of a socket table: the socket and the bytes the per-row calls take. */
interface TableRow {
  socket: RawSocket;
  row: Uint8Array;
  /** The row's `OwningModuleInfo`; only the owner-module tables have one. */
  owningModuleInfo?: Uint8Array;
}

function listSockets(libs: WindowsLibraries, query: SocketQuery): RawSocket[] {
  const ip = libs.iphlpapi;
  const services = createServiceLookup(ip, libs.ntdll);
  const stats = query.stats ? createStatsReader(ip, query.enableStats === true) : null;
  const out: RawSocket[] = [];
  for (const protocol of unique(query.protocols)) {
    for (const family of unique(query.families)) {
      for (const { socket, row, owningModuleInfo } of readSockets(ip, protocol, family)) {
        if (owningModuleInfo) {
          const pid = socket.pids[0];
          setSocketField(
            socket,
            "services",
            services({ protocol, family, pid, row, owningModuleInfo }),
          );
        }
        if (stats && protocol === "TCP") setSocketField(socket, "stats", stats(socket, row));
        out.push(socket);
      }
    }
  }
  return out;
}

function setSocketField<K extends "services" | "stats">(
  socket: RawSocket,
  field: K,
  found: Lookup<NonNullable<RawSocket[K]>>,
): void {
  if ("value" in found) {
    socket[field] = found.value;
  } else {
    socket[field] = null;
    socket.unavailable = { ...socket.unavailable, [field]: found.reason };
  }
}

/** Reads one table in its owner-module form, or in its owner-pid form when that fails. */
function readSockets(ip: IphlpapiSymbols, protocol: Protocol, family: Family): TableRow[] {
  const af = family === "IPv4" ? AF_INET : AF_INET6;
  const tcp = protocol === "TCP";
  const what = `${tcp ? "GetExtendedTcpTable" : "GetExtendedUdpTable"} (${family})`;
  const call = (tableClass: number) => (buf: Uint8Array | null, size: Uint32Array) =>
    tcp
      ? ip.GetExtendedTcpTable(buf, size, 0, af, tableClass, 0)
      : ip.GetExtendedUdpTable(buf, size, 0, af, tableClass, 0);

  let moduleRows: OwnerModuleRow[] | null;
  try {
    const bytes = readTable(what, call(tcp ? TCP_TABLE_OWNER_MODULE_ALL : UDP_TABLE_OWNER_MODULE));
    const decode = tcp
      ? (family === "IPv4" ? decodeTcp4ModuleTable : decodeTcp6ModuleTable)
      : (family === "IPv4" ? decodeUdp4ModuleTable : decodeUdp6ModuleTable);
    moduleRows = decode(bytes);
  } catch {
    // Whatever went wrong with the owner-module form (a failure code, a table that kept
    // growing, a row that does not decode), the owner-pid form still gives sockets and owners.
    moduleRows = null;
  }
  if (moduleRows) return moduleRows;

  const bytes = readTable(what, call(tcp ? TCP_TABLE_OWNER_PID_ALL : UDP_TABLE_OWNER_PID));
  const [sockets, size] = tcp
    ? (family === "IPv4"
      ? [decodeTcp4Table(bytes), TCP4_ROW_SIZE]
      : [decodeTcp6Table(bytes), TCP6_ROW_SIZE])
    : (family === "IPv4"
      ? [decodeUdp4Table(bytes), UDP4_ROW_SIZE]
      : [decodeUdp6Table(bytes), UDP6_ROW_SIZE]);
  const notSupported: Reason = "not-supported";
  return sockets.map((socket, i) => {
    const at = OWNER_PID_TABLE_HEADER + i * size;
    socket.created = null;
    socket.services = null;
    socket.unavailable = { created: notSupported, services: notSupported };
    return { socket, row: bytes.subarray(at, at + size) };
  });
}

/**
 * Runs a GetExtended*Table call until the table fits: the first call asks for the size, later
 * ones grow the buffer with slack because sockets open between calls.
 */
function readTable(
  what: string,
  call: (buf: Uint8Array | null, size: Uint32Array) => number,
): Uint8Array {
  const size = new Uint32Array(1);
  let buf: Uint8Array | null = null;
  for (let attempt = 1; attempt <= TABLE_ATTEMPTS; attempt++) {
    size[0] = buf?.length ?? 0;
    const rc = call(buf, size);
    // No buffer written: zero rows (8 bytes hold the header of either table form).
    if (rc === NO_ERROR) return buf ?? new Uint8Array(OWNER_MODULE_TABLE_HEADER);
    if (rc !== ERROR_INSUFFICIENT_BUFFER) {
      throw new Error(`${what} failed: error code ${rc}`);
    }
    const needed = Math.max(size[0], buf?.length ?? 0);
    buf = new Uint8Array(needed + Math.max(1024, needed >>> 2));
  }
  const last = buf?.length ?? 0;
  throw new Error(
    `${what} failed: the table kept outgrowing the buffer after ${TABLE_ATTEMPTS} attempts ` +
      `(last size ${last} bytes, ${size[0]} bytes needed)`,
  );
}

/** Reads the Toolhelp process snapshot: pid, parent pid and exe name of every process. */
function snapshotProcesses(k32: Kernel32Symbols): Map<number, ProcessEntry> {
  const snapshot = k32.CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  const address = pointerAddress(snapshot);
  if (address === 0n || address === INVALID_HANDLE_VALUE) {
    throw new Error("CreateToolhelp32Snapshot failed: no process snapshot was returned");
  }
  const entries = new Map<number, ProcessEntry>();
  try {
    const entry = new Uint8Array(PROCESSENTRY32W_SIZE);
    const dwSize = new DataView(entry.buffer);
    dwSize.setUint32(0, PROCESSENTRY32W_SIZE, true);
    if (!k32.Process32FirstW(snapshot, entry)) {
      throw new Error("Process32FirstW failed: the process snapshot has no first entry");
    }
    do {
      const e = decodeProcessEntry(entry);
      entries.set(e.pid, e);
      dwSize.setUint32(0, PROCESSENTRY32W_SIZE, true);
    } while (k32.Process32NextW(snapshot, entry));
  } finally {
    k32.CloseHandle(snapshot);
  }
  return entries;
}

/** What could be read through a process handle; null when the process could not be opened. */
interface OpenedDetails {
  path: string | null;
  startTime: string | null;
  /** Why `startTime` is null though the process was opened. */
  startTimeReason?: Reason;
  commandLine?: Lookup<string>;
  userName?: Lookup<string>;
}

/** The per-call state for the fields beyond path and start time. */
interface ExtraReaders {
  ntdll: NtdllSymbols | undefined;
  userName: (process: Deno.PointerObject) => Lookup<string>;
}

/**
 * Opens a process for limited queries and reads its creation time, and with `pathBuffer` its
 * image path, and with `extra` its command line and user name.
 */
function readOpenedDetails(
  k32: Kernel32Symbols,
  pid: number,
  pathBuffer: Uint16Array | null,
  extra?: ExtraReaders,
): OpenedDetails | null {
  const handle = k32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
  if (handle === null) return null;
  try {
    let path: string | null = null;
    if (pathBuffer) {
      const chars = new Uint32Array([pathBuffer.length]);
      if (k32.QueryFullProcessImageNameW(handle, PROCESS_NAME_WIN32, pathBuffer, chars)) {
        const bytes = new Uint8Array(pathBuffer.buffer, 0, 2 * pathBuffer.length);
        path = decodeWideString(bytes, 0, Math.min(chars[0], pathBuffer.length)) || null;
      }
    }
    const creation = new Uint8Array(8);
    const unused = new Uint8Array(24);
    let startTime: string | null = null;
    let startTimeReason: Reason | undefined;
    if (
      k32.GetProcessTimes(
        handle,
        creation,
        unused.subarray(0, 8),
        unused.subarray(8, 16),
        unused.subarray(16, 24),
      ) && creation.some((b) => b !== 0)
    ) {
      try {
        startTime = decodeFiletime(creation);
      } catch {
        // Beyond the year 9999: Wine gives 0x5555555555555555 for a process still being made.
        startTimeReason = "out-of-range";
      }
    }
    if (!extra) return { path, startTime, startTimeReason };
    return {
      path,
      startTime,
      startTimeReason,
      commandLine: readCommandLine(extra.ntdll, handle),
      userName: extra.userName(handle),
    };
  } finally {
    k32.CloseHandle(handle);
  }
}

function describeProcesses(libs: WindowsLibraries, pids: Set<number>): Map<number, ProcessInfo> {
  const out = new Map<number, ProcessInfo>();
  if (pids.size === 0) return out;
  const k32 = libs.kernel32;
  const before = createdBefore();
  const table = snapshotProcesses(k32);
  // Each process's creation time and session, read without opening it, and only once a process
  // was refused: for its start time and session, and for the exact test below. Through koffi (the
  // Node executable) NtQuerySystemInformation never returns under Wine 10, a core at 100%, for
  // any information class and buffer, synchronous or not, while NtQueryInformationProcess, whose
  // stub differs only in its number, returns, and kernel32 functions that make the same call
  // inside (K32EnumProcesses, GetSystemTimes) return too. Until a real Windows shows koffi's call
  // returns, Node does without, as on a system that does not answer.
  let created: Map<number, ProcessCreation> | null | undefined;
  const creations = () =>
    created === undefined
      ? created = runtimeName() === "deno" ? readProcessCreations(libs.ntdll) : null
      : created;
  const sameProcess = (pid: number) => creationOf(table.get(pid), creations()?.get(pid), before);
  const pathBuffer = new Uint16Array(MAX_LONG_PATH_CHARS);
  const extra: ExtraReaders = {
    ntdll: libs.ntdll,
    userName: createUserNameReader(k32, libs.advapi32, libs.ntdll),
  };
  const denied: ProcessInfo[] = [];
  for (const pid of pids) {
    const info = describeProcess(k32, pid, table.get(pid), pathBuffer, extra);
    const { startTime, sessionId } = info.unavailable;
    const found = startTime === "access-denied" || sessionId === "access-denied"
      ? sameProcess(pid)
      : null;
    if (found && startTime === "access-denied") startTimeFrom(info, found.created);
    if (found && sessionId === "access-denied") {
      info.sessionId = found.sessionId;
      delete info.unavailable.sessionId;
    }
    out.set(pid, info);
    if (Object.values(info.unavailable).includes("access-denied")) denied.push(info);
  }
  // A process that was in the snapshot but could not be opened was denied, or it exited in
  // between: a second look tells which. With creation times, the pid must still name a process
  // created at the same instant; without them, one with the same parent and image name (a pid
  // reused by the same program under the same parent then passes for the first).
  if (denied.length > 0) {
    const first = creations();
    const later = first ? readProcessCreations(libs.ntdll) : null;
    let now: Map<number, ProcessEntry> | undefined;
    for (const info of denied) {
      const createdAt = sameProcess(info.pid)?.created ?? null;
      const found = first?.get(info.pid);
      let same: boolean;
      if (later && createdAt !== null) same = later.get(info.pid)?.created === createdAt;
      // Not in the first list, or another process under the pid by then: the snapshot's is gone.
      else if (first && createdAt === null && found?.created !== 0n) same = false;
      else same = sameEntry(table.get(info.pid)!, (now ??= snapshotProcesses(k32)).get(info.pid));
      if (same) continue;
      for (const [field, reason] of Object.entries(info.unavailable)) {
        if (reason === "access-denied") {
          info.unavailable[field as keyof ProcessInfo["unavailable"]] = "process-exited";
        }
      }
    }
  }
  return out;
}

/** A FILETIME after the creation of every process in a snapshot taken from now on. */
function createdBefore(): bigint {
  return BigInt(Date.now() + 1) * 10_000n + UNIX_EPOCH_AS_FILETIME;
}

/**
 * The creation NtQuerySystemInformation listed for a snapshot's entry, when it is the same
 * process: the snapshot's parent, and created before the snapshot (a pid reused in between has
 * another parent, or a later creation time). The System Idle Process (created 0) has none.
 */
function creationOf(
  entry: ProcessEntry | undefined,
  found: ProcessCreation | undefined,
  before: bigint,
): ProcessCreation | null {
  return entry && found && found.parentPid === entry.parentPid && found.created !== 0n &&
      found.created <= before
    ? found
    : null;
}

/** Fills a denied start time from the process's creation time, when there is one. */
function startTimeFrom(info: ProcessInfo, created: bigint | null): void {
  if (created === null) return;
  try {
    info.startTime = filetimeToIso(created);
    delete info.unavailable.startTime;
  } catch {
    info.unavailable.startTime = "out-of-range";
  }
}

/** The pid still names a process with the same parent and image name. */
function sameEntry(before: ProcessEntry, after: ProcessEntry | undefined): boolean {
  return after !== undefined && after.parentPid === before.parentPid &&
    after.exeFile === before.exeFile;
}

/** A process whose every field but the pid (and maybe the name) is null for one reason. */
function unreadable(pid: number, name: string | null, reason: Reason): ProcessInfo {
  return {
    pid,
    name,
    path: null,
    parentPid: null,
    startTime: null,
    commandLine: null,
    userName: null,
    sessionId: null,
    unavailable: {
      ...(name === null ? { name: reason } : {}),
      path: reason,
      parentPid: reason,
      startTime: reason,
      commandLine: reason,
      userName: reason,
      sessionId: reason,
    },
  };
}

function describeProcess(
  k32: Kernel32Symbols,
  pid: number,
  entry: ProcessEntry | undefined,
  pathBuffer: Uint16Array,
  extra: ExtraReaders,
): ProcessInfo {
  // The System Idle Process cannot be opened and has no image, start time or account.
  if (pid === PID_IDLE) return unreadable(pid, "System Idle Process", "system-process");
  if (!entry) return unreadable(pid, null, "process-exited");
  const info: ProcessInfo = {
    pid,
    name: pid === PID_SYSTEM ? "System" : entry.exeFile || null,
    path: null,
    parentPid: entry.parentPid,
    startTime: null,
    commandLine: null,
    userName: null,
    sessionId: null,
    unavailable: {},
  };
  if (info.name === null) info.unavailable.name = "not-found";
  // Without GetLastError (Deno does not capture it) a failed open of a pid that is in the
  // snapshot is taken as a denial here; describeProcesses tells an exit in between apart.
  const details = readOpenedDetails(k32, pid, pathBuffer, extra);
  info.path = details?.path ?? null;
  info.startTime = details?.startTime ?? null;
  // The System process is the kernel's: it has no image file or command line to read, elevated
  // or not. Its start time and account are read as any other process's.
  const kernel = pid === PID_SYSTEM;
  if (info.path === null) info.unavailable.path = kernel ? "system-process" : "access-denied";
  if (info.startTime === null) {
    info.unavailable.startTime = details?.startTimeReason ?? "access-denied";
  }
  const denied = { reason: "access-denied" } as const;
  for (const field of ["commandLine", "userName"] as const) {
    const found = details?.[field] ?? denied;
    if ("value" in found) info[field] = found.value;
    else if (kernel && field === "commandLine") info.unavailable[field] = "system-process";
    else info.unavailable[field] = found.reason;
  }
  const session = readSessionId(k32, pid);
  if (typeof session === "number") info.sessionId = session;
  else info.unavailable.sessionId = session;
  return info;
}

function readSessionId(
  k32: Kernel32Symbols,
  pid: number,
): number | "not-supported" | "access-denied" {
  if (!k32.ProcessIdToSessionId) return "not-supported";
  const out = new Uint32Array(1);
  return k32.ProcessIdToSessionId(pid, out) ? out[0] : "access-denied";
}

function listProcesses(libs: WindowsLibraries): ProcessSummary[] {
  const k32 = libs.kernel32;
  const before = createdBefore();
  const table = snapshotProcesses(k32);
  // One call gives every process's creation time without opening any, so the processes this
  // account may not open (other users', protected ones) keep theirs too, and the tree can still
  // tell a parent that a reused pid stands for. A process the list does not vouch for (absent,
  // or another parent) is opened as before. Node does without: see describeProcesses.
  const creations = runtimeName() === "deno" ? readProcessCreations(libs.ntdll) : null;
  const out: ProcessSummary[] = [];
  for (const entry of table.values()) {
    if (entry.pid === PID_IDLE) {
      out.push({ pid: entry.pid, parentPid: null, name: "System Idle Process", startTime: null });
      continue;
    }
    const found = creationOf(entry, creations?.get(entry.pid), before);
    out.push({
      pid: entry.pid,
      parentPid: entry.parentPid,
      name: entry.pid === PID_SYSTEM ? "System" : entry.exeFile || null,
      startTime: found
        ? isoOrNull(found.created)
        : readOpenedDetails(k32, entry.pid, null)?.startTime ?? null,
    });
  }
  return out;
}

/** The FILETIME as ISO 8601, or null when it is beyond what a date holds. */
function isoOrNull(filetime: bigint): string | null {
  try {
    return filetimeToIso(filetime);
  } catch {
    return null;
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
