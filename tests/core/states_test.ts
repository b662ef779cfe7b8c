import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseState } from "../../core/states.ts";
import { TCP_STATES } from "../../core/record.ts";

describe("parseState", () => {
  it("accepts netstat, PowerShell and Windows netstat spellings in any case", () => {
    assert.equal(parseState("ESTABLISHED"), "ESTABLISHED");
    assert.equal(parseState("established"), "ESTABLISHED");
    assert.equal(parseState("TimeWait"), "TIME_WAIT");
    assert.equal(parseState("CloseWait"), "CLOSE_WAIT");
    assert.equal(parseState("SynReceived"), "SYN_RCVD");
    assert.equal(parseState("LISTENING"), "LISTEN");
    assert.equal(parseState("Listen"), "LISTEN");
    assert.equal(parseState("FIN_WAIT_2"), "FIN_WAIT2");
    assert.equal(parseState("DeleteTcb"), "DELETE_TCB");
    assert.equal(parseState("Bound"), "BOUND");
    assert.equal(parseState(" time-wait "), "TIME_WAIT");
    assert.equal(parseState("syn recv"), "SYN_RCVD");
    assert.equal(parseState("FinWait1"), "FIN_WAIT1");
  });
  it("takes a separator only between words, and one at most", () => {
    for (const bad of ["LIS TEN", "TIME__WAIT", "T_IMEWAIT", "_LISTEN", "LISTEN-", "FIN WAIT  2"]) {
      assert.throws(() => parseState(bad), RangeError, bad);
    }
  });
  it("accepts every canonical name", () => {
    for (const s of TCP_STATES) assert.equal(parseState(s), s);
  });
  it("names the bad value and the allowed ones", () => {
    assert.throws(() => parseState("NOPE"), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /"NOPE"/);
      assert.match(e.message, /LISTEN, SYN_SENT/);
      return true;
    });
  });
});
