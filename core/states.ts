/**
 * TCP state names: netstat's spellings are canonical; PowerShell's (`TimeWait`), Windows netstat's
 * (`LISTENING`, `FIN_WAIT_2`) and any letter case are accepted on input.
 *
 * @module
 */
import { TCP_STATES, type TcpState } from "./fields.ts";

/**
 * Every accepted spelling as its words: netstat's names (`FIN_WAIT1` is FIN, WAIT, 1), then the
 * other spellings. Words may be joined directly or by one `_`, `-` or space, so `TimeWait`,
 * `time-wait` and `FIN_WAIT_2` are read, and `LIS TEN` is not.
 */
const WORDS: readonly (readonly [string[], TcpState])[] = [
  ...TCP_STATES.map((s) => [s.split(/_|(?=\d)/), s] as const),
  [["LISTENING"], "LISTEN"],
  [["SYN", "RECEIVED"], "SYN_RCVD"],
  [["SYN", "RECV"], "SYN_RCVD"],
  [["ESTAB"], "ESTABLISHED"],
  [["DELETE", "TCB"], "DELETE_TCB"],
];
const SPELLINGS: readonly (readonly [RegExp, TcpState])[] = WORDS.map((
  [words, state],
) => [new RegExp(`^${words.join("[_\\-\\s]?")}$`), state]);

/**
 * Parses a state name in any accepted spelling.
 *
 * @param text A state such as `ESTABLISHED`, `TimeWait`, `listening` or `FIN_WAIT_2`.
 * @returns The canonical state name.
 * @throws {RangeError} When the text names no TCP state; the message lists the accepted names.
 * @throws {TypeError} When `text` is not a string.
 *
 * @example
 * ```ts
 * import { parseState } from "./states.ts";
 * parseState("TimeWait"); // "TIME_WAIT"
 * ```
 */
export function parseState(text: string): TcpState {
  if (typeof text !== "string") {
    throw new TypeError(`A state must be a string, not ${typeof text}`);
  }
  const spelled = text.trim().toUpperCase();
  const state = SPELLINGS.find(([pattern]) => pattern.test(spelled))?.[1];
  if (!state) {
    throw new RangeError(
      `Unknown state "${text}": expected one of ${TCP_STATES.join(", ")} (any case; ` +
        `PowerShell spellings such as TimeWait also work)`,
    );
  }
  return state;
}
