// Fake DLL functions for the Windows engine tests, and socket tables laid out field by field from
// the x64 struct tables in win32-facts.md (tcpmib.h, udpmib.h, iprtrmib.h, winternl.h, winnt.h).
// Deno only: the fakes hand out Deno pointer objects as handles and write real buffer addresses
// where the APIs write pointers into the caller's buffer.
import assert from "node:assert/strict";
import {
  type Advapi32Symbols,
  createWindowsSource,
  type IphlpapiSymbols,
  type Kernel32Symbols,
  type NtdllSymbols,
  type WindowsLibraries,
} from "../../../ffi/windows/engine.ts";

export function bytesOf(buffer: AllowSharedBufferSource | null): Uint8Array {
  if (buffer === null) throw new Error("unexpected NULL buffer");
  if (!ArrayBuffer.isView(buffer)) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export function viewOf(buffer: AllowSharedBufferSource | null): DataView {
  const b = bytesOf(buffer);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The real address of a buffer's first byte, as a DLL would see it. */
export function addressOf(buffer: AllowSharedBufferSource | null): bigint {
  const b = bytesOf(buffer);
  return Deno.UnsafePointer.value(Deno.UnsafePointer.of(b));
}

// 2000-01-01T00:00:00Z in FILETIME units (100 ns since 1601).
export const Y2K = 125911584000000000n;

// ---------------------------------------------------------------------------------------------
// Socket tables

/** A port DWORD: the port in network order in the low 16 bits, noise above. */
function setPort(view: DataView, at: number, port: number): void {
  view.setUint8(at, port >> 8);
  view.setUint8(at + 1, port & 0xff);
  view.setUint16(at + 2, 0xbeef, true);
}

/** A row as the tests describe it; the builders place each field at its documented offset. */
export interface RowSpec {
  /** MIB_TCP_STATE (TCP only). */
  state?: number;
  /** IPv4: 4 bytes; IPv6: 16 bytes. */
  local: number[];
  localScope?: number;
  localPort: number;
  remote?: number[];
  remoteScope?: number;
  remotePort?: number;
  pid: number;
  /** liCreateTimestamp (owner-module rows). */
  created?: bigint;
  /** The byte OwningModuleInfo is filled with (owner-module rows). */
  module?: number;
  /** dwFlags, whose bit 0 is SpecificPortBind (UDP owner-module rows). */
  flags?: number;
}

type Layout = "tcp4" | "tcp6" | "udp4" | "udp6";

/** Header size, row size, and where each field of a row lives, per table form. */
const LAYOUTS: Record<
  `${Layout}-${"pid" | "module"}`,
  {
    header: number;
    size: number;
    write: (v: DataView, at: number, r: RowSpec) => void;
    created?: number;
    module?: number;
    flags?: number;
  }
> = {
  // MIB_TCPROW_OWNER_PID: dwState 0, dwLocalAddr 4, dwLocalPort 8, dwRemoteAddr 12,
  // dwRemotePort 16, dwOwningPid 20.
  "tcp4-pid": { header: 4, size: 24, write: tcp4Fields },
  // MIB_TCPROW_OWNER_MODULE: the same, then liCreateTimestamp 24, OwningModuleInfo 32.
  "tcp4-module": { header: 8, size: 160, write: tcp4Fields, created: 24, module: 32 },
  // MIB_TCP6ROW_OWNER_PID: ucLocalAddr 0, dwLocalScopeId 16, dwLocalPort 20, ucRemoteAddr 24,
  // dwRemoteScopeId 40, dwRemotePort 44, dwState 48, dwOwningPid 52.
  "tcp6-pid": { header: 4, size: 56, write: tcp6Fields },
  // MIB_TCP6ROW_OWNER_MODULE: the same, then liCreateTimestamp 56, OwningModuleInfo 64.
  "tcp6-module": { header: 8, size: 192, write: tcp6Fields, created: 56, module: 64 },
  // MIB_UDPROW_OWNER_PID: dwLocalAddr 0, dwLocalPort 4, dwOwningPid 8.
  "udp4-pid": { header: 4, size: 12, write: udp4Fields },
  // MIB_UDPROW_OWNER_MODULE: the same, padding 12, liCreateTimestamp 16, dwFlags 24,
  // padding 28, OwningModuleInfo 32.
  "udp4-module": { header: 8, size: 160, write: udp4Fields, created: 16, flags: 24, module: 32 },
  // MIB_UDP6ROW_OWNER_PID: ucLocalAddr 0, dwLocalScopeId 16, dwLocalPort 20, dwOwningPid 24.
  "udp6-pid": { header: 4, size: 28, write: udp6Fields },
  // MIB_UDP6ROW_OWNER_MODULE: the same, padding 28, liCreateTimestamp 32, dwFlags 40,
  // padding 44, OwningModuleInfo 48.
  "udp6-module": { header: 8, size: 176, write: udp6Fields, created: 32, flags: 40, module: 48 },
};

function tcp4Fields(v: DataView, at: number, r: RowSpec): void {
  v.setUint32(at, r.state ?? 2, true);
  r.local.forEach((b, i) => v.setUint8(at + 4 + i, b));
  setPort(v, at + 8, r.localPort);
  (r.remote ?? [0, 0, 0, 0]).forEach((b, i) => v.setUint8(at + 12 + i, b));
  setPort(v, at + 16, r.remotePort ?? 0);
  v.setUint32(at + 20, r.pid, true);
}

function tcp6Fields(v: DataView, at: number, r: RowSpec): void {
  r.local.forEach((b, i) => v.setUint8(at + i, b));
  v.setUint32(at + 16, r.localScope ?? 0, true);
  setPort(v, at + 20, r.localPort);
  (r.remote ?? new Array(16).fill(0)).forEach((b, i) => v.setUint8(at + 24 + i, b));
  v.setUint32(at + 40, r.remoteScope ?? 0, true);
  setPort(v, at + 44, r.remotePort ?? 0);
  v.setUint32(at + 48, r.state ?? 2, true);
  v.setUint32(at + 52, r.pid, true);
}

function udp4Fields(v: DataView, at: number, r: RowSpec): void {
  r.local.forEach((b, i) => v.setUint8(at + i, b));
  setPort(v, at + 4, r.localPort);
  v.setUint32(at + 8, r.pid, true);
}

function udp6Fields(v: DataView, at: number, r: RowSpec): void {
  r.local.forEach((b, i) => v.setUint8(at + i, b));
  v.setUint32(at + 16, r.localScope ?? 0, true);
  setPort(v, at + 20, r.localPort);
  v.setUint32(at + 24, r.pid, true);
}

/**
 * Builds a socket table: dwNumEntries (then 4 bytes of padding, filled with noise, for the
 * owner-module form) and the rows.
 */
export function table(layout: Layout, form: "pid" | "module", rows: RowSpec[]): Uint8Array {
  const l = LAYOUTS[`${layout}-${form}`];
  const bytes = new Uint8Array(l.header + l.size * rows.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, rows.length, true);
  if (l.header === 8) view.setUint32(4, 0xaaaaaaaa, true);
  rows.forEach((r, i) => {
    const at = l.header + l.size * i;
    if (l.module !== undefined) {
      // Padding noise first; the fields below overwrite what they own.
      bytes.fill(0xee, at, at + l.size);
      bytes.fill(r.module ?? 0, at + l.module, at + l.module + 128);
      view.setBigUint64(at + l.created!, r.created ?? 0n, true);
      if (l.flags !== undefined) view.setUint32(at + l.flags, r.flags ?? 0, true);
    }
    l.write(view, at, r);
  });
  return bytes;
}

/** 16 address bytes from eight 16-bit groups. */
export function v6(...groups: number[]): number[] {
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

// ---------------------------------------------------------------------------------------------
// iphlpapi

export interface TableCall {
  fn: "tcp" | "udp";
  af: number;
  tableClass: number;
  size: number;
  withBuffer: boolean;
}

/**
 * A fake iphlpapi: `answer(call, n)` gives the table bytes the n-th call (from 0) would write,
 * or a return code to return instead. `extra` supplies the optional functions (null otherwise).
 */
export function fakeIphlpapi(
  answer: (call: TableCall, n: number) => Uint8Array | number,
  extra: Partial<IphlpapiSymbols> = {},
): { symbols: IphlpapiSymbols; calls: TableCall[] } {
  const calls: TableCall[] = [];
  function getTable(fn: "tcp" | "udp") {
    return (
      buf: AllowSharedBufferSource | null,
      size: AllowSharedBufferSource | null,
      _order: number,
      af: number | bigint,
      tableClass: number,
      reserved: number | bigint,
    ): number => {
      assert.equal(reserved, 0);
      const sizeView = viewOf(size);
      const call = {
        fn,
        af: Number(af),
        tableClass,
        size: sizeView.getUint32(0, true),
        withBuffer: buf !== null,
      };
      const result = answer(call, calls.length);
      calls.push(call);
      if (typeof result === "number") return result;
      if (buf === null || call.size < result.length) {
        sizeView.setUint32(0, result.length, true);
        return 122;
      }
      assert.ok(bytesOf(buf).length >= call.size, "the size argument matches the buffer");
      bytesOf(buf).set(result);
      return 0;
    };
  }
  return {
    symbols: {
      GetExtendedTcpTable: getTable("tcp"),
      GetExtendedUdpTable: getTable("udp"),
      GetOwnerModuleFromTcpEntry: null,
      GetOwnerModuleFromTcp6Entry: null,
      GetOwnerModuleFromUdpEntry: null,
      GetOwnerModuleFromUdp6Entry: null,
      SetPerTcpConnectionEStats: null,
      GetPerTcpConnectionEStats: null,
      SetPerTcp6ConnectionEStats: null,
      GetPerTcp6ConnectionEStats: null,
      ...extra,
    },
    calls,
  };
}

/** What a fake GetOwnerModuleFrom*Entry answers for one row. */
export type ModuleAnswer = { name: string; path: string } | number;

export interface ModuleCall {
  row: Uint8Array;
  infoClass: number;
  capacity: number;
}

/**
 * A fake GetOwnerModuleFrom*Entry: writes TCPIP_OWNER_MODULE_BASIC_INFO (pModuleName 0,
 * pModulePath 8, the real addresses of the strings that follow in the same buffer).
 */
export function fakeOwnerModule(
  answer: (row: Uint8Array) => ModuleAnswer,
  calls: ModuleCall[],
): NonNullable<IphlpapiSymbols["GetOwnerModuleFromTcpEntry"]> {
  return (row, infoClass, buffer, size) => {
    const sizeView = viewOf(size);
    const capacity = sizeView.getUint32(0, true);
    const rowBytes = bytesOf(row).slice();
    calls.push({ row: rowBytes, infoClass, capacity });
    const result = answer(rowBytes);
    if (typeof result === "number") return result;
    const needed = 16 + 2 * (result.name.length + 1) + 2 * (result.path.length + 1);
    if (capacity < needed) {
      sizeView.setUint32(0, needed, true);
      return 122;
    }
    assert.ok(bytesOf(buffer).length >= capacity, "the size argument matches the buffer");
    const out = viewOf(buffer);
    const base = addressOf(buffer);
    let at = 16;
    for (const [slot, text] of [[0, result.name], [8, result.path]] as const) {
      out.setBigUint64(slot, base + BigInt(at), true);
      for (let i = 0; i < text.length; i++) out.setUint16(at + 2 * i, text.charCodeAt(i), true);
      out.setUint16(at + 2 * text.length, 0, true);
      at += 2 * (text.length + 1);
    }
    return 0;
  };
}

// ---------------------------------------------------------------------------------------------
// kernel32, advapi32, ntdll

export interface FakeProcess {
  pid: number;
  parent: number;
  exe: string;
  /** Null: OpenProcess fails for it; "": it opens, but has no image path (System). */
  path: string | null;
  created?: bigint;
  session?: number;
  /** ProcessIdToSessionId fails for it (the session is then only in the system's process list). */
  sessionDenied?: true;
  /** The command line, or the NTSTATUS NtQueryInformationProcess returns instead. */
  commandLine?: string | number;
  /** The SID bytes of the token's user, or "deny" when OpenProcessToken fails. */
  sid?: number[] | "deny";
  /** TokenElevation's TokenIsElevated; unset: GetTokenInformation fails for that class. */
  elevated?: boolean;
  /**
   * It exits as OpenProcess is called for it: the open fails and later snapshots lack it, or
   * list this process under its pid instead (the pid reused).
   */
  exitsOnOpen?: true | FakeProcess;
}

export interface Kernel32Fake {
  symbols: Kernel32Symbols;
  /** Handles (process, snapshot and token) handed out and not yet closed. */
  open: Set<bigint>;
  snapshots: number;
  opened: number[];
  /** The process behind a process handle. */
  processOf(h: Deno.PointerValue): FakeProcess;
  /** Hands out a token handle for a process (what OpenProcessToken writes). */
  newToken(p: FakeProcess): bigint;
  /** The process behind an open token handle. */
  tokenOf(token: bigint): FakeProcess;
  /** The running processes, as the next snapshot lists them (exits change it). */
  processes: FakeProcess[];
}

type Handle =
  | { kind: "snapshot"; next: number }
  | { kind: "token"; p: FakeProcess }
  | { kind: "thread"; pid: number }
  | FakeProcess;

export function fakeKernel32(
  processes: FakeProcess[],
  options: {
    noSessionSymbol?: boolean;
    noCloseHandleValue?: boolean;
    snapshotFails?: boolean;
    queryThrows?: boolean;
    /** Thread ids and the process each runs in (OpenThread opens these only). */
    threads?: Record<number, number>;
    noThreadSymbols?: boolean;
    /** What GetCurrentProcessId answers; unset: the symbol is missing. */
    selfPid?: number;
  } = {},
): Kernel32Fake {
  const open = new Set<bigint>();
  const handles = new Map<bigint, Handle>();
  let nextHandle = 0x100n;
  function add(value: Handle): bigint {
    const h = nextHandle;
    nextHandle += 4n;
    open.add(h);
    handles.set(h, value);
    return h;
  }
  function handle(value: Handle): Deno.PointerObject {
    return Deno.UnsafePointer.create(add(value))!;
  }
  function lookup(h: Deno.PointerValue) {
    const value = h === null ? undefined : handles.get(Deno.UnsafePointer.value(h));
    if (!value || !open.has(Deno.UnsafePointer.value(h!))) throw new Error("invalid handle used");
    return value;
  }
  function nextEntry(h: Deno.PointerValue, entry: AllowSharedBufferSource | null): number {
    const snap = lookup(h);
    if (!("kind" in snap) || snap.kind !== "snapshot") throw new Error("not a snapshot handle");
    const view = viewOf(entry);
    if (view.getUint32(0, true) !== 568) return 0; // dwSize must be set by the caller
    const p = processes[snap.next++];
    if (!p) return 0;
    new Uint8Array(view.buffer, view.byteOffset + 4, 564).fill(0xcc);
    view.setUint32(8, p.pid, true);
    view.setUint32(32, p.parent, true);
    for (let i = 0; i < p.exe.length; i++) view.setUint16(44 + 2 * i, p.exe.charCodeAt(i), true);
    view.setUint16(44 + 2 * p.exe.length, 0, true);
    return 1;
  }
  function processOf(h: Deno.PointerValue): FakeProcess {
    const p = lookup(h);
    if ("kind" in p) throw new Error("not a process handle");
    return p;
  }
  const fake: Kernel32Fake = {
    symbols: null!,
    open,
    snapshots: 0,
    opened: [],
    processOf,
    processes,
    newToken: (p) => add({ kind: "token", p }),
    tokenOf(token) {
      const t = handles.get(token);
      if (!t || !open.has(token) || !("kind" in t) || t.kind !== "token") {
        throw new Error(`invalid token handle used: ${token}`);
      }
      return t.p;
    },
  };
  fake.symbols = {
    CreateToolhelp32Snapshot(flags, pid) {
      assert.equal(flags, 2);
      assert.equal(pid, 0);
      fake.snapshots++;
      if (options.snapshotFails) return Deno.UnsafePointer.create(0xffff_ffff_ffff_ffffn);
      return handle({ kind: "snapshot", next: 0 });
    },
    Process32FirstW(h, entry) {
      const snap = lookup(h);
      if ("kind" in snap && snap.kind === "snapshot") snap.next = 0;
      return nextEntry(h, entry);
    },
    Process32NextW: nextEntry,
    OpenProcess(access, inherit, pid) {
      assert.equal(access, 0x1000);
      assert.equal(inherit, 0);
      fake.opened.push(pid);
      const p = processes.find((x) => x.pid === pid);
      if (p?.exitsOnOpen) {
        const at = processes.indexOf(p);
        if (p.exitsOnOpen === true) processes.splice(at, 1);
        else processes[at] = p.exitsOnOpen;
        return null;
      }
      return p && p.path !== null ? handle(p) : null;
    },
    QueryFullProcessImageNameW(h, flags, name, size) {
      const p = processOf(h);
      assert.equal(flags, 0);
      if (options.queryThrows) throw new Error("boom");
      const chars = viewOf(size);
      const capacity = chars.getUint32(0, true);
      const path = p.path!;
      if (path === "" || capacity < path.length + 1) return 0;
      const out = viewOf(name);
      for (let i = 0; i < path.length; i++) out.setUint16(2 * i, path.charCodeAt(i), true);
      out.setUint16(2 * path.length, 0, true);
      chars.setUint32(0, path.length, true);
      return 1;
    },
    GetProcessTimes(h, creation, exit, kernel, user) {
      const p = processOf(h);
      for (const b of [exit, kernel, user]) bytesOf(b).fill(0x55);
      if (p.created === undefined) return 0;
      const view = viewOf(creation);
      view.setUint32(0, Number(p.created & 0xffffffffn), true);
      view.setUint32(4, Number(p.created >> 32n), true);
      return 1;
    },
    CloseHandle(h) {
      const value = Deno.UnsafePointer.value(h);
      if (!open.delete(value)) throw new Error(`closing a handle that is not open: ${value}`);
      return 1;
    },
    GetCurrentProcessId: options.selfPid === undefined ? null : () => options.selfPid!,
    OpenThread: options.noThreadSymbols ? null : (access, inherit, id) => {
      assert.equal(access, 0x0800);
      assert.equal(inherit, 0);
      const pid = options.threads?.[id];
      return pid === undefined ? null : handle({ kind: "thread", pid });
    },
    GetProcessIdOfThread: options.noThreadSymbols ? null : (h) => {
      const t = lookup(h);
      if (!("kind" in t) || t.kind !== "thread") throw new Error("not a thread handle");
      return t.pid;
    },
    ProcessIdToSessionId: options.noSessionSymbol ? null : (pid, out) => {
      const p = processes.find((x) => x.pid === pid);
      if (!p || p.session === undefined || p.sessionDenied) return 0;
      viewOf(out).setUint32(0, p.session, true);
      return 1;
    },
    CloseHandleValue: options.noCloseHandleValue ? null : (h) => {
      const value = BigInt(h);
      if (!open.delete(value)) throw new Error(`closing a handle that is not open: ${value}`);
      return 1;
    },
  };
  return fake;
}

/** memset as ntdll exports it: fills `count` bytes and returns `dest`. */
export function realMemset(
  dest: AllowSharedBufferSource | null,
  c: number,
  count: number | bigint,
): Deno.PointerValue {
  bytesOf(dest).fill(c, 0, Number(count));
  return Deno.UnsafePointer.of(bytesOf(dest));
}

export interface NtdllCall {
  pid: number;
  infoClass: number;
  length: number;
  withBuffer: boolean;
}

/**
 * A fake ntdll: NtQueryInformationProcess(ProcessCommandLineInformation) answers a process's
 * `commandLine` as a UNICODE_STRING (Length at 0, MaximumLength at 2, Buffer at 8 pointing to
 * the characters at 16), probing the size with STATUS_INFO_LENGTH_MISMATCH.
 */
export function fakeNtdll(
  k32: Kernel32Fake,
  options: {
    noQuery?: boolean;
    noMemset?: boolean;
    /**
     * NtQuerySystemInformation(SystemProcessInformation) over the kernel32 fake's processes
     * (256-byte entries without threads; `created` and `session` or 0), probing the size first; a number: the
     * NTSTATUS it fails with. Unset: the symbol is missing.
     */
    systemProcesses?: true | number;
  } = {},
): { symbols: NtdllSymbols; calls: NtdllCall[]; systemCalls: number[] } {
  const calls: NtdllCall[] = [];
  const systemCalls: number[] = [];
  return {
    calls,
    systemCalls,
    symbols: {
      NtQuerySystemInformation: options.systemProcesses === undefined
        ? null
        : (infoClass, buf, length, ret) => {
          assert.equal(infoClass, 5);
          systemCalls.push(length);
          if (typeof options.systemProcesses === "number") return options.systemProcesses;
          const list = k32.processes;
          const needed = 256 * list.length;
          viewOf(ret).setUint32(0, needed, true);
          if (length < needed) return 0xc0000004 | 0;
          const out = viewOf(buf);
          list.forEach((p, i) => {
            const at = 256 * i;
            new Uint8Array(out.buffer, out.byteOffset + at, 256).fill(0xcc);
            out.setUint32(at, i === list.length - 1 ? 0 : 256, true);
            out.setBigUint64(at + 32, p.created ?? 0n, true);
            out.setBigUint64(at + 80, BigInt(p.pid), true);
            out.setBigUint64(at + 88, BigInt(p.parent), true);
            out.setUint32(at + 100, p.session ?? 0, true);
          });
          return 0;
        },
      NtQueryInformationProcess: options.noQuery ? null : (h, infoClass, buf, length, ret) => {
        const p = k32.processOf(h);
        calls.push({ pid: p.pid, infoClass, length, withBuffer: buf !== null });
        assert.equal(infoClass, 60);
        const answer = p.commandLine ?? "";
        if (typeof answer === "number") return answer;
        const needed = 16 + 2 * answer.length + 2;
        viewOf(ret).setUint32(0, needed, true);
        if (buf === null || length < needed) return 0xc0000004 | 0;
        const out = viewOf(buf);
        out.setUint16(0, 2 * answer.length, true); // Length, without the NUL
        out.setUint16(2, 2 * answer.length + 2, true); // MaximumLength
        out.setUint32(4, 0xdddddddd, true); // padding
        out.setBigUint64(8, addressOf(buf) + 16n, true); // Buffer
        for (let i = 0; i < answer.length; i++) {
          out.setUint16(16 + 2 * i, answer.charCodeAt(i), true);
        }
        out.setUint16(16 + 2 * answer.length, 0, true);
        return 0;
      },
      memset: options.noMemset ? null : realMemset,
    },
  };
}

/** An account LookupAccountSidW knows, by the hex of its SID bytes. */
export interface FakeAccount {
  sid: number[];
  domain: string;
  name: string;
}

export interface Advapi32Fake {
  symbols: Advapi32Symbols;
  lookups: string[];
  tokenInfoCalls: { length: number; withBuffer: boolean }[];
}

const hex = (bytes: ArrayLike<number>) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * A fake advapi32: tokens from the kernel32 fake, TOKEN_USER with the SID after the struct
 * (User.Sid 0 -> 16, Attributes 8), LookupAccountSidW over `accounts`.
 */
export function fakeAdvapi32(
  k32: Kernel32Fake,
  accounts: FakeAccount[],
  options: { lookupThrows?: boolean } = {},
): Advapi32Fake {
  const fake: Advapi32Fake = { symbols: null!, lookups: [], tokenInfoCalls: [] };
  fake.symbols = {
    OpenProcessToken(h, access, out) {
      assert.equal(access, 8); // TOKEN_QUERY
      const p = k32.processOf(h);
      if (p.sid === undefined || p.sid === "deny") return 0;
      viewOf(out).setBigUint64(0, k32.newToken(p), true);
      return 1;
    },
    GetTokenInformation(token, infoClass, buf, length, ret) {
      const p = k32.tokenOf(BigInt(token));
      if (infoClass === 20) { // TokenElevation: one DWORD
        viewOf(ret).setUint32(0, 4, true);
        if (p.elevated === undefined || buf === null || length < 4) return 0;
        viewOf(buf).setUint32(0, p.elevated ? 1 : 0, true);
        return 1;
      }
      assert.equal(infoClass, 1); // TokenUser
      fake.tokenInfoCalls.push({ length, withBuffer: buf !== null });
      const sid = p.sid as number[];
      const needed = 16 + sid.length;
      viewOf(ret).setUint32(0, needed, true);
      if (buf === null || length < needed) return 0;
      const out = viewOf(buf);
      out.setBigUint64(0, addressOf(buf) + 16n, true); // User.Sid
      out.setUint32(8, 0, true); // User.Attributes
      bytesOf(buf).set(sid, 16);
      return 1;
    },
    LookupAccountSidW(system, sid, name, nameChars, domain, domainChars, use) {
      assert.equal(system, null);
      if (options.lookupThrows) throw new Error("lookup exploded");
      const sidBytes = bytesOf(sid);
      const key = hex(sidBytes.subarray(0, 8 + 4 * sidBytes[1]));
      fake.lookups.push(key);
      const account = accounts.find((a) => hex(a.sid) === key);
      if (!account) return 0; // ERROR_NONE_MAPPED
      const n = viewOf(nameChars);
      const d = viewOf(domainChars);
      if (
        n.getUint32(0, true) < account.name.length + 1 ||
        d.getUint32(0, true) < account.domain.length + 1
      ) {
        n.setUint32(0, account.name.length + 1, true);
        d.setUint32(0, account.domain.length + 1, true);
        return 0; // ERROR_INSUFFICIENT_BUFFER
      }
      for (
        const [out, text, count] of [[name, account.name, n], [domain, account.domain, d]] as const
      ) {
        const v = viewOf(out);
        for (let i = 0; i < text.length; i++) v.setUint16(2 * i, text.charCodeAt(i), true);
        v.setUint16(2 * text.length, 0, true);
        count.setUint32(0, text.length, true);
      }
      viewOf(use).setUint32(0, 1, true); // SidTypeUser
      return 1;
    },
  };
  return fake;
}

// ---------------------------------------------------------------------------------------------

export function sourceWith(
  iphlpapi: IphlpapiSymbols,
  kernel32: Kernel32Symbols,
  more: { advapi32?: Advapi32Symbols; ntdll?: NtdllSymbols } = {},
) {
  let opened = 0;
  let closed = 0;
  const source = createWindowsSource({
    openLibraries(): WindowsLibraries {
      opened++;
      return { iphlpapi, kernel32, ...more, close: () => void closed++ };
    },
  });
  return { source, counts: () => ({ opened, closed }) };
}
