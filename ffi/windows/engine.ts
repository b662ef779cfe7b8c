/**
 * The Windows backend: socket tables from the IP Helper API (iphlpapi.dll) and process details
 * from a Toolhelp snapshot plus per-process queries (kernel32.dll), called through FFI.
 *
 * @module
 */
import type { Family, Protocol } from "../../core/record.ts";
import type {
  ProcessInfo,
  ProcessSummary,
  RawSocket,
  SocketQuery,
  SocketSource,
} from "../../core/source.ts";
import { openLibrary, pointerAddress, systemLibraryPath } from "../_native.ts";
import {
  AF_INET,
  AF_INET6,
  ERROR_INSUFFICIENT_BUFFER,
  INVALID_HANDLE_VALUE,
  IPHLPAPI_SYMBOLS,
  KERNEL32_SYMBOLS,
  MAX_LONG_PATH_CHARS,
  NO_ERROR,
  PROCESS_NAME_WIN32,
  PROCESS_QUERY_LIMITED_INFORMATION,
  TCP_TABLE_OWNER_PID_ALL,
  TH32CS_SNAPPROCESS,
  UDP_TABLE_OWNER_PID,
} from "./_symbols.ts";
import {
  decodeFiletime,
  decodeProcessEntry,
  decodeTcp4Table,
  decodeTcp6Table,
  decodeUdp4Table,
  decodeUdp6Table,
  decodeWideString,
  type ProcessEntry,
  PROCESSENTRY32W_SIZE,
} from "./decode.ts";

/** The iphlpapi.dll functions the engine calls. */
export type IphlpapiSymbols = Deno.StaticForeignLibraryInterface<typeof IPHLPAPI_SYMBOLS>;
/** The kernel32.dll functions the engine calls; optional ones are null when not exported. */
export type Kernel32Symbols = Deno.StaticForeignLibraryInterface<typeof KERNEL32_SYMBOLS>;

/** The bound DLLs one operation works with, released with `close` when it is done. */
export interface WindowsLibraries {
  /** iphlpapi.dll. */
  iphlpapi: IphlpapiSymbols;
  /** kernel32.dll. */
  kernel32: Kernel32Symbols;
  /** Unloads what was opened. */
  close(): void;
}

/** Options of {@linkcode createWindowsSource}. */
export interface WindowsSourceOptions {
  /**
   * Opens the libraries for one operation. The default loads iphlpapi.dll and kernel32.dll from
   * System32; tests pass fakes here.
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
    listSockets: (query) => withLibraries((libs) => listSockets(libs.iphlpapi, query)),
    describeProcesses: (pids) =>
      withLibraries((libs) => describeProcesses(libs.kernel32, new Set(pids))),
    listProcesses: () => withLibraries((libs) => listProcesses(libs.kernel32)),
  };
}

function openSystemLibraries(): WindowsLibraries {
  const iphlpapi = openLibrary(systemLibraryPath("iphlpapi.dll"), IPHLPAPI_SYMBOLS);
  try {
    const kernel32 = openLibrary(systemLibraryPath("kernel32.dll"), KERNEL32_SYMBOLS);
    return {
      iphlpapi: iphlpapi.symbols,
      kernel32: kernel32.symbols,
      close() {
        kernel32.close();
        iphlpapi.close();
      },
    };
  } catch (err) {
    iphlpapi.close();
    throw err;
  }
}

function listSockets(ip: IphlpapiSymbols, query: SocketQuery): RawSocket[] {
  const out: RawSocket[] = [];
  for (const protocol of unique(query.protocols)) {
    for (const family of unique(query.families)) {
      const sockets = readSockets(ip, protocol, family);
      if (query.stats && protocol === "TCP") {
        // Per-connection counters (TCP EStats) are not read by this engine.
        for (const s of sockets) {
          s.stats = null;
          s.unavailable = { ...s.unavailable, stats: "not-supported" };
        }
      }
      out.push(...sockets);
    }
  }
  return out;
}

function readSockets(ip: IphlpapiSymbols, protocol: Protocol, family: Family): RawSocket[] {
  const af = family === "IPv4" ? AF_INET : AF_INET6;
  if (protocol === "TCP") {
    const bytes = readTable(
      `GetExtendedTcpTable (${family})`,
      (buf, size) => ip.GetExtendedTcpTable(buf, size, 0, af, TCP_TABLE_OWNER_PID_ALL, 0),
    );
    return family === "IPv4" ? decodeTcp4Table(bytes) : decodeTcp6Table(bytes);
  }
  const bytes = readTable(
    `GetExtendedUdpTable (${family})`,
    (buf, size) => ip.GetExtendedUdpTable(buf, size, 0, af, UDP_TABLE_OWNER_PID, 0),
  );
  return family === "IPv4" ? decodeUdp4Table(bytes) : decodeUdp6Table(bytes);
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
    if (rc === NO_ERROR) return buf ?? new Uint8Array(4); // no buffer written: zero rows
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
}

/** Opens a process for limited queries and reads its image path and creation time. */
function readOpenedDetails(
  k32: Kernel32Symbols,
  pid: number,
  pathBuffer: Uint16Array | null,
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
    if (
      k32.GetProcessTimes(
        handle,
        creation,
        unused.subarray(0, 8),
        unused.subarray(8, 16),
        unused.subarray(16, 24),
      ) && creation.some((b) => b !== 0)
    ) {
      startTime = decodeFiletime(creation);
    }
    return { path, startTime };
  } finally {
    k32.CloseHandle(handle);
  }
}

