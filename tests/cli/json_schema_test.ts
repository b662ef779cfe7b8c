// Every record the command line prints, held to the shipped JSON Schema by Ajv (a validator
// procconn does not use) and to the rules between fields: a whole listing of this machine with
// the TCP counters, and a child's own sockets with every enrichment.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Connection } from "../../core/record.ts";
import { followsRules } from "../../core/rules.ts";
import { shippedSchemaCheck } from "../_json_schema.ts";
import { expectedEndpoints, startSocketChild } from "../_socket_child.ts";

const shipped = shippedSchemaCheck();

describe("the records of real listings", () => {
  it("keep the shipped JSON Schema and the rules between fields", async () => {
    const child = await startSocketChild();
    try {
      const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
      const run = async (...args: string[]) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--no-lock", main, "--format", "json", ...args],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        return JSON.parse(new TextDecoder().decode(out.stdout)) as Connection[];
      };
      const whole = await run("--stats");
      const own = await run("--pid", String(child.sockets.pid), "--hash", "--stats", "--resolve");
      for (const record of [...whole, ...own]) {
        assert.deepEqual(shipped(record), [], JSON.stringify(record));
        assert.ok(followsRules(record), JSON.stringify(record));
      }
      const expected = expectedEndpoints(child.sockets);
      assert.equal(own.length, expected.length, JSON.stringify(own));
      for (const record of own) {
        assert.equal(record.pid, child.sockets.pid);
        assert.match(record.imageSha256 ?? "", /^[0-9a-f]{64}$/);
      }
      assert.ok(own.some((r) => r.protocol === "UDP" && r.bytesIn === null));
      assert.ok(own.some((r) => r.state === "ESTABLISHED" && typeof r.bytesIn === "number"));
      // 127.0.0.1 is in every hosts file: a resolved name, kept only with its remote address.
      assert.ok(own.some((r) => r.remoteAddress === "127.0.0.1" && r.remoteHostName !== null));
      assert.ok(whole.length >= own.length);
    } finally {
      await child.stop();
    }
  });
});
