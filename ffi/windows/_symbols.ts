/**
 * Declarations only: one symbol table per DLL and the Win32 constants the Windows engine uses.
 * The tables use plain native types (u32, i32, buffer, pointer) so that a runtime adapter other
 * than Deno's can bind them too. Win32 BOOL is `i32` (4 bytes), never `bool`; handles are
 * opaque `pointer`s. Every symbol beyond the basic tables and process calls is `optional`, so a
 * Windows version (or Wine) without it leaves a field unavailable instead of failing to load.
 *
 * @module
 */

/**
 * GetOwnerModuleFrom{Tcp,Tcp6,Udp,Udp6}Entry share one signature; the row passed is the matching
 * owner-module table row (MIB_TCPROW_OWNER_MODULE, MIB_TCP6ROW_OWNER_MODULE, ...).
 */
const OWNER_MODULE_FROM_ENTRY = {
  parameters: [
    "buffer", // PMIB_*ROW_OWNER_MODULE pEntry (a row of the owner-module table)
    "i32", // TCPIP_OWNER_MODULE_INFO_CLASS Class
    "buffer", // PVOID pBuffer (out)
    "buffer", // PDWORD pdwSize (in/out, bytes)
  ],
  result: "u32", // DWORD: Win32 error code
  optional: true,
} as const satisfies Deno.ForeignFunction;

/** SetPerTcpConnectionEStats and SetPerTcp6ConnectionEStats (row: MIB_TCPROW or MIB_TCP6ROW). */
const SET_PER_CONNECTION_ESTATS = {
  parameters: [
    "buffer", // PMIB_TCPROW / PMIB_TCP6ROW Row
    "i32", // TCP_ESTATS_TYPE EstatsType
    "buffer", // PUCHAR Rw
    "u32", // ULONG RwVersion
    "u32", // ULONG RwSize
    "u32", // ULONG Offset
  ],
  result: "u32", // ULONG: Win32 error code
  optional: true,
} as const satisfies Deno.ForeignFunction;

/** GetPerTcpConnectionEStats and GetPerTcp6ConnectionEStats (row: MIB_TCPROW or MIB_TCP6ROW). */
const GET_PER_CONNECTION_ESTATS = {
  parameters: [
    "buffer", // PMIB_TCPROW / PMIB_TCP6ROW Row
    "i32", // TCP_ESTATS_TYPE EstatsType
    "buffer", // PUCHAR Rw (may be NULL)
    "u32", // ULONG RwVersion
    "u32", // ULONG RwSize
    "buffer", // PUCHAR Ros (may be NULL)
    "u32", // ULONG RosVersion
    "u32", // ULONG RosSize
    "buffer", // PUCHAR Rod (out)
    "u32", // ULONG RodVersion
    "u32", // ULONG RodSize
  ],
  result: "u32", // ULONG: Win32 error code
  optional: true,
} as const satisfies Deno.ForeignFunction;

