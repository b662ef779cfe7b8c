import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionEventSchema, eventLine, toEvent, validateEvent } from "../../core/events.ts";
import { type Connection, CONNECTION_FIELDS, validateConnection } from "../../core/record.ts";
import { NO_ENRICHMENT } from "../_record.ts";

const record: Connection = validateConnection({
  protocol: "TCP",
  family: "IPv6",
  localAddress: "::1",
  localPort: 8080,
  remoteAddress: "::1",
  remotePort: 51514,
  state: "CLOSE_WAIT",
  pid: 4242,
  processName: "node",
  processPath: "/usr/bin/node",
  parentPid: 1,
  processStartTime: "2026-01-01T00:00:00.000Z",
  ...NO_ENRICHMENT,
  unavailable: { connectionCreated: "not-supported" },
});
const TIME = new Date("2026-03-04T05:06:07.089Z");

describe("toEvent", () => {
  it("puts time, event and previousState first, then every record field", () => {
    const event = toEvent(
      { event: "changed", connection: record, previousState: "ESTABLISHED" },
      TIME,
    );
    assert.deepEqual(Object.keys(event), ["time", "event", "previousState", ...CONNECTION_FIELDS]);
    assert.equal(event.time, "2026-03-04T05:06:07.089Z");
    assert.equal(event.previousState, "ESTABLISHED");
    assert.equal(event.state, "CLOSE_WAIT");
    assert.deepEqual(event.unavailable, { connectionCreated: "not-supported" });
  });

  it("writes one line of JSON that parses back to the same event", () => {
    const event = toEvent({ event: "opened", connection: record, previousState: null }, TIME);
    const line = eventLine(event);
    assert.equal(line.endsWith("\n"), true);
    assert.equal(line.indexOf("\n"), line.length - 1);
    assert.deepEqual(validateEvent(JSON.parse(line)), event);
  });
});

describe("ConnectionEventSchema", () => {
  const good = { time: TIME.toISOString(), event: "closed", previousState: null, ...record };

  it("accepts opened, closed and changed events", () => {
    assert.equal(ConnectionEventSchema.safeParse(good).success, true);
    assert.equal(ConnectionEventSchema.safeParse({ ...good, event: "opened" }).success, true);
    const changed = { ...good, event: "changed", previousState: "ESTABLISHED" };
    assert.equal(ConnectionEventSchema.safeParse(changed).success, true);
  });

  for (
    const [what, bad, where] of [
      ["an unknown event", { event: "moved" }, "event"],
      ["a time without zone", { time: "2026-03-04T05:06:07" }, "time"],
      [
        "a previous state on an opened event",
        { event: "opened", previousState: "LISTEN" },
        "previousState",
      ],
      ["a changed event without previous state", { event: "changed" }, "previousState"],
      ["a changed event whose state did not change", {
        event: "changed",
        previousState: "CLOSE_WAIT",
      }, "previousState"],
      ["an unknown previous state", { event: "changed", previousState: "GONE" }, "previousState"],
      ["a bad record field", { localPort: 70000 }, "localPort"],
      [
        "a record that breaks a rule between fields",
        { remotePort: null },
        "remotePort: must be set",
      ],
      ["an extra field", { extra: 1 }, "(event)"],
    ] as const
  ) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(() => validateEvent({ ...good, ...bad }), (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /^Invalid watch event: /);
        assert.ok(err.message.includes(where), err.message);
        return true;
      });
    });
  }

  it("rejects a record without the event fields", () => {
    assert.throws(() => validateEvent(record), /time: .*event: .*previousState: /s);
  });
});
