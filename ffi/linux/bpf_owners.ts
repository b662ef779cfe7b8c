/**
 * Socket owners through a BPF iterator: the kernel walks every process's file table itself and
 * writes one 16-byte record (inode, pid, fd) for each socket fd, so the owners of 40,000 sockets
 * come back in one read of a few hundred kilobytes instead of one `readlinkat` a link. This is
 * what `bpftool` does to show which processes hold BPF objects.
 *
 * It needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN), Linux 5.8 or later with BTF
 * (`/sys/kernel/btf/vmlinux`), and the initial pid namespace (the kernel reports pids as that
 * namespace numbers them). The program is loaded for one listing and unloaded when its file
 * descriptors are closed; it only reads. When anything is missing or refused, the caller scans
 * `/proc/<pid>/fd` instead.
 *
 * Runs on Deno only: the `bpf()` call takes buffer addresses inside its attribute block.
 *
 * @module
 */
import { type BtfFind, lookUpBtf } from "./btf.ts";
import type { OwnerSink } from "./fd_scan.ts";
import { O_CLOEXEC, O_RDONLY, SIG_BLOCK, SIG_SETMASK, SIGSET_SIZE } from "./_libc_symbols.ts";

/** The C library calls this module makes (a subset of `LIBC_SYMBOLS`). */
export interface BpfCalls {
  syscall(number: bigint, command: bigint, attr: Uint8Array, size: bigint): number | bigint;
  open(path: Uint8Array, flags: number): number;
  close(fd: number): number;
  pread(fd: number, buffer: Uint8Array, length: bigint, offset: bigint): number | bigint;
  sigprocmask(how: number, set: Uint8Array, old: Uint8Array): number;
  /**
   * `readv` made on another thread, so that the kernel runs the iterator while this thread does
   * other work (Deno's `nonblocking` calls).
   */
  readvAsync(fd: number, iov: Uint8Array, count: number): Promise<number | bigint>;
  /** Absent (null) from a C library without it. */
  memmem?:
    | ((haystack: Uint8Array, length: bigint, needle: Uint8Array, size: bigint) => number | bigint)
    | null;
}

/** Where the program reads, in bytes, as this kernel's BTF places the members. */
export interface OwnerLayout {
  /** `struct file` -> `f_inode` (a pointer). */
  fileInode: number;
  /** `struct inode` -> `i_mode` (u16). */
  inodeMode: number;
  /** `struct inode` -> `i_ino` (unsigned long, 8 bytes on 64-bit). */
  inodeNumber: number;
  /** `struct task_struct` -> `tgid` (pid_t). */
  taskTgid: number;
}

/** Bytes of one record the program writes: u64 inode, u32 pid (tgid), u32 fd. */
export const OWNER_RECORD_SIZE = 16;

// include/uapi/linux/bpf.h
const BPF_PROG_LOAD = 5n;
const BPF_LINK_CREATE = 28n;
const BPF_ITER_CREATE = 33n;
const BPF_PROG_TYPE_TRACING = 26;
const BPF_TRACE_ITER = 28;
const BPF_FUNC_SEQ_WRITE = 127;
/** `bpf_iter_<target>` is the function whose BTF id an iterator program attaches to. */
const TASK_FILE_ITERATOR = "bpf_iter_task_file";
/** The `bpf()` system call number by architecture. */
const SYS_BPF: Readonly<Record<string, bigint>> = { x86_64: 321n, aarch64: 280n };
/** `S_IFMT` and `S_IFSOCK`. */
const S_IFMT = 0xf000;
const S_IFSOCK = 0xc000;
/** The initial pid namespace's inode (`PROC_PID_INIT_INO`, include/linux/proc_ns.h). */
const INIT_PID_NAMESPACE = "pid:[4026531836]";
/** CAP_SYS_ADMIN, CAP_PERFMON and CAP_BPF bit numbers. */
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;
/** Failed reads of the iterator tolerated in a row (the kernel asks for a retry with EAGAIN). */
const READ_RETRIES = 16;
/**
 * Tries at loading the program. The verifier gives up with EAGAIN when a signal arrives while it
 * works (a sampling profiler sends one every fraction of a millisecond): signals wait while it
 * runs, and a refusal is tried again, as libbpf does. A program the verifier rejects is rejected
 * each time, at a millisecond or so a try.
 */
