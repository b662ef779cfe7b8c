/**
 * The procconn command line: parses the arguments and runs the command. `main.ts` runs it, from
 * these sources or from the bundle of them that `npm ci` writes (`cli/_bundle.ts`).
 *
 * @module
 */
import { BrokenPipe, env, printText, readInputText, stdoutWriter, writeError } from "./_io.ts";
import { parseArgs, UsageError, withPidFile } from "./args.ts";

/**
 * Runs procconn with the given arguments.
 *
 * @param args Arguments after the program name.
 * @returns The exit code: 0 success, 1 runtime failure, 2 bad command line.
 *
 * @example
 * ```ts ignore
 * import { main } from "./app.ts";
 * const code = await main(["--listening", "--format", "ndjson"]);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  const out = stdoutWriter();
  try {
    // no-color.org: a NO_COLOR that is set and not empty.
    const parsed = parseArgs(args, { noColorEnv: (env("NO_COLOR") ?? "") !== "" });
    if (parsed.action === "help" || parsed.action === "version") {
      return await printText(parsed.text);
    }
    const request = await withPidFile(parsed, readInputText);
    if (request.enrich.enableStats) await (await import("./_confirm.ts")).confirmChanges(request);
    // Each command's code is loaded once the command line is known to be good, so that help,
    // the version and a usage error load neither the engines nor the schema.
    if (request.action === "watch") {
      return await (await import("./watch.ts")).runWatch(request, out);
    }
    if (request.action === "snapshot") {
      return await (await import("./snapshot.ts")).runSnapshot(request);
    }
    const { runList, runTree } = await import("./list.ts");
    await (request.action === "tree" ? runTree : runList)(request, out);
    return 0;
  } catch (err) {
    if (err instanceof BrokenPipe) return 0;
    if (err instanceof UsageError) {
      writeError(`procconn: ${err.message}`);
      return 2;
    }
    writeError(`procconn: ${(await explained(err)).message}`);
    return 1;
  }
}

/**
 * The error to report for `err`. A record that failed the listing's check comes as an
 * `InvalidConnectionError`, which has not named the fields yet: that needs the schema, which
 * is loaded for it here (and only here).
 */
async function explained(err: unknown): Promise<Error> {
  if (!(err instanceof Error)) return new Error(String(err));
  if (err.name !== "InvalidConnectionError") return err;
  return await (await import("../core/check.ts")).explained(err) as Error;
}
