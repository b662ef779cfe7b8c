/**
 * The rules between the fields of a connection record, which no field's own type can state: a UDP
 * row has no state, a remote port goes with a remote address, an IPv4 row holds IPv4 addresses, a
 * row without a pid has no process fields, a field that `unavailable` explains is null, and so on.
 *
 * One table ({@linkcode CONNECTION_RULES}) gives them three forms: the zod schema's refinement,
 * which names the field that breaks a rule ({@linkcode ruleProblems}); the `allOf` of the shipped
 * JSON Schema ({@linkcode rulesJsonSchema}); and {@linkcode followsRules}, the same rules written
 * out by hand, which a listing runs on every record (the tests hold it to the table). This module
 * loads no zod.
 *
 * @module
 */
import { COUNTER_FIELDS, EXPLAINABLE_FIELDS, PROCESS_FIELDS } from "./fields.ts";
import type { Connection } from "./record.ts";

/** A test of one field's value, with its JSON Schema and its words. */
export interface Condition {
  /** Whether the value passes. */
  readonly test: (value: unknown) => boolean;
  /** The same test as JSON Schema, applied to the field. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** The test as the object of "must": `be null`. */
  readonly must: string;
  /** The test as said of a field that meets it: `is null`. */
  readonly when: string;
}

/** A rule: when every field of `when` passes its test, every field of `then` must pass its own. */
export interface Rule {
  /** The fields and tests that make the rule apply. */
  readonly when: Readonly<Partial<Record<keyof Connection, Condition>>>;
  /** The fields and tests that must then pass. */
  readonly then: Readonly<Partial<Record<keyof Connection, Condition>>>;
  /** Why, in a few words (the JSON Schema's description of the rule). */
  readonly why: string;
}

const NULL: Condition = {
  test: (value) => value === null,
  schema: { type: "null" },
  must: "be null",
  when: "is null",
};

const SET: Condition = {
  test: (value) => value !== null && value !== undefined,
  schema: { not: { type: "null" } },
  must: "be set",
  when: "is set",
};

function is(expected: string): Condition {
  return {
    test: (value) => value === expected,
    schema: { const: expected },
    must: `be ${JSON.stringify(expected)}`,
    when: `is ${JSON.stringify(expected)}`,
  };
}

// An address's family is told by its text: only IPv6 text holds a colon (an IPv4-mapped address
// is IPv6 text, ::ffff:a.b.c.d). Each field's own type has already said it is a string or null.
const IPV4_TEXT: Condition = {
  test: (value) => value === null || (typeof value === "string" && !value.includes(":")),
  schema: { anyOf: [{ type: "null" }, { type: "string", pattern: "^[^:]*$" }] },
  must: 'be IPv4 text (no ":")',
  when: "is IPv4 text",
};

const IPV6_TEXT: Condition = {
  test: (value) => value === null || (typeof value === "string" && value.includes(":")),
  schema: { anyOf: [{ type: "null" }, { type: "string", pattern: ":" }] },
  must: 'be IPv6 text (with ":")',
  when: "is IPv6 text",
};

function names(field: string): Condition {
  return {
    test: (value) => typeof value === "object" && value !== null && Object.hasOwn(value, field),
    schema: { type: "object", properties: { [field]: {} }, required: [field] },
    must: `name ${field}`,
    when: `names ${field}`,
  };
}

function each(fields: readonly (keyof Connection)[], condition: Condition): Rule["then"] {
  return Object.fromEntries(fields.map((field) => [field, condition]));
}

/**
 * Every rule between fields, in the order they are checked and reported.
 *
 * @example
 * ```ts
 * import { CONNECTION_RULES } from "./rules.ts";
 * CONNECTION_RULES[0].why; // "a UDP socket has no TCP state and no TCP counters"
 * ```
 */
export const CONNECTION_RULES: readonly Rule[] = [
  {
    when: { protocol: is("UDP") },
    then: each(["state", ...COUNTER_FIELDS], NULL),
    why: "a UDP socket has no TCP state and no TCP counters",
  },
  {
    when: { protocol: is("TCP") },
    then: { state: SET },
    why: "a TCP socket always has a state",
  },
  {
    when: { remoteAddress: NULL },
    then: { remotePort: NULL, remoteHostName: NULL },
    why: "without a remote address there is no remote port and no remote name",
  },
  {
    when: { remoteAddress: SET },
    then: { remotePort: SET },
    why: "a remote address comes with its port",
  },
  {
    when: { state: is("LISTEN") },
    then: { remoteAddress: NULL },
    why: "a listening socket has no remote end",
  },
  {
    when: { family: is("IPv4") },
    then: { localAddress: IPV4_TEXT, remoteAddress: IPV4_TEXT },
    why: "an IPv4 socket's addresses are IPv4 addresses",
  },
  {
    when: { family: is("IPv6") },
    then: { localAddress: IPV6_TEXT, remoteAddress: IPV6_TEXT },
    why: "an IPv6 socket's addresses are IPv6 addresses",
  },
  {
    when: { pid: NULL },
    then: each(PROCESS_FIELDS, NULL),
    why: "without an owning process there is nothing to say about it",
  },
  ...EXPLAINABLE_FIELDS.map((field): Rule => ({
    when: { unavailable: names(field) },
    then: { [field]: NULL },
    why: `unavailable explains ${field} only when it is null`,
  })),
];

