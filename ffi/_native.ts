/**
 * The runtime adapter for native libraries: opens a DLL and hands back its symbols in one shape,
 * whatever runtime procconn runs on. Deno uses `Deno.dlopen`; Node binds the same symbol table
 * with koffi (`_koffi.ts`).
 *
 * @module
 */

import { koffiPointerValue, openKoffiLibrary } from "./_koffi.ts";
import { osName } from "./_runtime.ts";

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

/** An opened native library: its callable symbols and a way to unload it. */
export interface NativeLibrary<S extends Deno.ForeignLibraryInterface> {
  /** The symbols; an optional symbol the library does not export is null. */
  readonly symbols: Deno.StaticForeignLibraryInterface<S>;
  /** Unloads the library; the symbols must not be called afterwards. */
  close(): void;
}

/**
 * Opens a native library and binds the given symbol table.
 *
 * @param path The library file; pass an absolute path (see {@linkcode systemLibraryPath}).
 * @param symbols The symbol table, declared `as const satisfies Deno.ForeignLibraryInterface`.
 * @returns The opened library.
 * @throws {Error} When the runtime has no native adapter, or the library or a required symbol
 * cannot be loaded (the original error is the `cause`).
 *
 * @example
 * ```ts ignore
 * import { openLibrary, systemLibraryPath } from "./_native.ts";
 * const lib = openLibrary(systemLibraryPath("kernel32.dll"), {
 *   GetCurrentProcessId: { parameters: [], result: "u32" },
 * } as const);
 * lib.symbols.GetCurrentProcessId();
 * lib.close();
 * ```
 */
export function openLibrary<const S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
): NativeLibrary<S> {
  if (typeof deno?.dlopen !== "function") return openKoffiLibrary(path, symbols);
  try {
    return deno.dlopen(path, symbols);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot load the native library "${path}": ${detail}`, { cause: err });
  }
}

/**
 * Returns the absolute path of a Windows system DLL in the system directory, as
 * `GetSystemDirectoryW` names it (`C:\Windows\System32` on a default install). Loading by a bare
 * name would search the executable's folder first, where a planted DLL could win.
 *
 * @param name The DLL's file name, e.g. `iphlpapi.dll`.
 * @returns The absolute path. Off Windows, or where the system does not answer, the directory is
 * `%SystemRoot%\System32`, and `C:\Windows\System32` when the environment does not give a
 * drive-absolute SystemRoot (or cannot be read).
 * @throws {TypeError} When the name is not a plain DLL file name.
 *
 * @example
 * ```ts
 * import { systemLibraryPath } from "./_native.ts";
 * systemLibraryPath("iphlpapi.dll"); // "C:\\Windows\\System32\\iphlpapi.dll" on a default install
 * ```
 */
export function systemLibraryPath(name: string): string {
  if (!/^[A-Za-z0-9_.-]+\.dll$/i.test(name)) {
    throw new TypeError(`Invalid system library name "${name}": expected a file name like x.dll`);
  }
  systemDirectory ??= askSystemDirectory() ?? `${systemRoot()}\\System32`;
  return `${systemDirectory}\\${name}`;
}

let systemDirectory: string | undefined;

const MAX_PATH = 260;

/**
 * The system directory from the system itself, so that an environment that names another
 * SystemRoot (set by whoever started procconn) cannot point the DLLs elsewhere. Null off
 * Windows and where the call fails.
 */
function askSystemDirectory(): string | null {
  if (osName() !== "windows") return null;
  let kernel32: NativeLibrary<typeof SYSTEM_DIRECTORY_SYMBOLS>;
  try {
    // kernel32.dll is a KnownDLL, already mapped into every process: its bare name always
    // resolves to the system's copy, never to a file beside the executable.
    kernel32 = openLibrary("kernel32.dll", SYSTEM_DIRECTORY_SYMBOLS);
  } catch {
    return null;
  }
  try {
    let size = MAX_PATH;
    for (let attempt = 0; attempt < 2; attempt++) {
      const buffer = new Uint16Array(size);
      // The length without the NUL when it fits; else the size needed, NUL included; 0 on failure.
      const length = kernel32.symbols.GetSystemDirectoryW(buffer, size);
      if (length === 0) return null;
      if (length < size) {
        const directory = String.fromCharCode(...buffer.subarray(0, length)).replace(/\\+$/, "");
        return /^[A-Za-z]:\\/.test(directory) ? directory : null;
      }
      size = length;
    }
    return null;
  } finally {
    kernel32.close();
  }
}

const SYSTEM_DIRECTORY_SYMBOLS = {
  GetSystemDirectoryW: {
    parameters: [
      "buffer", // LPWSTR lpBuffer (out)
      "u32", // UINT uSize, in characters
    ],
    result: "u32", // UINT: characters written without the NUL, or the size needed, or 0
  },
} as const satisfies Deno.ForeignLibraryInterface;

function systemRoot(): string {
  let value: string | undefined;
  try {
    // deno-lint-ignore no-explicit-any
    value = deno?.env.get("SystemRoot") ?? (globalThis as any).process?.env?.SystemRoot;
  } catch {
    // Without env permission the default is the only safe answer.
    value = undefined;
  }
  if (value && /^[A-Za-z]:\\/.test(value)) return value.replace(/\\+$/, "");
  return "C:\\Windows";
}

/**
 * Returns the numeric address of a pointer result (0 for null), e.g. to compare a handle with
 * `INVALID_HANDLE_VALUE`.
 *
 * @param pointer A pointer as the runtime returns it.
 * @returns The address.
 *
 * @example
 * ```ts
 * import { pointerAddress } from "./_native.ts";
 * pointerAddress(null); // 0n
 * ```
 */
export function pointerAddress(pointer: Deno.PointerValue): bigint {
  if (pointer === null) return 0n;
  return typeof deno?.dlopen === "function"
    ? deno.UnsafePointer.value(pointer)
    : koffiPointerValue(pointer);
}
