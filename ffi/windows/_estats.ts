/**
 * Per-connection TCP counters from the EStats API. Collection is off by default and must be
 * switched on per connection with SetPerTcp*ConnectionEStats, which needs an elevated
 * administrator; when that fails the Get call still returns numbers, which the documentation
 * calls meaningless, so none are reported then.
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

/**
 * Creates the counter reader of one listing. A failure that holds for every connection (not
 * elevated, not implemented) is remembered, so the calls are not repeated for each row.
 */
export function createStatsReader(
  ip: IphlpapiSymbols,
): (socket: RawSocket, row: Uint8Array) => Lookup<SocketStats> {
  let deniedEverywhere = false;
  const unsupported = new Set<Family>();
  const rod = new Uint8Array(TCP_ESTATS_DATA_ROD_V0_SIZE);

  return (socket, row) => {
    if (socket.state === null || !hasConnectionCounters(socket.state)) {
      return failed("not-applicable");
    }
    if (deniedEverywhere) return failed("access-denied");
    const v4 = socket.family === "IPv4";
    const enable = v4 ? ip.SetPerTcpConnectionEStats : ip.SetPerTcp6ConnectionEStats;
    const read = v4 ? ip.GetPerTcpConnectionEStats : ip.GetPerTcp6ConnectionEStats;
    if (!enable || !read || unsupported.has(socket.family)) return failed("not-supported");
    const key = v4 ? tcp4EstatsRow(row) : tcp6EstatsRow(row);

    const enabled = enable(key, TCP_CONNECTION_ESTATS_DATA, ENABLE_COLLECTION, 0, 1, 0);
    if (enabled !== NO_ERROR) {
      const reason = enableFailure(enabled);
      if (reason === "access-denied") deniedEverywhere = true;
      if (enabled === ERROR_NOT_SUPPORTED || enabled === ERROR_CALL_NOT_IMPLEMENTED) {
        unsupported.add(socket.family);
      }
      return failed(reason);
    }
    rod.fill(0);
    const got = read(key, TCP_CONNECTION_ESTATS_DATA, null, 0, 0, null, 0, 0, rod, 0, rod.length);
    if (got !== NO_ERROR) return failed(readFailure(got));
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
