import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { type BtfRead, findBytes, lookUpBtf } from "../../../ffi/linux/btf.ts";

/** A type record: kind, its name, the `size`/`type` word and the trailing words. */
interface TypeSpec {
  kind: number;
  name: string;
  kindFlag?: boolean;
  vlen?: number;
  sizeOrType?: number;
  /** Trailing u32 words; struct members are given as [name, type, offset] triples. */
  words?: (number | string)[];
}

/**
 * A BTF blob as pahole writes one: header, types, then strings. Names in `words` are given as
 * strings and become string offsets. `extraStrings` pads the string section.
 */
function blob(types: TypeSpec[], extraStrings: string[] = []): Uint8Array {
  const strings: string[] = [""];
  const offsets = new Map<string, number>([["", 0]]);
  let length = 1;
  const intern = (name: string) => {
    if (!offsets.has(name)) {
      offsets.set(name, length);
      strings.push(name);
      length += name.length + 1;
    }
    return offsets.get(name)!;
  };
  for (const name of extraStrings) intern(name);
  const words: number[] = [];
  for (const t of types) {
    const vlen = t.vlen ?? 0;
    words.push(
      intern(t.name),
      (t.kindFlag ? 1 << 31 : 0) | (t.kind << 24) | vlen,
      t.sizeOrType ?? 0,
    );
    for (const w of t.words ?? []) words.push(typeof w === "string" ? intern(w) : w);
  }
  const typeBytes = words.length * 4;
  const stringBytes = new TextEncoder().encode(strings.join("\0") + "\0");
  const out = new Uint8Array(24 + typeBytes + stringBytes.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xeb9f, true);
  view.setUint8(2, 1); // version
  view.setUint32(4, 24, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, typeBytes, true);
  view.setUint32(16, typeBytes, true);
  view.setUint32(20, stringBytes.length, true);
  words.forEach((w, i) => view.setUint32(24 + i * 4, w >>> 0, true));
  out.set(stringBytes, 24 + typeBytes);
  return out;
}

/** Reads from a buffer, at most `most` bytes a call (short reads, as a file may give). */
function reader(bytes: Uint8Array, most = Infinity): BtfRead & { calls: number } {
  const read = ((offset: number, into: Uint8Array) => {
    read.calls++;
    const part = bytes.subarray(offset, offset + Math.min(into.length, most));
    into.set(part);
    return part.length;
  }) as BtfRead & { calls: number };
  read.calls = 0;
  return read;
}

const INT = 1, PTR = 2, STRUCT = 4, UNION = 5, ENUM = 6, FUNC = 12, FUNC_PROTO = 13;

/** A small kernel: ids 1 int, 2 enum, 3 struct inode, 4 ptr, 5 struct file, 6 proto, 7 func. */
const KERNEL: TypeSpec[] = [
  { kind: INT, name: "int", sizeOrType: 4, words: [0x01000020] },
  { kind: ENUM, name: "pid_type", vlen: 2, sizeOrType: 4, words: ["PIDTYPE_PID", 0, "f_mode", 1] },
  // inode: i_mode at 0, a bitfield, then i_ino at byte 64 (kind_flag: offsets carry sizes).
  {
    kind: STRUCT,
    name: "inode",
    kindFlag: true,
    vlen: 3,
    sizeOrType: 600,
    words: ["i_mode", 1, 0, "i_flags", 1, (3 << 24) | 20, "i_ino", 1, 64 * 8],
  },
  { kind: PTR, name: "", sizeOrType: 3 },
  // file: f_mode at 20 (a decoy for i_mode), f_inode at 32.
  {
    kind: STRUCT,
    name: "file",
    vlen: 2,
    sizeOrType: 200,
    words: ["f_mode", 1, 20 * 8, "f_inode", 4, 32 * 8],
  },
  { kind: FUNC_PROTO, name: "", vlen: 1, sizeOrType: 1, words: ["ctx", 4] },
  { kind: FUNC, name: "bpf_iter_task_file", sizeOrType: 6 },
  { kind: UNION, name: "task_struct", vlen: 1, sizeOrType: 8, words: ["tgid", 1, 0] },
  { kind: STRUCT, name: "task_struct", vlen: 1, sizeOrType: 3000, words: ["tgid", 1, 1268 * 8] },
];

const QUERY = {
  funcs: ["bpf_iter_task_file", "bpf_iter_tcp"],
  structs: { file: ["f_inode"], inode: ["i_mode", "i_ino", "i_flags"], task_struct: ["tgid"] },
};

