/**
 * The names a connection record is made of: protocols, families, TCP states, the reasons a field
 * may be null, and the record's fields in output order. Plain constants without zod, so that the
 * command line can check its arguments without loading the schema library (`record.ts` builds the
 * schema from these, and a test pins the field list to the schema).
 *
 * @module
 */
import type { Connection } from "./record.ts";

/**
 * TCP states, spelled as netstat spells them. `BOUND` is Windows' "extra" state 100; `UNKNOWN` is
 * a state number this version does not know (a newer Windows or kernel), kept rather than dropped.
 */
export const TCP_STATES = [
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RCVD",
  "ESTABLISHED",
  "FIN_WAIT1",
  "FIN_WAIT2",
  "CLOSE_WAIT",
  "CLOSING",
  "LAST_ACK",
  "TIME_WAIT",
  "DELETE_TCB",
  "BOUND",
  "UNKNOWN",
] as const;

/** A TCP connection state as netstat names it. */
export type TcpState = typeof TCP_STATES[number];

/** Transport protocols procconn lists. */
export const PROTOCOLS = ["TCP", "UDP"] as const;
/** A transport protocol. */
export type Protocol = typeof PROTOCOLS[number];

/** Address families procconn lists. */
export const FAMILIES = ["IPv4", "IPv6"] as const;
/** An address family. */
export type Family = typeof FAMILIES[number];

/**
 * The `kind` code of an endpoint (`EndpointColumns.kind` in `source.ts`) is the protocol's index
 * in {@linkcode PROTOCOLS} times this, plus the family's index in {@linkcode FAMILIES}; one past
 * each list is left for a value outside it.
 */
export const KIND_STRIDE = FAMILIES.length + 1;

/**
 * Why a field is null.
 *
 * - `no-owner`: the socket has no owning process (TIME_WAIT, orphaned, kernel-owned).
 * - `access-denied`: the process exists but could not be opened or read.
 * - `process-exited`: the process went away between listing the socket and reading it (or, on
 *   Linux when some processes' fds cannot be read, the socket went away before its owner was
 *   found); on Windows also when the socket was made before the process that has its pid now
 *   started (the pid was reused).
 * - `system-process`: a process of the kernel, which has no such field: Windows' System Idle
 *   Process (pid 0), the image, command line and services of System (pid 4), a Linux kernel
 *   thread's image and command line.
 * - `not-supported`: this platform, runtime or OS version does not provide the field.
 * - `not-found`: the lookup ran and found nothing (no PTR record, no such file).
 * - `timeout`: the lookup did not answer in time (reverse DNS).
 * - `not-applicable`: the field has no meaning for this row (byte counters of a UDP socket or a
 *   TCP listener).
 * - `not-enabled`: the OS keeps this only when switched on, and it is off (Windows TCP counters
 *   without `--enable-stats`).
 * - `out-of-range`: the OS gave a value the record cannot hold exactly (a 64-bit counter above
 *   2^53 - 1, the largest integer a JSON reader keeps exactly; a time after the year 9999).
 */
export const REASONS = [
  "no-owner",
  "access-denied",
  "process-exited",
  "system-process",
  "not-supported",
  "not-found",
  "timeout",
  "not-applicable",
  "not-enabled",
  "out-of-range",
] as const;
/** Why a field is null. */
export type Reason = typeof REASONS[number];

/** The fields that describe the owning process, after its pid. */
export const PROCESS_FIELDS = [
  "processName",
  "processPath",
  "parentPid",
  "processStartTime",
  "commandLine",
  "userName",
  "sessionId",
  "services",
  "imageSha256",
] as const;

/** The TCP counters (`--stats`). */
export const COUNTER_FIELDS = ["bytesIn", "bytesOut", "segmentsIn", "segmentsOut"] as const;

/** Record fields that may be null with a reason. */
export const EXPLAINABLE_FIELDS = [
  "pid",
  ...PROCESS_FIELDS,
  "connectionCreated",
  ...COUNTER_FIELDS,
  "remoteHostName",
] as const;
/** A field that may be null with a reason. */
export type ExplainableField = typeof EXPLAINABLE_FIELDS[number];

/** Every field name of a connection record, in output order (the schema's key order). */
export const CONNECTION_FIELDS: readonly (keyof Connection)[] = [
  "protocol",
  "family",
  "localAddress",
  "localPort",
  "remoteAddress",
  "remotePort",
  "state",
  // Every field from the owner on may be null with a reason, and comes in that list's order.
  ...EXPLAINABLE_FIELDS,
  "unavailable",
];
