/**
 * TCP state names: netstat's spellings are canonical; PowerShell's (`TimeWait`), Windows netstat's
 * (`LISTENING`, `FIN_WAIT_2`) and any letter case are accepted on input.
 *
 * @module
 */
import { TCP_STATES, type TcpState } from "./fields.ts";

const squash = (s: string) => s.toUpperCase().replace(/[_\-\s]/g, "");

const ALIASES: ReadonlyMap<string, TcpState> = new Map<string, TcpState>([
  ...TCP_STATES.map((s) => [squash(s), s] as [string, TcpState]),
  ["LISTENING", "LISTEN"],
  ["SYNRECEIVED", "SYN_RCVD"],
  ["SYNRECV", "SYN_RCVD"],
  ["ESTAB", "ESTABLISHED"],
  ["DELETETCB", "DELETE_TCB"],
]);

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
  const state = ALIASES.get(squash(text.trim()));
  if (!state) {
    throw new RangeError(
      `Unknown state "${text}": expected one of ${TCP_STATES.join(", ")} (any case; ` +
        `PowerShell spellings such as TimeWait also work)`,
    );
  }
  return state;
}
