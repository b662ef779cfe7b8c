import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import process from "node:process";
import {
  bpfOwnersBlocker,
  decodeOwnerRecords,
  memmemFind,
  OWNER_RECORD_SIZE,
  ownerProgram,
  readInBackground,
  startOwnerIteration,
} from "../../../ffi/linux/bpf_owners.ts";
import { loadLibc } from "../../../ffi/linux/_libc.ts";
import { findBytes, lookUpBtf } from "../../../ffi/linux/btf.ts";
import { scanSocketOwners } from "../../../ffi/linux/processes.ts";
import { files } from "../../../ffi/_files.ts";

/** One decoded instruction. */
interface Insn {
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function decode(code: Uint8Array): Insn[] {
  const view = new DataView(code.buffer, code.byteOffset, code.length);
  const out: Insn[] = [];
  for (let at = 0; at < code.length; at += 8) {
    out.push({
      op: view.getUint8(at),
      dst: view.getUint8(at + 1) & 0xf,
      src: view.getUint8(at + 1) >> 4,
      off: view.getInt16(at + 2, true),
      imm: view.getInt32(at + 4, true),
    });
  }
  return out;
}

const LAYOUT = { fileInode: 32, inodeMode: 0, inodeNumber: 64, taskTgid: 1268 };

describe("ownerProgram", () => {
  const code = decode(ownerProgram(LAYOUT));

  it("ends every test on the one exit, which returns 0", () => {
    const exit = code.length - 2;
    assert.deepEqual(
      [code[exit], code[exit + 1]].map((i) => [i.op, i.dst, i.imm]),
      [[0xb7, 0, 0], [0x95, 0, 0]],
    );
    const jumps = code.map((insn, at) => ({ insn, at })).filter(({ insn }) =>
      insn.op === 0x15 || insn.op === 0x55
    );
    // file, task and inode are checked for null; the mode for a socket.
    assert.equal(jumps.length, 4);
    for (const { insn, at } of jumps) assert.equal(at + 1 + insn.off, exit);
    assert.deepEqual(jumps.at(-1)!.insn.imm, 0xc000);
  });

  it("loads each member at the offset this kernel gives, with the member's width", () => {
    const loads = code.filter((i) => (i.op & 0x07) === 0x01).map((i) => [i.op & 0x18, i.off]);
    // [size bits, offset]: DW = 0x18, W = 0x00, H = 0x08.
    for (
      const expected of [[0x18, LAYOUT.fileInode], [0x08, LAYOUT.inodeMode], [
        0x18,
        LAYOUT.inodeNumber,
      ], [0x00, LAYOUT.taskTgid]]
    ) {
      assert.ok(loads.some((l) => l[0] === expected[0] && l[1] === expected[1]), `${expected}`);
    }
    const other = decode(ownerProgram({ ...LAYOUT, taskTgid: 2000 }));
    assert.ok(other.some((i) => i.op === 0x61 && i.off === 2000));
  });

  it("writes one record of OWNER_RECORD_SIZE bytes through bpf_seq_write", () => {
    const calls = code.filter((i) => i.op === 0x85);
    assert.deepEqual(calls.map((i) => i.imm), [127]);
    const size = code.find((i) => i.op === 0xb7 && i.dst === 3)!;
    assert.equal(size.imm, OWNER_RECORD_SIZE);
    const stores = code.filter((i) => i.op === 0x63 || i.op === 0x7b).map((i) => i.off);
    assert.deepEqual(stores, [-16, -8, -4]);
  });
});

describe("decodeOwnerRecords", () => {
  it("reads the 64-bit inode and the pid of each record", () => {
    const bytes = new Uint8Array(2 * OWNER_RECORD_SIZE);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, 4242n, true);
    view.setUint32(8, 7, true);
    view.setUint32(12, 3, true);
    view.setBigUint64(16, 2n ** 33n + 5n, true);
    view.setUint32(24, 99, true);
    const got: [number, number][] = [];
    decodeOwnerRecords(bytes, (inode, pid) => got.push([inode, pid]));
    assert.deepEqual(got, [[4242, 7], [2 ** 33 + 5, 99]]);
  });

  it("refuses a partial record", () => {
    assert.throws(
      () => decodeOwnerRecords(new Uint8Array(20), () => {}),
      /Invalid owner records: 20 bytes is not a multiple of 16/,
    );
  });
});

