/**
 * Per-connection TCP counters from the EStats API. The kernel keeps them only for connections
 * whose collection was switched on (SetPerTcp*ConnectionEStats, which needs an elevated
 * administrator, and which lasts until the connection ends). A listing reads the counters of the
 * connections where collection is already on; it switches collection on only when asked to
 * (`enableStats`), since that changes the system. Where collection is off the Get call still
 * returns numbers, which the documentation calls meaningless, so none are reported then.
 *
 * @module
 */
import type { Family, Reason } from "../../core/record.ts";
import type { RawSocket, SocketStats } from "../../core/source.ts";
import { failed, type Lookup } from "./_common.ts";
import {
  ERROR_ACCESS_DENIED,
  ERROR_CALL_NOT_IMPLEMENTED,
  ERROR_NOT_ELEVATED_ESTATS,
  ERROR_NOT_FOUND,
  ERROR_NOT_SUPPORTED,
  type IphlpapiSymbols,
  NO_ERROR,
  TCP_CONNECTION_ESTATS_DATA,
} from "./_symbols.ts";
import {
  decodeEstatsData,
  hasConnectionCounters,
  tcp4EstatsRow,
  tcp6EstatsRow,
  TCP_ESTATS_DATA_ROD_V0_SIZE,
} from "./decode_estats.ts";

/** TCP_ESTATS_DATA_RW_v0 { BOOLEAN EnableCollection = TRUE }. */
const ENABLE_COLLECTION = new Uint8Array([1]);
/** sizeof(TCP_ESTATS_DATA_RW_v0): one BOOLEAN. */
const TCP_ESTATS_DATA_RW_V0_SIZE = 1;

/** The IP Helper functions the reader calls (the engine passes iphlpapi.dll's symbols). */
export type EstatsSymbols = Pick<
  IphlpapiSymbols,
  | "GetPerTcpConnectionEStats"
  | "SetPerTcpConnectionEStats"
  | "GetPerTcp6ConnectionEStats"
  | "SetPerTcp6ConnectionEStats"
>;

/**
 * Creates the counter reader of one listing. A failure that holds for every connection (not
 * elevated, not implemented) is remembered, so the calls are not repeated for each row.
 *
 * @param ip The EStats functions.
 * @param enable Switch collection on where it is off (changes the system: the caller has the
 *   user's consent). Otherwise such a connection's counters are `not-enabled`.
 * @returns A reader taking a socket and its table row.
 */
export function createStatsReader(
  ip: EstatsSymbols,
  enable: boolean,
): (socket: RawSocket, row: Uint8Array) => Lookup<SocketStats> {
  // Why switching on failed, when that holds for every connection (not elevated, not there).
  let cannotEnable: Reason | null = null;
  const unsupported = new Set<Family>();
  const rw = new Uint8Array(TCP_ESTATS_DATA_RW_V0_SIZE);
  const rod = new Uint8Array(TCP_ESTATS_DATA_ROD_V0_SIZE);

  return (socket, row) => {
    if (socket.state === null || !hasConnectionCounters(socket.state)) {
      return failed("not-applicable");
    }
    const v4 = socket.family === "IPv4";
    const set = v4 ? ip.SetPerTcpConnectionEStats : ip.SetPerTcp6ConnectionEStats;
    const get = v4 ? ip.GetPerTcpConnectionEStats : ip.GetPerTcp6ConnectionEStats;
    if (!get || unsupported.has(socket.family)) return failed("not-supported");
    const key = v4 ? tcp4EstatsRow(row) : tcp6EstatsRow(row);
    // The read/write part says whether collection is on; the counters mean nothing when not.
    const read = (): number => {
      rw.fill(0);
      rod.fill(0);
      return get(key, TCP_CONNECTION_ESTATS_DATA, rw, 0, rw.length, null, 0, 0, rod, 0, rod.length);
    };
    let got = read();
    if (got === NO_ERROR && rw[0] === 0) {
      if (!enable) return failed("not-enabled");
      if (cannotEnable) return failed(cannotEnable);
      if (!set) return failed("not-supported");
      const enabled = set(key, TCP_CONNECTION_ESTATS_DATA, ENABLE_COLLECTION, 0, 1, 0);
      if (enabled !== NO_ERROR) {
        const reason = enableFailure(enabled);
        if (reason !== "not-found") cannotEnable = reason;
        return failed(reason);
      }
      got = read();
      // Switched on a moment ago and read back as off: report nothing rather than stale zeros.
      if (got === NO_ERROR && rw[0] === 0) return failed("not-enabled");
    }
    if (got !== NO_ERROR) {
      if (got === ERROR_NOT_SUPPORTED || got === ERROR_CALL_NOT_IMPLEMENTED) {
        unsupported.add(socket.family);
      }
      return failed(readFailure(got));
    }
    return { value: decodeEstatsData(rod) };
  };
}

function enableFailure(rc: number): Reason {
  if (rc === ERROR_ACCESS_DENIED || rc === ERROR_NOT_ELEVATED_ESTATS) return "access-denied";
  if (rc === ERROR_NOT_FOUND) return "not-found"; // the connection is gone
  return "not-supported";
}

function readFailure(rc: number): Reason {
  if (rc === ERROR_ACCESS_DENIED) return "access-denied";
  if (rc === ERROR_NOT_FOUND) return "not-found";
  return "not-supported";
}
