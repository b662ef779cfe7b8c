/**
 * Command-line flags, parsed once by commander; the help text is written here and nowhere else.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { FilterOptions } from "../core/filter.ts";
import { parseCidr } from "../core/filter.ts";
import { CONNECTION_FIELDS, type Family, type Protocol } from "../core/record.ts";
import { parseState } from "../core/states.ts";
import { type Format, FORMATS } from "../formatters/mod.ts";
import { VERSION } from "../version.ts";
import { runtimeDescription } from "./_io.ts";

/** A command line that cannot be run: exit code 2, one line on stderr. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Opt-in enrichments, as `listConnections` takes them. */
export interface Enrichment {
  /** Add descendants of the selected processes. */
  tree: boolean;
  /** Hash process images. */
  hash: boolean;
  /** Read TCP counters. */
  stats: boolean;
  /** Reverse DNS, with its per-lookup timeout. */
  resolve: false | { timeoutMs: number };
}

/** The subcommands. `list` is the default. */
export type Action = "list" | "watch" | "snapshot" | "tree";

/** What the user asked for. */
export interface CliRequest {
  /** The command to run; `help` and `version` only print `text`. */
  action: Action | "help" | "version";
  /** Text to print for help and version. */
  text: string;
  /** The filters. */
  filters: FilterOptions;
  /** The opt-in enrichments. */
  enrich: Enrichment;
  /** Output format. */
  format: Format;
  /** Fields to output, in order. */
  fields: readonly string[];
  /** True when --format was given (watch picks its view from the terminal otherwise). */
  formatGiven: boolean;
  /** Colour allowed. */
  color: boolean;
  /** list: group the rows by owning process. */
  groupBy?: "process";
  /** watch: milliseconds between refreshes. */
  intervalMs: number;
  /** watch: stop after this many refreshes (default: until interrupted). */
  count?: number;
  /** snapshot: the file to write. */
  out?: string;
  /** snapshot: add to the file instead of replacing it. */
  append: boolean;
}

/** Default table columns: the classic console table plus the path and parent. */
export const DEFAULT_TABLE_FIELDS = [
  "protocol",
  "localAddress",
  "localPort",
  "remoteAddress",
  "remotePort",
  "state",
  "pid",
  "processName",
  "parentPid",
  "processPath",
] as const;

function commaList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function wrap<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function parsePort(text: string): number {
  const n = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) {
    throw new RangeError(`Invalid port "${text}": expected an integer from 0 to 65535`);
  }
  return n;
}

/** A parser of a comma list whose items `item` parses; an empty list is refused. */
function listOf<T>(what: string, usage: string, item: (text: string) => T) {
  return (text: string): T[] => {
    const items = commaList(text);
    if (items.length === 0) {
      throw new RangeError(`Invalid ${what} list "${text}": expected ${usage}`);
    }
    return items.map(item);
  };
}

const parsePids = listOf("pid", "N[,N...]", (item) => {
  const n = /^\d{1,10}$/.test(item) ? Number(item) : NaN;
  if (!(n >= 0 && n <= 0xffffffff)) {
    throw new RangeError(`Invalid pid "${item}": expected a whole number from 0 to 4294967295`);
  }
  return n;
});

const parseStates = listOf("state", "S[,S...]", parseState);
const parsePorts = listOf("port", "N[,N...]", parsePort);
const parseAddresses = listOf("address", "ADDR[,ADDR...]", (item) => {
  parseCidr(item);
  return item;
});
const parseNames = listOf("name", "a name", (item) => item);

function parseFields(text: string): string[] {
  const items = commaList(text);
  const known = new Set<string>(CONNECTION_FIELDS);
  const bad = items.find((f) => !known.has(f));
  if (bad !== undefined || items.length === 0) {
    throw new RangeError(
      `Unknown field "${bad ?? text}": expected a comma list of ${CONNECTION_FIELDS.join(", ")}`,
    );
  }
  return items;
}

/**
 * Parses a duration: `500ms`, `2s`, `1.5s`, `1m`, or a plain number of seconds.
 *
 * @param text The duration.
 * @param minMs The shortest duration allowed.
 * @returns Milliseconds.
 * @throws {RangeError} When the text is not a duration from `minMs` to 1 hour.
 */
export function parseDuration(text: string, minMs = 100): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000) : NaN;
  if (!(ms >= minMs && ms <= 3_600_000)) {
    throw new RangeError(
      `Invalid duration "${text}": expected ${minMs}ms to 1h, e.g. 2s or 500ms`,
    );
  }
  return Math.round(ms);
}

