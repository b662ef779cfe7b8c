/**
 * The Node side of the native-library adapter: binds a symbol table written for `Deno.dlopen`
 * with koffi and returns symbols with the call shape of Deno's `lib.symbols`, so the Windows
 * engine runs unchanged on Node.
 *
 * Values cross the boundary the way Deno passes them: numbers for the 8/16/32-bit and float
 * types, bigint for u64/i64/usize/isize results, booleans for `bool`, an opaque frozen object
 * for a non-null pointer result (null for NULL) that can be passed back as a `pointer`
 * argument, and any TypedArray, ArrayBuffer or DataView (or null) for a `buffer` parameter,
 * which the callee reads and writes in place. An `optional` symbol the library does not export
 * is null.
 *
 * @module
 */
import { nodeBuiltin } from "./_runtime.ts";

/** The part of a koffi function the adapter calls. */
export interface KoffiFunction {
  (...args: unknown[]): unknown;
  /** Runs the call on a worker thread; the callback gets the error or the result. */
  async(...argsAndCallback: unknown[]): void;
}

/** The part of a koffi library the adapter uses. */
export interface KoffiLibrary {
  /** Binds an exported function: `func(name, resultType, parameterTypes)`. */
  func(name: string, result: string, parameters: string[]): KoffiFunction;
  /** Unloads the library. */
  unload(): void;
}

/** The part of the koffi module the adapter uses (the package or its native addon's exports). */
export interface KoffiModule {
  /** koffi's version, e.g. `3.3.4`. */
  version: string;
  /** Opens a shared library. */
  load(path: string): KoffiLibrary;
}

/** Returns the koffi module to use, e.g. the addon carried inside a single executable. */
export type KoffiLoader = () => KoffiModule;

/** An opened library with Deno's shape: symbols plus `close`. */
export interface KoffiNativeLibrary<S extends Deno.ForeignLibraryInterface> {
  /** The symbols; an optional symbol the library does not export is null. */
  readonly symbols: Deno.StaticForeignLibraryInterface<S>;
  /** Unloads the library; calling a symbol afterwards throws. */
  close(): void;
}

/** Options of {@linkcode openKoffiLibrary}. */
export interface OpenKoffiOptions {
  /** The koffi module to bind with; by default the one {@linkcode loadKoffi} returns. */
  koffi?: KoffiModule;
}

let registeredLoader: KoffiLoader | undefined;
let loaded: KoffiModule | undefined;

/**
 * Sets where koffi comes from; the next {@linkcode loadKoffi} calls it (once). Without a
 * loader, koffi is required as the `koffi` package.
 *
 * @param loader Returns the koffi module; undefined restores the default.
 *
 * @example
 * ```ts ignore
 * import { setKoffiLoader } from "./_koffi.ts";
 * setKoffiLoader(() => addonExports);
 * ```
 */
export function setKoffiLoader(loader: KoffiLoader | undefined): void {
  registeredLoader = loader;
  loaded = undefined;
}

/**
 * Returns the koffi module: the registered loader's, else the `koffi` package. Loaded once.
 *
 * @returns The koffi module.
 * @throws {Error} When koffi cannot be loaded: the registered loader's error, or one saying
 * to install the package (the original error is the `cause`).
 *
 * @example
 * ```ts ignore
 * import { loadKoffi } from "./_koffi.ts";
 * console.log(loadKoffi().version);
 * ```
 */
export function loadKoffi(): KoffiModule {
  if (loaded) return loaded;
  let koffi: unknown;
  if (registeredLoader) {
    // A registered loader's errors already say what is missing.
    koffi = registeredLoader();
  } else {
    try {
      koffi = nodeRequire()("koffi");
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(
        `Cannot load koffi, which procconn needs for native calls on Node: ${detail} ` +
          "(install the koffi package, or run procconn with Deno)",
        { cause: err },
      );
    }
  }
  const module = koffi as Partial<KoffiModule> | null;
  if (typeof module?.load !== "function" || typeof module.version !== "string") {
    throw new Error("Cannot load koffi: the module found has no load function or version");
  }
  loaded = module as KoffiModule;
  return loaded;
}

/** Address of each pointer handle this adapter handed out. */
const addresses = new WeakMap<object, bigint>();

