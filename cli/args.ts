/**
 * Command-line flags: one table of options per command, from which both the parser's flag
 * definitions (type-flag) and the help text are made, so the two cannot drift apart.
 *
 * @module
 */
import { typeFlag } from "type-flag";
import type { FilterOptions, PortSpec } from "../core/filter.ts";
import { parseCidr } from "../core/filter.ts";
import { CONNECTION_FIELDS, type Family, type Protocol } from "../core/fields.ts";
import { parseState } from "../core/states.ts";
import { type Format, FORMATS } from "../formatters/formats.ts";
import { versionText } from "./_io.ts";

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
  /** Switch TCP counters on where they are off (Windows); implies `stats`. */
  enableStats: boolean;
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
  /**
   * `--pid-file`: the file (`-` for standard input) whose pids join `filters.pids`; read by
   * {@linkcode withPidFile} before the listing.
   */
  pidFile?: string;
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
  /** Linux: socket owners may be read through a BPF iterator (`--no-bpf` says no). */
  bpf: boolean;
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
  /** snapshot: only check that the file could take the snapshot; list and write nothing. */
  check: boolean;
  /** `--yes`: `--enable-stats` may change the system without asking. */
  confirmed: boolean;
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

/**
 * The items of a comma list, trimmed. An empty item (`80,,443`, `5,`) is refused rather than
 * dropped, since it is most often a value a script failed to fill in.
 */
function commaList(text: string, what: string, usage: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    const why = items.every((s) => s === "") ? "it is empty" : "it has an empty item";
    throw new RangeError(`Invalid ${what} list "${text}": ${why}; expected ${usage}`);
  }
  return items;
}

// Ports and pids are whole numbers in decimal digits, leading zeros allowed (a port of 5 digits
// written in 6, 080, is still port 80), the value in range.
const PORT_USAGE = "a whole number from 0 to 65535, or a range FIRST-LAST such as 8000-8999";

/** A port, or an inclusive range of ports written `FIRST-LAST`. */
function parsePort(text: string): PortSpec {
  const number = (digits: string) => /^\d+$/.test(digits) ? Number(digits) : NaN;
  const ends = text.split("-").map((end) => number(end.trim()));
  if (ends.length > 2 || !ends.every((n) => n >= 0 && n <= 65535)) {
    throw new RangeError(`Invalid port "${text}": expected ${PORT_USAGE}`);
  }
  if (ends.length === 1) return ends[0];
  const [from, to] = ends;
  if (from > to) {
    throw new RangeError(
      `Invalid port range "${text}": it ends before it starts (${to} < ${from})`,
    );
  }
  return { from, to };
}

/** A parser of a comma list whose items `item` parses; an empty list or item is refused. */
function listOf<T>(what: string, usage: string, item: (text: string) => T) {
  return (text: string): T[] => commaList(text, what, usage).map(item);
}

const PID_RANGE = "a whole number from 0 to 4294967295";

/** One pid, or NaN when the text is not one. */
function pidOf(item: string): number {
  const n = /^\d+$/.test(item) ? Number(item) : NaN;
  return n >= 0 && n <= 0xffffffff ? n : NaN;
}

const parsePids = listOf("pid", "N[,N...]", (item) => {
  const n = pidOf(item);
  if (Number.isNaN(n)) throw new RangeError(`Invalid pid "${item}": expected ${PID_RANGE}`);
  return n;
});

const PID_FILE_LAYOUT = "whole numbers from 0 to 4294967295, separated by commas, spaces or new " +
  "lines";

/** A `--pid-file` as its messages name it. */
function pidFileName(file: string): string {
  return file === "-" ? "standard input (--pid-file -)" : `--pid-file "${file}"`;
}

/**
 * The pids of a `--pid-file`'s text: whole numbers separated by commas, white space or new lines
 * (one per line, as `pgrep` writes them; a comma list, as `--pid` takes it). A byte order mark
 * is skipped.
 *
 * @param text The file's text.
 * @param file The file as given, to name in an error (`-` is standard input).
 * @returns The pids, in the file's order.
 * @throws {UsageError} At the first item that is no pid (naming it and its line), or when the
 * text has no pid at all: an empty selection would otherwise list every process.
 *
 * @example
 * ```ts
 * import { pidsFromText } from "./args.ts";
 * pidsFromText("812\n4410, 77\n", "pids.txt"); // [812, 4410, 77]
 * ```
 */
