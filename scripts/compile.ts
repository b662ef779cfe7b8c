/**
 * Builds procconn's Deno single executables with `deno compile`:
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env scripts/compile.ts
 *     [--target linux|windows|all] [--out-dir dist]
 *
 * - `dist/procconn` for x86_64-unknown-linux-gnu and `dist/procconn.exe` for
 *   x86_64-pc-windows-msvc, each with only the permissions it needs baked in.
 * - `deno compile` embeds the program into `denort`, the Deno runtime it downloads once per
 *   version and target. Where that download cannot happen, provide the runtime: either set
 *   DENORT_BIN to an unzipped denort of the same Deno version (Deno uses it whatever the
 *   target is, so only the target that binary is for gets built), or put the release zip at
 *   `$DENO_DIR/dl/release/v<version>/denort-<target>.zip`.
 * - node_modules is embedded, so build-only packages (the deno binary, esbuild, koffi, ...)
 *   are excluded: only the runtime dependencies and what they depend on go in.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { executableTarget } from "./_exe_format.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A build target: the Rust triple `deno compile` takes and the file it writes. */
export interface CompileTarget {
  /** The `--target` triple. */
  triple: string;
  /** The file name in the output directory. */
  output: string;
  /** The OS a matching denort binary is for (as the executable header says). */
  os: "linux" | "windows";
}

/** The targets procconn ships, in build order. */
export const TARGETS: Readonly<Record<"linux" | "windows", CompileTarget>> = {
  linux: { triple: "x86_64-unknown-linux-gnu", output: "procconn", os: "linux" },
  windows: { triple: "x86_64-pc-windows-msvc", output: "procconn.exe", os: "windows" },
};

/** A target's name. */
export type TargetName = keyof typeof TARGETS;

/**
 * The permissions baked into the executables. Windows: the environment (NO_COLOR, SystemRoot),
 * OS facts, reading process images (--hash), writing `snapshot --out` files, the network for
 * `--resolve`, and FFI for the IP Helper, kernel32, advapi32 and ntdll calls. Linux: all of them,
 * because Deno grants reads under /proc only with --allow-all (even --allow-read=/proc is
 * refused), and procfs is where Linux keeps sockets and processes. No prompts.
 */
export const PERMISSIONS: Readonly<Record<TargetName, readonly string[]>> = {
  linux: ["--no-prompt", "--allow-all"],
  windows: [
    "--no-prompt",
    "--allow-read",
    "--allow-env",
    "--allow-sys",
    "--allow-write",
    "--allow-net",
    "--allow-ffi",
  ],
};

/**
 * V8 settings baked into the executables, the same as the `procconn` script of package.json: a
 * young generation of at most 2 MiB per semi-space. A listing makes one short-lived record after
 * another; with V8's default (up to 16 MiB, grown under that allocation rate) peak RSS at 100,000
 * sockets was 156-192 MB, with 4 MiB 127-130 MB, at the same speed. Since the sockets are kept in
 * columns, 2 MiB is also about 20 ms faster at 40,000 sockets than 4 MiB: fewer fresh pages to
 * fault in.
 */
export const V8_FLAGS: readonly string[] = ["--v8-flags=--max-semi-space-size=2"];

/** Packages in `dependencies` that only the Node build uses (Deno calls DLLs itself). */
const NODE_ONLY_PACKAGES = new Set(["koffi"]);

/** Thrown for a failure the user can act on; its message is printed alone. */
export class CompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompileError";
  }
}

/** A command line compile.ts cannot read (exit code 2). */
class UsageError extends CompileError {}

/**
 * Returns where `deno compile` looks for a cached denort release zip.
 *
 * @param denoDir The DENO_DIR in effect.
 * @param version The Deno version, e.g. `2.9.5`.
 * @param triple The target triple.
 * @returns The zip's path.
 *
 * @example
 * ```ts
 * import { denortCachePath } from "./compile.ts";
 * denortCachePath("/root/.cache/deno", "2.9.5", "x86_64-unknown-linux-gnu");
 * // "/root/.cache/deno/dl/release/v2.9.5/denort-x86_64-unknown-linux-gnu.zip"
 * ```
 */
