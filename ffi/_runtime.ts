/**
 * The few facts about the host runtime the OS backends need, for Deno and Node alike.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const deno = (globalThis as any).Deno as typeof Deno | undefined;

/** The runtime procconn runs on. */
export type RuntimeName = "deno" | "node";

/** Returns `deno` under Deno and `node` under Node. */
export function runtimeName(): RuntimeName {
  return deno?.version?.deno ? "deno" : "node";
}

/** Returns the OS name as Deno spells it (`linux`, `windows`, `darwin`, ...). */
export function osName(): string {
  if (deno?.build?.os) return deno.build.os;
  // deno-lint-ignore no-explicit-any
  const p = (globalThis as any).process?.platform as string | undefined;
  return p === "win32" ? "windows" : p ?? "unknown";
}

/**
 * Returns a Node built-in module through `process.getBuiltinModule`, for code that runs on both
 * runtimes: a static `import "node:..."` would make Deno load its Node compatibility layer even
 * where the module is never used.
 *
 * @param id The module, e.g. `node:fs`.
 * @returns The module.
 * @throws {Error} Where `process.getBuiltinModule` is missing (Node before 20.16).
 *
 * @example
 * ```ts ignore
 * import { nodeBuiltin } from "./_runtime.ts";
 * const fs = nodeBuiltin("node:fs") as typeof import("node:fs");
 * ```
 */
export function nodeBuiltin(id: string): unknown {
  // deno-lint-ignore no-explicit-any
  const builtin = (globalThis as any).process?.getBuiltinModule as
    | ((id: string) => unknown)
    | undefined;
  if (typeof builtin !== "function") {
    throw new Error(
      `Cannot load ${id}: process.getBuiltinModule is missing (procconn needs Node 20.16 or ` +
        "newer, or Deno)",
    );
  }
  return builtin(id);
}
