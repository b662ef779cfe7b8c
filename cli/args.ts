/**
 * Command-line flags, parsed once by commander; the help text is written here and nowhere else.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { FilterOptions } from "../core/filter.ts";
import { parseCidr } from "../core/filter.ts";
import { CONNECTION_FIELDS, type Family, type Protocol, type TcpState } from "../core/record.ts";
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

/** What the user asked for. */
export interface CliRequest {
  /** `list` runs a listing; `help` and `version` only print `text`. */
  action: "list" | "help" | "version";
  /** Text to print for help and version. */
  text: string;
  /** The filters. */
  filters: FilterOptions;
  /** Output format. */
  format: Format;
  /** Fields to output, in order. */
  fields: readonly string[];
  /** Colour allowed. */
  color: boolean;
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

function parsePids(text: string): number[] {
  const items = commaList(text);
  if (items.length === 0) throw new RangeError(`Invalid pid list "${text}": expected N[,N...]`);
  return items.map((item) => {
    const n = /^\d{1,10}$/.test(item) ? Number(item) : NaN;
    if (!(n >= 0 && n <= 0xffffffff)) {
      throw new RangeError(`Invalid pid "${item}": expected a whole number from 0 to 4294967295`);
    }
    return n;
  });
}

function parseStates(text: string): TcpState[] {
  const items = commaList(text);
  if (items.length === 0) throw new RangeError(`Invalid state list "${text}": expected S[,S...]`);
  return items.map(parseState);
}

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

function parseRemote(text: string): string {
  parseCidr(text);
  return text.trim();
}

function buildProgram(): Command {
  return new Command("procconn")
    .description("List every TCP and UDP endpoint with the process that owns it.")
    .helpOption("-h, --help", "show this help")
    .option("-V, --version", "print the version, runtime and platform")
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
    .option("--name <glob>", "process name, wildcards * and ?, any case, .exe optional")
    .option("--port <port>", "local or remote port", wrap(parsePort))
    .option("--local-port <port>", "local port", wrap(parsePort))
    .option("--remote-port <port>", "remote port", wrap(parsePort))
    .option("--remote <addr>", "remote address or CIDR block (10.0.0.0/8, fe80::/10)", wrap(parseRemote))
    .option("-l, --listening", "listening endpoints only (TCP LISTEN, unconnected UDP)")
    .addOption(
      new Option("--format <format>", "output format").choices(FORMATS).default("table"),
    )
    .option(
      "--fields <fields>",
      `columns to output, comma separated, from: ${CONNECTION_FIELDS.join(", ")}`,
      wrap(parseFields),
    )
    .option("--no-color", "no colour in the table (also when NO_COLOR is set)")
    .addHelpText(
      "after",
      "\nExamples:\n  procconn --state established --name 'msedge*'\n" +
        "  procconn --listening --format json\n  procconn --remote 10.0.0.0/8 --format csv > conns.csv\n" +
        "\nExit codes: 0 success, 1 runtime failure, 2 bad command line.",
    )
    .allowExcessArguments(false)
    .exitOverride();
}

/**
 * Parses the command line.
 *
 * @param args Arguments after the program name.
 * @param options `noColorEnv`: NO_COLOR is set.
 * @returns What to do.
 * @throws {UsageError} For a bad command line; the message is one line naming the bad value.
 */
export function parseArgs(args: readonly string[], options: { noColorEnv?: boolean } = {}): CliRequest {
  const program = buildProgram();
  let helpText = "";
  program.configureOutput({ writeOut: (s) => (helpText += s), writeErr: () => {} });
  try {
    program.parse([...args], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help") {
        return { ...emptyRequest(), action: "help", text: helpText };
      }
      let message = err.message.replace(/^error: /, "");
      if (err.code === "commander.unknownOption") message += ": run procconn --help for the options";
      throw new UsageError(message);
    }
    throw err;
  }
  const o = program.opts();
  if (o.version) {
    return { ...emptyRequest(), action: "version", text: `procconn ${VERSION} (${runtimeDescription()})\n` };
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
    remote: o.remote,
    listening: o.listening,
  };
  const format = o.format as Format;
  const fields = o.fields ?? (format === "table" ? DEFAULT_TABLE_FIELDS : CONNECTION_FIELDS);
  return {
    action: "list",
    text: "",
    filters,
    format,
    fields,
    color: o.color !== false && !options.noColorEnv,
  };
}

function emptyRequest(): CliRequest {
  return { action: "list", text: "", filters: {}, format: "table", fields: [], color: false };
}