describe("bpfOwnersBlocker", () => {
  const INIT = "pid:[4026531836]";
  const status = (capEff: string) => `Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;
  const files = (capEff: string, namespace = INIT) => ({
    readText: () => status(capEff),
    readLink: () => namespace,
  });

  it("allows root, or CAP_BPF with CAP_PERFMON, in the initial pid namespace", () => {
    assert.equal(bpfOwnersBlocker(files("000001ffffffffff"), "x86_64"), null);
    assert.equal(bpfOwnersBlocker(files((1n << 38n | 1n << 39n).toString(16)), "aarch64"), null);
    assert.equal(bpfOwnersBlocker(files((1n << 21n).toString(16)), "x86_64"), null);
  });

  it("says why not otherwise", () => {
    const noCaps = "needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)";
    assert.equal(bpfOwnersBlocker(files("0000000000000000"), "x86_64"), noCaps);
    assert.equal(bpfOwnersBlocker(files((1n << 39n).toString(16)), "x86_64"), noCaps);
    assert.equal(
      bpfOwnersBlocker(files("000001ffffffffff", "pid:[4026532281]"), "x86_64"),
      "not in the initial pid namespace",
    );
    assert.match(bpfOwnersBlocker(files("000001ffffffffff"), "riscv64")!, /riscv64/);
    const unreadable = {
      readText: () => {
        throw new Error("EACCES");
      },
      readLink: () => INIT,
    };
    assert.equal(bpfOwnersBlocker(unreadable, "x86_64"), "cannot read /proc/self");
    assert.equal(
      bpfOwnersBlocker({ readText: () => "Name:\tx\n", readLink: () => INIT }, "x86_64"),
      "no CapEff line in /proc/self/status",
    );
  });
});

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;
const blocker = process.platform !== "linux"
  ? "not Linux"
  : !deno
  ? "needs Deno"
  : bpfOwnersBlocker(files, deno.build.arch);

describe("readInBackground", {
  skip: process.platform !== "linux" || !deno ? "needs Deno on Linux" : false,
}, () => {
  it("reads a file whole, over several buffers and in one, on another thread", async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "procconn-readv-"));
    const libc = loadLibc().symbols;
    const slot = 32 * 1024 - OWNER_RECORD_SIZE;
    try {
      // 20 slots and 3 records: more than the 8 slots a buffer for no expected record holds.
      for (const size of [20 * slot + 48, 8 * slot, 0]) {
        const bytes = new Uint8Array(size);
        for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 12)) & 0xff;
        const file = join(dir, `records-${size}`);
        writeFileSync(file, bytes);
        for (const expected of [0, 100_000]) {
          const fd = libc.open(new TextEncoder().encode(`${file}\0`), 0);
          assert.ok(fd >= 0);
          try {
            const parts = await readInBackground(libc.readvAsync!, fd, expected);
            const whole = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
            let at = 0;
            for (const part of parts) {
              whole.set(part, at);
              at += part.length;
            }
            assert.equal(whole.length, size, `${size} bytes, ${expected} expected`);
            assert.ok(whole.every((b, i) => b === bytes[i]), `${size} bytes, ${expected} expected`);
            if (expected === 0 && size > 8 * slot) assert.ok(parts.length > 1);
            if (expected > 0) {
              assert.equal(parts.filter((part) => part.length).length, size ? 1 : 0);
            }
          } finally {
            libc.close(fd);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives up after a few failed reads in a row", async () => {
    let calls = 0;
    await assert.rejects(
      readInBackground(
        () => {
          calls++;
          return Promise.resolve(-1);
        },
        0,
        0,
      ),
      /^Error: reading the iterator failed$/,
    );
    assert.equal(calls, 17);
  });
});

describe("startOwnerIteration on this kernel", {
  // CI runs Deno as root on a kernel with BTF: there the iterator must work. (Node cannot pass
  // buffer addresses inside the attribute block, so it never uses it.)
  skip: process.platform !== "linux" || !deno
    ? "needs Deno on Linux"
    : process.env.CI !== "true" && blocker !== null && `cannot load BPF here: ${blocker}`,
}, () => {
  it("finds the same (socket, pid) pairs as the fd scan, this process's own included", async () => {
    assert.equal(blocker, null);
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const libc = loadLibc();
      const pairs = (owners: Iterable<readonly [number, readonly number[]]>) =>
        new Set([...owners].flatMap(([inode, pids]) => pids.map((pid) => `${inode} ${pid}`)));
      // fd scan, BPF, fd scan: a pair in both scans must be in BPF's; one of BPF's in either.
      const before = pairs(scanSocketOwners({}, libc).byInode);
      const viaBpf = new Set<string>();
      const records = await startOwnerIteration(libc.symbols, deno!.build.arch, 0).finish(
        (inode, pid) => viaBpf.add(`${inode} ${pid}`),
      );
      const after = pairs(scanSocketOwners({}, libc).byInode);
      assert.ok(records >= viaBpf.size);
      const missing = [...before].filter((p) => after.has(p) && !viaBpf.has(p));
      const extra = [...viaBpf].filter((p) => !before.has(p) && !after.has(p));
      // A process whose fd links root may not read (a sandbox's init) is not in either scan.
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
      const mine = [...viaBpf].filter((p) => p.endsWith(` ${process.pid}`));
      assert.ok(mine.length >= 1, "none of this process's sockets");
    } finally {
      server.close();
    }
  });

  it("runs the iterator on another thread while this one works, with the same pairs", async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const libc = loadLibc();
      assert.ok(libc.symbols.readvAsync, "readv is bound to run on another thread");
      const pairs = new Set<string>();
      const viaRead = new Set<string>();
      const iteration = startOwnerIteration(libc.symbols, deno!.build.arch, 10);
      // This thread is free meanwhile: a second iterator started and read now sees the same
      // sockets.
      await startOwnerIteration(libc.symbols, deno!.build.arch, 0).finish((inode, pid) => {
        viaRead.add(`${inode} ${pid}`);
      });
      let told = -1;
      const records = await iteration.finish((inode, pid) => {
        pairs.add(`${inode} ${pid}`);
      }, (count) => (told = count));
      assert.equal(told, records);
      assert.ok(records >= pairs.size && pairs.size > 0);
      const mine = [...pairs].filter((p) => p.endsWith(` ${process.pid}`));
      assert.ok(mine.length >= 1, "none of this process's sockets");
      // The two reads ran at about the same time: this process's sockets are the same in both.
      assert.deepEqual(
        mine.sort(),
        [...viaRead].filter((p) => p.endsWith(` ${process.pid}`)).sort(),
      );
    } finally {
      server.close();
    }
  });

  it("looks names up in the kernel's BTF through memmem as through the search in JavaScript", () => {
    const libc = loadLibc();
    assert.ok(libc.symbols.memmem, "this C library has memmem");
    const find = memmemFind(libc.symbols.memmem);
    const text = new TextEncoder().encode("\0ab\0abc\0abcd\0");
    for (
      const [haystack, needle] of [
        [text, "\0abc\0"],
        [text, "\0abcd\0"],
        [text, "\0ab\0"],
        [text, "\0bc\0"],
        [text.subarray(3), "\0abc\0"], // not at the start of its buffer
        [text.subarray(4), "\0abc\0"],
      ] as const
    ) {
      const bytes = new TextEncoder().encode(needle);
      assert.equal(find(haystack, bytes), findBytes(haystack, bytes), JSON.stringify(needle));
    }
    const blob = deno!.readFileSync("/sys/kernel/btf/vmlinux");
    const read = (offset: number, into: Uint8Array) => {
      const part = blob.subarray(offset, offset + into.length);
      into.set(part);
      return part.length;
    };
    const query = {
      funcs: ["bpf_iter_task_file", "bpf_iter_tcp"],
      structs: { file: ["f_inode"], inode: ["i_mode", "i_ino"], task_struct: ["tgid", "pid"] },
    };
    const viaMemmem = lookUpBtf(read, query, { find });
    assert.deepEqual(viaMemmem, lookUpBtf(read, query));
    assert.ok(viaMemmem.funcs.has("bpf_iter_task_file") && viaMemmem.members.size === 5);
  });

  it("loads the program while a sampling profiler interrupts the verifier with signals", async () => {
    // The verifier gives up with EAGAIN when a signal comes; a profiler sends SIGPROF every
    // 50 µs here, so only a load that tries again gets through.
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "procconn-prof-"));
    try {
      const engine = new URL("../../../ffi/linux/engine.ts", import.meta.url).href;
      const script = `const { createLinuxSource } = await import(${JSON.stringify(engine)});
        const source = createLinuxSource();
        await source.listSocketRows({ protocols: ["TCP"], families: ["IPv4"] });
        console.log(JSON.stringify(source.ownerScan));`;
      const run = new deno!.Command(deno!.execPath(), {
        args: ["eval", "--cpu-prof", "--cpu-prof-interval=50", `--cpu-prof-dir=${dir}`, script],
        stdout: "piped",
        stderr: "piped",
      });
      const { code, stdout, stderr } = await run.output();
      const text = new TextDecoder();
      assert.equal(code, 0, text.decode(stderr));
      assert.deepEqual(JSON.parse(text.decode(stdout)), { method: "bpf", bpfUnused: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
