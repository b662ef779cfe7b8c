// The koffi adapter (ffi/_koffi.ts) against a real library: the C library of this Linux host,
// bound through a Deno-style symbol table. Runs under Node and under Deno; under Deno the
// same table is also opened with Deno.dlopen and both must answer alike.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import process from "node:process";
import {
  type KoffiModule,
  koffiPointerValue,
  koffiSignature,
  loadKoffi,
  openKoffiLibrary,
  setKoffiLoader,
} from "../../ffi/_koffi.ts";
import { IPHLPAPI_SYMBOLS, KERNEL32_SYMBOLS } from "../../ffi/windows/_symbols.ts";

/** The GNU C library, the library these tests bind (Debian and most Linux distributions). */
const LIBC = "libc.so.6";
const onLinux = process.platform === "linux";
// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

const LIBC_SYMBOLS = {
  getpid: { parameters: [], result: "i32" },
  strlen: { parameters: ["buffer"], result: "usize" },
  atoi: { parameters: ["buffer"], result: "i32" },
  atof: { parameters: ["buffer"], result: "f64" },
  strtoull: { parameters: ["buffer", "pointer", "i32"], result: "u64" },
  llabs: { parameters: ["i64"], result: "i64" },
  htonl: { parameters: ["u32"], result: "u32" },
  memset: { parameters: ["buffer", "i32", "usize"], result: "pointer" },
  memcpy: { parameters: ["buffer", "buffer", "usize"], result: "pointer" },
  memchr: { parameters: ["buffer", "i32", "usize"], result: "pointer" },
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
  getenv: { parameters: ["buffer"], result: "pointer" },
  procconn_no_such_function: { parameters: [], result: "i32", optional: true },
  getppid: { name: "getppid", parameters: [], result: "i32", nonblocking: true },
} as const satisfies Deno.ForeignLibraryInterface;

const cstr = (text: string) => new TextEncoder().encode(`${text}\0`);

