/**
 * Column titles for field names.
 *
 * @module
 */

// The classic console-table titles for the common record fields; every other field gets a
// title derived from its name.
const TITLES: ReadonlyMap<string, string> = new Map([
  ["protocol", "Proto"],
  ["pid", "PID"],
  ["processName", "Process"],
  ["processPath", "Path"],
  ["parentPid", "Parent"],
  ["processStartTime", "Started"],
  ["userName", "User"],
  ["sessionId", "Session"],
  ["imageSha256", "SHA-256"],
  ["connectionCreated", "Created"],
  ["remoteHostName", "Remote Host"],
]);

// Shorter titles for a narrow table, used when a column's values leave no room for the whole
// title. Each still tells its column from the others (In from Out), which cutting the whole
// title with "…" would not ("Byte…  Byte…").
const SHORT_TITLES: ReadonlyMap<string, string> = new Map([
  ["family", "Fam"],
  ["localAddress", "Local"],
  ["localPort", "LPort"],
  ["remoteAddress", "Remote"],
  ["remotePort", "RPort"],
  ["processName", "Proc"],
  ["parentPid", "PPID"],
  ["processStartTime", "Start"],
  ["commandLine", "Cmd"],
  ["sessionId", "Sess"],
  ["services", "Svc"],
  ["connectionCreated", "Made"],
  ["bytesIn", "B In"],
  ["bytesOut", "B Out"],
  ["segmentsIn", "Seg In"],
  ["segmentsOut", "Seg Out"],
  ["remoteHostName", "Host"],
  ["unavailable", "Why"],
]);

/**
 * Returns the short title of a field for a narrow table, or undefined when it has none.
 *
 * @example
 * ```ts
 * import { shortFieldTitle } from "./_title.ts";
 * shortFieldTitle("bytesOut"); // "B Out"
 * ```
 */
export function shortFieldTitle(field: string): string | undefined {
  return SHORT_TITLES.get(field);
}

/**
 * Returns a readable title for a field: the common fields have fixed titles, any other camelCase,
 * snake_case or kebab-case name becomes capitalised words (`processStartTime` would read
 * `Process Start Time`, `remoteIPAddress` reads `Remote IP Address`).
 */
export function fieldTitle(field: string): string {
  const fixed = TITLES.get(field);
  if (fixed !== undefined) return fixed;
  const words = field
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter((w) => w !== "");
  if (words.length === 0) return field;
  return words.map((w) => w[0].toUpperCase() + w.slice(1)).join(" ");
}
