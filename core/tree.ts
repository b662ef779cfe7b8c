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
