// @ts-check
/**
 * The benchmark scripts' command lines, read by Node's own `util.parseArgs` (the scripts use no
 * npm packages): switches, and options whose value is a whole number with a least value.
 *
 * @module
 */
import { parseArgs } from "node:util";

/**
 * Reads a command line of switches and whole-number options. `-h`/`--help` anywhere asks for
 * help. A number may follow its option (`--runs 5`) or be joined to it (`--runs=5`).
 *
 * @param {string[]} args Arguments after the script name.
 * @param {readonly string[]} switches Names of the switches, without `--`.
 * @param {Readonly<Record<string, number>>} numbers Name of each whole-number option (without
 *   `--`) and the least value it takes.
 * @returns {{ switches: Set<string>, numbers: Map<string, number> } | null} The switches given and
 *   the numbers given (by option name), or null when help was asked for.
 * @throws {RangeError} On an unknown option, an argument that is not an option, a missing value
 *   or a value that is not a whole number of at least the least value; the message quotes it.
 *
 * @example
 * ```js
 * import { readOptions } from "./_options.mjs";
 * const read = readOptions(["--speed", "--runs=3"], ["speed"], { runs: 1 });
 * console.log(read?.switches.has("speed"), read?.numbers.get("runs")); // true 3
 * ```
 */
export function readOptions(args, switches, numbers) {
  /** @type {Record<string, { type: "boolean" | "string", short?: string }>} */
  const options = { help: { type: "boolean", short: "h" } };
  for (const name of switches) options[name] = { type: "boolean" };
  for (const name of Object.keys(numbers)) options[name] = { type: "string" };
  // Not strict: the tokens say which option was unknown or lacked its value, so that the error
  // can quote it as typed.
  const { tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const read = { switches: new Set(/** @type {string[]} */ ([])), numbers: new Map() };
  for (const token of tokens) {
    if (token.kind === "positional") {
      throw new RangeError(`Unexpected argument "${token.value}": every option starts with --`);
    }
    if (token.kind !== "option") continue;
    if (token.name === "help") return null;
    if (!Object.hasOwn(options, token.name)) {
      throw new RangeError(`Unknown option "${token.rawName}"`);
    }
    if (options[token.name].type === "boolean") {
      if (token.value !== undefined) {
        throw new RangeError(`Invalid ${token.rawName}=${token.value}: it takes no value`);
      }
      read.switches.add(token.name);
      continue;
    }
    const least = numbers[token.name];
    const value = token.value;
    if (value === undefined) {
      throw new RangeError(
        `Missing value for ${token.rawName}: expected an integer of at least ${least}`,
      );
    }
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < least) {
      throw new RangeError(
        `Invalid ${token.rawName} "${value}": expected an integer of at least ${least}`,
      );
    }
    read.numbers.set(token.name, n);
  }
  return read;
}
