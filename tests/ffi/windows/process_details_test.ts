import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readProcessCreations } from "../../../ffi/windows/_process_details.ts";
import type { NtdllSymbols } from "../../../ffi/windows/_symbols.ts";

/** One SYSTEM_PROCESS_INFORMATION entry of this many bytes per process (x64 offsets). */
const ENTRY = 256;

/** An ntdll whose process list has `count()` processes; records each buffer size it is given. */
function fakeNtdll(count: () => number) {
  const lengths: number[] = [];
  const nt = {
    NtQuerySystemInformation(
      _infoClass: number,
      buffer: Uint8Array,
      length: number,
      written: Uint32Array,
    ) {
      lengths.push(length);
      const needed = ENTRY * count();
      written[0] = needed;
      if (length < needed) return 0xc0000004 | 0; // STATUS_INFO_LENGTH_MISMATCH
      const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      for (let i = 0; i < count(); i++) {
        const at = ENTRY * i;
        view.setUint32(at, i === count() - 1 ? 0 : ENTRY, true); // NextEntryOffset
        view.setBigUint64(at + 32, 133_000_000_000_000_000n + BigInt(i), true); // CreateTime
        view.setBigUint64(at + 80, BigInt(4 * (i + 1)), true); // UniqueProcessId
        view.setBigUint64(at + 88, 4n, true); // InheritedFromUniqueProcessId
      }
      return 0;
    },
  } as unknown as NtdllSymbols;
  return { nt, lengths };
}

describe("readProcessCreations", () => {
  it("asks next time at the size the last list needed, with room, and never below 512 KiB", () => {
    let processes = 3000; // 768,000 bytes: more than the first 512 KiB
    const { nt, lengths } = fakeNtdll(() => processes);
    assert.equal(readProcessCreations(nt)?.size, 3000);
    assert.deepEqual(lengths, [512 * 1024, 1024 * 1024]);
    // The next listing asks once, at what the last one needed and 64 KiB.
    lengths.length = 0;
    assert.equal(readProcessCreations(nt)?.size, 3000);
    assert.deepEqual(lengths, [768_000 + 64 * 1024]);
    // A list that shrank: the size follows it down, to 512 KiB at least.
    processes = 10;
    lengths.length = 0;
    assert.equal(readProcessCreations(nt)?.size, 10);
    readProcessCreations(nt);
    assert.deepEqual(lengths, [768_000 + 64 * 1024, 512 * 1024]);
  });
});