function wrapPointer(value: unknown): Deno.PointerObject | null {
  if (value === null || value === undefined || value === 0n || value === 0) return null;
  if (typeof value !== "bigint" && typeof value !== "number") {
    // koffi 2.x returned pointers as external objects; 3.x returns bigint addresses.
    throw new TypeError(
      `Invalid pointer ${describe(value)} from koffi: koffi 3 or newer is needed`,
    );
  }
  const address = BigInt(value);
  // Like Deno's pointer objects: no prototype, no properties, frozen.
  const handle = Object.freeze(Object.create(null)) as object;
  addresses.set(handle, address);
  return handle as Deno.PointerObject;
}

/**
 * Returns the address behind a pointer handle returned by a symbol of
 * {@linkcode openKoffiLibrary} (0n for null).
 *
 * @param pointer A pointer result of a koffi-bound symbol, or null.
 * @returns The address.
 * @throws {TypeError} When the value is not such a pointer.
 *
 * @example
 * ```ts
 * import { koffiPointerValue } from "./_koffi.ts";
 * koffiPointerValue(null); // 0n
 * ```
 */
export function koffiPointerValue(pointer: Deno.PointerValue): bigint {
  if (pointer === null) return 0n;
  const address = addresses.get(pointer as object);
  if (address === undefined) {
    throw new TypeError(`Invalid pointer ${describe(pointer)}: not returned by a native call`);
  }
  return address;
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `"${value}n"`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) {
    return `"${Object.prototype.toString.call(value)}"`;
  }
  return `"${String(value)}"`;
}

/** koffi's spelling of each Deno native type (pointer-sized integers are uintptr_t). */
const KOFFI_TYPES: Readonly<Record<string, string>> = {
  void: "void",
  bool: "bool",
  u8: "uint8_t",
  i8: "int8_t",
  u16: "uint16_t",
  i16: "int16_t",
  u32: "uint32_t",
  i32: "int32_t",
  u64: "uint64_t",
  i64: "int64_t",
  usize: "uintptr_t",
  isize: "intptr_t",
  f32: "float",
  f64: "double",
  pointer: "void *",
  buffer: "void *",
  function: "void *",
};

const BIGINT_TYPES = new Set(["u64", "i64", "usize", "isize"]);
const POINTER_TYPES = new Set(["pointer", "buffer", "function"]);

/** A symbol's declaration translated for koffi. */
export interface KoffiSignature {
  /** The exported name (the declaration's `name`, else its key). */
  name: string;
  /** koffi's result type. */
  result: string;
  /** koffi's parameter types. */
  parameters: string[];
}

/**
 * Translates one symbol declaration of a Deno symbol table into koffi's types.
 *
 * @param key The symbol's key in the table.
 * @param definition Its declaration.
 * @returns The exported name and koffi's result and parameter types.
 * @throws {TypeError} For what the adapter does not bind: statics, structs by value, unknown
 * types.
 *
 * @example
 * ```ts
 * import { koffiSignature } from "./_koffi.ts";
 * koffiSignature("CloseHandle", { parameters: ["pointer"], result: "i32" });
 * // { name: "CloseHandle", result: "int32_t", parameters: ["void *"] }
 * ```
 */
export function koffiSignature(
  key: string,
  definition: Deno.ForeignFunction | Deno.ForeignStatic,
): KoffiSignature {
  if (!("parameters" in definition)) {
    throw new TypeError(`Unsupported symbol "${key}": static variables cannot be bound on Node`);
  }
  const koffiType = (type: unknown, where: string) => {
    const name = typeof type === "string" ? KOFFI_TYPES[type] : undefined;
    if (name === undefined) {
      const text = typeof type === "object" ? JSON.stringify(type) : String(type);
      throw new TypeError(`Unsupported native type ${text} for ${where} of symbol "${key}"`);
    }
    return name;
  };
  const parameters = definition.parameters.map((type, i) => {
    const name = koffiType(type, `parameter ${i}`);
    if (name === "void") {
      throw new TypeError(`Unsupported native type "void" for parameter ${i} of symbol "${key}"`);
    }
    return name;
  });
  return {
    name: definition.name ?? key,
    result: koffiType(definition.result, "the result"),
    parameters,
  };
}

/** Turns a `buffer` argument into something koffi passes as the address of its bytes. */
function bufferArgument(value: unknown, key: string, index: number): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof DataView) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  throw new TypeError(
    `Invalid argument ${index} of "${key}" (buffer) ${describe(value)}: ` +
      "expected a TypedArray, ArrayBuffer, DataView or null",
  );
}

