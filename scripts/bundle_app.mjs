#!/usr/bin/env node
// @ts-check
/**
 * Writes `gen/app/`: the command line (`cli/app.ts` and everything it imports) bundled by
 * esbuild into a few modules, and `gen/app/sources.json`, the manifest that names each file the
 * bundle was made from with its size and modification time. Run by `npm ci` / `npm install`
 * (the `postinstall` script, after `scripts/bundle_zod.mjs`, whose output it bundles), and by
 * hand to bring the bundle up to date after changing the sources:
 *
 *   node scripts/bundle_app.mjs
 *
 * Why: a listing loads some 45 modules, and on a slow machine Deno spends about half a
 * millisecond on each. Code splitting keeps what the sources load on demand (each OS's engine,
 * the CSV writer, watch, snapshot, the schema's explanations) in modules of their own.
 *
 * `main.ts` runs the bundle only while every file in the manifest still has the size and
 * modification time it had (`cli/_bundle.ts`); an edited source makes it run the sources. Without
 * esbuild (`npm ci --omit=dev`), no bundle is written and the sources run.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ESBUILD_MODULE_OPTIONS } from "./bundle_zod.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "gen", "app");
const ENTRY = "cli/app.ts";

/**
 * The fd-scan worker is started from a URL relative to `ffi/linux/processes.ts`; from the
 * bundle's folder the same file is two levels up. The worker itself runs from the sources (and
 * is in the manifest, so that it and the bundle always match).
 */
const WORKER = {
  importer: "ffi/linux/processes.ts",
  source: 'new URL("./_scan_worker.ts", import.meta.url)',
  bundled: 'new URL("../../ffi/linux/_scan_worker.ts", import.meta.url)',
  file: "ffi/linux/_scan_worker.ts",
};

/**
 * Checkout-relative, with forward slashes.
 *
 * @param {string} path
 */
const fromRoot = (path) => relative(ROOT, resolve(ROOT, path)).split(sep).join("/");

/**
 * Bundles into `outdir`.
 *
 * @param {any} esbuild
 * @param {string} outdir
 * @returns {Promise<string[]>} The files the bundle was made from, checkout-relative.
 */
async function build(esbuild, outdir) {
  let rewritten = 0;
  const result = await esbuild.build({
    ...ESBUILD_MODULE_OPTIONS,
    entryPoints: { app: join(ROOT, ENTRY) },
    splitting: true,
    external: ["node:*"],
    outdir,
    metafile: true,
    plugins: [{
      name: "scan-worker-url",
      /** @param {any} b */
      setup(b) {
        /** @param {{ path: string }} args */
        const load = (args) => {
          const text = readFileSync(args.path, "utf8");
          rewritten = text.split(WORKER.source).length - 1;
          return { contents: text.replace(WORKER.source, WORKER.bundled), loader: "ts" };
        };
        b.onLoad({ filter: /[\\/]ffi[\\/]linux[\\/]processes\.ts$/ }, load);
      },
    }],
  });
  if (rewritten !== 1) {
    throw new Error(
      `expected one ${WORKER.source} in ${WORKER.importer}, found ${rewritten}: ` +
        "update WORKER in scripts/bundle_app.mjs",
    );
  }
  return [...Object.keys(result.metafile.inputs).map(fromRoot), WORKER.file];
}

/**
 * The manifest: each source with its size and modification time (whole milliseconds).
 *
 * @param {string[]} sources
 */
function manifest(sources) {
  const unique = [...new Set(sources)].sort();
  return {
    format: 1,
    entry: "app.js",
    sources: unique.map((path) => {
      const info = statSync(join(ROOT, path));
      return [path, info.size, Math.trunc(info.mtimeMs)];
    }),
  };
}

async function main() {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    rmSync(OUT, { recursive: true, force: true });
    console.log("procconn: no gen/app bundle, as esbuild is not installed (the sources run)");
    return;
  }
  // Written beside the old one and swapped in whole, so that no run sees half a bundle.
  const temporary = `${OUT}.${process.pid}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  try {
    const sources = await build(esbuild, temporary);
    const list = manifest(sources);
    writeFileSync(join(temporary, "sources.json"), JSON.stringify(list) + "\n");
    const old = `${OUT}.${process.pid}.old`;
    if (existsSync(OUT)) renameSync(OUT, old);
    renameSync(temporary, OUT);
    rmSync(old, { recursive: true, force: true });
    console.log(`procconn: wrote gen/app from ${list.sources.length} source files`);
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