export function pidsFromText(text: string, file: string): number[] {
  const where = pidFileName(file);
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const pids: number[] = [];
  for (const match of body.matchAll(/[^\s,]+/g)) {
    const n = pidOf(match[0]);
    if (Number.isNaN(n)) {
      const line = body.slice(0, match.index).split("\n").length;
      const item = match[0].length > 40 ? `${match[0].slice(0, 40)}...` : match[0];
      throw new UsageError(
        `Invalid pid ${
          JSON.stringify(item)
        } on line ${line} of ${where}: expected ${PID_FILE_LAYOUT}`,
      );
    }
    pids.push(n);
  }
  if (pids.length === 0) throw new UsageError(`${where} has no pid: expected ${PID_FILE_LAYOUT}`);
  return pids;
}

/**
 * The request with the pids of its `--pid-file` added to its `--pid` selection (the request as
 * it is without `--pid-file`).
 *
 * @param request A parsed command line.
 * @param read Reads the file's text, `-` standard input.
 * @returns The request to run.
 * @throws {UsageError} When the file cannot be read, or its text is not a list of pids.
 *
 * @example
 * ```ts
 * import { parseArgs, withPidFile } from "./args.ts";
 * const request = await withPidFile(
 *   parseArgs(["--pid-file", "pids.txt", "--pid", "4"]),
 *   () => Promise.resolve("812\n"),
 * );
 * request.filters.pids; // [4, 812]
 * ```
 */
export async function withPidFile(
  request: CliRequest,
  read: (file: string) => Promise<string>,
): Promise<CliRequest> {
  const file = request.pidFile;
  if (file === undefined) return request;
  let text: string;
  try {
    text = await read(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ENOENT"
      ? "there is no such file"
      : code === "EACCES" || code === "EPERM"
      ? "no permission to read it"
      : code === "EISDIR"
      ? "it is a folder"
      : (err as Error).message;
    throw new UsageError(`Cannot read ${pidFileName(file)}: ${why}`);
  }
  const pids = [...(request.filters.pids ?? []), ...pidsFromText(text, file)];
  return { ...request, filters: { ...request.filters, pids } };
}

const parseStates = listOf("state", "S[,S...]", parseState);
const parsePorts = listOf("port", "N[,N...] (N a port or a range FIRST-LAST)", parsePort);
const parseAddresses = listOf("address", "ADDR[,ADDR...]", (item) => {
  parseCidr(item);
  return item;
});
const parseNames = listOf("name", "a name", (item) => item);

function parseFields(text: string): string[] {
  const usage = `a comma list of ${CONNECTION_FIELDS.join(", ")}`;
  const items = commaList(text, "field", usage);
  const known = new Set<string>(CONNECTION_FIELDS);
  const bad = items.find((f) => !known.has(f));
  if (bad !== undefined) throw new RangeError(`Unknown field "${bad}": expected ${usage}`);
  return items;
}

/** Milliseconds in one of each duration unit. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration: `500ms`, `2s`, `1.5s`, `1m`, `1h`, or a plain number of seconds.
 *
 * @param text The duration.
 * @param minMs The shortest duration allowed.
 * @returns Milliseconds.
 * @throws {RangeError} When the text is not a duration from `minMs` to 1 hour.
 */
export function parseDuration(text: string, minMs = 100): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? "s"] : NaN;
  if (!(ms >= minMs && ms <= 3_600_000)) {
    throw new RangeError(
      `Invalid duration "${text}": expected ${minMs}ms to 1h, e.g. 2s or 500ms ` +
        "(a plain number is seconds)",
    );
  }
  return Math.round(ms);
}

function parseCount(text: string): number {
  const n = /^\d{1,9}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 1)) {
    throw new RangeError(`Invalid count "${text}": expected a whole number from 1 to 999999999`);
  }
  return n;
}