export const LOAD_TRIES = 3;
/**
 * The most one `read` of the iterator returns with 4 KiB pages: the kernel's buffer is 8 pages,
 * and it takes a record only while the record leaves room to spare, so a full buffer holds one
 * record less than 32 KiB. A read in the background hands `readv` slots of this size, so that
 * one call takes what would be dozens of reads (`readv` goes on to the next slot only when one
 * is full).
 */
const READ_SLOT = 32 * 1024 - OWNER_RECORD_SIZE;
/** `IOV_MAX`: the most slots one `readv` takes. */
const MAX_SLOTS = 1024;

// Instruction classes and fields (Documentation/bpf/standardization/instruction-set.rst).
const LDX_MEM = 0x61; // BPF_LDX | BPF_MEM; the size bits are added
const STX_MEM = 0x63; // BPF_STX | BPF_MEM
const SIZE_W = 0x00;
const SIZE_H = 0x08;
const SIZE_DW = 0x18;
const ALU64_MOV_K = 0xb7;
const ALU64_MOV_X = 0xbf;
const ALU64_ADD_K = 0x07;
const ALU64_AND_K = 0x57;
const JMP_JEQ_K = 0x15;
const JMP_JNE_K = 0x55;
const JMP_CALL = 0x85;
const JMP_EXIT = 0x95;
const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R10 = 10;

/** `struct bpf_iter__task_file` (kernel/bpf/task_iter.c): meta, task, fd, file. */
const CTX_META = 0;
const CTX_TASK = 8;
const CTX_FD = 16;
const CTX_FILE = 24;

/**
 * The iterator program: for each file of each process, when the file is a socket, write
 * (inode, tgid, fd) to the output. Every pointer is checked against null before it is followed;
 * the verifier checks each load against the kernel's BTF as well.
 *
 * @param layout The member offsets of this kernel.
 * @returns The instructions, 8 bytes each.
 *
 * @example
 * ```ts
 * import { ownerProgram } from "./bpf_owners.ts";
 * const code = ownerProgram({ fileInode: 32, inodeMode: 0, inodeNumber: 64, taskTgid: 1268 });
 * code.length % 8; // 0
 * ```
 */
