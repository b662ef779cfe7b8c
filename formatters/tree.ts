/**
 * The process-tree view (`procconn tree`): each process under its parent, its endpoints beneath it.
 *
 * @module
 */
import type { Connection } from "../core/record.ts";
import type { ProcessNode } from "../core/tree.ts";
import { plural } from "./_cell.ts";
import { sanitize } from "./_width.ts";

function endpoint(address: string | null, port: number | null): string {
  if (address === null) return "*:*";
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function connectionLine(c: Connection): string {
  const remote = c.remoteAddress === null ? "" : ` -> ${endpoint(c.remoteAddress, c.remotePort)}`;
  const state = c.state ? `  ${c.state}` : "";
  return `${c.protocol}  ${endpoint(c.localAddress, c.localPort)}${remote}${state}`;
}

/**
 * Renders the tree as text with box-drawing branches. Endpoints without a known owner (a
 * `TIME_WAIT` socket, another user's socket read unelevated) follow under `(no owner)`, each
 * with its reason, so that the tree shows every endpoint a listing would.
 *
 * @param roots The root processes.
 * @param ownerless The endpoints whose `pid` is null, in listing order.
 * @returns The text, ending in a footer that counts the endpoints and the processes that hold
 *   them (`0 endpoints in 0 processes` alone when nothing was selected).
 *
 * @example
 * ```ts
 * import { renderTree } from "./tree.ts";
 * renderTree([{ pid: 1, name: "init", connections: [], children: [] }]);
 * // "init (1)\n0 endpoints in 0 processes\n"
 * ```
 */
export function renderTree(
  roots: readonly ProcessNode<Connection>[],
  ownerless: readonly Connection[] = [],
): string {
  const lines: string[] = [];
  let endpoints = ownerless.length;
  let holders = 0;
  const walk = (node: ProcessNode<Connection>, lead: string, branch: string, next: string) => {
    endpoints += node.connections.length;
    if (node.connections.length) holders++;
    const path = node.connections.find((c) => c.processPath)?.processPath;
    // Without a path, why there is none (as the table shows it), when an endpoint says.
    const why = path ? undefined : node.connections.find((c) => c.unavailable.processPath)
      ?.unavailable.processPath;
    // A name or path may hold a line break or an escape sequence (a process chooses its own name).
    const name = sanitize(node.name ?? "?");
    const after = path ? `  ${sanitize(path)}` : why ? `  <${why}>` : "";
    lines.push(`${lead}${branch}${name} (${node.pid})${after}`);
    const inner = lead + next;
    const bar = node.children.length ? "│  " : "   ";
    for (const c of node.connections) lines.push(`${inner}${bar}  ${connectionLine(c)}`);
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      walk(child, inner, last ? "└─ " : "├─ ", last ? "   " : "│  ");
    });
  };
  for (const root of roots) walk(root, "", "", "");
  if (ownerless.length) lines.push("(no owner)");
  for (const c of ownerless) {
    lines.push(`     ${connectionLine(c)}  <${c.unavailable.pid ?? "unknown"}>`);
  }
  lines.push(`${plural(endpoints, "endpoint")} in ${plural(holders, "process", "processes")}`);
  return lines.join("\n") + "\n";
}

/**
 * Renders the tree as JSON: an array of nested `{pid, name, connections, children}` objects.
 * Endpoints without a known owner follow in one last object whose `pid` and `name` are null
 * (each record's `unavailable.pid` says why).
 *
 * @param roots The root processes.
 * @param ownerless The endpoints whose `pid` is null.
 * @returns JSON text ending in a newline.
 */
export function renderTreeJson(
  roots: readonly ProcessNode<Connection>[],
  ownerless: readonly Connection[] = [],
): string {
  const nodes = ownerless.length
    ? [...roots, { pid: null, name: null, connections: ownerless, children: [] }]
    : roots;
  return JSON.stringify(nodes, null, 2) + "\n";
}