describe("koffi adapter", { skip: !onLinux && "binds the Linux C library" }, () => {
  it("returns numbers for 32-bit and float results, bigint for 64-bit ones", () => {
    const lib = openKoffiLibrary(LIBC, LIBC_SYMBOLS);
    try {
      const s = lib.symbols;
      assert.equal(s.getpid(), process.pid);
      assert.equal(s.atoi(cstr("-7")), -7);
      assert.equal(s.htonl(0x80), 0x8000_0000); // unsigned: no sign wrap
      assert.equal(s.atof(cstr("2.5")), 2.5);
      assert.equal(s.strlen(cstr("hello")), 5n);
      assert.equal(s.strtoull(cstr("42"), null, 10), 42n);
      // Beyond 2^53: exact only as bigint.
      assert.equal(s.strtoull(cstr("18446744073709551615"), null, 10), 0xffff_ffff_ffff_ffffn);
      assert.equal(s.llabs(-9_007_199_254_740_993n), 9_007_199_254_740_993n);
    } finally {
      lib.close();
    }
  });

  it("passes TypedArrays, subarrays and DataViews as the address of their bytes", () => {
    const lib = openKoffiLibrary(LIBC, LIBC_SYMBOLS);
    try {
      const bytes = new Uint8Array(8);
      lib.symbols.memset(bytes.subarray(2, 5), 0x41, 3n);
      assert.deepEqual([...bytes], [0, 0, 0x41, 0x41, 0x41, 0, 0, 0]);
      lib.symbols.memset(new DataView(bytes.buffer, 6, 2), 0x42, 2n);
      assert.deepEqual([...bytes.subarray(5)], [0, 0x42, 0x42]);
      // An out-parameter written in place, as the Win32 size arguments are.
      const out = new Uint32Array(1);
      lib.symbols.memcpy(out, new Uint8Array([0x78, 0x56, 0x34, 0x12]), 4n);
      assert.equal(out[0], 0x12345678);
    } finally {
      lib.close();
    }
  });

  it("hands out pointer results as opaque handles that carry the address and go back in", () => {
    const lib = openKoffiLibrary(LIBC, LIBC_SYMBOLS);
    try {
      const text = cstr("abc");
      const a = lib.symbols.memchr(text, "a".charCodeAt(0), 3n);
      const c = lib.symbols.memchr(text, "c".charCodeAt(0), 3n);
      assert.ok(a !== null && c !== null);
      assert.equal(Object.getPrototypeOf(a), null);
      assert.ok(Object.isFrozen(a));
      assert.equal(koffiPointerValue(c) - koffiPointerValue(a), 2n);
      assert.equal(lib.symbols.memchr(text, "z".charCodeAt(0), 3n), null);
      assert.equal(lib.symbols.getenv(cstr("PROCCONN_SURELY_UNSET_VARIABLE")), null);
      const block = lib.symbols.malloc(64n);
      assert.ok(block !== null && koffiPointerValue(block) !== 0n);
      assert.equal(lib.symbols.free(block), undefined);
      assert.equal(koffiPointerValue(null), 0n);
    } finally {
      lib.close();
    }
  });

  it("rejects arguments Deno would reject, naming the symbol and the value", () => {
    const lib = openKoffiLibrary(LIBC, LIBC_SYMBOLS);
    try {
      const s = lib.symbols as unknown as Record<string, (...args: unknown[]) => unknown>;
      assert.throws(() => s.strlen("text"), /Invalid argument 0 of "strlen" \(buffer\) "text"/);
      assert.throws(() => s.free(12345n), /Invalid argument 0 of "free" \(pointer\) "12345n"/);
      assert.throws(() => s.free({}), /expected a pointer returned by a native call/);
      assert.throws(() => s.getpid(1), /Invalid call of "getpid" with 1 arguments: expected 0/);
      assert.throws(() => koffiPointerValue({} as Deno.PointerObject), TypeError);
    } finally {
      lib.close();
    }
  });

  it("sets a missing optional symbol to null and runs nonblocking symbols as promises", async () => {
    const lib = openKoffiLibrary(LIBC, LIBC_SYMBOLS);
    try {
      assert.equal(lib.symbols.procconn_no_such_function, null);
      const parent = lib.symbols.getppid();
      assert.ok(parent instanceof Promise);
      assert.equal(await parent, process.ppid);
    } finally {
      lib.close();
    }
  });

  it("fails to open with the library path, or the symbol, in the message", () => {
    assert.throws(
      () => openKoffiLibrary("/nonexistent/libprocconn.so", LIBC_SYMBOLS),
      /Cannot load the native library "\/nonexistent\/libprocconn\.so": /,
    );
    assert.throws(
      () =>
        openKoffiLibrary(LIBC, {
          procconn_required_missing: { parameters: [], result: "i32" },
        }),
      /Cannot bind the symbol "procconn_required_missing" of "libc\.so\.6": /,
    );
  });

  it("refuses calls after close", () => {
    const lib = openKoffiLibrary(LIBC, LIBC_SYMBOLS);
    const getpid = lib.symbols.getpid;
    lib.close();
    lib.close(); // twice is harmless
    assert.throws(() => getpid(), /Cannot call "getpid": its library was closed/);
  });

  it("answers like Deno.dlopen for the same table", { skip: !deno && "Deno only" }, () => {
    const fromKoffi = openKoffiLibrary(LIBC, LIBC_SYMBOLS);
    const fromDeno = deno!.dlopen(LIBC, LIBC_SYMBOLS);
    try {
      const k = fromKoffi.symbols;
      const d = fromDeno.symbols;
      assert.equal(k.getpid(), d.getpid());
      assert.equal(k.strlen(cstr("procconn")), d.strlen(cstr("procconn")));
      assert.equal(k.atoi(cstr("-12")), d.atoi(cstr("-12")));
      assert.equal(k.htonl(0xff), d.htonl(0xff));
      assert.equal(k.atof(cstr("0.125")), d.atof(cstr("0.125")));
      const big = cstr("18446744073709551000");
      assert.equal(k.strtoull(big, null, 10), d.strtoull(big, null, 10));
      assert.equal(k.llabs(-5n), d.llabs(-5n));
      assert.equal(typeof k.llabs(-5n), typeof d.llabs(-5n));
      assert.equal(k.getenv(cstr("PROCCONN_SURELY_UNSET_VARIABLE")), null);
      assert.equal(d.getenv(cstr("PROCCONN_SURELY_UNSET_VARIABLE")), null);
      assert.equal(k.procconn_no_such_function, d.procconn_no_such_function);
    } finally {
      fromKoffi.close();
      fromDeno.close();
    }
  });
});

describe("koffiSignature", () => {
  it("binds every symbol of the shared Windows tables", () => {
    for (const table of [IPHLPAPI_SYMBOLS, KERNEL32_SYMBOLS]) {
      for (const [key, definition] of Object.entries(table)) {
        const signature = koffiSignature(key, definition);
        assert.equal(signature.parameters.length, definition.parameters.length, key);
      }
    }
    assert.deepEqual(koffiSignature("CloseHandle", KERNEL32_SYMBOLS.CloseHandle), {
      name: "CloseHandle",
      result: "int32_t",
      parameters: ["void *"],
    });
  });

  it("maps each Deno type to koffi's, pointer-sized integers to uintptr_t", () => {
    const s = koffiSignature("f", {
      name: "g",
      parameters: ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "usize", "isize"],
      result: "f64",
    });
    assert.equal(s.name, "g");
    assert.equal(s.result, "double");
    assert.deepEqual(s.parameters, [
      "uint8_t",
      "int8_t",
      "uint16_t",
      "int16_t",
      "uint32_t",
      "int32_t",
      "uint64_t",
      "int64_t",
      "uintptr_t",
      "intptr_t",
    ]);
    assert.equal(
      koffiSignature("b", { parameters: ["bool", "f32"], result: "bool" }).result,
      "bool",
    );
  });

  it("refuses structs by value and statics, naming the symbol", () => {
    assert.throws(
      () => koffiSignature("s", { parameters: [{ struct: ["u32", "u32"] }], result: "void" }),
      /Unsupported native type \{"struct":\["u32","u32"\]\} for parameter 0 of symbol "s"/,
    );
    assert.throws(
      () => koffiSignature("v", { type: "u32" }),
      /Unsupported symbol "v": static variables cannot be bound on Node/,
    );
  });

  it("loads koffi from the koffi package by default", { skip: !onLinux && "Linux only" }, () => {
    assert.match(loadKoffi().version, /^\d+\.\d+\.\d+$/);
  });
});

