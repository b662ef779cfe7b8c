/**
 * The event records of `procconn watch` when it streams: one connection record with the time of
 * the refresh, what happened, and the state before a change.
 *
 * @module
 */
import { z } from "./_zod.ts";
import { CHANGE_KINDS, type ConnectionChange } from "./diff.ts";
import { TCP_STATES } from "./record.ts";
import { addRuleIssues, connectionSchema } from "./schema.ts";

/**
 * The zod schema of one event: `time`, `event` and `previousState`, then every field of
 * the connection schema (`schema.ts`), with its rules between fields (`rules.ts`).
 * `previousState` is set exactly for `changed` events, and then differs from `state`.
 */
export const ConnectionEventSchema = z.object({
  time: z.iso.datetime({ offset: true }).describe(
    "When the listing that showed the change was read (ISO 8601, UTC)",
  ),
  event: z.enum(CHANGE_KINDS).describe(
    "opened: a new endpoint; closed: gone since the last refresh (the record as last seen); " +
      "changed: same endpoint and owner, another TCP state",
  ),
  previousState: z.enum(TCP_STATES).nullable().describe(
    "For changed: the TCP state before; null for opened and closed",
  ),
  ...connectionSchema().shape,
}).strict().superRefine((event, ctx) => {
  // The record's own rules between fields (the shape above carries only each field's type).
  addRuleIssues(event, ctx);
  if (event.event !== "changed") {
    if (event.previousState !== null) {
      ctx.addIssue({
        code: "custom",
        path: ["previousState"],
        message: `must be null for an ${event.event} event`,
      });
    }
  } else if (event.previousState === null || event.previousState === event.state) {
    ctx.addIssue({
      code: "custom",
      path: ["previousState"],
      message: "a changed event needs a previous state that differs from state",
    });
  }
});

/** One watch event: a connection record with `time`, `event` and `previousState`. */
export type ConnectionEvent = z.infer<typeof ConnectionEventSchema>;

/**
 * Validates one event against {@linkcode ConnectionEventSchema}.
 *
 * @param value The event to check.
 * @returns The same event, typed.
 * @throws {TypeError} When the event does not satisfy the schema; the message names the fields.
 *
 * @example
 * ```ts
 * import { validateEvent } from "./events.ts";
 * try {
 *   validateEvent({ event: "moved" });
 * } catch (err) {
 *   (err as Error).message; // "Invalid watch event: time: ...; event: ..."
 * }
 * ```
 */
export function validateEvent(value: unknown): ConnectionEvent {
  const result = ConnectionEventSchema.safeParse(value);
  if (!result.success) {
    const where = result.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`);
    throw new TypeError(`Invalid watch event: ${where.join("; ")}`);
  }
  return result.data;
}

/**
 * Turns a change into a validated event record.
 *
 * @param change A change from `core/diff.ts`.
 * @param time When the listing was read.
 * @returns The event: `time`, `event`, `previousState`, then the record's fields.
 * @throws {TypeError} When the result does not satisfy the schema.
 *
 * @example
 * ```ts
 * import { toEvent } from "./events.ts";
 * import { createChangeTracker } from "./diff.ts";
 * const tracker = createChangeTracker();
 * const changes = tracker.update([{ protocol: "UDP", family: "IPv4", localAddress: "0.0.0.0",
 *   localPort: 5353, remoteAddress: null, remotePort: null, state: null, pid: 9,
 *   processName: "avahi", processPath: null, parentPid: null, processStartTime: null,
 *   commandLine: null, userName: null, sessionId: null, services: null, imageSha256: null,
 *   connectionCreated: null, bytesIn: null, bytesOut: null, segmentsIn: null, segmentsOut: null,
 *   remoteHostName: null, unavailable: {} }]);
 * const event = toEvent(changes[0], new Date("2026-01-01T00:00:00Z"));
 * // event.event === "opened", event.time === "2026-01-01T00:00:00.000Z"
 * ```
 */
export function toEvent(change: ConnectionChange, time: Date): ConnectionEvent {
  return validateEvent({
    time: time.toISOString(),
    event: change.event,
    previousState: change.previousState,
    ...change.connection,
  });
}

/**
 * Writes an event as one line of NDJSON.
 *
 * @param event The event.
 * @returns Compact JSON and a newline.
 *
 * @example
 * ```ts
 * import { eventLine, type ConnectionEvent } from "./events.ts";
 * eventLine({ event: "closed" } as ConnectionEvent); // '{"event":"closed"}\n'
 * ```
 */
export function eventLine(event: ConnectionEvent): string {
  return JSON.stringify(event) + "\n";
}
