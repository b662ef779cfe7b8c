/**
 * `procconn` and `procconn tree`: one listing, written as it is made. Loaded by `main.ts` once the
 * command line is known to ask for a listing, so that `--help`, `--version` and a bad command
 * line do not load the engines, the formatters and the schema.
 *
 * @module
 */
import { listConnections, openListing } from "../core/list.ts";
import { buildProcessTree } from "../core/tree.ts";
import { defaultSource } from "../ffi/mod.ts";
import { loadFormatter } from "../formatters/load.ts";
import { renderTree, renderTreeJson } from "../formatters/tree.ts";
import { ListingNotes } from "./_gaps.ts";
import { terminalWidth, type TextWriter } from "./_io.ts";
import type { CliRequest } from "./args.ts";

/**
 * Lists the endpoints the request selects and writes them in its format.
 *
 * @param request The parsed command line (action `list`).
 * @param out Where to write.
 *
 * @example
 * ```ts ignore
 * import { runList } from "./list.ts";
 * import { parseArgs } from "./args.ts";
 * import { stdoutWriter } from "./_io.ts";
 * await runList(parseArgs(["--listening", "--format", "ndjson"]), stdoutWriter());
 * ```
 */
export async function runList(request: CliRequest, out: TextWriter): Promise<void> {
  const width = terminalWidth();
  const view = { fields: request.fields, width, color: request.color && width > 0 };
  if (request.groupBy === "process") {
    const source = await defaultSource({ bpf: request.bpf });
    const rows = await listConnections({ ...request.filters, ...request.enrich, source });
    const { formatGroups } = await import("../formatters/group.ts");
    const format = request.format === "json" ? "json" : "table";
    await out.write(formatGroups(rows, { ...view, format }));
    await out.flush();
    await new ListingNotes(request.filters).addAll(rows).report(source);
    return;
  }
  // Records are made as they are written, so they need not all be held at once.
  const source = await defaultSource({ bpf: request.bpf });
  const listing = await openListing({ ...request.filters, ...request.enrich, source });
  const formatter = await loadFormatter(request.format, view);
  const notes = new ListingNotes(request.filters);
  await out.write(formatter.begin());
  for (const row of listing) {
    notes.add(row);
    // Awaited only when it flushed: one promise per 64 KiB, not per record.
    const flushed = out.write(formatter.record(row));
    if (flushed) await flushed;
  }
  await out.write(formatter.end());
  await out.flush();
  await notes.report(source);
}

/**
 * `procconn tree`: the process tree of the owners of the selected endpoints.
 *
 * @param request The parsed command line (action `tree`).
 * @param out Where to write.
 */
export async function runTree(request: CliRequest, out: TextWriter): Promise<void> {
  const backend = await defaultSource({ bpf: request.bpf });
  if (!backend.listProcesses) {
    throw new Error(`The ${backend.name} backend cannot list processes`);
  }
  // One process table serves both the --pid/--name selection and the drawing.
  const table = await backend.listProcesses();
  // The backend with its process table answered once. Every other member (thread ids, hidden
  // owners, counters, running images, its name after the listing) is the backend's own, whatever
  // members a backend has.
  const listProcesses = () => Promise.resolve(table);
  const source = new Proxy(backend, {
    get(target, key) {
      if (key === "listProcesses") return listProcesses;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const rows = await listConnections({ ...request.filters, ...request.enrich, source });
  const roots = buildProcessTree(table, rows);
  const ownerless = rows.filter((row) => row.pid === null);
  await out.write(
    request.format === "json" ? renderTreeJson(roots, ownerless) : renderTree(roots, ownerless),
  );
  await out.flush();
  await new ListingNotes(request.filters).addAll(rows).report(source);
}