export function denortCachePath(denoDir: string, version: string, triple: string): string {
  const sep = denoDir.includes("\\") && !denoDir.includes("/") ? "\\" : "/";
  return [denoDir.replace(/[\\/]+$/, ""), "dl", "release", `v${version}`, `denort-${triple}.zip`]
    .join(sep);
}

/**
 * Lists the node_modules entries to leave out of the executable: everything but the runtime
 * dependencies (package.json `dependencies`, minus Node-only ones) and their dependencies.
 * Deno resolves a manual node_modules folder by its package directories alone.
 *
 * @param root The project folder (holding package.json and node_modules).
 * @returns Paths relative to the root, e.g. `node_modules/esbuild`, `node_modules/@types`.
 *
 * @example
 * ```ts ignore
 * import { nodeModulesExcludes } from "./compile.ts";
 * nodeModulesExcludes(".");
 * ```
 */
export function nodeModulesExcludes(root: string): string[] {
  const modules = join(root, "node_modules");
  const readManifest = (file: string): Record<string, unknown> | null => {
    try {
      return JSON.parse(Deno.readTextFileSync(file));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  };
  const project = readManifest(join(root, "package.json")) ?? {};
  const needed = new Set<string>();
  const queue = Object.keys((project.dependencies ?? {}) as Record<string, string>)
    .filter((name) => !NODE_ONLY_PACKAGES.has(name));
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    const manifest = readManifest(join(modules, name, "package.json"));
    if (!manifest) continue;
    for (const field of ["dependencies", "optionalDependencies", "peerDependencies"]) {
      queue.push(...Object.keys((manifest[field] ?? {}) as Record<string, string>));
    }
  }
  const excludes: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(modules)];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return excludes;
    throw err;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    // Everything but the needed packages goes, files too (npm's .package-lock.json).
    if (entry.name.startsWith("@") && entry.isDirectory) {
      const scoped = [...Deno.readDirSync(join(modules, entry.name))]
        .map((e) => `${entry.name}/${e.name}`).sort();
      const dropped = scoped.filter((name) => !needed.has(name));
      if (dropped.length === scoped.length) excludes.push(`node_modules/${entry.name}`);
      else excludes.push(...dropped.map((name) => `node_modules/${name}`));
    } else if (!needed.has(entry.name)) {
      excludes.push(`node_modules/${entry.name}`);
    }
  }
  return excludes;
}

/**
 * Picks the target a DENORT_BIN runtime can build, from its executable header.
 *
 * @param path DENORT_BIN's value.
 * @returns The target the file is a runtime for.
 * @throws {CompileError} When the file cannot be read or is no Linux or Windows x86_64
 * executable.
 *
 * @example
 * ```ts ignore
 * import { denortTarget } from "./compile.ts";
 * denortTarget("/opt/deno/denort"); // "linux"
 * ```
 */
export function denortTarget(path: string): TargetName {
  let head: Uint8Array;
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      head = new Uint8Array(4096);
      const n = file.readSync(head) ?? 0;
      head = head.subarray(0, n);
    } finally {
      file.close();
    }
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new CompileError(`Cannot read DENORT_BIN "${path}": ${detail}`);
  }
  const target = executableTarget(head);
  for (const [name, t] of Object.entries(TARGETS) as [TargetName, CompileTarget][]) {
    if (target?.os === t.os && target.arch === "x86_64") return name;
  }
  const what = target ? `a ${target.os} ${target.arch} executable` : "not an executable";
  throw new CompileError(
    `Invalid DENORT_BIN "${path}": it is ${what}, expected the denort binary for ` +
      `${TARGETS.linux.triple} or ${TARGETS.windows.triple}`,
  );
}

function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

async function denoDir(): Promise<string> {
  const env = Deno.env.get("DENO_DIR");
  if (env) return env;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).output();
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
  } catch {
    return "$DENO_DIR";
  }
}

/** The one message printed when denort cannot be downloaded. */
async function missingRuntimeMessage(target: CompileTarget, detail: string): Promise<string> {
  const version = Deno.version.deno;
  const zip = denortCachePath(await denoDir(), version, target.triple);
  return [
    `Cannot build ${target.output}: the Deno runtime (denort ${version} for ${target.triple}) ` +
    `is not cached and could not be downloaded: ${detail}`,
    "Provide it in one of two ways, then run again:",
    `  - DENORT_BIN=<path to the unzipped denort binary of Deno ${version} for ${target.triple}>` +
    " (only that target is built)",
    `  - or put denort-${target.triple}.zip of Deno ${version} at ${zip}`,
  ].join("\n");
}