describe("lookUpBtf", () => {
  it("finds function ids and member offsets, and leaves out what is not there", () => {
    const answer = lookUpBtf(reader(blob(KERNEL)), QUERY);
    assert.deepEqual([...answer.funcs], [["bpf_iter_task_file", 7]]);
    assert.deepEqual(
      Object.fromEntries(answer.members),
      // i_flags is a bitfield; task_struct is the struct, not the union of that name.
      { "inode.i_mode": 0, "inode.i_ino": 64, "file.f_inode": 32, "task_struct.tgid": 1268 },
    );
  });

  it("gives the same answer whatever the read size, with short reads", () => {
    // Padding strings push the wanted names across many chunk edges; some hold a wanted name
    // inside a longer one, which must not count.
    const padding = Array.from(
      { length: 200 },
      (_, i) =>
        i % 7 === 0
          ? ["my_file", "file_operations", "xinode", "tgid_", "bpf_iter_task_files"][i % 5]
          : `padding_name_${i}_${"x".repeat(i % 40)}`,
    );
    const bytes = blob(KERNEL, padding);
    const expected = lookUpBtf(reader(bytes), QUERY);
    assert.deepEqual(expected, lookUpBtf(reader(blob(KERNEL)), QUERY));
    for (const chunkSize of [64, 65, 100, 128, 333]) {
      for (const most of [Infinity, 7]) {
        const answer = lookUpBtf(reader(bytes, most), QUERY, { chunkSize });
        assert.deepEqual(answer, expected, `chunk ${chunkSize}, reads of at most ${most}`);
      }
    }
  });

  it("searches the string section with the find it is given", () => {
    let calls = 0;
    const counting = (haystack: Uint8Array, needle: Uint8Array) => {
      calls++;
      return findBytes(haystack, needle);
    };
    const answer = lookUpBtf(reader(blob(KERNEL)), QUERY, { find: counting });
    assert.deepEqual(answer, lookUpBtf(reader(blob(KERNEL)), QUERY));
    assert.ok(calls >= 7, `${calls} searches`);
    // A find that never finds: nothing is known, and nothing is made up.
    const none = lookUpBtf(reader(blob(KERNEL)), QUERY, { find: () => -1 });
    assert.deepEqual(none, { funcs: new Map(), members: new Map() });
  });

  it("reads a struct longer than a chunk whole", () => {
    const members = Array.from({ length: 40 }, (_, i) => [`m${i}`, 1, i * 32]).flat();
    const big: TypeSpec = {
      kind: STRUCT,
      name: "file",
      vlen: 41,
      sizeOrType: 400,
      words: [...members, "f_inode", 1, 3000],
    };
    const answer = lookUpBtf(
      reader(blob([KERNEL[0], big])),
      { funcs: [], structs: { file: ["f_inode"] } },
      { chunkSize: 64 },
    );
    assert.deepEqual(Object.fromEntries(answer.members), { "file.f_inode": 375 });
  });

  it("stops reading once everything asked for is found", () => {
    const tail = Array.from({ length: 5000 }, (_, i) => ({
      kind: INT,
      name: `filler${i}`,
      sizeOrType: 4,
      words: [0x20],
    }));
    const bytes = blob([...KERNEL, ...tail]);
    const all = reader(bytes);
    lookUpBtf(all, { funcs: ["never_there"], structs: {} }, { chunkSize: 4096 });
    const early = reader(bytes);
    lookUpBtf(early, { funcs: ["bpf_iter_task_file"], structs: {} }, { chunkSize: 4096 });
    assert.ok(early.calls < all.calls / 4, `${early.calls} reads, against ${all.calls}`);
  });

  it("refuses a blob that is not little-endian BTF, or is cut short", () => {
    const good = blob(KERNEL);
    const bad = good.slice();
    // A big-endian blob's magic, as a little-endian reader sees it.
    bad[0] = 0xeb;
    bad[1] = 0x9f;
    assert.throws(() => lookUpBtf(reader(bad), QUERY), /Invalid BTF magic 0x9feb.*expected 0xeb9f/);
    assert.throws(() => lookUpBtf(reader(good.subarray(0, 10)), QUERY), /shorter than its header/);
    assert.throws(() => lookUpBtf(reader(good.subarray(0, 100)), QUERY), /Invalid BTF/);
    const unknown = good.slice();
    unknown[24 + 7] = 31; // the first type's kind
    assert.throws(() => lookUpBtf(reader(unknown), QUERY), /unknown kind 31 of type 1/);
    assert.throws(() => lookUpBtf(reader(good), QUERY, { chunkSize: 8 }), /Invalid chunk size 8/);
  });

  const VMLINUX = "/sys/kernel/btf/vmlinux";
  it("finds the task-file iterator and the members procconn reads in this kernel's BTF", {
    skip: process.env.CI !== "true" && !existsSync(VMLINUX) && "this kernel has no BTF",
  }, () => {
    const bytes = readFileSync(VMLINUX);
    const answer = lookUpBtf(reader(bytes), QUERY);
    assert.ok(answer.funcs.get("bpf_iter_task_file")! > 0);
    for (const member of ["file.f_inode", "inode.i_mode", "inode.i_ino", "task_struct.tgid"]) {
      assert.ok(answer.members.has(member), `no ${member}`);
    }
    // The members are pointer- or field-aligned as the C compiler lays them out.
    assert.equal(answer.members.get("file.f_inode")! % 8, 0);
    assert.equal(answer.members.get("inode.i_ino")! % 8, 0);
    assert.equal(answer.members.get("task_struct.tgid")! % 4, 0);
  });
});

describe("findBytes", () => {
  it("finds the first occurrence of a needle, as a search over text does", () => {
    let state = 7;
    const next = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 500; trial++) {
      // A small alphabet, so needles occur, partly, often.
      const text = Array.from(
        { length: Math.floor(next() * 60) },
        () => "ab\0"[Math.floor(next() * 3)],
      )
        .join("");
      const needle = Array.from(
        { length: 1 + Math.floor(next() * 4) },
        () => "ab\0"[Math.floor(next() * 3)],
      ).join("");
      const bytes = (t: string) => new TextEncoder().encode(t);
      assert.equal(
        findBytes(bytes(text), bytes(needle)),
        text.indexOf(needle),
        `${JSON.stringify(text)} ${JSON.stringify(needle)}`,
      );
    }
  });
});
