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
