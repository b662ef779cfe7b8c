/**
 * The process-tree view (`procconn tree`): each process under its parent, its endpoints beneath it.
 *
 * @module
 */
import type { Connection } from "../core/record.ts";
import type { ProcessNode } from "../core/tree.ts";
import { plural } from "./_cell.ts";

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
 * Renders the tree as text with box-drawing branches.
 *
 * @param roots The root processes.
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
export function renderTree(roots: readonly ProcessNode<Connection>[]): string {
  const lines: string[] = [];
  let endpoints = 0;
  let holders = 0;
  const walk = (node: ProcessNode<Connection>, lead: string, branch: string, next: string) => {
    endpoints += node.connections.length;
    if (node.connections.length) holders++;
    const path = node.connections.find((c) => c.processPath)?.processPath;
    lines.push(`${lead}${branch}${node.name ?? "?"} (${node.pid})${path ? `  ${path}` : ""}`);
    const inner = lead + next;
    const bar = node.children.length ? "│  " : "   ";
    for (const c of node.connections) lines.push(`${inner}${bar}  ${connectionLine(c)}`);
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      walk(child, inner, last ? "└─ " : "├─ ", last ? "   " : "│  ");
    });
  };
  for (const root of roots) walk(root, "", "", "");
  lines.push(`${plural(endpoints, "endpoint")} in ${plural(holders, "process", "processes")}`);
  return lines.join("\n") + "\n";
}

/**
 * Renders the tree as JSON: nested `{pid, name, connections, children}` objects.
 *
 * @param roots The root processes.
 * @returns JSON text ending in a newline.
 */
export function renderTreeJson(roots: readonly ProcessNode<Connection>[]): string {
  return JSON.stringify(roots, null, 2) + "\n";
}
