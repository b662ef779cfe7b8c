// gen/zod.js and gen/connection_check.js (scripts/bundle_zod.mjs) against the zod package and
// the schema they were made from.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { z as pkg } from "zod";
import { z } from "../../core/_zod.ts";
import { checkHeader, connectionCheck, ZOD_EXPORTS } from "../../scripts/bundle_zod.mjs";
// @ts-types="../../core/_connection_check.d.ts"
import { checkConnection } from "../../gen/connection_check.js";
import { connectionSchema } from "../../core/schema.ts";
import { ownedConnection } from "../_record.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** The members of `z` that the sources using core/_zod.ts call (type-only names left out). */
function membersUsed(): Set<string> {
  const used = new Set<string>();
  for (const name of readdirSync(new URL("core/", root))) {
    if (!name.endsWith(".ts") || name === "_zod.ts") continue;
    const text = read(`core/${name}`);
    if (!text.includes(`from "./_zod.ts"`)) continue;
    for (const [, member] of text.matchAll(/\bz\.([A-Za-z]+)/g)) {
      if (member !== "infer" && member !== "input" && member !== "output") used.add(member);
    }
  }
  return used;
}

describe("the zod bundle", () => {
  it("was made from the installed zod (run `node scripts/bundle_zod.mjs` after an upgrade)", () => {
    const version = JSON.parse(read("node_modules/zod/package.json")).version;
    const header = read("gen/zod.js").split("\n", 1)[0];
    assert.match(header, new RegExp(`from zod ${version.replaceAll(".", "\\.")},`));
  });
  it("exports every member the sources use, and nothing else", () => {
    const used = membersUsed();
    assert.ok(used.has("object") && used.has("iso"), `found ${[...used]}`);
    assert.deepEqual([...used].sort(), [...ZOD_EXPORTS].sort());
    for (const name of ZOD_EXPORTS) {
      assert.equal(
        typeof (z as Record<string, unknown>)[name],
        typeof pkg[name as keyof typeof pkg],
      );
    }
  });
  it("accepts, rejects and explains exactly as the package does", () => {
    const make = (zz: typeof z) =>
      zz.object({
        port: zz.number().int().min(0).max(65535),
        state: zz.enum(["LISTEN", "ESTABLISHED"]).nullable(),
        name: zz.string().min(1).nullable(),
        at: zz.iso.datetime({ offset: true }),
        why: zz.partialRecord(zz.enum(["pid", "name"]), zz.enum(["access-denied"])),
        pids: zz.array(zz.number()),
      });
    const ours = make(z);
    const theirs = make(pkg as unknown as typeof z);
    const good = {
      port: 80,
      state: null,
      name: "x",
      at: "2026-11-28T10:00:00.000Z",
      why: { pid: "access-denied" },
      pids: [1],
    };
    const bad = {
      port: 80.5,
      state: "CLOSED",
      name: "",
      at: "yesterday",
      why: { path: "x" },
      pids: ["1"],
    };
    assert.equal(ours.safeParse(good).success, true);
    const issues = ours.safeParse(bad).error?.issues;
    assert.equal(issues?.length, 6);
    assert.deepEqual(issues, theirs.safeParse(bad).error?.issues);
    assert.match(issues![0].message, /expected int/);
    assert.deepEqual(z.toJSONSchema(ours), pkg.toJSONSchema(theirs as never));
  });
});

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Values to put in any field: right for some fields, wrong for others. */
const VALUES: unknown[] = [
  null,
  undefined,
  "",
  "x",
  "TCP",
  "UDP",
  "IPv4",
  "LISTEN",
  "ESTABLISHED",
  0,
  1,
  -1,
  1.5,
  65535,
  65536,
  2 ** 32,
  2 ** 53,
  NaN,
  Infinity,
  true,
  [],
  ["sshd.service"],
  [1],
  {},
  { pid: "access-denied" },
  { pid: "because" },
  { notAField: "no-owner" },
  { processPath: "not-found", stats: "x" },
  "2026-11-28T10:00:00.000Z",
  "2026-11-28T10:00:00+01:00",
  "2026-02-30T10:00:00Z",
  "2026-11-28 10:00",
  "0".repeat(64),
  "A".repeat(64),
  "\ud83d\ude00",
];

describe("the compiled connection check", () => {
  it("is the schema as the installed zod compiles it (run `node scripts/bundle_zod.mjs` after changing core/schema.ts)", async () => {
    const { text, how } = await connectionCheck();
    assert.equal(how, "compiled by z.compile", "esbuild is installed, so a check is compiled");
    assert.equal(read("gen/connection_check.js"), checkHeader(how) + text);
  });
  it("agrees with the schema on records broken in every field, a few at a time", () => {
    assert.ok(checkConnection, "gen/connection_check.js holds a check");
    const schema = connectionSchema();
    const next = random(11);
    const good = ownedConnection();
    const fields = [...Object.keys(good), "extra"];
    let accepted = 0;
    for (let trial = 0; trial < 4000; trial++) {
      const record: Record<string, unknown> = { ...good };
      const changes = trial % 3;
      for (let c = 0; c < changes; c++) {
        const field = fields[Math.floor(next() * fields.length)];
        const value = VALUES[Math.floor(next() * VALUES.length)];
        if (value === undefined && next() < 0.5) delete record[field];
        else record[field] = value;
      }
      const expected = schema.safeParse(record).success;
      assert.equal(checkConnection!(record), expected, JSON.stringify(record));
      if (expected) accepted++;
    }
    // Both answers came up often enough for the comparison to mean something.
    assert.ok(accepted > 1000 && accepted < 3000, `${accepted} of 4000 accepted`);
    assert.equal(checkConnection!(null), false);
    assert.equal(checkConnection!([good]), false);
  });
});
