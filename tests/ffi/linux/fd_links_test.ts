import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DirentFormatError,
  direntNameOffsets,
  socketInodeOfBytes,
  socketInodeOfLink,
} from "../../../ffi/linux/fd_links.ts";
import { type Libc, loadLibc, O_CLOEXEC, O_RDONLY } from "../../../ffi/linux/_libc.ts";

const encoder = new TextEncoder();

describe("socketInodeOfLink and socketInodeOfBytes", () => {
  const cases: [string, number | null][] = [
    ["socket:[12345]", 12345],
    ["socket:[0]", 0],
    ["socket:[4294967295]", 4294967295],
    ["socket:[]", null],
    ["socket:[12a]", null],
    ["socket:[12", null],
    ["socket:12]", null],
    ["pipe:[12345]", null],
    ["anon_inode:[eventfd]", null],
    ["/dev/pts/0", null],
    ["", null],
  ];
  for (const [link, inode] of cases) {
    it(`reads ${JSON.stringify(link)} as ${inode}`, () => {
      assert.equal(socketInodeOfLink(link), inode);
      // readlinkat writes no NUL: the length says where the target ends, not the buffer.
      const bytes = new Uint8Array(64).fill(0x39);
      bytes.set(encoder.encode(link));
      assert.equal(socketInodeOfBytes(bytes, link.length), inode);
    });
  }

  it("does not read past the buffer when the length is larger", () => {
    const bytes = encoder.encode("socket:[1]");
    assert.equal(socketInodeOfBytes(bytes, 64), null);
  });
});

/** Appends one linux_dirent64 record (little-endian) for `name`, padded to 8 bytes. */
function record(name: string): number[] {
  const reclen = (19 + name.length + 1 + 7) & ~7;
  const bytes = new Array(reclen).fill(0);
  bytes[0] = 0x2a; // d_ino, arbitrary
  bytes[16] = reclen & 0xff;
  bytes[17] = reclen >> 8;
  bytes[18] = 10; // d_type DT_LNK
  for (let i = 0; i < name.length; i++) bytes[19 + i] = name.charCodeAt(i);
  return bytes;
}

function nameAt(bytes: Uint8Array, offset: number): string {
  return new TextDecoder().decode(bytes.subarray(offset, bytes.indexOf(0, offset)));
}

describe(
  "direntNameOffsets",
  { skip: new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1 },
  () => {
    it("finds each name, leaving out . and .., each NUL-terminated in place", () => {
      const bytes = new Uint8Array(
        [".", "..", "0", "17", "...", ".x", "1023"].flatMap((n) => record(n)),
      );
      const names = direntNameOffsets(bytes, bytes.length).map((o) => nameAt(bytes, o));
      assert.deepEqual(names, ["0", "17", "...", ".x", "1023"]);
    });

    it("reads only the length getdents64 returned", () => {
      const bytes = new Uint8Array([...record("3"), ...record("4"), ...new Array(64).fill(0xff)]);
      const length = record("3").length + record("4").length;
      assert.deepEqual(direntNameOffsets(bytes, length).map((o) => nameAt(bytes, o)), ["3", "4"]);
    });

    it("fails on a record whose length is too short or runs past the end", () => {
      const zero = new Uint8Array(record("5"));
      zero[16] = 0;
      assert.throws(
        () => direntNameOffsets(zero, zero.length),
        (err: unknown) =>
          err instanceof DirentFormatError && err.offset === 0 &&
          err.message === "Malformed directory record at byte 0: record length 0 does not fit",
      );
      const long = new Uint8Array([...record("5"), ...record("6")]);
      long[24 + 16] = 200;
      assert.throws(
        () => direntNameOffsets(long, long.length),
        /^DirentFormatError: Malformed directory record at byte 24: record length 200 does not/,
      );
      assert.throws(() => direntNameOffsets(long, 30), /at byte 24: 6 bytes left/);
    });
  },
);

function nativeLibc(): Libc | null {
  if (process.platform !== "linux") return null;
  try {
    return loadLibc();
  } catch {
    return null;
  }
}
const libc = nativeLibc();

describe("direntNameOffsets on a real getdents64 buffer", {
  skip: libc === null ? "no native calls here (Deno without --allow-ffi, or no koffi)" : false,
}, () => {
  it("lists the same names as readdir", () => {
    const dir = mkdtempSync(join(tmpdir(), "procconn-dents-"));
    try {
      const names = [
        "a",
        "bb",
        "socket:[1]",
        "ünïcode",
        ...Array.from({ length: 300 }, (_, i) => `${i}`),
      ];
      for (const name of names.slice(0, 3)) writeFileSync(join(dir, name), "");
      mkdirSync(join(dir, names[3]));
      for (const name of names.slice(4)) writeFileSync(join(dir, name), "");

      const c = libc!.symbols;
      const path = encoder.encode(`${dir}\0`);
      const fd = c.open(path, O_RDONLY | O_CLOEXEC);
      assert.ok(fd >= 0, `open returned ${fd}`);
      const found: string[] = [];
      try {
        // A small buffer, so the listing takes several reads.
        const buffer = new Uint8Array(1024);
        for (;;) {
          const got = Number(c.getdents64!(fd, buffer, BigInt(buffer.length)));
          assert.ok(got >= 0, `getdents64 returned ${got}`);
          if (got === 0) break;
          for (const offset of direntNameOffsets(buffer, got)) found.push(nameAt(buffer, offset));
        }
      } finally {
        c.close(fd);
      }
      assert.deepEqual(found.sort(), readdirSync(dir).sort());
      assert.equal(found.length, names.length);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