export function ownerProgram(layout: OwnerLayout): Uint8Array {
  const code: [number, number, number, number, number][] = [];
  const emit = (op: number, dst: number, src: number, off: number, imm: number) =>
    code.push([op, dst, src, off, imm]);
  const toExit: number[] = [];
  const exitIf = (op: number, reg: number, imm: number) => {
    toExit.push(code.length);
    emit(op, reg, 0, 0, imm);
  };
  emit(ALU64_MOV_X, R6, R1, 0, 0); // r6 = ctx
  emit(LDX_MEM | SIZE_DW, R7, R6, CTX_FILE, 0); // r7 = ctx->file
  exitIf(JMP_JEQ_K, R7, 0);
  emit(LDX_MEM | SIZE_DW, R8, R6, CTX_TASK, 0); // r8 = ctx->task
  exitIf(JMP_JEQ_K, R8, 0);
  emit(LDX_MEM | SIZE_DW, R2, R7, layout.fileInode, 0); // r2 = file->f_inode
  exitIf(JMP_JEQ_K, R2, 0);
  emit(LDX_MEM | SIZE_H, R3, R2, layout.inodeMode, 0); // r3 = inode->i_mode
  emit(ALU64_AND_K, R3, 0, 0, S_IFMT);
  exitIf(JMP_JNE_K, R3, S_IFSOCK);
  emit(LDX_MEM | SIZE_DW, R4, R2, layout.inodeNumber, 0); // the record, on the stack
  emit(STX_MEM | SIZE_DW, R10, R4, -16, 0);
  emit(LDX_MEM | SIZE_W, R5, R8, layout.taskTgid, 0);
  emit(STX_MEM | SIZE_W, R10, R5, -8, 0);
  emit(LDX_MEM | SIZE_W, R5, R6, CTX_FD, 0);
  emit(STX_MEM | SIZE_W, R10, R5, -4, 0);
  emit(LDX_MEM | SIZE_DW, R1, R6, CTX_META, 0); // r1 = ctx->meta->seq
  emit(LDX_MEM | SIZE_DW, R1, R1, 0, 0);
  emit(ALU64_MOV_X, R2, R10, 0, 0); // r2 = the record, r3 = its size
  emit(ALU64_ADD_K, R2, 0, 0, -16);
  emit(ALU64_MOV_K, R3, 0, 0, OWNER_RECORD_SIZE);
  emit(JMP_CALL, 0, 0, 0, BPF_FUNC_SEQ_WRITE);
  const exit = code.length;
  emit(ALU64_MOV_K, R0, 0, 0, 0);
  emit(JMP_EXIT, 0, 0, 0, 0);
  for (const at of toExit) code[at][3] = exit - at - 1;

  const bytes = new Uint8Array(code.length * 8);
  const view = new DataView(bytes.buffer);
  code.forEach(([op, dst, src, off, imm], i) => {
    view.setUint8(i * 8, op);
    view.setUint8(i * 8 + 1, dst | (src << 4)); // little-endian: dst in the low nibble
    view.setInt16(i * 8 + 2, off, true);
    view.setInt32(i * 8 + 4, imm, true);
  });
  return bytes;
}

/**
 * Decodes the program's records and passes each (inode, pid) on.
 *
 * @param bytes Whole records, as read from the iterator.
 * @param sink Receives each socket's inode and the pid holding it.
 * @throws {RangeError} When `bytes` is not a whole number of records.
 *
 * @example
 * ```ts
 * import { decodeOwnerRecords } from "./bpf_owners.ts";
 * const record = new Uint8Array(16);
 * new DataView(record.buffer).setUint32(0, 4242, true); // inode
 * new DataView(record.buffer).setUint32(8, 7, true); // pid
 * decodeOwnerRecords(record, (inode, pid) => console.log(inode, pid)); // 4242 7
 * ```
 */
