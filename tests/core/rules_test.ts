// The rules between fields (core/rules.ts) in each of their forms: the zod schema's refinement,
// the check a listing runs (gen/connection_check.js and followsRules), and the shipped JSON
// Schema as Ajv reads it. Each break must be refused by all of them, and a random mix of records
// must get the same verdict from all of them. Real listings: tests/cli/json_schema_test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
// @ts-types="../../core/_connection_check.d.ts"
import { checkConnection } from "../../gen/connection_check.js";
import { CONNECTION_RULES, followsRules, ruleProblems } from "../../core/rules.ts";
import { type Connection, validateConnection } from "../../core/record.ts";
import { buildFieldSchema, connectionSchema } from "../../core/schema.ts";
import { EXPLAINABLE_FIELDS, PROCESS_FIELDS, REASONS } from "../../core/fields.ts";
import { shippedSchemaCheck } from "../_json_schema.ts";
import { connection, ownedConnection } from "../_record.ts";

const shipped = shippedSchemaCheck();
const fields = buildFieldSchema();

const listener = () => connection({ localPort: 80, state: "LISTEN" });
const udp = () => connection({ protocol: "UDP", localPort: 53, state: null });
const ownerless = () => connection({ localPort: 22, unavailable: { pid: "no-owner" } });

/** A value of the field's own type that is not null. */
const SET_VALUES: Partial<Record<keyof Connection, unknown>> = {
  processName: "sshd",
  processPath: "/usr/sbin/sshd",
  parentPid: 1,
  processStartTime: "2026-11-28T10:00:00.000Z",
  commandLine: "sshd -D",
  userName: "root",
  sessionId: 0,
  services: ["ssh.service"],
  imageSha256: "a".repeat(64),
  connectionCreated: "2026-11-28T10:00:01.000Z",
  bytesIn: 10,
  bytesOut: 20,
  segmentsIn: 1,
  segmentsOut: 2,
  remoteHostName: "db.example",
};

/** Every check's verdict on one record, with the zod issues. */
function verdicts(record: Record<string, unknown>) {
  assert.ok(checkConnection, "gen/connection_check.js holds a compiled check");
  const parsed = connectionSchema().safeParse(record);
  return {
    rules: ruleProblems(record).length === 0,
    followsRules: followsRules(record as Connection),
    compiled: checkConnection(record),
    zod: parsed.success,
    jsonSchema: shipped(record).length === 0,
    issues: parsed.success ? [] : parsed.error.issues,
  };
}

describe("the rules between fields", () => {
  it("the fixtures keep them, in every form", () => {
    for (const record of [listener(), udp(), ownerless(), ownedConnection()]) {
      const { issues, ...all } = verdicts(record);
      assert.deepEqual(issues, []);
      assert.deepEqual(Object.values(all), [true, true, true, true, true], JSON.stringify(record));
    }
  });

  it("each break is refused by every form, and named on the field that breaks it", () => {
    const breaks: [string, Record<string, unknown>, keyof Connection, RegExp][] = [
      ["UDP with a state", { ...udp(), state: "LISTEN" }, "state", /protocol is "UDP"/],
      ["UDP with counters", { ...udp(), bytesIn: 5 }, "bytesIn", /must be null/],
      ["TCP without a state", { ...listener(), state: null }, "state", /must be set/],
      [
        "a remote port alone",
        { ...listener(), remotePort: 80 },
        "remotePort",
        /remoteAddress is null/,
      ],
      ["a remote name alone", { ...listener(), remoteHostName: "x" }, "remoteHostName", /null/],
      ["an address without port", { ...ownedConnection(), remotePort: null }, "remotePort", /set/],
      [
        "a listener with a peer",
        { ...ownedConnection(), state: "LISTEN" },
        "remoteAddress",
        /LISTEN/,
      ],
      ["IPv6 text on IPv4", { ...listener(), localAddress: "::1" }, "localAddress", /IPv4 text/],
      [
        "an IPv4 peer on IPv6",
        { ...ownedConnection(), family: "IPv6", localAddress: "::1" },
        "remoteAddress",
        /IPv6 text .*family is "IPv6"/,
      ],
      [
        "a reason for a field that has a value",
        { ...ownedConnection(), unavailable: { processName: "access-denied" } },
        "processName",
        /when unavailable names processName/,
      ],
    ];
    for (const field of PROCESS_FIELDS) {
      breaks.push([
        `${field} without a pid`,
        { ...ownerless(), [field]: SET_VALUES[field] },
        field,
        /must be null when pid is null/,
      ]);
    }
    for (const [what, record, field, message] of breaks) {
      assert.equal(fields.safeParse(record).success, true, `${what}: each field has its type`);
      const { issues, ...all } = verdicts(record);
      assert.deepEqual(Object.values(all), [false, false, false, false, false], what);
      assert.ok(
        issues.some((i) => i.path.join(".") === field && message.test(i.message)),
        `${what}: ${JSON.stringify(issues)}`,
      );
      assert.throws(() => validateConnection(record), new RegExp(`${field}: must `), what);
    }
    assert.ok(breaks.length >= 19, `${breaks.length} breaks`);
  });

  it("give the same verdict in every form on thousands of random records", () => {
    // A seeded generator, so that a failure can be run again.
    let seed = 0x9e3779b9;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const starts = [listener, udp, ownerless, ownedConnection];
    const changes: [keyof Connection, unknown[]][] = [
      ["protocol", ["TCP", "UDP"]],
      ["family", ["IPv4", "IPv6"]],
      ["localAddress", ["127.0.0.1", "::1", "fe80::1%2", "::ffff:10.0.0.1"]],
      ["remoteAddress", [null, "10.0.0.2", "2001:db8::5"]],
      ["remotePort", [null, 443]],
      ["state", [null, "LISTEN", "ESTABLISHED", "TIME_WAIT"]],
      ["pid", [null, 0, 4242]],
      ...Object.entries(SET_VALUES).map(([f, v]): [keyof Connection, unknown[]] => [
        f as keyof Connection,
        [null, v],
      ]),
    ];
    const counts = { kept: 0, broken: 0 };
    const byRule = new Map<string, number>();
    for (let n = 0; n < 4000; n++) {
      const record: Record<string, unknown> = { ...pick(starts)() };
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const [field, values] = pick(changes);
        record[field] = pick(values);
      }
      if (random() < 0.3) {
        const unavailable: Record<string, unknown> = {};
        unavailable[pick(EXPLAINABLE_FIELDS)] = pick(REASONS);
        record.unavailable = unavailable;
      }
      if (!fields.safeParse(record).success) continue;
      const { issues, ...all } = verdicts(record);
      const expected = all.rules;
      for (const [form, verdict] of Object.entries(all)) {
        assert.equal(verdict, expected, `${form} on ${JSON.stringify(record)}`);
      }
      assert.equal(issues.length, ruleProblems(record).length);
      counts[expected ? "kept" : "broken"]++;
      for (const p of ruleProblems(record)) {
        byRule.set(p.message, (byRule.get(p.message) ?? 0) + 1);
      }
    }
    assert.ok(counts.kept > 300 && counts.broken > 300, JSON.stringify(counts));
    // Every rule was broken somewhere in the mix, so each one's forms were compared.
    for (const rule of CONNECTION_RULES) {
      const said = Object.entries(rule.when).map(([f, c]) => `${f} ${c.when}`).join(" and ");
      const broken = [...byRule.keys()].some((m) => m.endsWith(`when ${said}`));
      assert.ok(broken, `no random record broke the rule "${rule.why}"`);
    }
  });
});
