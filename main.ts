/**
 * The procconn command line.
 *
 * ```sh
 * procconn --state established --format json
 * ```
 *
 * Run as a program, it starts the command line (`cli/app.ts`) from the bundle that `npm ci`
 * writes of it while the bundle matches these sources, and from the sources otherwise
 * (`cli/_bundle.ts`).
 *
 * @module
 */
import { loadApp } from "./cli/_bundle.ts";

/**
 * Runs procconn with the given arguments.
 *
 * @param args Arguments after the program name.
 * @returns The exit code: 0 success, 1 runtime failure, 2 bad command line.
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * const code = await main(["--listening", "--format", "ndjson"]);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  return await (await import("./cli/app.ts")).main(args);
}

if (import.meta.main) {
  Deno.exitCode = await (await loadApp(new URL("./", import.meta.url))).main(Deno.args);
}
