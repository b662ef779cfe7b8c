import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TCP_STATES } from "../../../core/record.ts";
import {
  decodeEstatsData,
  hasConnectionCounters,
  tcp4EstatsRow,
  tcp6EstatsRow,
} from "../../../ffi/windows/decode_estats.ts";

// Layouts from tcpestats.h and tcpmib.h (x64), written field by field.

describe("decodeEstatsData", () => {
  it("maps TCP_ESTATS_DATA_ROD_v0 fields to bytes and segments", () => {
    const bytes = new Uint8Array(96).fill(0x99);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, 1_000_001n, true); // DataBytesOut
    view.setBigUint64(8, 2_002n, true); // DataSegsOut
    view.setBigUint64(16, 3_000_003n, true); // DataBytesIn
    view.setBigUint64(24, 4_004n, true); // DataSegsIn
    view.setBigUint64(32, 5_005n, true); // SegsOut
    view.setBigUint64(40, 6_006n, true); // SegsIn
    view.setUint32(48, 7, true); // SoftErrors
    view.setUint32(52, 8, true); // SoftErrorReason
    view.setUint32(56, 9, true); // SndUna
    view.setUint32(60, 10, true); // SndNxt
    view.setUint32(64, 11, true); // SndMax
    view.setBigUint64(72, 12n, true); // ThruBytesAcked
    view.setUint32(80, 13, true); // RcvNxt
    view.setBigUint64(88, 14n, true); // ThruBytesReceived
    assert.deepEqual(decodeEstatsData(bytes), {
      bytesIn: 3_000_003,
      bytesOut: 1_000_001,
      segmentsIn: 6_006,
      segmentsOut: 5_005,
    });
  });

  it("reads counters beyond 32 bits", () => {
    const bytes = new Uint8Array(96);
    new DataView(bytes.buffer).setBigUint64(16, 0x1_0000_0001n, true);
    assert.equal(decodeEstatsData(bytes).bytesIn, 4294967297);
  });

  it("rejects a buffer shorter than 96 bytes", () => {
    assert.throws(() => decodeEstatsData(new Uint8Array(95)), {
      name: "RangeError",
      message: "Buffer too short for TCP_ESTATS_DATA_ROD_v0: need 96 bytes, the buffer has 95",
    });
  });
});

describe("tcp4EstatsRow", () => {
  it("copies the MIB_TCPROW part (dwState .. dwRemotePort) of a table row", () => {
    const row = new Uint8Array(160);
    const view = new DataView(row.buffer);
    view.setUint32(0, 5, true); // dwState
    row.set([10, 0, 0, 1], 4); // dwLocalAddr
    view.setUint16(8, 1234, false); // dwLocalPort
    row.set([10, 0, 0, 2], 12); // dwRemoteAddr
    view.setUint16(16, 443, false); // dwRemotePort
    view.setUint32(20, 999, true); // dwOwningPid: not part of MIB_TCPROW
    const key = tcp4EstatsRow(row);
    assert.deepEqual([...key], [...row.subarray(0, 20)]);
    row[0] = 11;
    assert.equal(key[0], 5, "a copy, not a view");
    assert.throws(() => tcp4EstatsRow(new Uint8Array(19)), /need 20 bytes, the row has 19/);
  });
});

describe("tcp6EstatsRow", () => {
  it("moves the state first: State 0, LocalAddr 4, scope 20, port 24, RemoteAddr 28, scope 44, port 48", () => {
    // MIB_TCP6ROW_OWNER_PID / _MODULE: ucLocalAddr 0, dwLocalScopeId 16, dwLocalPort 20,
    // ucRemoteAddr 24, dwRemoteScopeId 40, dwRemotePort 44, dwState 48, dwOwningPid 52.
    const row = new Uint8Array(192);
    const view = new DataView(row.buffer);
    for (let i = 0; i < 16; i++) row[i] = 0x10 + i;
    view.setUint32(16, 0xa1a2a3a4, true);
    view.setUint32(20, 0xb1b2b3b4, true);
    for (let i = 0; i < 16; i++) row[24 + i] = 0x40 + i;
    view.setUint32(40, 0xc1c2c3c4, true);
    view.setUint32(44, 0xd1d2d3d4, true);
    view.setUint32(48, 8, true);
    view.setUint32(52, 4242, true);
    const key = tcp6EstatsRow(row);
    const out = new DataView(key.buffer);
    assert.equal(key.length, 52);
    assert.equal(out.getUint32(0, true), 8);
    assert.deepEqual([...key.subarray(4, 20)], Array.from({ length: 16 }, (_, i) => 0x10 + i));
    assert.equal(out.getUint32(20, true), 0xa1a2a3a4);
    assert.equal(out.getUint32(24, true), 0xb1b2b3b4);
    assert.deepEqual([...key.subarray(28, 44)], Array.from({ length: 16 }, (_, i) => 0x40 + i));
    assert.equal(out.getUint32(44, true), 0xc1c2c3c4);
    assert.equal(out.getUint32(48, true), 0xd1d2d3d4);
  });

  it("accepts an owner-pid row (56 bytes) and rejects a shorter one", () => {
    assert.equal(tcp6EstatsRow(new Uint8Array(56)).length, 52);
    assert.throws(() => tcp6EstatsRow(new Uint8Array(55)), /need 56 bytes, the row has 55/);
  });
});

describe("hasConnectionCounters", () => {
  it("is true from SYN_SENT to LAST_ACK, and for a state it does not know; false otherwise", () => {
    const withCounters = TCP_STATES.filter(hasConnectionCounters);
    assert.deepEqual(withCounters, [
      "SYN_SENT",
      "SYN_RCVD",
      "ESTABLISHED",
      "FIN_WAIT1",
      "FIN_WAIT2",
      "CLOSE_WAIT",
      "CLOSING",
      "LAST_ACK",
      "UNKNOWN",
    ]);
  });
});
