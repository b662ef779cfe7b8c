/**
 * Process trees: "this program and everything it spawned", safe against reused pids.
 *
 * @module
 */
import type { ProcessSummary } from "./source.ts";

/**
 * Tells whether `child` really descends from `parent` as far as start times can tell: a process
 * cannot start before its parent. When a parent exits and its pid is reused, the newer process
 * would otherwise adopt the orphan's children.
 */
function plausibleParent(parent: ProcessSummary, child: ProcessSummary): boolean {
  if (!parent.startTime || !child.startTime) return true;
  return Date.parse(child.startTime) >= Date.parse(parent.startTime);
}

/**
 * Returns the given processes and all their descendants.
 *
 * @param processes The process table.
 * @param roots The pids to start from.
 * @returns The roots and every descendant pid.
 *
 * @example
 * ```ts
 * import { descendantsOf } from "./tree.ts";
 * const table = [
 *   { pid: 1, parentPid: 0, name: "init", startTime: null },
 *   { pid: 10, parentPid: 1, name: "notepad++.exe", startTime: null },
 *   { pid: 11, parentPid: 10, name: "gup.exe", startTime: null },
 * ];
 * descendantsOf(table, [10]); // Set {10, 11}
 * ```
 */
export function descendantsOf(
  processes: readonly ProcessSummary[],
  roots: Iterable<number>,
): Set<number> {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const children = new Map<number, ProcessSummary[]>();
  for (const p of processes) {
    if (p.parentPid === null || p.parentPid === p.pid) continue;
    const list = children.get(p.parentPid);
    if (list) list.push(p);
    else children.set(p.parentPid, [p]);
  }
  const out = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    if (out.has(pid)) continue;
    out.add(pid);
    const self = byPid.get(pid);
    for (const child of children.get(pid) ?? []) {
      if (!self || plausibleParent(self, child)) stack.push(child.pid);
    }
  }
  return out;
}

/** A process in the tree view, with its endpoints and the children that have endpoints below them. */
export interface ProcessNode<Row> {
  /** Process id. */
  pid: number;
  /** Executable name, or null. */
  name: string | null;
  /** The endpoints this process owns. */
  connections: Row[];
  /** Child processes that own endpoints themselves or through their descendants. */
  children: ProcessNode<Row>[];
}

/**
 * Arranges endpoints under their processes, processes under their parents. Branches without any
 * endpoint are pruned; a process whose parent is unknown (or implausible) becomes a root, and so
 * does the process that would close a loop of parent ids.
 *
 * @param processes The process table.
 * @param rows Endpoints with their owning pid.
 * @returns The root nodes, ordered by pid.
 *
 * @example
 * ```ts
 * import { buildProcessTree } from "./tree.ts";
 * const roots = buildProcessTree(
 *   [{ pid: 1, parentPid: 0, name: "init", startTime: null },
 *    { pid: 5, parentPid: 1, name: "sshd", startTime: null }],
 *   [{ pid: 5, localPort: 22 }],
 * );
 * roots[0].children[0].name; // "sshd"
 * ```
 */
export function buildProcessTree<Row extends { pid: number | null }>(
  processes: readonly ProcessSummary[],
  rows: readonly Row[],
): ProcessNode<Row>[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const nodes = new Map<number, ProcessNode<Row>>();
  const node = (pid: number): ProcessNode<Row> => {
    let n = nodes.get(pid);
    if (!n) {
      n = { pid, name: byPid.get(pid)?.name ?? null, connections: [], children: [] };
      nodes.set(pid, n);
    }
    return n;
  };
  for (const row of rows) if (row.pid !== null) node(row.pid).connections.push(row);
  // Walk up from every owning process, creating the ancestors on the way.
  const roots = new Set<number>();
  const linked = new Set<number>();
  for (const pid of [...nodes.keys()]) {
    let current = pid;
    // The pids of this walk: parent ids can form a loop (a stale parent id after pid reuse, with
    // no start times to tell), and the process that would close it becomes a root instead.
    const path = new Set<number>();
    while (!linked.has(current)) {
      linked.add(current);
      path.add(current);
      const self = byPid.get(current);
      const parentPid = self?.parentPid;
      const parent = parentPid === null || parentPid === undefined || path.has(parentPid)
        ? undefined
        : byPid.get(parentPid);
      if (!parent || !plausibleParent(parent, self!)) {
        roots.add(current);
        break;
      }
      node(parent.pid).children.push(node(current));
      current = parent.pid;
    }
  }
  const sort = (list: ProcessNode<Row>[]) => {
    list.sort((a, b) => a.pid - b.pid);
    for (const n of list) sort(n.children);
    return list;
  };
  return sort([...roots].map((pid) => nodes.get(pid)!));
}