function parseCount(text: string): number {
  const n = /^\d{1,9}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 1)) throw new RangeError(`Invalid count "${text}": expected a whole number from 1`);
  return n;
}

const EXIT_CODES = "\nExit codes: 0 success, 1 runtime failure, 2 bad command line.";

/** The filter flags every subcommand shares. */
function addFilterOptions(cmd: Command): Command {
  return cmd
    .helpOption("-h, --help", "show this help")
    .option("--tcp", "TCP only")
    .option("--udp", "UDP only")
    .option("-4, --ipv4", "IPv4 only")
    .option("-6, --ipv6", "IPv6 only")
    .option(
      "--state <states>",
      "TCP states, comma separated (ESTABLISHED, TimeWait, listening, ... any case)",
      wrap(parseStates),
    )
    .option("--pid <pids>", "owning process ids, comma separated", wrap(parsePids))
    .option(
      "--name <globs>",
      "process names, comma separated, wildcards * and ?, any case, .exe optional",
      wrap(parseNames),
    )
    .option("--port <ports>", "local or remote ports, comma separated", wrap(parsePorts))
    .option("--local-port <ports>", "local ports, comma separated", wrap(parsePorts))
    .option("--remote-port <ports>", "remote ports, comma separated", wrap(parsePorts))
    .option(
      "--local <addrs>",
      "local addresses or CIDR blocks, comma separated (127.0.0.0/8, ::1)",
      wrap(parseAddresses),
    )
    .option(
      "--remote <addrs>",
      "remote addresses or CIDR blocks, comma separated (10.0.0.0/8, fe80::/10)",
      wrap(parseAddresses),
    )
    .option("-l, --listening", "listening endpoints only (TCP LISTEN, unconnected UDP)")
    .option("--tree", "with --pid or --name: also every descendant of those processes")
    .option("--hash", "SHA-256 of each process image (imageSha256)")
    .option(
      "--stats",
      "TCP byte and segment counters (Windows: elevated; switches on the kernel's " +
        "per-connection statistics, which count from then until the connection ends)",
    )
    .option("--resolve", "reverse DNS of remote addresses (remoteHostName)")
    .addOption(
      new Option("--resolve-timeout <duration>", "longest wait for one reverse lookup")
        .argParser(wrap((t) => parseDuration(t, 1)))
        .default(500, "500ms"),
    )
    .option(
      "--fields <fields>",
      `columns to output, comma separated, from: ${CONNECTION_FIELDS.join(", ")}`,
      wrap(parseFields),
    )
    .option("--no-color", "no colour (also when NO_COLOR is set)")
    .allowExcessArguments(false)
    .exitOverride();
}

function buildList(): Command {
  return addFilterOptions(new Command("procconn"))
    .usage("[watch|snapshot|tree] [options]")
    .description(
      "List every TCP and UDP endpoint with the process that owns it.\n\n" +
        "Commands:\n  (none)    list once\n" +
        "  watch     refresh continuously; events as NDJSON when not on a terminal\n" +
        "  snapshot  write the listing with time and host to a file (--out, --append)\n" +
        "  tree      the process tree with each process's endpoints beneath it\n" +
        "Run 'procconn <command> --help' for a command's options.",
    )
    .option("-V, --version", "print the version, runtime and platform")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"))
    .addOption(new Option("--group-by <key>", "one block per owning process").choices(["process"]))
    .addHelpText(
      "after",
      "\nExamples:\n  procconn --state established --name 'msedge*'\n" +
        "  procconn --listening --format json\n" +
        "  procconn --remote 10.0.0.0/8 --format csv > conns.csv\n" + EXIT_CODES,
    );
}

function buildWatch(): Command {
  return addFilterOptions(new Command("procconn watch"))
    .description(
      "Refresh the listing continuously. On a terminal: a live view (new endpoints green, closed " +
        "red, changed yellow; q or Ctrl-C quits). Otherwise, or with --format ndjson: one JSON " +
        "event per line (opened, closed, changed). The first refresh reports every endpoint " +
        "present as opened; closed events carry the record as last seen. --fields sets the " +
        "live view's columns; events always carry the full record.",
    )
    .option(
      "--interval <duration>",
      "time between refreshes (500ms, 2s, 1m)",
      wrap(parseDuration),
      1000,
    )
    .option("--count <n>", "stop after n refreshes", wrap(parseCount))
    .addOption(
      new Option("--format <format>", "live view or event stream").choices(["table", "ndjson"]),
    )
    .addHelpText("after", EXIT_CODES);
}

