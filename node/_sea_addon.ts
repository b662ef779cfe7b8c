/**
 * koffi's native addon carried inside the Node single executable, loaded with `process.dlopen`
 * at first use. On Linux it is loaded from an unnamed temporary file (`O_TMPFILE`), which leaves
 * nothing behind. On Windows it is written to a private temporary directory and removed when the
 * process exits; Windows keeps a loaded DLL locked until the process is gone, so a directory
 * that could not be removed at exit is removed by the next run (once its owner has ended).
 *
 * @module
 */
import {
  chmodSync,
  closeSync,
  constants as fsConstants,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { KoffiModule } from "../ffi/_koffi.ts";

/** The SEA asset key of koffi's addon (`assets` in the SEA configuration). */
export const KOFFI_ASSET = "koffi.node";

/** Name prefix of the addon directories: `procconn-koffi-<pid>-<random>`. */
export const ADDON_DIR_PREFIX = "procconn-koffi-";

/** The part of `node:sea` procconn uses. */
interface SeaModule {
  isSea(): boolean;
  getRawAsset(key: string): ArrayBuffer;
}

function seaModule(): SeaModule | undefined {
  try {
    // node:sea exists from Node 20.12; Deno has no such module.
    const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    return get?.("node:sea") as SeaModule | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tells whether this process is a Node single executable.
 *
 * @returns True inside a single executable application.
 *
 * @example
 * ```ts
 * import { isSingleExecutable } from "./_sea_addon.ts";
 * isSingleExecutable(); // false under `deno test`
 * ```
 */
export function isSingleExecutable(): boolean {
  try {
    return seaModule()?.isSea() === true;
  } catch {
    return false;
  }
}

/** A native addon written to disk and loaded. */
export interface LoadedAddon {
  /** The addon's exports. */
  exports: unknown;
  /** The private directory holding it. */
  dir: string;
  /** The addon file. */
  file: string;
  /** Deletes the directory; false when the OS refuses (Windows, while the DLL is loaded). */
  remove(): boolean;
}

/** Options of {@linkcode loadAddon}. */
export interface LoadAddonOptions {
  /** Parent of the private directory (default: the OS temporary directory). */
  tmpDir?: string;
  /** The file name inside it (default `koffi.node`). */
  fileName?: string;
}

/**
 * Writes a native addon into a new private directory (mode 0700) and loads it.
 *
 * @param bytes The addon (`.node` file) contents.
 * @param options Where to write it.
 * @returns The loaded addon and a way to delete its directory.
 * @throws {Error} When the file cannot be written or loaded; the directory is removed first.
 *
 * @example
 * ```ts ignore
 * import { readFileSync } from "node:fs";
 * import { loadAddon } from "./_sea_addon.ts";
 * const addon = loadAddon(readFileSync("koffi.node"));
 * addon.remove();
 * ```
 */
export function loadAddon(bytes: Uint8Array, options: LoadAddonOptions = {}): LoadedAddon {
  const parent = options.tmpDir ?? tmpdir();
  // mkdtemp creates the directory with mode 0700 on POSIX; chmod guards against odd umasks.
  const dir = mkdtempSync(join(parent, `${ADDON_DIR_PREFIX}${process.pid}-`));
  const remove = () => {
    try {
      rmSync(dir, { recursive: true, force: true });
      return true;
    } catch {
      return false;
    }
  };
  const file = join(dir, options.fileName ?? KOFFI_ASSET);
  try {
    chmodSync(dir, 0o700);
    writeFileSync(file, bytes, { mode: 0o700, flag: "wx" });
    const module = { exports: {} as unknown };
    process.dlopen(module, file);
    return { exports: module.exports, dir, file, remove };
  } catch (err) {
    remove();
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot load the native addon written to "${file}": ${detail}`, {
      cause: err,
    });
  }
}

/** `O_TMPFILE` on Linux (with `O_DIRECTORY`, as the kernel defines it); Node does not export it. */
const O_TMPFILE = 0o20200000;

/**
 * Linux: loads a native addon from a file that never has a name. The bytes go into an unnamed
 * file (`O_TMPFILE`) in `tmpDir`, which is loaded through `/proc/self/fd/<n>`; the kernel frees
 * it when the process ends, however it ends, so nothing is left behind and no other process can
 * swap the file between the write and the load.
 *
 * @param bytes The addon (`.node` file) contents.
 * @param tmpDir Where the unnamed file lives (default: the OS temporary directory).
 * @returns The addon's exports.
 * @throws {Error} When the folder does not support unnamed files, or the addon cannot be loaded
 *   there (a folder mounted `noexec`).
 *
 * @example
 * ```ts ignore
 * import { readFileSync } from "node:fs";
 * import { loadUnnamedAddon } from "./_sea_addon.ts";
 * const koffi = loadUnnamedAddon(readFileSync("koffi.node"));
 * ```
 */
export function loadUnnamedAddon(bytes: Uint8Array, tmpDir: string = tmpdir()): unknown {
  let fd: number | undefined;
  try {
    fd = openSync(tmpDir, O_TMPFILE | fsConstants.O_RDWR, 0o700);
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
    const module = { exports: {} as unknown };
    process.dlopen(module, `/proc/self/fd/${fd}`);
    // The descriptor stays open: the dynamic loader knows a library by the path it was loaded
    // from, so a later load through a reused `/proc/self/fd/<n>` would be taken for this one.
    return module.exports;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot load the native addon from an unnamed file in "${tmpDir}": ${detail}`, {
      cause: err,
    });
  }
}

/**
 * Removes addon directories left by earlier runs whose process has ended (on Windows the
 * addon file stays locked until then). Directories of running processes, and anything the OS
 * refuses to delete, are left alone.
 *
 * @param tmpDir Where to look (default: the OS temporary directory).
 * @param isAlive Tells whether a pid is running (default: `process.kill(pid, 0)`).
 * @returns The directories removed.
 *
 * @example
 * ```ts ignore
 * import { removeStaleAddonDirs } from "./_sea_addon.ts";
 * removeStaleAddonDirs();
 * ```
 */
export function removeStaleAddonDirs(
  tmpDir: string = tmpdir(),
  isAlive: (pid: number) => boolean = processIsAlive,
): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return removed;
  }
  const pattern = new RegExp(`^${ADDON_DIR_PREFIX}(\\d+)-[A-Za-z0-9]{6}$`);
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      rmSync(join(tmpDir, name), { recursive: true, force: true });
      removed.push(join(tmpDir, name));
    } catch {
      // Still in use or not ours to delete: a later run tries again.
    }
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else.
    return (err as { code?: string }).code === "EPERM";
  }
}

