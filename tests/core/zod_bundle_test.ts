// gen/zod.js (scripts/bundle_zod.mjs) against the zod package it was made from.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { z as pkg } from "zod";
import { z } from "../../core/_zod.ts";
import { ZOD_EXPORTS } from "../../scripts/bundle_zod.mjs";

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
