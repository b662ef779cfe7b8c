import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ADVAPI32_SYMBOLS,
  IPHLPAPI_SYMBOLS,
  KERNEL32_SYMBOLS,
  NTDLL_SYMBOLS,
} from "../../../ffi/windows/_symbols.ts";

// The functions every supported Windows and Wine 10 export; only these may be required.
const BASIC: Record<string, string[]> = {
  iphlpapi: ["GetExtendedTcpTable", "GetExtendedUdpTable"],
  kernel32: [
    "CreateToolhelp32Snapshot",
    "Process32FirstW",
    "Process32NextW",
    "OpenProcess",
    "QueryFullProcessImageNameW",
    "GetProcessTimes",
    "CloseHandle",
  ],
  advapi32: [],
  ntdll: [],
};

interface Declared {
  name?: string;
  parameters: readonly string[];
  result: string;
  optional?: boolean;
}

const TABLES: Record<string, Record<string, Declared>> = {
  iphlpapi: IPHLPAPI_SYMBOLS,
  kernel32: KERNEL32_SYMBOLS,
  advapi32: ADVAPI32_SYMBOLS,
  ntdll: NTDLL_SYMBOLS,
};

describe("Windows symbol tables", () => {
  it("declare every basic symbol as required", () => {
    for (const [dll, names] of Object.entries(BASIC)) {
      for (const name of names) {
        const symbol = TABLES[dll][name];
        assert.ok(symbol, `${dll}.${name} is declared`);
        assert.notEqual(symbol.optional, true, `${dll}.${name} is required`);
      }
    }
  });

  it("mark every other symbol optional", () => {
    for (const [dll, table] of Object.entries(TABLES)) {
      for (const [name, symbol] of Object.entries(table)) {
        if (BASIC[dll].includes(name)) continue;
        assert.equal(symbol.optional, true, `${dll}.${name} must be optional`);
      }
    }
  });

  it("use only plain native types another runtime adapter can map", () => {
    const plain = new Set(["u32", "i32", "u64", "usize", "buffer", "pointer"]);
    for (const [dll, table] of Object.entries(TABLES)) {
      for (const [name, symbol] of Object.entries(table)) {
        for (const type of [...symbol.parameters, symbol.result]) {
          assert.ok(plain.has(type), `${dll}.${name} uses "${type}"`);
        }
      }
    }
  });

  it("declare the argument counts of the Win32 prototypes", () => {
    const arity: Record<string, number> = {
      GetExtendedTcpTable: 6,
      GetExtendedUdpTable: 6,
      GetOwnerModuleFromTcpEntry: 4,
      GetOwnerModuleFromTcp6Entry: 4,
      GetOwnerModuleFromUdpEntry: 4,
      GetOwnerModuleFromUdp6Entry: 4,
      SetPerTcpConnectionEStats: 6,
      SetPerTcp6ConnectionEStats: 6,
      GetPerTcpConnectionEStats: 11,
      GetPerTcp6ConnectionEStats: 11,
      CreateToolhelp32Snapshot: 2,
      Process32FirstW: 2,
      Process32NextW: 2,
      OpenProcess: 3,
      QueryFullProcessImageNameW: 4,
      GetProcessTimes: 5,
      CloseHandle: 1,
      ProcessIdToSessionId: 2,
      GetCurrentProcessId: 0,
      OpenThread: 3,
      GetProcessIdOfThread: 1,
      CloseHandleValue: 1,
      OpenProcessToken: 3,
      GetTokenInformation: 5,
      LookupAccountSidW: 7,
      NtQuerySystemInformation: 4,
      NtQueryInformationProcess: 5,
      memset: 3,
    };
    const all = Object.assign({}, ...Object.values(TABLES)) as Record<string, Declared>;
    assert.deepEqual(Object.keys(all).sort(), Object.keys(arity).sort(), "every symbol is listed");
    for (const [name, count] of Object.entries(arity)) {
      assert.equal(all[name].parameters.length, count, name);
    }
  });

  it("bind a second key to an export only under the export's own name", () => {
    // A token handle arrives as a number, so CloseHandle is bound a second time for it.
    assert.equal(KERNEL32_SYMBOLS.CloseHandleValue.name, "CloseHandle");
    assert.deepEqual(KERNEL32_SYMBOLS.CloseHandleValue.parameters, ["usize"]);
    for (const table of Object.values(TABLES)) {
      for (const [key, symbol] of Object.entries(table)) {
        if (symbol.name !== undefined) assert.ok(symbol.name in table, `${key} -> ${symbol.name}`);
      }
    }
  });
});