/**
 * Loads koffi from the addon carried in this single executable (asset {@linkcode KOFFI_ASSET})
 * and arranges for its file to be removed at exit.
 *
 * @returns koffi's native exports.
 * @throws {Error} Outside a single executable, when the asset is missing, or when it cannot be
 * loaded.
 *
 * @example
 * ```ts ignore
 * import { setKoffiLoader } from "../ffi/_koffi.ts";
 * import { koffiFromSeaAsset } from "./_sea_addon.ts";
 * setKoffiLoader(koffiFromSeaAsset);
 * ```
 */
export function koffiFromSeaAsset(): KoffiModule {
  const sea = seaModule();
  if (!sea?.isSea()) {
    throw new Error("Cannot load koffi from the executable: this is not a single executable");
  }
  let asset: ArrayBuffer;
  try {
    asset = sea.getRawAsset(KOFFI_ASSET);
  } catch (err) {
    throw new Error(
      `Cannot load koffi from the executable: it carries no "${KOFFI_ASSET}" asset ` +
        "(this build has no native-call support for this platform)",
      { cause: err },
    );
  }
  // getRawAsset returns the executable's own memory without a copy; it is only read here.
  const bytes = new Uint8Array(asset);
  if (process.platform === "linux") return loadUnnamedAddon(bytes) as KoffiModule;
  removeStaleAddonDirs();
  const addon = loadAddon(bytes);
  process.once("exit", () => addon.remove());
  return addon.exports as KoffiModule;
}