/** One option of a command: its flag, its value (if it takes one), and its help line. */
interface OptionSpec {
  /** The key of the parsed value, e.g. `localPort` for `--local-port`. */
  readonly key: string;
  /** The long flag as typed, e.g. `--local-port` (`--no-color` for a negation). */
  readonly flag: string;
  /** A one-letter alias, e.g. `l` for `-l`. */
  readonly short?: string;
  /** The value's placeholder, e.g. `<ports>`; absent for a switch. */
  readonly value?: string;
  /** A comma list: given more than once, the values add up (`--port 80 --port 443`). */
  readonly list?: true;
  /** Turns the text into the value; throws with a message naming the text and what is allowed. */
  readonly parse?: (text: string) => unknown;
  /** The value when the flag is not given. */
  readonly fallback?: unknown;
  /** Help text; the default is shown after it when `fallbackText` is set. */
  readonly help: string;
  /** How the default is shown in the help. */
  readonly fallbackText?: string;
}

function choice(what: string, allowed: readonly string[]): (text: string) => string {
  return (text) => {
    if (!allowed.includes(text)) {
      throw new RangeError(`Invalid ${what} "${text}": expected ${allowed.join(", ")}`);
    }
    return text;
  };
}

/**
 * `--out`: a file, so not a path that ends in a separator, which names a folder (a backslash is
 * one on Windows, and no sensible file name ends in one elsewhere).
 */
function parseOutFile(text: string): string {
  if (/[\\/]$/.test(text)) {
    throw new RangeError(
      `Invalid file "${text}": it ends with a path separator, so it names a folder; give a file name`,
    );
  }
  return text;
}

const HELP: OptionSpec = { key: "help", flag: "--help", short: "h", help: "show this help" };

/** The filter and enrichment flags every command shares. */
const FILTER_OPTIONS: readonly OptionSpec[] = [
  HELP,
  { key: "tcp", flag: "--tcp", help: "TCP only" },
  { key: "udp", flag: "--udp", help: "UDP only" },
  { key: "ipv4", flag: "--ipv4", short: "4", help: "IPv4 only" },
  { key: "ipv6", flag: "--ipv6", short: "6", help: "IPv6 only" },
  {
    key: "state",
    list: true,
    flag: "--state",
    value: "<states>",
    parse: parseStates,
    help: "TCP states, comma separated (ESTABLISHED, TimeWait, listening, ... any case); " +
      "leaves UDP out",
  },
  {
    key: "pid",
    list: true,
    flag: "--pid",
    value: "<pids>",
    parse: parsePids,
    help: "owning process ids, comma separated",
  },
  {
    key: "pidFile",
    flag: "--pid-file",
    value: "<file>",
    parse: (text) => text,
    help: "owning process ids read from a file (- for standard input), separated by commas, " +
      "spaces or new lines; adds to --pid",
  },
  {
    key: "name",
    list: true,
    flag: "--name",
    value: "<globs>",
    parse: parseNames,
    help: "process names, comma separated, wildcards * and ?, any case, .exe optional",
  },
  {
    key: "port",
    list: true,
    flag: "--port",
    value: "<ports>",
    parse: parsePorts,
    help: "local or remote ports or ranges (8000-8999), comma separated",
  },
  {
    key: "localPort",
    list: true,
    flag: "--local-port",
    value: "<ports>",
    parse: parsePorts,
    help: "local ports or ranges (49152-65535), comma separated",
  },
  {
    key: "remotePort",
    list: true,
    flag: "--remote-port",
    value: "<ports>",
    parse: parsePorts,
    help: "remote ports or ranges (1-1023), comma separated",
  },
  {
    key: "local",
    list: true,
    flag: "--local",
    value: "<addrs>",
    parse: parseAddresses,
    help: "local addresses or CIDR blocks, comma separated (127.0.0.0/8, [::1], fe80::1%4)",
  },
  {
    key: "remote",
    list: true,
    flag: "--remote",
    value: "<addrs>",
    parse: parseAddresses,
    help: "remote addresses or CIDR blocks, comma separated (10.0.0.0/8, fe80::/10)",
  },
  {
    key: "listening",
    flag: "--listening",
    short: "l",
    help: "listening endpoints only (TCP LISTEN, unconnected UDP)",
  },
  {
    key: "tree",
    flag: "--tree",
    help: "with --pid or --name: also every descendant of those processes",
  },
  {
    key: "hash",
    flag: "--hash",
    help: "SHA-256 of each process image (imageSha256; Linux: the file it runs, even deleted)",
  },
  {
    key: "stats",
    flag: "--stats",
    help: "TCP byte and segment counters. Windows keeps them only for connections whose " +
      "statistics were switched on; for the others they are <not-enabled>",
  },
  {
    key: "enableStats",
    flag: "--enable-stats",
    help: "--stats, and on Windows switch the kernel's statistics on where they are off " +
      "(elevated). This changes the system: those connections count from then until they end. " +
      "Asks first; --yes where no terminal can ask",
  },
  { key: "yes", flag: "--yes", short: "y", help: "answer yes to --enable-stats's question" },
  {
    key: "resolve",
    flag: "--resolve",
    help: "names of remote addresses (remoteHostName): the hosts file, then reverse DNS",
  },
  {
    key: "resolveTimeout",
    flag: "--resolve-timeout",
    value: "<duration>",
    parse: (text) => parseDuration(text, 1),
    fallback: 500,
    help: "longest wait for one reverse lookup (a plain number is seconds)",
    fallbackText: "500ms",
  },
  { key: "noColor", flag: "--no-color", help: "no colour (also when NO_COLOR is set, not empty)" },
  {
    key: "noBpf",
    flag: "--no-bpf",
    help: "Linux: find socket owners through /proc/<pid>/fd only. By default, as root, a " +
      "listing loads a read-only BPF iterator for the duration of one read instead",
  },
];

