/**
 * Consent before a command changes the system. One option does: `--enable-stats` on Windows,
 * which switches the kernel's per-connection TCP statistics on. procconn asks on the terminal
 * first, or takes `--yes` where there is no terminal to ask on.
 *
 * @module
 */
import { osName } from "../ffi/_runtime.ts";
import { type CliRequest, UsageError } from "./args.ts";

/** Where the question is asked; tests pass a fake. */
export interface Asker {
  /** Whether a person can answer: standard input and standard error are terminals. */
  canAsk(): boolean;
  /**
   * Writes the question on standard error and reads one line.
   *
   * @param question The question, ending in the choices.
   * @returns The answer, or null when the input ended first (Ctrl-D).
   */
  ask(question: string): Promise<string | null>;
}

/** The question `--enable-stats` asks on a terminal. */
export const ENABLE_STATS_QUESTION = "procconn: --enable-stats switches the kernel's TCP " +
  "statistics on for every listed connection where they are off, and they stay on until each " +
  "connection ends. Switch them on? [y/N] ";

/**
 * Asks before a command that would change the system, unless the command line already
 * confirmed it (`--yes`). Returns when the command may run.
 *
 * @param request The parsed command line.
 * @param os The OS procconn runs on (`windows`, `linux`, ...); only Windows changes anything.
 * @param asker The terminal to ask on (default: this process's).
 * @throws {UsageError} When the command would change the system, `--yes` is not given and no
 *   terminal can ask.
 * @throws {Error} When the answer is not yes.
 */
export async function confirmChanges(
  request: CliRequest,
  os: string = osName(),
  asker?: Asker,
): Promise<void> {
  // Linux keeps the counters of every connection: --enable-stats changes nothing there.
  if (!request.enrich.enableStats || request.confirmed || os !== "windows") return;
  const terminal = asker ?? await systemAsker();
  if (!terminal.canAsk()) {
    throw new UsageError(
      "--enable-stats changes the system (it switches the kernel's TCP statistics on) and no " +
        "terminal can ask first: add --yes to confirm, or use --stats to read the counters " +
        "already on",
    );
  }
  const answer = await terminal.ask(ENABLE_STATS_QUESTION);
  if (answer === null || !/^\s*y(es)?\s*$/i.test(answer)) {
    throw new Error(
      "--enable-stats was not confirmed: nothing was switched on, and nothing was listed",
    );
  }
}

/** The terminal of this process: the question on stderr, the answer from stdin. */
async function systemAsker(): Promise<Asker> {
  // Loaded only here, so that no other command line loads Deno's Node layer for it.
  const { default: process } = await import("node:process");
  return {
    canAsk: () => process.stdin.isTTY === true && process.stderr.isTTY === true,
    async ask(question) {
      const { createInterface } = await import("node:readline");
      const lines = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await new Promise<string | null>((resolve) => {
          lines.once("close", () => resolve(null));
          lines.question(question, resolve);
        });
      } finally {
        lines.close();
      }
    },
  };
}
