// Shared by tests that build connection records by hand: the enrichment fields a plain listing
// leaves null, so each test spells out only the fields it is about.
import type { Connection } from "../core/record.ts";

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