export function decodeOwnerRecords(bytes: Uint8Array, sink: OwnerSink): void {
  if (bytes.length % OWNER_RECORD_SIZE !== 0) {
    throw new RangeError(
      `Invalid owner records: ${bytes.length} bytes is not a multiple of ${OWNER_RECORD_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = 0; at < bytes.length; at += OWNER_RECORD_SIZE) {
    const inode = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    sink(inode, view.getUint32(at + 8, true));
  }
}

/** The file calls the preflight needs (`../_files.ts` in procconn). */
export interface StatusFiles {
  readText(path: string, encoding: "utf8" | "latin1"): string;
  readLink(path: string): string;
}

/**
 * Why the BPF iterator cannot serve this process, or null when it may be tried: it needs Deno
 * with FFI (checked by the caller), a known architecture, the initial pid namespace and the
 * capabilities to load a tracing program.
 *
 * @param files Reads `/proc/self/status` and `/proc/self/ns/pid`.
 * @param arch The CPU architecture (`Deno.build.arch`).
 * @returns A short reason, or null.
 *
 * @example
 * ```ts
 * import { bpfOwnersBlocker } from "./bpf_owners.ts";
 * const blocker = bpfOwnersBlocker({
 *   readText: () => "CapEff:\t0000000000000000\n",
 *   readLink: () => "pid:[4026531836]",
 * }, "x86_64");
 * blocker; // "needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)"
 * ```
 */
export function bpfOwnersBlocker(files: StatusFiles, arch: string): string | null {
  if (!(arch in SYS_BPF)) return `no bpf() system call number known for ${arch}`;
  let namespace: string;
  let status: string;
  try {
    namespace = files.readLink("/proc/self/ns/pid");
    status = files.readText("/proc/self/status", "latin1");
  } catch {
    return "cannot read /proc/self";
  }
  if (namespace !== INIT_PID_NAMESPACE) return "not in the initial pid namespace";
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (!line) return "no CapEff line in /proc/self/status";
  const caps = BigInt(`0x${line[1]}`);
  const has = (cap: bigint) => (caps >> cap & 1n) === 1n;
  if (!has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON))) {
    return "needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)";
  }
  return null;
}

const encoder = new TextEncoder();

function cString(text: string): Uint8Array {
  return encoder.encode(`${text}\0`);
}

/** The address of a buffer's first byte, for the pointers inside a `bpf()` attribute block. */
function addressOf(buffer: Uint8Array): bigint {
  return Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as Uint8Array<ArrayBuffer>));
}

/**
 * A search through the C library's `memmem`: the names BTF lookup wants lie up to 1.4 MB into
 * the string section, which a search in JavaScript takes 10-20 ms to get through on a slow
 * machine.
 *
 * @param memmem The bound `memmem`.
 * @returns The search, for {@linkcode lookUpBtf}'s `find` option.
 */
export function memmemFind(memmem: NonNullable<BpfCalls["memmem"]>): BtfFind {
  return (haystack, needle) => {
    const at = memmem(haystack, BigInt(haystack.length), needle, BigInt(needle.length));
    return BigInt(at) === 0n ? -1 : Number(BigInt(at) - addressOf(haystack));
  };
}

/** This kernel's layout, once read: its BTF does not change while procconn runs (`watch`). */
let knownLayout: { layout: OwnerLayout; iterator: number } | undefined;

/** Reads this kernel's member offsets from its BTF. */
function kernelLayout(calls: BpfCalls): { layout: OwnerLayout; iterator: number } {
  if (knownLayout) return knownLayout;
  const fd = calls.open(cString("/sys/kernel/btf/vmlinux"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw new Error("cannot open /sys/kernel/btf/vmlinux");
  let answer;
  try {
    answer = lookUpBtf(
      (offset, into) => Number(calls.pread(fd, into, BigInt(into.length), BigInt(offset))),
      {
        funcs: [TASK_FILE_ITERATOR],
        structs: { file: ["f_inode"], inode: ["i_mode", "i_ino"], task_struct: ["tgid"] },
      },
      calls.memmem ? { find: memmemFind(calls.memmem) } : {},
    );
  } finally {
    calls.close(fd);
  }
  const member = (name: string) => {
    const offset = answer.members.get(name);
    if (offset === undefined) throw new Error(`the kernel's BTF has no member ${name}`);
    return offset;
  };
  const iterator = answer.funcs.get(TASK_FILE_ITERATOR);
  if (iterator === undefined) throw new Error(`the kernel's BTF has no ${TASK_FILE_ITERATOR}`);
  knownLayout = {
    iterator,
    layout: {
      fileInode: member("file.f_inode"),
      inodeMode: member("inode.i_mode"),
      inodeNumber: member("inode.i_ino"),
      taskTgid: member("task_struct.tgid"),
    },
  };
  return knownLayout;
}

/** An iterator whose output is on its way: see {@linkcode startOwnerIteration}. */
export interface OwnerIteration {
  /**
   * Waits for the whole output, then passes every (inode, pid) on (nothing when the read fails)
   * and closes the iterator.
   *
   * @param sink Receives each socket fd's inode and pid.
   * @param expect Told how many records come, before the first is passed on.
   * @returns The number of records.
   * @throws {Error} When reading the iterator failed.
   */
  finish(sink: OwnerSink, expect?: (records: number) => void): Promise<number>;
}

/**
 * Loads the iterator program and starts it: the kernel walks every process's files on another
 * thread straight away (one `readv` into slots sized from `expected`), while the caller goes on,
 * e.g. with the netlink dump of the socket tables. The sink is called only after the whole output
 * was read, so a failure part-way has passed nothing on and the caller can fall back cleanly.
 *
 * @param calls The bound C library.
 * @param arch The CPU architecture (`Deno.build.arch`).
 * @param expected About how many records are expected (the sockets in use); the buffer has
 *   room for twice that, and pages the kernel does not write to are never touched.
 * @returns The running iteration.
 * @throws {Error} When BTF lacks what the program needs, or the kernel refuses it.
 *
 * @example
 * ```ts ignore
 * import { startOwnerIteration } from "./bpf_owners.ts";
 * import { loadLibc } from "./_libc.ts";
 * const iteration = startOwnerIteration(loadLibc().symbols, Deno.build.arch, 1000);
 * // ... other work, while the kernel iterates ...
 * const records = await iteration.finish((inode, pid) => console.log(inode, pid));
 * ```
 */
export function startOwnerIteration(
  calls: BpfCalls,
  arch: string,
  expected: number,
): OwnerIteration {
  const iterator = openIterator(calls, arch);
  const reading = readInBackground(calls.readvAsync, iterator.fd, expected);
  // Closed once the read is over, whether or not anyone waits for it (a failed listing lets
  // the iteration go unread).
  const over = reading.then(() => {}, () => {}).then(() => iterator.close());
  return {
    finish: async (sink, expect) => {
      await over;
      return passRecords(await reading, sink, expect);
    },
  };
}

/** An open iterator and what it needs kept open. */
interface OpenIterator {
  fd: number;
  close(): void;
}

/** Loads the program, links it and creates the iterator. */
function openIterator(calls: BpfCalls, arch: string): OpenIterator {
  const nr = SYS_BPF[arch];
  if (nr === undefined) throw new Error(`no bpf() system call number known for ${arch}`);
  const bpf = (command: bigint, attr: Uint8Array) =>
    Number(calls.syscall(nr, command, attr, BigInt(attr.length)));
  const { layout, iterator } = kernelLayout(calls);
  const code = ownerProgram(layout);
  const license = cString("GPL"); // bpf_seq_write is for GPL-compatible programs only
  const log = new Uint8Array(16 * 1024);

  // union bpf_attr for BPF_PROG_LOAD, up to attach_btf_obj_fd; the rest stays zero.
  const load = new Uint8Array(128);
  const loadView = new DataView(load.buffer);
  loadView.setUint32(0, BPF_PROG_TYPE_TRACING, true);
  loadView.setUint32(4, code.length / 8, true);
  loadView.setBigUint64(8, addressOf(code), true);
  loadView.setBigUint64(16, addressOf(license), true);
  loadView.setUint32(24, 1, true); // log_level: the verifier explains a refusal
  loadView.setUint32(28, log.length, true);
  loadView.setBigUint64(32, addressOf(log), true);
  load.set(encoder.encode("procconn_owner"), 48); // prog_name, at most 15 chars
  loadView.setUint32(68, BPF_TRACE_ITER, true); // expected_attach_type
  loadView.setUint32(108, iterator, true); // attach_btf_id
  let program = -1;
  // Signals are held (and delivered once the load is over), so that none cuts the verifier short.
  const held = new Uint8Array(SIGSET_SIZE);
  const all = new Uint8Array(SIGSET_SIZE).fill(0xff);
  const holding = calls.sigprocmask(SIG_BLOCK, all, held) === 0;
  try {
    for (let attempt = 0; attempt < LOAD_TRIES && program < 0; attempt++) {
      log[0] = 0;
      program = bpf(BPF_PROG_LOAD, load);
    }
  } finally {
    if (holding) calls.sigprocmask(SIG_SETMASK, held, new Uint8Array(SIGSET_SIZE));
  }
  if (program < 0) {
    const said = new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0))))
      .trim().split("\n").pop();
    throw new Error(`the kernel refused the iterator program${said ? `: ${said}` : ""}`);
  }
  let link = -1;
  let iter = -1;
  try {
    const linkAttr = new Uint8Array(32);
    const linkView = new DataView(linkAttr.buffer);
    linkView.setUint32(0, program, true); // prog_fd
    linkView.setUint32(8, BPF_TRACE_ITER, true); // attach_type
    link = bpf(BPF_LINK_CREATE, linkAttr);
    if (link < 0) throw new Error("the kernel refused to link the iterator program");
    const iterAttr = new Uint8Array(8);
    new DataView(iterAttr.buffer).setUint32(0, link, true); // link_fd
    iter = bpf(BPF_ITER_CREATE, iterAttr);
    if (iter < 0) throw new Error("the kernel refused to start the iterator");
  } catch (err) {
    if (link >= 0) calls.close(link);
    calls.close(program);
    throw err;
  }
  let open = true;
  return {
    fd: iter,
    close: () => {
      if (!open) return;
      open = false;
      calls.close(iter);
      calls.close(link);
      calls.close(program);
    },
  };
}

