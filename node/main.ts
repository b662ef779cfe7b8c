/**
 * procconn's entry point on Node, and the main script of the Node single executable
 * (`scripts/build_exe.mjs` bundles it into one CommonJS file). Importing it runs the CLI with
 * the process arguments and sets the exit code.
 *
 * Inside the single executable, koffi (the native calls of both engines) comes from the addon
 * the executable carries; elsewhere it is the `koffi` package.
 *
 * ```sh
 * procconn-node --listening --format ndjson
 * ```
 *
 * @module
 */
import process from "node:process";
import { main } from "../main.ts";
import { setKoffiLoader } from "../ffi/_koffi.ts";
import { isSingleExecutable, koffiFromSeaAsset } from "./_sea_addon.ts";
import { writeError } from "../cli/_io.ts";

if (isSingleExecutable()) setKoffiLoader(koffiFromSeaAsset);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    writeError(`procconn: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
