// Shared by the executable tests: starts the listener child and says which rows it must show.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Connection } from "../../core/record.ts";
import {
  type ChildSockets,
  type Endpoint,
  expectedEndpoints,
  startSocketChild,
} from "../_socket_child.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** procconn's Deno entry point. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** Starts the child that holds the known sockets (tests/_socket_child.ts). */
export const startListener = startSocketChild;

function endpointKey(e: Endpoint): string {
  return [
    e.protocol,
    e.family,
    e.localAddress,
    e.localPort,
    e.remoteAddress,
    e.remotePort,
    e.state,
  ].join(" ");
}

/** The rows in a stable order (by endpoint). */
export function sortRows(rows: readonly Connection[]): Connection[] {
  return [...rows].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
}

/**
 * Checks that each expected endpoint is among the rows, owned by the listener.
 *
 * @param rows The rows one run reported for the listener's pid.
 * @param sockets What the listener holds.
 * @param owner The owner's expected name and image path.
 */
export function assertListenerRows(
  rows: readonly Connection[],
  sockets: ChildSockets,
  owner: { name: string; path: string },
): void {
  const byKey = new Map(rows.map((r) => [endpointKey(r), r]));
  for (const endpoint of expectedEndpoints(sockets)) {
    const row = byKey.get(endpointKey(endpoint));
    assert.ok(row, `no row for ${endpointKey(endpoint)} among ${[...byKey.keys()].join(", ")}`);
    assert.equal(row.pid, sockets.pid);
    assert.equal(row.processName, owner.name);
    assert.equal(row.processPath, owner.path);
  }
}

/** Parses the JSON array `--format json` prints. */
export function parseRows(text: string, what: string): Connection[] {
  try {
    const rows = JSON.parse(text);
    assert.ok(Array.isArray(rows), `${what} printed no JSON array`);
    return rows;
  } catch (err) {
    throw new Error(`${what} printed no JSON: ${JSON.stringify(text.slice(0, 500))}`, {
      cause: err,
    });
  }
}
