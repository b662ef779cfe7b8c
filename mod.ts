/**
 * procconn: which process owns this connection?
 *
 * Lists every TCP and UDP endpoint, IPv4 and IPv6, with the process behind it (pid, name, path,
 * parent, start time), on Windows (IP Helper API through FFI) and Linux (procfs). Every record
 * satisfies one zod schema, {@linkcode ConnectionSchema}, whose JSON Schema ships in
 * `schema/connection.schema.json`.
 *
 * @example
 * ```ts
 * import { listConnections } from "./mod.ts";
 * const listeners = await listConnections({ protocols: ["TCP"], listening: true });
 * for (const c of listeners) console.log(c.localPort, c.pid, c.processName);
 * ```
 *
 * @module
 */
import { connectionSchema, type ConnectionSchemaType } from "./core/schema.ts";

/** The zod schema every connection record satisfies; its JSON Schema ships in `schema/`. */
export const ConnectionSchema: ConnectionSchemaType = connectionSchema();
export type { ConnectionSchemaType };

export type { HashResult, ImageHasher } from "./core/hash.ts";
export type { ResolveOptions, ResolveResult, ReverseResolver } from "./core/resolve.ts";
export {
  type EnrichmentCache,
  listConnections,
  type Listing,
  type ListOptions,
  openListing,
} from "./core/list.ts";
export {
  type Cidr,
  cidrContains,
  type FilterOptions,
  nameMatcher,
  parseCidr,
  type PortRange,
  type PortSpec,
} from "./core/filter.ts";
export { parseState } from "./core/states.ts";
export {
  type Connection,
  CONNECTION_FIELDS,
  EXPLAINABLE_FIELDS,
  type ExplainableField,
  FAMILIES,
  type Family,
  type Protocol,
  PROTOCOLS,
  type Reason,
  REASONS,
  TCP_STATES,
  type TcpState,
  validateConnection,
} from "./core/record.ts";
export {
  type EndpointColumns,
  type OtherNetwork,
  type ProcessField,
  type ProcessInfo,
  type ProcessSummary,
  type RawSocket,
  type RunningImage,
  type SocketQuery,
  type SocketRows,
  type SocketSource,
  type SocketStats,
  UnsupportedPlatformError,
} from "./core/source.ts";
export { defaultSource, type DefaultSourceOptions } from "./ffi/mod.ts";
export {
  createFormatter,
  type Format,
  type FormatOptions,
  FORMATS,
  type Formatter,
} from "./formatters/mod.ts";
export { VERSION } from "./version.ts";