/** iphlpapi.dll: the socket tables, the owner modules behind them, and TCP counters. */
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
  GetOwnerModuleFromTcpEntry: OWNER_MODULE_FROM_ENTRY,
  GetOwnerModuleFromTcp6Entry: OWNER_MODULE_FROM_ENTRY,
  GetOwnerModuleFromUdpEntry: OWNER_MODULE_FROM_ENTRY,
  GetOwnerModuleFromUdp6Entry: OWNER_MODULE_FROM_ENTRY,
  SetPerTcpConnectionEStats: SET_PER_CONNECTION_ESTATS,
  GetPerTcpConnectionEStats: GET_PER_CONNECTION_ESTATS,
  SetPerTcp6ConnectionEStats: SET_PER_CONNECTION_ESTATS,
  GetPerTcp6ConnectionEStats: GET_PER_CONNECTION_ESTATS,
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
  GetCurrentProcessId: {
    parameters: [],
    result: "u32", // DWORD: this process's id
    optional: true,
  },
  OpenThread: {
    parameters: [
      "u32", // DWORD dwDesiredAccess
      "i32", // BOOL bInheritHandle
      "u32", // DWORD dwThreadId
    ],
    result: "pointer", // HANDLE; NULL on failure
    optional: true,
  },
  GetProcessIdOfThread: {
    parameters: [
      "pointer", // HANDLE Thread
    ],
    result: "u32", // DWORD: the process id; 0 on failure
    optional: true,
  },
  /** CloseHandle again, for a handle that arrived as a number in an out-parameter (a token). */
  CloseHandleValue: {
    name: "CloseHandle",
    parameters: [
      "usize", // HANDLE hObject (the value OpenProcessToken wrote)
    ],
    result: "i32", // BOOL
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** advapi32.dll: the account a process runs as. */
export const ADVAPI32_SYMBOLS = {
  OpenProcessToken: {
    parameters: [
      "pointer", // HANDLE ProcessHandle
      "u32", // DWORD DesiredAccess
      "buffer", // PHANDLE TokenHandle (out, 8 bytes)
    ],
    result: "i32", // BOOL
    optional: true,
  },
  GetTokenInformation: {
    parameters: [
      "usize", // HANDLE TokenHandle (the value OpenProcessToken wrote)
      "i32", // TOKEN_INFORMATION_CLASS TokenInformationClass
      "buffer", // LPVOID TokenInformation (out; NULL asks for the size)
      "u32", // DWORD TokenInformationLength
      "buffer", // PDWORD ReturnLength (out)
    ],
    result: "i32", // BOOL
    optional: true,
  },
  LookupAccountSidW: {
    parameters: [
      "pointer", // LPCWSTR lpSystemName (NULL: this machine)
      "buffer", // PSID Sid
      "buffer", // LPWSTR Name (out)
      "buffer", // LPDWORD cchName (in/out, characters)
      "buffer", // LPWSTR ReferencedDomainName (out)
      "buffer", // LPDWORD cchReferencedDomainName (in/out, characters)
      "buffer", // PSID_NAME_USE peUse (out, 4 bytes)
    ],
    result: "i32", // BOOL
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * ntdll.dll: the command line of a process, every process's creation time, and the address of a
 * buffer.
 */
export const NTDLL_SYMBOLS = {
  /**
   * With SystemProcessInformation: every process's id, parent and creation time, read without
   * opening any of them (so also for the processes this user may not open).
   */
  NtQuerySystemInformation: {
    parameters: [
      "u32", // SYSTEM_INFORMATION_CLASS SystemInformationClass
      "buffer", // PVOID SystemInformation (out)
      "u32", // ULONG SystemInformationLength
      "buffer", // PULONG ReturnLength (out)
    ],
    result: "i32", // NTSTATUS: negative is a failure
    optional: true,
  },
  NtQueryInformationProcess: {
    parameters: [
      "pointer", // HANDLE ProcessHandle
      "u32", // PROCESSINFOCLASS ProcessInformationClass
      "buffer", // PVOID ProcessInformation (out; NULL with length 0 asks for the size)
      "u32", // ULONG ProcessInformationLength
      "buffer", // PULONG ReturnLength (out)
    ],
    result: "i32", // NTSTATUS: negative is a failure
    optional: true,
  },
  /**
   * memset(dest, 0, 0) changes nothing and returns dest: the one way to learn a buffer's address
   * through the symbol table alone, which turns pointers an API writes into the same buffer
   * (TCPIP_OWNER_MODULE_BASIC_INFO, UNICODE_STRING, TOKEN_USER) into offsets.
   */
  memset: {
    parameters: [
      "buffer", // void *dest
      "i32", // int c
      "usize", // size_t count
    ],
    result: "pointer", // void *: dest
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** SYSTEM_INFORMATION_CLASS: SYSTEM_PROCESS_INFORMATION entries, one per process. */
export const SYSTEM_PROCESS_INFORMATION_CLASS = 5;

/** Address family IPv4 (ws2def.h). */
export const AF_INET = 2;
/** Address family IPv6 on Windows (ws2def.h; Linux uses 10). */
export const AF_INET6 = 23;

/** TCP_TABLE_CLASS: MIB_TCPTABLE_OWNER_PID / MIB_TCP6TABLE_OWNER_PID, all states. */
export const TCP_TABLE_OWNER_PID_ALL = 5;
/** UDP_TABLE_CLASS: MIB_UDPTABLE_OWNER_PID / MIB_UDP6TABLE_OWNER_PID. */
export const UDP_TABLE_OWNER_PID = 1;

/** TCP_TABLE_CLASS: MIB_TCPTABLE_OWNER_MODULE / MIB_TCP6TABLE_OWNER_MODULE, all states. */
export const TCP_TABLE_OWNER_MODULE_ALL = 8;
/** UDP_TABLE_CLASS: MIB_UDPTABLE_OWNER_MODULE / MIB_UDP6TABLE_OWNER_MODULE. */
export const UDP_TABLE_OWNER_MODULE = 2;
/** TCPIP_OWNER_MODULE_INFO_CLASS: TCPIP_OWNER_MODULE_BASIC_INFO, the only class there is. */
export const TCPIP_OWNER_MODULE_INFO_BASIC = 0;
/** TCP_ESTATS_TYPE: TcpConnectionEstatsData (byte and segment counters). */
export const TCP_CONNECTION_ESTATS_DATA = 1;

/** Win32 success. */
export const NO_ERROR = 0;
/** Access is denied (EStats collection needs an elevated administrator). */
export const ERROR_ACCESS_DENIED = 5;
/** The request is not supported (Wine's SetPerTcpConnectionEStats answers this). */
export const ERROR_NOT_SUPPORTED = 50;
/** The function is not implemented (Wine's GetPerTcpConnectionEStats answers this). */
export const ERROR_CALL_NOT_IMPLEMENTED = 120;
/** The buffer is too small; the size argument now holds the bytes needed. */
export const ERROR_INSUFFICIENT_BUFFER = 122;
/** Only part of a memory read completed (the owning process could not be read). */
export const ERROR_PARTIAL_COPY = 299;
/** The raw code SetPer*EStats documents for a caller that is not elevated. */
export const ERROR_NOT_ELEVATED_ESTATS = 317;
/** Element not found: the connection or the owning process is gone. */
export const ERROR_NOT_FOUND = 1168;

/** PROCESSINFOCLASS ProcessCommandLineInformation (a UNICODE_STRING; Windows 8.1 and later). */
export const PROCESS_COMMAND_LINE_INFORMATION = 60;
/** NTSTATUS: the information class is not known (what Wine 10 answers for class 60). */
export const STATUS_INVALID_INFO_CLASS = 0xc0000003 | 0;
/** NTSTATUS: the length does not fit; ReturnLength holds the bytes needed. */
export const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004 | 0;
/** NTSTATUS (warning): the data did not fit; ReturnLength holds the bytes needed. */
export const STATUS_BUFFER_OVERFLOW = 0x80000005 | 0;
/** NTSTATUS: the buffer is too small; ReturnLength holds the bytes needed. */
export const STATUS_BUFFER_TOO_SMALL = 0xc0000023 | 0;
/** NTSTATUS: access denied (protected processes). */
export const STATUS_ACCESS_DENIED = 0xc0000022 | 0;

/** OpenProcessToken access right to read the token. */
export const TOKEN_QUERY = 0x0008;
/** TOKEN_INFORMATION_CLASS TokenElevation: a TOKEN_ELEVATION (one DWORD, TokenIsElevated). */
export const TOKEN_ELEVATION_CLASS = 20;
/** TOKEN_INFORMATION_CLASS TokenUser (a TOKEN_USER). */
export const TOKEN_USER_CLASS = 1;

/** CreateToolhelp32Snapshot flag: include all processes. */
export const TH32CS_SNAPPROCESS = 0x2;
/** Access right enough for the image path, the process times and the session id. */
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
/** QueryFullProcessImageNameW flag for a Win32 path (C:\...). */
export const PROCESS_NAME_WIN32 = 0;
/** OpenThread access right: enough for GetProcessIdOfThread. */
export const THREAD_QUERY_LIMITED_INFORMATION = 0x0800;
/** The failure value of CreateToolhelp32Snapshot: (HANDLE)-1, not NULL. */
export const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;
/** Characters in the longest Win32 path (\\?\ form), the image path buffer size. */
export const MAX_LONG_PATH_CHARS = 32768;

/** The iphlpapi.dll functions; optional ones are null when not exported. */
export type IphlpapiSymbols = Deno.StaticForeignLibraryInterface<typeof IPHLPAPI_SYMBOLS>;
/** The kernel32.dll functions; optional ones are null when not exported. */
export type Kernel32Symbols = Deno.StaticForeignLibraryInterface<typeof KERNEL32_SYMBOLS>;
/** The advapi32.dll functions; each is null when not exported. */
export type Advapi32Symbols = Deno.StaticForeignLibraryInterface<typeof ADVAPI32_SYMBOLS>;
/** The ntdll.dll functions; each is null when not exported. */
export type NtdllSymbols = Deno.StaticForeignLibraryInterface<typeof NTDLL_SYMBOLS>;