/** Worker modules to embed; each is also started by URL, not imported. */
export const WORKERS: readonly string[] = ["ffi/linux/_scan_worker.ts"];

async function compileOne(
  target: CompileTarget,
  name: TargetName,
  outDir: string,
): Promise<string> {
  const output = join(outDir, target.output);
  const args = [
    "compile",
    "--target",
    target.triple,
    "--output",
    output,
    ...PERMISSIONS[name],
    ...V8_FLAGS,
    ...nodeModulesExcludes(ROOT).flatMap((path) => ["--exclude", path]),
    // Loaded as a worker (new Worker(url)), which the module graph does not follow.
    ...WORKERS.flatMap((path) => ["--include", path]),
    "main.ts",
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (result.success) return output;
  const text = stripAnsi(
    new TextDecoder().decode(result.stderr) + new TextDecoder().decode(result.stdout),
  );
  const download = /denort-[\w-]+\.zip/.test(text) && /error sending request|download/i.test(text);
  if (download && !Deno.env.get("DENORT_BIN")) {
    const cause = text.match(/error sending request[^\n]*/)?.[0] ?? "the download failed";
    throw new CompileError(await missingRuntimeMessage(target, cause));
  }
  const trimmed = text.replace(/\n\s*Stack backtrace:[\s\S]*$/, "").trim();
  throw new CompileError(`deno compile failed for ${target.triple}:\n${trimmed}`);
}

interface Options {
  targets: TargetName[];
  explicitTarget: boolean;
  outDir: string;
}

const USAGE = "usage: compile.ts [--target linux|windows|all] [--out-dir DIR]";

function parseCommandLine(args: readonly string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { target: { type: "string" }, "out-dir": { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    // util.parseArgs names the unknown option or the missing value in its message.
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(`${(err as Error).message}: ${USAGE}`);
    }
    throw err;
  }
  const target = values.target ?? "all";
  const explicitTarget = values.target !== undefined;
  const outDir = values["out-dir"] === undefined ? join(ROOT, "dist") : resolve(values["out-dir"]);
  if (target !== "all" && !(target in TARGETS)) {
    throw new UsageError(`Invalid target "${target}": expected linux, windows or all`);
  }
  const targets = target === "all"
    ? (Object.keys(TARGETS) as TargetName[])
    : [target as TargetName];
  return { targets, explicitTarget, outDir };
}

/**
 * Builds the executables.
 *
 * @param args Command-line arguments: `--target linux|windows|all`, `--out-dir DIR`.
 * @returns The exit code: 0 built, 1 failed, 2 a command line it cannot read (the reason is
 *   printed on stderr).
 *
 * @example
 * ```ts ignore
 * import { main } from "./compile.ts";
 * Deno.exit(await main(["--target", "linux"]));
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  try {
    const options = parseCommandLine(args);
    let targets = options.targets;
    const denort = Deno.env.get("DENORT_BIN");
    if (denort) {
      const match = denortTarget(denort);
      if (!targets.includes(match)) {
        throw new CompileError(
          `DENORT_BIN "${denort}" is the runtime for ${TARGETS[match].triple}, ` +
            `so it cannot build ${targets.map((t) => TARGETS[t].triple).join(" or ")}`,
        );
      }
      const skipped = targets.filter((t) => t !== match);
      if (skipped.length > 0 && !options.explicitTarget) {
        console.error(
          `compile: DENORT_BIN is the runtime for ${TARGETS[match].triple}: building only ` +
            `${TARGETS[match].output}; skipped ${
              skipped.map((t) => TARGETS[t].output).join(", ")
            }` +
            " (deno compile uses DENORT_BIN whatever the target)",
        );
      }
      targets = [match];
    }
    Deno.mkdirSync(options.outDir, { recursive: true });
    for (const name of targets) {
      const output = await compileOne(TARGETS[name], name, options.outDir);
      const size = Deno.statSync(output).size;
      console.log(`${output} (${(size / 2 ** 20).toFixed(1)} MiB)`);
    }
    return 0;
  } catch (err) {
    if (err instanceof CompileError) {
      console.error(`compile: ${err.message}`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