/** One broken rule: the field that breaks it and what it must be. */
export interface RuleProblem {
  /** The field whose value breaks the rule. */
  readonly field: keyof Connection;
  /** What is wrong: `must be null when protocol is "UDP"`. */
  readonly message: string;
}

/**
 * The rules a record breaks, found from {@linkcode CONNECTION_RULES}.
 *
 * @param record A record whose fields each have their own type (other values are taken as they
 *   come).
 * @returns One problem per field and rule broken, in the table's order; empty when it keeps
 *   every rule.
 *
 * @example
 * ```ts
 * import { ruleProblems } from "./rules.ts";
 * ruleProblems({ protocol: "UDP", state: "LISTEN" })[0].message;
 * // 'must be null when protocol is "UDP"'
 * ```
 */
export function ruleProblems(record: Readonly<Record<string, unknown>>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const rule of CONNECTION_RULES) {
    const applies = Object.entries(rule.when).every(([field, c]) => c.test(record[field]));
    if (!applies) continue;
    const because = Object.entries(rule.when).map(([field, c]) => `${field} ${c.when}`);
    for (const [field, condition] of Object.entries(rule.then)) {
      if (condition.test(record[field])) continue;
      problems.push({
        field: field as keyof Connection,
        message: `must ${condition.must} when ${because.join(" and ")}`,
      });
    }
  }
  return problems;
}

/**
 * Whether a record keeps every rule of {@linkcode CONNECTION_RULES}: the check a listing runs on
 * each record, after the one compiled from the zod schema, so it may take each field's own type
 * as given. It says the same as `ruleProblems(record).length === 0`, in a fraction of the time.
 *
 * @param record A record whose fields each have their own type.
 * @returns True when no rule is broken.
 *
 * @example
 * ```ts
 * import { followsRules } from "./rules.ts";
 * import type { Connection } from "./record.ts";
 * const none = {
 *   pid: null, processName: null, processPath: null, parentPid: null, processStartTime: null,
 *   commandLine: null, userName: null, sessionId: null, services: null, imageSha256: null,
 *   connectionCreated: null, bytesIn: null, bytesOut: null, segmentsIn: null, segmentsOut: null,
 *   remoteHostName: null, unavailable: { pid: "no-owner" as const },
 * };
 * const row: Connection = {
 *   protocol: "TCP", family: "IPv4", localAddress: "127.0.0.1", localPort: 80,
 *   remoteAddress: null, remotePort: null, state: "LISTEN", ...none,
 * };
 * followsRules(row); // true
 * followsRules({ ...row, remotePort: 80 }); // false: a port without an address
 * followsRules({ ...row, family: "IPv6" }); // false: IPv4 text on an IPv6 row
 * ```
 */
export function followsRules(record: Connection): boolean {
  const remote = record.remoteAddress;
  if (record.protocol === "UDP") {
    if (
      record.state !== null || record.bytesIn !== null || record.bytesOut !== null ||
      record.segmentsIn !== null || record.segmentsOut !== null
    ) return false;
  } else if (record.state === null) return false;
  if (remote === null) {
    if (record.remotePort !== null || record.remoteHostName !== null) return false;
  } else if (record.remotePort === null || record.state === "LISTEN") return false;
  const v6 = record.family === "IPv6";
  if (record.localAddress.includes(":") !== v6) return false;
  if (remote !== null && remote.includes(":") !== v6) return false;
  if (
    record.pid === null &&
    (record.processName !== null || record.processPath !== null || record.parentPid !== null ||
      record.processStartTime !== null || record.commandLine !== null ||
      record.userName !== null || record.sessionId !== null || record.services !== null ||
      record.imageSha256 !== null)
  ) return false;
  const unavailable = record.unavailable;
  for (const field in unavailable) {
    if (record[field as keyof Connection] !== null) return false;
  }
  return true;
}

/**
 * The rules as JSON Schema: one `if`/`then` per rule, for the `allOf` of the shipped schema.
 *
 * @returns The list of subschemas.
 *
 * @example
 * ```ts
 * import { rulesJsonSchema } from "./rules.ts";
 * rulesJsonSchema()[0].if; // { properties: { protocol: { const: "UDP" } }, required: ["protocol"] }
 * ```
 */
export function rulesJsonSchema(): Record<string, unknown>[] {
  const properties = (part: Rule["when"]) =>
    Object.fromEntries(Object.entries(part).map(([field, c]) => [field, c.schema]));
  return CONNECTION_RULES.map((rule) => ({
    description: rule.why,
    if: { properties: properties(rule.when), required: Object.keys(rule.when) },
    then: { properties: properties(rule.then) },
  }));
}
