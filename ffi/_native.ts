/**
 * The runtime adapter for native libraries: opens a DLL and hands back its symbols in one shape,
 * whatever runtime procconn runs on. Deno uses `Deno.dlopen`; Node binds the same symbol table
 * with koffi (`_koffi.ts`).
 *
 * @module
 */

import { koffiPointerValue, openKoffiLibrary } from "./_koffi.ts";

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
 * Returns the absolute path of a Windows system DLL (`%SystemRoot%\System32\<name>`). Loading by
 * a bare name would search the executable's folder first, where a planted DLL could win.
 *
 * @param name The DLL's file name, e.g. `iphlpapi.dll`.
 * @returns The absolute path; SystemRoot defaults to `C:\Windows` when the environment does not
 * give a drive-absolute one (or cannot be read).
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
  const root = systemRoot();
  return `${root}\\System32\\${name}`;
}

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
