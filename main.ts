/**
 * The procconn command line.
 *
 * ```sh
 * procconn --state established --format json
 * ```
 *
 * @module
 */
import { listConnections, openListing } from "./core/list.ts";
import { BrokenPipe, env, stdoutWriter, terminalWidth, writeError } from "./cli/_io.ts";
import { GapCounter, reportGaps } from "./cli/_gaps.ts";
import { type CliRequest, parseArgs, UsageError } from "./cli/args.ts";
import { buildProcessTree } from "./core/tree.ts";
import { defaultSource } from "./ffi/mod.ts";
import { renderTree, renderTreeJson } from "./formatters/tree.ts";
import { createFormatter } from "./formatters/mod.ts";

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
  const out = stdoutWriter();
  try {
    const request = parseArgs(args, { noColorEnv: env("NO_COLOR") !== undefined });
    if (request.action === "help" || request.action === "version") {
      await out.write(request.text);
      await out.flush();
      return 0;
    }
    // Loaded on demand: a plain listing does not pay for the watch and snapshot code.
    if (request.action === "watch") {
      return await (await import("./cli/watch.ts")).runWatch(request, out);
    }
    if (request.action === "snapshot") {
      return await (await import("./cli/snapshot.ts")).runSnapshot(request);
    }
    if (request.action === "tree") {
      await out.write(await treeView(request));
      await out.flush();
      return 0;
    }
    const width = terminalWidth();
    const view = { fields: request.fields, width, color: request.color && width > 0 };
    if (request.groupBy === "process") {
      const rows = await listConnections({ ...request.filters, ...request.enrich });
      reportGaps(rows);
      const { formatGroups } = await import("./formatters/group.ts");
      const format = request.format === "json" ? "json" : "table";
      await out.write(formatGroups(rows, { ...view, format }));
      await out.flush();
      return 0;
    }
    // Records are made as they are written, so they need not all be held at once.
    const listing = await openListing({ ...request.filters, ...request.enrich });
    const formatter = createFormatter(request.format, view);
    const gaps = new GapCounter();
    await out.write(formatter.begin());
    for (const row of listing) {
      gaps.add(row);
      await out.write(formatter.record(row));
    }
    await out.write(formatter.end());
    await out.flush();
    gaps.report();
    return 0;
  } catch (err) {
    if (err instanceof BrokenPipe) return 0;
    if (err instanceof UsageError) {
      writeError(`procconn: ${err.message}`);
      return 2;
    }
    writeError(`procconn: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** `procconn tree`: the process tree of the owners of the selected endpoints. */
async function treeView(request: CliRequest): Promise<string> {
  const backend = defaultSource();
  if (!backend.listProcesses) {
    throw new Error(`The ${backend.name} backend cannot list processes`);
  }
  // One process table serves both the --pid/--name selection and the drawing.
  const table = await backend.listProcesses();
  const source = {
    name: backend.name,
    listSockets: backend.listSockets.bind(backend),
    describeProcesses: backend.describeProcesses.bind(backend),
    listProcesses: () => Promise.resolve(table),
  };
  const rows = await listConnections({ ...request.filters, ...request.enrich, source });
  reportGaps(rows);
  const roots = buildProcessTree(table, rows);
  return request.format === "json" ? renderTreeJson(roots) : renderTree(roots);
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
