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