/** The columns of a listing; `tree` draws each endpoint in one fixed form instead. */
const FIELDS: OptionSpec = {
  key: "fields",
  flag: "--fields",
  value: "<fields>",
  list: true,
  parse: parseFields,
  help: `columns to output, comma separated (the table shows an address and its port in one ` +
    `column), from: ${CONNECTION_FIELDS.join(", ")}`,
};

/** What a command adds to the shared flags, and what its help says around them. */
interface CommandSpec {
  readonly usage: string;
  readonly description: string;
  readonly options: readonly OptionSpec[];
  readonly after: string;
  /** A flag the command cannot run without (its key), and why. */
  readonly required?: { readonly key: string; readonly why: string };
}

const EXIT_CODES = "\nExit codes: 0 success, 1 runtime failure, 2 bad command line.";

const COMMANDS: Record<Action, CommandSpec> = {
  list: {
    usage: "procconn [watch|snapshot|tree] [options]",
    description: "List every TCP and UDP endpoint with the process that owns it.\n\n" +
      "Commands:\n  (none)    list once\n" +
      "  watch     refresh continuously; events as NDJSON when not on a terminal\n" +
      "  snapshot  write the listing with time and host to a file (--out, --append)\n" +
      "  tree      the process tree with each process's endpoints beneath it\n" +
      "Run 'procconn <command> --help' for a command's options.",
    options: [
      FIELDS,
      {
        key: "version",
        flag: "--version",
        short: "V",
        help: "print the version, runtime and platform",
      },
      {
        key: "format",
        flag: "--format",
        value: "<format>",
        parse: choice("format", FORMATS),
        fallback: "table",
        help: `output format (${FORMATS.join(", ")})`,
        fallbackText: "table",
      },
      {
        key: "groupBy",
        flag: "--group-by",
        value: "<key>",
        parse: choice("--group-by key", ["process"]),
        help: "one block per owning process (process)",
      },
    ],
    after: "\nExamples:\n  procconn --state established --name 'msedge*'\n" +
      "  procconn --listening --format json\n" +
      "  procconn --remote 10.0.0.0/8 --format csv > conns.csv\n" + EXIT_CODES,
  },
  watch: {
    usage: "procconn watch [options]",
    description: "Refresh the listing continuously. On a terminal: a live view (new endpoints " +
      "green, closed red, changed yellow; q or Ctrl-C quits). Otherwise, or with --format " +
      "ndjson: one JSON event per line (opened, closed, changed). The first refresh reports " +
      "every endpoint present as opened; closed events carry the record as last seen. --fields " +
      "sets the live view's columns; events always carry the full record. What a refresh " +
      "cannot see (owners refused, other network namespaces) is shown under the live view's " +
      "counts, or said once on stderr.",
    options: [
      FIELDS,
      {
        key: "interval",
        flag: "--interval",
        value: "<duration>",
        parse: (text) => parseDuration(text),
        fallback: 1000,
        help: "time between refreshes (500ms, 2s, 1m; a plain number is seconds)",
        fallbackText: "1s",
      },
      {
        key: "count",
        flag: "--count",
        value: "<n>",
        parse: parseCount,
        help: "stop after n refreshes",
      },
      {
        key: "format",
        flag: "--format",
        value: "<format>",
        parse: choice("format", ["table", "ndjson"]),
        help: "live view or event stream (table, ndjson)",
      },
    ],
    after: EXIT_CODES,
  },
  snapshot: {
    usage: "procconn snapshot --out <file> [options]",
    description: "Write the listing to a file, with snapshotTime and hostName on every row. A " +
      "snapshot is written whole or not at all.",
    options: [
      FIELDS,
      {
        key: "out",
        flag: "--out",
        value: "<file>",
        parse: parseOutFile,
        help: "the file to write (required)",
      },
      {
        key: "append",
        flag: "--append",
        help: "add to the file (header only when it is new or empty)",
      },
      {
        key: "check",
        flag: "--check",
        help: "list and write nothing: exit 0 if the file could take the snapshot now (its " +
          "folder exists; with --append, an existing file has the same format and columns), " +
          "else 1 with the reason",
      },
      {
        key: "format",
        flag: "--format",
        value: "<format>",
        parse: choice("format", ["csv", "ndjson"]),
        fallback: "csv",
        help: "file format (csv, ndjson)",
        fallbackText: "ndjson for a .ndjson or .jsonl file, else csv",
      },
    ],
    after: "\nExample:\n  procconn snapshot --out conns.csv --append\n" + EXIT_CODES,
    required: { key: "out", why: "the file to write" },
  },
  tree: {
    usage: "procconn tree [options]",
    description: "Show the process tree with each process's endpoints beneath it. With --pid or " +
      "--name, the endpoints of those processes and their descendants, beneath the " +
      "ancestors that lead to them.",
    options: [
      {
        key: "format",
        flag: "--format",
        value: "<format>",
        parse: choice("format", ["table", "json"]),
        help: "output format (table, json)",
      },
    ],
    after: "\nExample:\n  procconn tree --name 'notepad++' --resolve\n" + EXIT_CODES,
  },
};

