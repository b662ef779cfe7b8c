// The listing's check (core/check.ts): the compiled schema alone until record.ts is loaded, the
// schema's own check after that. tests/cli/startup_test.ts runs it where zod was never loaded.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  checkListed,
  explained,
  explainInvalid,
  InvalidConnectionError,
  prepareCheck,
} from "../../core/check.ts";
import { validateConnection } from "../../core/record.ts";
import { ownedConnection } from "../_record.ts";

describe("the listing's check", () => {
  it("hands back a good record itself, not a copy", async () => {
    await prepareCheck();
    const good = ownedConnection();
    assert.equal(checkListed(good), good);
  });
  it("once record.ts is loaded, names the bad field at once, as validateConnection does", () => {
    const bad = { ...ownedConnection(), localPort: 70000 };
    assert.throws(() => checkListed(bad), (err: Error) => {
      assert.ok(!(err instanceof InvalidConnectionError), "the schema's own error");
      assert.throws(() => validateConnection(bad), { message: err.message });
      assert.match(err.message, /^Invalid connection record: localPort: /);
      return true;
    });
  });
  it("explains an InvalidConnectionError by the schema's message for its record", async () => {
    const bad = { ...ownedConnection(), state: "OPEN", pid: -1 };
    const error = new InvalidConnectionError(bad);
    assert.ok(error instanceof TypeError);
    assert.equal(error.name, "InvalidConnectionError");
    const why = await explainInvalid(error);
    assert.match(why.message, /^Invalid connection record: .*state: .*pid: /);
  });
  it("passes any other error through as it is", async () => {
    const other = new RangeError("not a record's fault");
    assert.equal(await explained(other), other);
    const bad = new InvalidConnectionError({ ...ownedConnection(), localPort: -1 });
    assert.match(
      (await explained(bad) as Error).message,
      /^Invalid connection record: localPort: /,
    );
  });
  it("says the compiled check is out of date when the schema accepts what it rejected", async () => {
    const why = await explainInvalid(new InvalidConnectionError(ownedConnection()));
    assert.match(why.message, /gen\/connection_check\.js .* run `npm ci`/);
  });
});
