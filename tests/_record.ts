// Shared by tests that build connection records by hand: the enrichment fields a plain listing
// leaves null, so each test spells out only the fields it is about.
import { type Connection, validateConnection } from "../core/record.ts";

/** The enrichment fields of a record, all null. */
export const NO_ENRICHMENT: Pick<
  Connection,
  | "commandLine"
  | "userName"
  | "sessionId"
  | "services"
  | "imageSha256"
  | "connectionCreated"
  | "bytesIn"
  | "bytesOut"
  | "segmentsIn"
  | "segmentsOut"
  | "remoteHostName"
> = {
  commandLine: null,
  userName: null,
  sessionId: null,
  services: null,
  imageSha256: null,
  connectionCreated: null,
  bytesIn: null,
  bytesOut: null,
  segmentsIn: null,
  segmentsOut: null,
  remoteHostName: null,
};

/**
 * A validated record on 127.0.0.1 with no owner, with `over` applied: TCP and listening unless
 * `over` says otherwise (the state follows the protocol and the remote address when not given).
 *
 * @param over The fields that differ.
 * @returns The record.
 */
export function connection(over: Partial<Connection>): Connection {
  return validateConnection({
    protocol: "TCP",
    family: "IPv4",
    localAddress: "127.0.0.1",
    localPort: 1,
    remoteAddress: null,
    remotePort: null,
    state: over.protocol === "UDP" ? null : over.remoteAddress ? "ESTABLISHED" : "LISTEN",
    pid: null,
    processName: null,
    processPath: null,
    parentPid: null,
    processStartTime: null,
    ...NO_ENRICHMENT,
    unavailable: {},
    ...over,
  });
}

/**
 * A validated established connection with an owner and a field explained, every kind of value
 * filled: the record the schema tests break one field at a time.
 *
 * @param over The fields that differ.
 * @returns The record.
 */
export function ownedConnection(over: Partial<Connection> = {}): Connection {
  return connection({
    remoteAddress: "10.0.0.2",
    remotePort: 50000,
    state: "ESTABLISHED",
    pid: 4,
    processName: "x",
    processStartTime: "2026-11-28T10:00:00.000Z",
    services: ["sshd.service"],
    unavailable: { processPath: "access-denied" },
    ...over,
  });
}