/** Every option of a command: the shared ones, then its own. */
function optionsOf(command: CommandSpec): readonly OptionSpec[] {
  return [...FILTER_OPTIONS, ...command.options];
}

const HELP_WIDTH = 80;

/** Words of `text` in lines of at most `width` characters (a longer word gets its own line). */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The help text of a command, made from its option table. */
function helpText(command: CommandSpec): string {
  const rows = optionsOf(command).map((o) => {
    const names = `${o.short ? `-${o.short}, ` : ""}${o.flag}${o.value ? ` ${o.value}` : ""}`;
    const help = o.fallbackText ? `${o.help} (default: ${o.fallbackText})` : o.help;
    return [names, help] as const;
  });
  const left = Math.max(...rows.map(([names]) => names.length)) + 2;
  const lines = [`Usage: ${command.usage}`, ""];
  for (const paragraph of command.description.split("\n")) {
    // The command list keeps its own layout; prose is wrapped.
    const keep = paragraph === "" || paragraph.startsWith("  ");
    lines.push(...(keep ? [paragraph] : wrapWords(paragraph, HELP_WIDTH)));
  }
  lines.push("", "Options:");
  for (const [names, help] of rows) {
    const wrapped = wrapWords(help, Math.max(HELP_WIDTH - 2 - left, 30));
    lines.push(`  ${names.padEnd(left)}${wrapped[0] ?? ""}`);
    for (const more of wrapped.slice(1)) lines.push(`  ${"".padEnd(left)}${more}`);
  }
  return `${lines.join("\n")}\n${command.after}\n`;
}