function describeProcesses(k32: Kernel32Symbols, pids: Set<number>): Map<number, ProcessInfo> {
  const out = new Map<number, ProcessInfo>();
  if (pids.size === 0) return out;
  const table = snapshotProcesses(k32);
  const pathBuffer = new Uint16Array(MAX_LONG_PATH_CHARS);
  for (const pid of pids) out.set(pid, describeProcess(k32, pid, table.get(pid), pathBuffer));
  return out;
}

function describeProcess(
  k32: Kernel32Symbols,
  pid: number,
  entry: ProcessEntry | undefined,
  pathBuffer: Uint16Array,
): ProcessInfo {
  if (pid === PID_IDLE) {
    // The System Idle Process cannot be opened and has no image or start time.
    return {
      pid,
      name: "System Idle Process",
      path: null,
      parentPid: null,
      startTime: null,
      sessionId: null,
      unavailable: {
        path: "system-process",
        parentPid: "system-process",
        startTime: "system-process",
        sessionId: "system-process",
      },
    };
  }
  if (!entry) {
    return {
      pid,
      name: null,
      path: null,
      parentPid: null,
      startTime: null,
      sessionId: null,
      unavailable: {
        name: "process-exited",
        path: "process-exited",
        parentPid: "process-exited",
        startTime: "process-exited",
        sessionId: "process-exited",
      },
    };
  }
  const info: ProcessInfo = {
    pid,
    name: pid === PID_SYSTEM ? "System" : entry.exeFile || null,
    path: null,
    parentPid: entry.parentPid,
    startTime: null,
    sessionId: null,
    unavailable: {},
  };
  if (info.name === null) info.unavailable.name = "not-found";
  // Without GetLastError (Deno does not capture it) a failed open of a pid that is in the
  // snapshot is taken as a denial; the process may also have exited in between.
  const details = readOpenedDetails(k32, pid, pathBuffer);
  info.path = details?.path ?? null;
  info.startTime = details?.startTime ?? null;
  if (info.path === null) info.unavailable.path = "access-denied";
  if (info.startTime === null) info.unavailable.startTime = "access-denied";
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

function listProcesses(k32: Kernel32Symbols): ProcessSummary[] {
  const table = snapshotProcesses(k32);
  const out: ProcessSummary[] = [];
  for (const entry of table.values()) {
    if (entry.pid === PID_IDLE) {
      out.push({ pid: entry.pid, parentPid: null, name: "System Idle Process", startTime: null });
      continue;
    }
    out.push({
      pid: entry.pid,
      parentPid: entry.parentPid,
      name: entry.pid === PID_SYSTEM ? "System" : entry.exeFile || null,
      startTime: readOpenedDetails(k32, entry.pid, null)?.startTime ?? null,
    });
  }
  return out;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