function buildSnapshot(): Command {
  return addFilterOptions(new Command("procconn snapshot"))
    .description(
      "Write the listing to a file, with snapshotTime and hostName on every row. A snapshot is " +
        "written whole or not at all.",
    )
    .requiredOption("--out <file>", "the file to write")
    .option("--append", "add to the file (header only when it is new or empty)")
    .addOption(
      new Option("--format <format>", "file format").choices(["csv", "ndjson"]).default("csv"),
    )
    .addHelpText("after", "\nExample:\n  procconn snapshot --out conns.csv --append" + EXIT_CODES);
}

function buildTree(): Command {
  return addFilterOptions(new Command("procconn tree"))
    .description(
      "Show the process tree with each process's endpoints beneath it. With --pid or --name, " +
        "only those processes and their descendants.",
    )
    .addOption(new Option("--format <format>", "output format").choices(["table", "json"]))
    .addHelpText("after", "\nExample:\n  procconn tree --name 'notepad++' --resolve" + EXIT_CODES);
}

const BUILDERS: Record<Action, () => Command> = {
  list: buildList,
  watch: buildWatch,
  snapshot: buildSnapshot,
  tree: buildTree,
};

/**
 * Parses the command line.
 *
 * @param args Arguments after the program name; a first word `watch` or `snapshot` picks that
 *   command.
 * @param options `noColorEnv`: NO_COLOR is set.
 * @returns What to do.
 * @throws {UsageError} For a bad command line; the message is one line naming the bad value.
 */
export function parseArgs(
  args: readonly string[],
  options: { noColorEnv?: boolean } = {},
): CliRequest {
  const action: Action = args[0] === "watch" || args[0] === "snapshot" || args[0] === "tree"
    ? args[0]
    : "list";
  const program = BUILDERS[action]();
  let helpText = "";
  program.configureOutput({ writeOut: (s) => (helpText += s), writeErr: () => {} });
  try {
    program.parse(action === "list" ? [...args] : args.slice(1), { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help") {
        return { ...emptyRequest(), action: "help", text: helpText };
      }
      let message = err.message.replace(/^error: /, "");
      if (err.code === "commander.unknownOption") {
        message += ": run procconn --help for the options";
      }
      if (err.code === "commander.excessArguments") {
        message += ": the commands are watch, snapshot and tree";
      }
      throw new UsageError(message);
    }
    throw err;
  }
  const o = program.opts();
  if (o.version) {
    const text = `procconn ${VERSION} (${runtimeDescription()})\n`;
    return { ...emptyRequest(), action: "version", text };
  }
  const protocols: Protocol[] | undefined = o.tcp === o.udp ? undefined : o.tcp ? ["TCP"] : ["UDP"];
  const families: Family[] | undefined = !!o.ipv4 === !!o.ipv6
    ? undefined
    : o.ipv4
    ? ["IPv4"]
    : ["IPv6"];
  const filters: FilterOptions = {
    protocols,
    families,
    states: o.state,
    pids: o.pid,
    name: o.name,
    port: o.port,
    localPort: o.localPort,
    remotePort: o.remotePort,
    local: o.local,
    remote: o.remote,
    listening: o.listening,
  };
  const enrich: Enrichment = {
    tree: !!o.tree,
    hash: !!o.hash,
    stats: !!o.stats,
    resolve: o.resolve ? { timeoutMs: o.resolveTimeout } : false,
  };
  const format = (o.format ?? "table") as Format;
  if (action === "tree") o.tree = o.pid !== undefined || o.name !== undefined;
  else if (o.tree && !o.pid && o.name === undefined) {
    throw new UsageError(
      "--tree needs --pid or --name: it adds the descendants of those processes",
    );
  }
  if (o.groupBy && format !== "table" && format !== "json") {
    throw new UsageError(
      `--group-by ${o.groupBy} works with --format table or json, not "${format}"`,
    );
  }
  const fields = o.fields ?? (format === "table" ? DEFAULT_TABLE_FIELDS : CONNECTION_FIELDS);
  return {
    action,
    text: "",
    filters,
    enrich,
    format,
    fields,
    formatGiven: program.getOptionValueSource("format") === "cli",
    color: o.color !== false && !options.noColorEnv,
    groupBy: o.groupBy,
    intervalMs: o.interval ?? 1000,
    count: o.count,
    out: o.out,
    append: !!o.append,
  };
}

function emptyRequest(): CliRequest {
  return {
    action: "list",
    text: "",
    filters: {},
    enrich: { tree: false, hash: false, stats: false, resolve: false },
    format: "table",
    fields: [],
    formatGiven: false,
    color: false,
    intervalMs: 1000,
    append: false,
  };
}
