/**
 * The procconn command line.
 *
 * ```sh
 * procconn --state established --format json
 * ```
 *
 * Run as a program, it starts the command line (`cli/app.ts`) from the bundle that `npm ci`
 * writes of it while the bundle matches these sources, and from the sources otherwise
 * (`cli/_bundle.ts`); help and the version always come from the sources.
 *
 * @module
 */
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

/**
 * Help and the version load as few modules from the sources as from the bundle, so they skip
 * the bundle's check of its sources (about 80 file times).
 */
const ANSWERED_FROM_SOURCES = new Set(["--help", "-h", "--version", "-V"]);

if (import.meta.main) {
  // The version alone needs neither the parser nor its tables: two small modules instead of
  // eleven. With anything else on the line, the parser decides (`--version --bogus` is refused).
  if (Deno.args.length === 1 && (Deno.args[0] === "--version" || Deno.args[0] === "-V")) {
    const io = await import("./cli/_io.ts");
    Deno.exit(await io.printText(io.versionText()));
  }
  const app = Deno.args.some((arg) => ANSWERED_FROM_SOURCES.has(arg))
    ? await import("./cli/app.ts")
    : await (await import("./cli/_bundle.ts")).loadApp(new URL("./", import.meta.url));
  // Everything is written (stdout and stderr synchronously) once main returns. Exiting here
  // rather than letting the runtime wind down its heap and libraries ends a listing of 40,000
  // sockets 6-9 ms sooner.
  Deno.exit(await app.main(Deno.args));
}
