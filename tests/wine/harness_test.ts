// Checks the Wine tier itself, so that a broken harness is told apart from a broken engine: the
// tests must run as Windows code from the repo, and Wine must answer the IP Helper calls the
// engine is built on. Runs only when tests/wine/run.sh starts it (PROCCONN_WINE_TIER=1).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ERROR_INSUFFICIENT_BUFFER = 122;
const AF_INET = 2;
const TCP_TABLE_OWNER_PID_ALL = 5;

const IPHLPAPI = {
  GetExtendedTcpTable: {
    parameters: [
      "buffer", // PVOID pTcpTable (NULL asks for the size)
      "buffer", // PDWORD pdwSize
      "i32", // BOOL bOrder
      "u32", // ULONG ulAf
      "i32", // TCP_TABLE_CLASS TableClass
      "u32", // ULONG Reserved
    ],
    result: "u32", // DWORD error code
  },
} as const satisfies Deno.ForeignLibraryInterface;

Deno.test({
  name: "Wine tier: the tests run as Windows code with the repo as working directory",
  ignore: Deno.env.get("PROCCONN_WINE_TIER") !== "1",
  fn() {
    assert.equal(Deno.build.os, "windows", "the Wine tier is not running the Windows deno.exe");
    assert.match(Deno.execPath(), /^[A-Za-z]:\\.+\\deno\.exe$/i);
    const repo = fileURLToPath(new URL("../../", import.meta.url)).replace(/\\$/, "");
    assert.equal(Deno.cwd().toLowerCase(), repo.toLowerCase());
  },
});

Deno.test({
  name: "Wine tier: iphlpapi.dll answers GetExtendedTcpTable with the size of the table",
  ignore: Deno.env.get("PROCCONN_WINE_TIER") !== "1",
  fn() {
    const iphlpapi = Deno.dlopen("iphlpapi.dll", IPHLPAPI);
    try {
      // One listener guarantees a non-empty table.
      using _listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const size = new Uint32Array(1);
      const status = iphlpapi.symbols.GetExtendedTcpTable(
        null,
        size,
        0,
        AF_INET,
        TCP_TABLE_OWNER_PID_ALL,
        0,
      );
      assert.equal(status, ERROR_INSUFFICIENT_BUFFER);
      assert.ok(size[0] > 4, `a table with one listener needs more than 4 bytes, got ${size[0]}`);
    } finally {
      iphlpapi.close();
    }
  },
});
