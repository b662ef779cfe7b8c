/**
 * The zod schema of the connection record, built on first use. Building it runs zod's schema
 * constructors for every field (about 20 ms on a slow machine), which a listing does not need when
 * its records pass the check compiled from this schema when the packages were installed
 * (`core/record.ts`); they build it only to explain a record that fails.
 *
 * @module
 */
import { z } from "./_zod.ts";

import { EXPLAINABLE_FIELDS, FAMILIES, PROTOCOLS, REASONS, TCP_STATES } from "./fields.ts";
import { ruleProblems } from "./rules.ts";

/**
 * Builds the zod schema of each field's own type, without the rules between fields
 * (`rules.ts`). `scripts/bundle_zod.mjs` compiles it into the check a listing runs before
 * `followsRules` (`rules.ts`).
 *
 * @returns The schema of the fields.
 */
export function buildFieldSchema() {
  const port = z.number().int().min(0).max(65535);
  const pid = z.number().int().min(0).max(0xffffffff);
  const counter = z.number().int().min(0);
  const isoTime = z.iso.datetime({ offset: true });

  return z.object({
    protocol: z.enum(PROTOCOLS).describe("Transport protocol"),
    family: z.enum(FAMILIES).describe("Address family"),
    localAddress: z.string().min(1).describe(
      "Local address; IPv6 link-local addresses keep their scope id (fe80::1%12), IPv4-mapped IPv6 addresses are written ::ffff:a.b.c.d",
    ),
    localPort: port.describe("Local port"),
    remoteAddress: z.string().min(1).nullable().describe(
      "Remote address; null for listening TCP sockets and unconnected UDP sockets (always for UDP on Windows, whose tables hold no UDP peer)",
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
      "SHA-256 of the owning process's image (with --hash): on Linux the file it runs, read through /proc/<pid>/exe even when deleted or replaced; on Windows the file at processPath",
    ),
    connectionCreated: isoTime.nullable().describe(
      "When the socket was created (Windows owner-module tables); null where the OS does not say",
    ),
    bytesIn: counter.nullable().describe("Payload bytes received (TCP, with --stats)"),
    bytesOut: counter.nullable().describe("Payload bytes sent (TCP, with --stats)"),
    segmentsIn: counter.nullable().describe("Segments received (TCP, with --stats)"),
    segmentsOut: counter.nullable().describe("Segments sent (TCP, with --stats)"),
    remoteHostName: z.string().nullable().describe(
      "Name of the remote address (with --resolve): the hosts file's first name for it, else its reverse DNS name",
    ),
    unavailable: z.partialRecord(z.enum(EXPLAINABLE_FIELDS), z.enum(REASONS)).describe(
      "For each field that is null although it applies to this row: why it could not be read",
    ),
  }).strict();
}

/**
 * Builds the zod schema every connection record satisfies: each field's own type
 * ({@linkcode buildFieldSchema}) and the rules between fields, each broken rule reported on the
 * field that breaks it. Each call builds a new one: use {@linkcode connectionSchema}, which builds
 * it once.
 *
 * @returns The schema.
 */
export function buildConnectionSchema() {
  return buildFieldSchema().superRefine(addRuleIssues);
}

/**
 * Reports each rule between fields that a record breaks as a zod issue on the field that breaks
 * it: the refinement of the connection schema, and of every schema that takes its fields.
 *
 * @param record The record, each field of its own type.
 * @param context The refinement's context.
 */
export function addRuleIssues(
  record: Readonly<Record<string, unknown>>,
  context: { addIssue(issue: { code: "custom"; path: string[]; message: string }): void },
): void {
  for (const problem of ruleProblems(record)) {
    context.addIssue({ code: "custom", path: [problem.field], message: problem.message });
  }
}

/** The schema as the rest of procconn knows it. */
export type ConnectionSchemaType = ReturnType<typeof buildConnectionSchema>;

let built: ConnectionSchemaType | undefined;

/**
 * The zod schema every connection record satisfies, built on the first call.
 *
 * @returns The one schema (the same object on every call).
 *
 * @example
 * ```ts
 * import { connectionSchema } from "./schema.ts";
 * connectionSchema().shape.localPort.safeParse(70000).success; // false
 * ```
 */
export function connectionSchema(): ConnectionSchemaType {
  return built ??= buildConnectionSchema();
}
