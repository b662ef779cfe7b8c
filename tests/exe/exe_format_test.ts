// scripts/_exe_format.mjs: telling executables apart by their headers, and reading the
// single-executable fuse, on hand-built headers and on the running binary.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import process from "node:process";
import { describe, it } from "node:test";
import { executableTarget, indexOf, SEA_FUSE, seaFuseState } from "../../scripts/_exe_format.mjs";

function elf(machine: number, littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, littleEndian ? 1 : 2, 1]);
  new DataView(bytes.buffer).setUint16(18, machine, littleEndian);
  return bytes;
}

function pe(machine: number, peOffset = 0x80, signature = 0x00004550): Uint8Array {
  const bytes = new Uint8Array(peOffset + 24);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4d, 0x5a]);
  view.setUint32(0x3c, peOffset, true);
  view.setUint32(peOffset, signature, true);
  view.setUint16(peOffset + 4, machine, true);
  return bytes;
}

describe("executableTarget", () => {
  it("reads the OS and CPU of ELF, PE and Mach-O headers", () => {
    assert.deepEqual(executableTarget(elf(0x3e)), { os: "linux", arch: "x86_64", format: "elf" });
    assert.deepEqual(executableTarget(elf(0xb7)), { os: "linux", arch: "aarch64", format: "elf" });
    assert.deepEqual(executableTarget(elf(0x3e, false)), {
      os: "linux",
      arch: "x86_64",
      format: "elf",
    });
    assert.deepEqual(executableTarget(elf(0x28)), { os: "linux", arch: "other", format: "elf" });
    assert.deepEqual(executableTarget(pe(0x8664)), {
      os: "windows",
      arch: "x86_64",
      format: "pe",
    });
    assert.deepEqual(executableTarget(pe(0xaa64, 0x100)), {
      os: "windows",
      arch: "aarch64",
      format: "pe",
    });
    const macho = new Uint8Array(16);
    new DataView(macho.buffer).setUint32(0, 0xfeedfacf, true);
    new DataView(macho.buffer).setUint32(4, 0x0100000c, true);
    assert.deepEqual(executableTarget(macho), { os: "darwin", arch: "aarch64", format: "macho" });
  });

  it("says null for text, truncated headers and an MZ stub without a PE header", () => {
    assert.equal(executableTarget(new TextEncoder().encode("#!/bin/sh\necho hi\n")), null);
    assert.equal(executableTarget(new Uint8Array([0x7f, 0x45, 0x4c, 0x46])), null);
    assert.equal(executableTarget(pe(0x8664, 0x80, 0x12345678)), null);
    assert.equal(executableTarget(pe(0x8664).subarray(0, 0x60)), null);
    assert.equal(executableTarget(new Uint8Array(0)), null);
  });

  it("reads a header that starts inside a larger buffer", () => {
    const buffer = new Uint8Array(200);
    buffer.set(elf(0x3e), 100);
    assert.equal(executableTarget(buffer.subarray(100))?.arch, "x86_64");
  });

  it("recognises the running binary", () => {
    const os = ({ linux: "linux", win32: "windows", darwin: "darwin" } as Record<string, string>)[
      process.platform
    ];
    const arch = ({ x64: "x86_64", arm64: "aarch64" } as Record<string, string>)[process.arch];
    const head = readFileSync(process.execPath).subarray(0, 4096);
    assert.deepEqual(
      { os: executableTarget(head)?.os, arch: executableTarget(head)?.arch },
      { os, arch },
    );
  });
});

describe("seaFuseState", () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  it("tells an injected binary from a plain one and from one without the fuse", () => {
    assert.equal(seaFuseState(encode(`..${SEA_FUSE}:1..`)), "injected");
    assert.equal(seaFuseState(encode(`..${SEA_FUSE}:0..`)), "empty");
    assert.equal(seaFuseState(encode("no fuse here")), "no-fuse");
    assert.equal(seaFuseState(encode(`..${SEA_FUSE}:`)), "no-fuse");
    assert.equal(seaFuseState(encode(`..${SEA_FUSE}:x`)), "no-fuse");
  });
});

describe("indexOf", () => {
  const bytes = (...values: number[]) => new Uint8Array(values);
  it("finds the first match, also after partial ones and at the very end", () => {
    assert.equal(indexOf(bytes(1, 1, 1, 2), bytes(1, 1, 2)), 1);
    assert.equal(indexOf(bytes(5, 6, 7), bytes(6, 7)), 1);
    assert.equal(indexOf(bytes(5, 6, 7), bytes(5)), 0);
    assert.equal(indexOf(bytes(5, 6, 5, 6), bytes(5, 6), 1), 2);
  });

  it("returns -1 when there is no match and refuses an empty needle", () => {
    assert.equal(indexOf(bytes(1, 2, 3), bytes(3, 4)), -1);
    assert.equal(indexOf(bytes(1), bytes(1, 2)), -1);
    assert.throws(() => indexOf(bytes(1), bytes()), RangeError);
  });
});