/** A koffi stand-in that records what the adapter hands it and answers with canned values. */
function standIn(answers: Record<string, unknown>) {
  const calls: { name: string; result: string; parameters: string[]; args: unknown[] }[] = [];
  const loaded: string[] = [];
  let unloaded = 0;
  const koffi: KoffiModule = {
    version: "0.0.0-test",
    load(path) {
      loaded.push(path);
      return {
        func(name, result, parameters) {
          if (!(name in answers)) throw new Error(`Cannot find function '${name}'`);
          const fn = (...args: unknown[]) => {
            calls.push({ name, result, parameters, args });
            return answers[name];
          };
          return Object.assign(fn, { async: () => {} });
        },
        unload() {
          unloaded++;
        },
      };
    },
  };
  return { koffi, calls, loaded, unloaded: () => unloaded };
}

describe("koffi adapter with a stand-in koffi", () => {
  it("converts results: bigint for 64-bit types, null for NULL, handles that go back in", () => {
    const fake = standIn({ Size: 7, Handle: 0x1234n, Nothing: 0n, Close: 1 });
    const lib = openKoffiLibrary("C:\\x.dll", {
      Size: { parameters: [], result: "usize" },
      Handle: { parameters: [], result: "pointer" },
      Nothing: { parameters: [], result: "pointer" },
      Close: { parameters: ["pointer", "buffer"], result: "i32" },
    }, { koffi: fake.koffi });
    assert.deepEqual(fake.loaded, ["C:\\x.dll"]);
    assert.equal(lib.symbols.Size(), 7n);
    assert.equal(lib.symbols.Nothing(), null);
    const handle = lib.symbols.Handle();
    assert.equal(koffiPointerValue(handle), 0x1234n);
    const bytes = new Uint8Array(16);
    assert.equal(lib.symbols.Close(handle, new DataView(bytes.buffer, 4, 8)), 1);
    const [pointer, view] = fake.calls.at(-1)!.args as [bigint, Uint8Array];
    assert.equal(pointer, 0x1234n);
    assert.ok(view instanceof Uint8Array);
    assert.deepEqual([view.buffer, view.byteOffset, view.byteLength], [bytes.buffer, 4, 8]);
    assert.deepEqual(fake.calls.at(-1)!.parameters, ["void *", "void *"]);
    lib.close();
    assert.equal(fake.unloaded(), 1);
  });

  it("unloads the library when a required symbol is missing", () => {
    const fake = standIn({});
    assert.throws(
      () =>
        openKoffiLibrary("y.dll", { Missing: { parameters: [], result: "u32" } }, {
          koffi: fake.koffi,
        }),
      /Cannot bind the symbol "Missing" of "y\.dll": Cannot find function 'Missing'/,
    );
    assert.equal(fake.unloaded(), 1);
  });

  it("checks the whole table before loading anything", () => {
    const fake = standIn({});
    assert.throws(
      () =>
        openKoffiLibrary("z.dll", { Bad: { parameters: ["u128"], result: "u32" } } as never, {
          koffi: fake.koffi,
        }),
      /Unsupported native type u128 for parameter 0 of symbol "Bad"/,
    );
    assert.deepEqual(fake.loaded, []);
  });

  it("takes koffi from a registered loader, once, and reports a broken one", () => {
    try {
      let calls = 0;
      const fake = standIn({});
      setKoffiLoader(() => {
        calls++;
        return fake.koffi;
      });
      assert.equal(loadKoffi(), fake.koffi);
      assert.equal(loadKoffi(), fake.koffi);
      assert.equal(calls, 1);

      setKoffiLoader(() => {
        throw new Error("Cannot load koffi from the executable: no asset");
      });
      assert.throws(() => loadKoffi(), /^Error: Cannot load koffi from the executable: no asset$/);

      setKoffiLoader(() => ({ version: "1" }) as unknown as KoffiModule);
      assert.throws(() => loadKoffi(), /the module found has no load function or version/);
    } finally {
      setKoffiLoader(undefined);
    }
  });
});