function pointerArgument(value: unknown, key: string, index: number): unknown {
  if (value === null || value === undefined) return null;
  const address = typeof value === "object" ? addresses.get(value) : undefined;
  if (address === undefined) {
    throw new TypeError(
      `Invalid argument ${index} of "${key}" (pointer) ${describe(value)}: ` +
        "expected a pointer returned by a native call, or null",
    );
  }
  return address;
}

function convertResult(type: Deno.NativeResultType, value: unknown): unknown {
  if (typeof type !== "string") return value;
  if (BIGINT_TYPES.has(type)) return typeof value === "bigint" ? value : BigInt(value as number);
  if (POINTER_TYPES.has(type)) return wrapPointer(value);
  if (type === "void") return undefined;
  return value;
}

/**
 * Opens a native library with koffi and binds a symbol table written for `Deno.dlopen`.
 *
 * @param path The library file; pass an absolute path.
 * @param symbols The symbol table (the same object Deno gets).
 * @param options Which koffi module to use.
 * @returns The library: symbols with Deno's call shape, and `close`.
 * @throws {TypeError} When the table declares something the adapter cannot bind.
 * @throws {Error} When koffi, the library or a required symbol cannot be loaded (the original
 * error is the `cause`).
 *
 * @example
 * ```ts ignore
 * import { openKoffiLibrary } from "./_koffi.ts";
 * const lib = openKoffiLibrary("C:\\Windows\\System32\\kernel32.dll", {
 *   GetCurrentProcessId: { parameters: [], result: "u32" },
 * } as const);
 * lib.symbols.GetCurrentProcessId();
 * lib.close();
 * ```
 */
export function openKoffiLibrary<const S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
  options: OpenKoffiOptions = {},
): KoffiNativeLibrary<S> {
  // Translate everything first: a bad table fails before any library is loaded.
  const signatures = new Map<string, KoffiSignature>();
  for (const [key, definition] of Object.entries(symbols)) {
    signatures.set(key, koffiSignature(key, definition));
  }
  const koffi = options.koffi ?? loadKoffi();
  let lib: KoffiLibrary;
  try {
    lib = koffi.load(path);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot load the native library "${path}": ${detail}`, { cause: err });
  }
  let closed = false;
  const bound: Record<string, unknown> = {};
  try {
    for (const [key, signature] of signatures) {
      const definition = symbols[key] as Deno.ForeignFunction;
      let fn: KoffiFunction;
      try {
        fn = lib.func(signature.name, signature.result, signature.parameters);
      } catch (err) {
        if (definition.optional) {
          bound[key] = null;
          continue;
        }
        const detail = err instanceof Error ? err.message : String(err);
        throw new Error(`Cannot bind the symbol "${signature.name}" of "${path}": ${detail}`, {
          cause: err,
        });
      }
      bound[key] = bindFunction(key, definition, fn, () => closed);
    }
  } catch (err) {
    lib.unload();
    throw err;
  }
  return {
    symbols: bound as Deno.StaticForeignLibraryInterface<S>,
    close() {
      if (closed) return;
      closed = true;
      lib.unload();
    },
  };
}

function bindFunction(
  key: string,
  definition: Deno.ForeignFunction,
  fn: KoffiFunction,
  isClosed: () => boolean,
): (...args: unknown[]) => unknown {
  const types = definition.parameters;
  const prepare = (args: unknown[]): unknown[] => {
    if (isClosed()) throw new Error(`Cannot call "${key}": its library was closed`);
    if (args.length !== types.length) {
      throw new TypeError(
        `Invalid call of "${key}" with ${args.length} arguments: expected ${types.length}`,
      );
    }
    return args.map((arg, i) => {
      const type = types[i];
      if (type === "buffer") return bufferArgument(arg, key, i);
      if (type === "pointer" || type === "function") return pointerArgument(arg, key, i);
      return arg;
    });
  };
  if (definition.nonblocking) {
    return (...args) =>
      new Promise((resolve, reject) => {
        fn.async(...prepare(args), (err: unknown, value: unknown) => {
          if (err) reject(err);
          else resolve(convertResult(definition.result, value));
        });
      });
  }
  return (...args) => convertResult(definition.result, fn(...prepare(args)));
}

/**
 * Node's `require`, for this module's folder. Taken through `nodeBuiltin` rather than imported,
 * so that Deno, which never needs koffi, does not load its Node module system.
 */
function nodeRequire(): (id: string) => unknown {
  const { createRequire } = nodeBuiltin("node:module") as typeof import("node:module");
  return createRequire(import.meta.url);
}