/**
 * Reads a file to its end on another thread (the iterator, in procconn): `readv` into slots of
 * 32 KiB less one record over one buffer, again over what is left of it after a short read,
 * and over a new buffer of the same size when one is full.
 *
 * @param readv `readv`, made on another thread.
 * @param fd The file to read.
 * @param expected About how many records are expected: the first buffer holds twice that (at
 *   least 8 slots, at most `IOV_MAX`).
 * @returns The parts read, in order.
 * @throws {Error} When `readv` fails more than a few times in a row.
 *
 * @example
 * ```ts ignore
 * import { readInBackground } from "./bpf_owners.ts";
 * import { loadLibc } from "./_libc.ts";
 * const libc = loadLibc().symbols;
 * const fd = libc.open(new TextEncoder().encode("/etc/hostname\0"), 0);
 * const parts = await readInBackground(libc.readvAsync, fd, 0);
 * libc.close(fd);
 * ```
 */
export async function readInBackground(
  readv: BpfCalls["readvAsync"],
  fd: number,
  expected: number,
): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  const want = Math.ceil((2 * Math.max(0, expected) * OWNER_RECORD_SIZE) / READ_SLOT) + 1;
  let buffer = new Uint8Array(Math.min(MAX_SLOTS, Math.max(8, want)) * READ_SLOT);
  let filled = 0;
  let failures = 0;
  for (;;) {
    if (filled === buffer.length) {
      parts.push(buffer);
      buffer = new Uint8Array(buffer.length);
      filled = 0;
    }
    const slots = Math.ceil((buffer.length - filled) / READ_SLOT);
    const iov = new BigUint64Array(2 * slots);
    const start = addressOf(buffer) + BigInt(filled);
    for (let k = 0; k < slots; k++) {
      iov[2 * k] = start + BigInt(k * READ_SLOT);
      iov[2 * k + 1] = BigInt(Math.min(READ_SLOT, buffer.length - filled - k * READ_SLOT));
    }
    const got = Number(await readv(fd, new Uint8Array(iov.buffer), slots));
    if (got === 0) break;
    if (got < 0) {
      // EAGAIN after a million files without output resumes where it stopped; any other
      // failure repeats, and ends the read after a few tries.
      if (++failures > READ_RETRIES) throw new Error("reading the iterator failed");
      continue;
    }
    failures = 0;
    filled += got;
  }
  parts.push(buffer.subarray(0, filled));
  return parts;
}

/** Checks that the output is whole records, then passes every one on. */
function passRecords(
  parts: readonly Uint8Array[],
  sink: OwnerSink,
  expect?: (records: number) => void,
): number {
  const size = parts.reduce((sum, part) => sum + part.length, 0);
  if (size % OWNER_RECORD_SIZE !== 0) {
    throw new RangeError(
      `Invalid owner records: ${size} bytes is not a multiple of ${OWNER_RECORD_SIZE}`,
    );
  }
  const records = size / OWNER_RECORD_SIZE;
  expect?.(records);
  for (const part of parts) decodeOwnerRecords(part, sink);
  return records;
}