/** A flag name as the user typed it: `-x` for one letter, `--name` otherwise. */
function typedFlag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** Runs type-flag over the arguments and turns what it found into checked values. */
function readFlags(
  command: CommandSpec,
  argv: readonly string[],
): Record<string, unknown> | "help" {
  const options = optionsOf(command);
  const schema: Record<
    string,
    { type: BooleanConstructor | [StringConstructor]; alias?: string }
  > = {};
  for (const o of options) {
    // Every value is collected, so that an option given twice is noticed.
    schema[o.key] = { type: o.value ? [String] : Boolean, ...(o.short ? { alias: o.short } : {}) };
  }
  // A switch given a value (--tcp=yes) is refused rather than read as true or false.
  const valueNames = new Set<string>();
  for (const o of options) {
    if (o.value) [o.flag.slice(2), o.key, o.short ?? ""].forEach((n) => valueNames.add(n));
  }
  let switchWithValue: string | undefined;
  const ignore = (type: string, name: string, value?: string) => {
    if (type === "known-flag" && value != null && !valueNames.has(name)) {
      switchWithValue ??= `${typedFlag(name)}=${value}`;
    }
    return false;
  };
  let parsed;
  try {
    parsed = typeFlag(schema, [...argv], { ignore });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}: run procconn --help for the options`);
  }
  if (switchWithValue !== undefined) {
    const flag = switchWithValue.slice(0, switchWithValue.indexOf("="));
    throw new UsageError(`option '${flag}' takes no value: "${switchWithValue}"`);
  }
  const found = parsed.flags as Record<string, unknown>;
  // A value that starts with "-" (a process named -bash, a port -1) is read as more flags; the
  // value option is then empty. Say how to pass such a value before anything else.
  for (const o of options) {
    if (!o.value || !(found[o.key] as string[]).includes("")) continue;
    const given = (arg: string) =>
      arg === o.flag || (o.short !== undefined && arg === `-${o.short}`);
    for (let at = 0; at < argv.length - 1; at++) {
      const next = argv[at + 1];
      if (given(argv[at]) && next.startsWith("-") && next.length > 1) {
        // A value the option could never take (--pid -1) is refused as such, rather than with
        // advice to write --pid=-1 that leads to that refusal; an option's name is left alone.
        const known = options.some((x) =>
          next === x.flag || next.startsWith(`${x.flag}=`) || next === `-${x.short}`
        );
        const isFlag = known || next.startsWith("--");
        // Another of this command's options: the value was left out, not written with a "-".
        if (known) {
          throw new UsageError(
            `option '${o.flag} ${o.value}' needs a value, and is followed by the option '${
              next.replace(/=.*$/s, "")
            }'`,
          );
        }
        if (o.parse && !isFlag) {
          try {
            o.parse(next);
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
        }
        throw new UsageError(
          `option '${o.flag} ${o.value}' needs a value; for one that starts with "-", ` +
            `write ${o.flag}=${next}`,
        );
      }
    }
  }
  if (found.help === true) return "help";
  const unknown = Object.keys(parsed.unknownFlags)[0];
  if (unknown !== undefined) {
    const flag = typedFlag(unknown);
    // An option of another command (`--out` without `snapshot`) says which command has it.
    const owners = (Object.keys(COMMANDS) as Action[]).filter((name) =>
      optionsOf(COMMANDS[name]).some((o) =>
        o.flag === flag || (o.short !== undefined && `-${o.short}` === flag)
      )
    );
    const named = (name: Action) => name === "list" ? "procconn" : `procconn ${name}`;
    const where = owners.map(named);
    const here = named((Object.keys(COMMANDS) as Action[]).find((n) => COMMANDS[n] === command)!);
    const list = where.length === 1
      ? where[0]
      : `${where.slice(0, -1).join(", ")} and ${where[where.length - 1]}`;
    throw new UsageError(
      owners.length
        ? `${here} does not take '${flag}', which belongs to ${list}: run ${where[0]} --help`
        : `unknown option '${flag}': run procconn --help for the options`,
    );
  }
  if (parsed._.length > 0) {
    const first = String(parsed._[0]);
    const end = argv.indexOf("--");
    if (end >= 0 && argv.indexOf(first, end + 1) > end) {
      throw new UsageError(
        `too many arguments: "${first}" comes after "--", which ends the options, and procconn ` +
          "takes no other arguments; the command (watch, snapshot, tree) goes first",
      );
    }
    throw new UsageError(
      `too many arguments: "${first}" is not an option; ` +
        "the commands are watch, snapshot and tree, given first",
    );
  }
  const values: Record<string, unknown> = {};
  for (const o of options) {
    if (!o.value) {
      if (found[o.key] !== undefined) values[o.key] = found[o.key];
      continue;
    }
    const given = found[o.key] as string[];
    if (given.length === 0) {
      if (o.fallback !== undefined) values[o.key] = o.fallback;
      continue;
    }
    if (given.includes("")) {
      throw new UsageError(`option '${o.flag} ${o.value}' needs a value`);
    }
    // A comma list adds up; any other value is given once (which of two would count is a guess).
    const distinct = [...new Set(given)];
    if (!o.list && distinct.length > 1) {
      throw new UsageError(
        `option '${o.flag}' is given ${given.length} times ` +
          `(${distinct.map((v) => `"${v}"`).join(", ")}): give it once`,
      );
    }
    try {
      // Each occurrence of a list is parsed on its own, so an error quotes what was typed.
      values[o.key] = o.list
        ? given.flatMap((value) => o.parse!(value) as unknown[])
        : o.parse!(given[0]);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const required = command.required;
  if (required && values[required.key] === undefined) {
    const o = options.find((spec) => spec.key === required.key)!;
    throw new UsageError(`option '${o.flag} ${o.value}' is required: ${required.why}`);
  }
  values.formatGiven = ((found.format as string[] | undefined) ?? []).length > 0;
  return values;
}

/**
 * Parses the command line.
 *
 * @param args Arguments after the program name; a first word `watch`, `snapshot` or `tree`
 *   picks that command.
 * @param options `noColorEnv`: NO_COLOR is set and not empty.
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
  const command = COMMANDS[action];
  // deno-lint-ignore no-explicit-any
  const o = readFlags(command, action === "list" ? args : args.slice(1)) as any;
  if (o === "help") return { ...emptyRequest(), action: "help", text: helpText(command) };
  if (o.version) {
    return { ...emptyRequest(), action: "version", text: versionText() };
  }
  // `tree --pid`/`tree --name` draws those processes and their descendants, as `--tree` lists
  // them; decided before the enrichment below reads it.
  const selects = o.pid !== undefined || o.pidFile !== undefined || o.name !== undefined;
  if (action === "tree") o.tree = selects;
  else if (o.tree && !selects) {
    throw new UsageError(
      "--tree needs --pid, --pid-file or --name: it adds the descendants of those processes",
    );
  }
  if (o.pidFile === "-" && o.enableStats && !o.yes) {
    throw new UsageError(
      "--pid-file - reads standard input, where --enable-stats would ask its question: " +
        "add --yes to answer it",
    );
  }
  const protocols: Protocol[] | undefined = !!o.tcp === !!o.udp
    ? undefined
    : o.tcp
    ? ["TCP"]
    : ["UDP"];
  if (o.state !== undefined && protocols?.[0] === "UDP") {
    throw new UsageError(
      `--state ${o.state.join(",")} selects TCP endpoints and --udp leaves none: ` +
        "UDP endpoints have no state (--listening takes in UDP servers)",
    );
  }
  if (o.state !== undefined && o.listening && !o.state.includes("LISTEN")) {
    throw new UsageError(
      `--state ${o.state.join(",")} and --listening leave nothing: --listening keeps LISTEN ` +
        "sockets and UDP servers, and --state leaves UDP out (use one of the two)",
    );
  }
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
  if (o.yes && !o.enableStats) {
    throw new UsageError(
      "--yes answers --enable-stats's question, and --enable-stats is not given",
    );
  }
  const enrich: Enrichment = {
    tree: !!o.tree,
    hash: !!o.hash,
    stats: !!o.stats || !!o.enableStats,
    enableStats: !!o.enableStats,
    resolve: o.resolve ? { timeoutMs: o.resolveTimeout } : false,
  };
  const format = (o.format ?? "table") as Format;
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
    ...(o.pidFile !== undefined ? { pidFile: o.pidFile } : {}),
    enrich,
    format,
    fields,
    formatGiven: o.formatGiven,
    color: !o.noColor && !options.noColorEnv,
    bpf: !o.noBpf,
    groupBy: o.groupBy,
    intervalMs: o.interval ?? 1000,
    count: o.count,
    out: o.out,
    append: !!o.append,
    check: !!o.check,
    confirmed: !!o.yes,
  };
}

function emptyRequest(): CliRequest {
  return {
    action: "list",
    text: "",
    filters: {},
    enrich: { tree: false, hash: false, stats: false, enableStats: false, resolve: false },
    format: "table",
    fields: [],
    formatGiven: false,
    color: false,
    bpf: true,
    intervalMs: 1000,
    append: false,
    check: false,
    confirmed: false,
  };
}
