/**
 * Which code `main.ts` runs: the bundle of the command line that `npm ci` writes to `gen/app/`
 * (`scripts/bundle_app.mjs`), or the sources. From the sources a listing loads some 45 modules,
 * and on a slow machine each costs Deno about half a millisecond; from the bundle it loads 19,
 * with the same parts loaded on demand (each engine, the CSV writer, watch, snapshot).
 *
 * The bundle is used only while it matches its sources: its manifest names every file it was
 * made from with the size and modification time the file had then, as Python checks a `.pyc`
 * against its `.py`. After an edited or missing source, with a missing or unreadable manifest, or
 * without permission to read them, the sources run instead.
 *
 * @module
 */

/** The command line as `cli/app.ts` exports it. */
export interface App {
  /** Runs procconn with these arguments; resolves to the exit code. */
  main(args: readonly string[]): Promise<number>;
}

/** The manifest, relative to the checkout. */
export const MANIFEST_PATH = "gen/app/sources.json";

/** What `scripts/bundle_app.mjs` writes to {@linkcode MANIFEST_PATH}. */
export interface BundleManifest {
  /** The manifest's format. */
  format: 1;
  /** The module that exports `main`, relative to the manifest's folder. */
  entry: string;
  /**
   * Every file the bundle was made from: its path relative to the checkout, its size in bytes
   * and its modification time in whole milliseconds since the epoch.
   */
  sources: [string, number, number][];
}

/** A file's size and modification time (ms), or null when it cannot be read. */
export type StatFile = (file: URL) => { size: number; mtime: number } | null;

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

function statFile(file: URL): { size: number; mtime: number } | null {
  try {
    const info = deno!.statSync(file);
    return info.mtime === null ? null : { size: info.size, mtime: info.mtime.getTime() };
  } catch {
    return null;
  }
}

function readText(file: URL): string | null {
  try {
    return deno!.readTextFileSync(file);
  } catch {
    return null;
  }
}

function isManifest(value: unknown): value is BundleManifest {
  const m = value as BundleManifest | null;
  return typeof m === "object" && m !== null && m.format === 1 &&
    typeof m.entry === "string" && /^[\w.-]+\.js$/.test(m.entry) &&
    Array.isArray(m.sources) && m.sources.length > 0 &&
    m.sources.every((s) =>
      Array.isArray(s) && s.length === 3 && typeof s[0] === "string" &&
      Number.isFinite(s[1]) && Number.isFinite(s[2])
    );
}

/**
 * Whether the bundle under `root` matches its sources.
 *
 * @param root The checkout (a `file:` URL ending in `/`).
 * @param stat Reads a file's size and modification time (by default `Deno.statSync`).
 * @param read Reads the manifest's text (by default `Deno.readTextFileSync`).
 * @returns The bundle's entry module when it matches; else why it is not used.
 *
 * @example
 * ```ts ignore
 * import { bundleState } from "./_bundle.ts";
 * const state = bundleState(new URL("../", import.meta.url));
 * console.log("entry" in state ? `bundle ${state.entry}` : `sources: ${state.unused}`);
 * ```
 */
export function bundleState(
  root: URL,
  stat: StatFile = statFile,
  read: (file: URL) => string | null = readText,
): { entry: URL } | { unused: string } {
  const manifestUrl = new URL(MANIFEST_PATH, root);
  const text = read(manifestUrl);
  if (text === null) return { unused: `no ${MANIFEST_PATH}` };
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    manifest = null;
  }
  if (!isManifest(manifest)) return { unused: `${MANIFEST_PATH} is not a bundle manifest` };
  for (const [path, size, mtime] of manifest.sources) {
    const now = stat(new URL(path, root));
    if (now === null) return { unused: `${path} cannot be read` };
    if (now.size !== size || Math.trunc(now.mtime) !== mtime) {
      return { unused: `${path} changed since the bundle was made` };
    }
  }
  return { entry: new URL(manifest.entry, manifestUrl) };
}

/**
 * Whether the checkout may be read without asking: a run granted less (`--allow-read=/proc`)
 * must not stop at a permission prompt for the bundle's manifest.
 */
function mayRead(root: URL): boolean {
  try {
    return deno!.permissions.querySync({ name: "read", path: root }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Loads the command line: the bundle when it matches its sources, else `cli/app.ts`.
 *
 * @param root The checkout (a `file:` URL ending in `/`).
 * @returns The command line.
 */
export async function loadApp(root: URL): Promise<App> {
  const state = deno && root.protocol === "file:" && mayRead(root) ? bundleState(root) : null;
  if (state && "entry" in state) {
    try {
      return await import(state.entry.href) as App;
    } catch {
      // An unreadable bundle (a permission, a half-copied checkout): the sources will do.
    }
  }
  return await import("./app.ts");
}
