/**
 * The connection record: one zod schema that every output is validated against, and from which
 * the shipped JSON Schema (`schema/connection.schema.json`) is generated.
 *
 * @module
 */
import { z } from "./_zod.ts";

import { EXPLAINABLE_FIELDS, FAMILIES, PROTOCOLS, REASONS, TCP_STATES } from "./fields.ts";

export {
  CONNECTION_FIELDS,
  EXPLAINABLE_FIELDS,
  type ExplainableField,
  FAMILIES,
  type Family,
  type Protocol,
  PROTOCOLS,
  type Reason,
  REASONS,
  TCP_STATES,
  type TcpState,
} from "./fields.ts";

const port = z.number().int().min(0).max(65535);
const pid = z.number().int().min(0).max(0xffffffff);
const counter = z.number().int().min(0);
const isoTime = z.iso.datetime({ offset: true });

/** The zod schema every connection record satisfies. */
export const ConnectionSchema = z.object({
  protocol: z.enum(PROTOCOLS).describe("Transport protocol"),
  family: z.enum(FAMILIES).describe("Address family"),
  localAddress: z.string().min(1).describe(
    "Local address; IPv6 link-local addresses keep their scope id (fe80::1%12), IPv4-mapped IPv6 addresses are written ::ffff:a.b.c.d",
  ),
  localPort: port.describe("Local port"),
  remoteAddress: z.string().min(1).nullable().describe(
    "Remote address; null for UDP endpoints and listening TCP sockets",
  ),
  remotePort: port.nullable().describe("Remote port; null when remoteAddress is null"),
  state: z.enum(TCP_STATES).nullable().describe("TCP state as netstat names it; null for UDP"),
  pid: pid.nullable().describe("Owning process id; null when the socket has no known owner"),
  processName: z.string().nullable().describe("Executable name of the owning process"),
  processPath: z.string().nullable().describe("Full path of the owning process's image"),
  parentPid: pid.nullable().describe("Parent process id of the owning process"),
  processStartTime: isoTime.nullable().describe(
    "Start time of the owning process (ISO 8601, UTC); with pid it identifies the process even when pids are reused",
  ),
  commandLine: z.string().nullable().describe("Command line of the owning process"),
  userName: z.string().nullable().describe(
    "Account the owning process runs as (DOMAIN\\user on Windows, the user name on Linux)",
  ),
  sessionId: z.number().int().min(0).nullable().describe(
    "Windows logon session id of the owning process; null on Linux",
  ),
  services: z.array(z.string()).nullable().describe(
    "Services behind the endpoint: Windows service names from the owner-module tables, or the systemd unit on Linux",
  ),
  imageSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable().describe(
    "SHA-256 of the owning process's image file (with --hash)",
  ),
  connectionCreated: isoTime.nullable().describe(
    "When the socket was created (Windows owner-module tables); null where the OS does not say",
  ),
  bytesIn: counter.nullable().describe("Payload bytes received (TCP, with --stats)"),
  bytesOut: counter.nullable().describe("Payload bytes sent (TCP, with --stats)"),
  segmentsIn: counter.nullable().describe("Segments received (TCP, with --stats)"),
  segmentsOut: counter.nullable().describe("Segments sent (TCP, with --stats)"),
  remoteHostName: z.string().nullable().describe(
    "Reverse DNS name of the remote address (with --resolve)",
  ),
  unavailable: z.partialRecord(z.enum(EXPLAINABLE_FIELDS), z.enum(REASONS)).describe(
    "For each field that is null although it applies to this row: why it could not be read",
  ),
}).strict();

/** One endpoint and the process behind it. */
export type Connection = z.infer<typeof ConnectionSchema>;

/**
 * The schema compiled to one generated function (zod's `z.compile`): the same rules, checked
 * about three times faster than the interpreted parser, which matters at tens of thousands of
 * records per listing. Built on first use; where code cannot be generated, zod hands back the
 * schema itself, which still checks the same rules.
 */
let compiled: typeof ConnectionSchema | undefined;

/**
 * Validates one record against the schema.
 *
 * @param record The record to check.
 * @returns The record itself, typed (it is checked in place, not copied).
 * @throws {TypeError} When the record does not satisfy the schema; the message names the fields.
 *
 * @example
 * ```ts
 * import { validateConnection } from "./record.ts";
 * try {
 *   validateConnection({ protocol: "SCTP" });
 * } catch (err) {
 *   console.log((err as Error).message); // Invalid connection record: protocol: ...
 * }
 * ```
 */
export function validateConnection(record: unknown): Connection {
  compiled ??= z.compile(ConnectionSchema);
  if (compiled.validate(record)) return record as Connection;
  // The full parse only for a bad record: it names every field that is wrong.
  const result = ConnectionSchema.safeParse(record);
  if (result.success) return record as Connection;
  const where = result.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`);
  throw new TypeError(`Invalid connection record: ${where.join("; ")}`);
}
