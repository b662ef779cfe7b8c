/**
 * Declarations only: one symbol table per DLL and the Win32 constants the Windows engine uses.
 * The tables use plain native types (u32, i32, buffer, pointer) so that a runtime adapter other
 * than Deno's can bind them too. Win32 BOOL is `i32` (4 bytes), never `bool`; handles are
 * opaque `pointer`s. Every symbol beyond the basic tables and process calls is `optional`, so a
 * Windows version (or Wine) without it leaves a field unavailable instead of failing to load.
 *
 * @module
 */

/** iphlpapi.dll: the socket tables. */
export const IPHLPAPI_SYMBOLS = {
  GetExtendedTcpTable: {
    parameters: [
      "buffer", // PVOID pTcpTable (out; NULL asks for the size)
      "buffer", // PDWORD pdwSize (in/out, bytes)
      "i32", // BOOL bOrder
      "u32", // ULONG ulAf
      "i32", // TCP_TABLE_CLASS TableClass
      "u32", // ULONG Reserved (0)
    ],
    result: "u32", // DWORD: Win32 error code
  },
  GetExtendedUdpTable: {
    parameters: [
      "buffer", // PVOID pUdpTable (out; NULL asks for the size)
      "buffer", // PDWORD pdwSize (in/out, bytes)
      "i32", // BOOL bOrder
      "u32", // ULONG ulAf
      "i32", // UDP_TABLE_CLASS TableClass
      "u32", // ULONG Reserved (0)
    ],
    result: "u32", // DWORD: Win32 error code
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** kernel32.dll: the process snapshot and per-process queries. */
export const KERNEL32_SYMBOLS = {
  CreateToolhelp32Snapshot: {
    parameters: [
      "u32", // DWORD dwFlags
      "u32", // DWORD th32ProcessID
    ],
    result: "pointer", // HANDLE; INVALID_HANDLE_VALUE (-1) on failure
  },
  Process32FirstW: {
    parameters: [
      "pointer", // HANDLE hSnapshot
      "buffer", // LPPROCESSENTRY32W lppe (dwSize set by the caller)
    ],
    result: "i32", // BOOL
  },
  Process32NextW: {
    parameters: [
      "pointer", // HANDLE hSnapshot
      "buffer", // LPPROCESSENTRY32W lppe
    ],
    result: "i32", // BOOL
  },
  OpenProcess: {
    parameters: [
      "u32", // DWORD dwDesiredAccess
      "i32", // BOOL bInheritHandle
      "u32", // DWORD dwProcessId
    ],
    result: "pointer", // HANDLE; NULL on failure
  },
  QueryFullProcessImageNameW: {
    parameters: [
      "pointer", // HANDLE hProcess
      "u32", // DWORD dwFlags (0: Win32 path)
      "buffer", // LPWSTR lpExeName (out)
      "buffer", // PDWORD lpdwSize (in/out, characters)
    ],
    result: "i32", // BOOL
  },
  GetProcessTimes: {
    parameters: [
      "pointer", // HANDLE hProcess
      "buffer", // LPFILETIME lpCreationTime (out)
      "buffer", // LPFILETIME lpExitTime (out)
      "buffer", // LPFILETIME lpKernelTime (out)
      "buffer", // LPFILETIME lpUserTime (out)
    ],
    result: "i32", // BOOL
  },
  CloseHandle: {
    parameters: [
      "pointer", // HANDLE hObject
    ],
    result: "i32", // BOOL
  },
  ProcessIdToSessionId: {
    parameters: [
      "u32", // DWORD dwProcessId
      "buffer", // DWORD *pSessionId (out)
    ],
    result: "i32", // BOOL
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** Address family IPv4 (ws2def.h). */
export const AF_INET = 2;
/** Address family IPv6 on Windows (ws2def.h; Linux uses 10). */
export const AF_INET6 = 23;

/** TCP_TABLE_CLASS: MIB_TCPTABLE_OWNER_PID / MIB_TCP6TABLE_OWNER_PID, all states. */
export const TCP_TABLE_OWNER_PID_ALL = 5;
/** UDP_TABLE_CLASS: MIB_UDPTABLE_OWNER_PID / MIB_UDP6TABLE_OWNER_PID. */
export const UDP_TABLE_OWNER_PID = 1;

/** Win32 success. */
export const NO_ERROR = 0;
/** The buffer is too small; the size argument now holds the bytes needed. */
export const ERROR_INSUFFICIENT_BUFFER = 122;

/** CreateToolhelp32Snapshot flag: include all processes. */
export const TH32CS_SNAPPROCESS = 0x2;
/** Access right enough for the image path, the process times and the session id. */
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
/** QueryFullProcessImageNameW flag for a Win32 path (C:\...). */
export const PROCESS_NAME_WIN32 = 0;
/** The failure value of CreateToolhelp32Snapshot: (HANDLE)-1, not NULL. */
export const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;
/** Characters in the longest Win32 path (\\?\ form), the image path buffer size. */
export const MAX_LONG_PATH_CHARS = 32768;
