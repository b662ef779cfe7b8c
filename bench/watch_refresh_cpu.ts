// CPU cost of one watch refresh (listing + diff) on the live machine: run it under a load,
// e.g. `node bench/loadgen.mjs --connections 5000 --processes 20 --ignore-stdin` for 10k sockets.
import process from "node:process";
import { listConnections } from "../core/list.ts";
import { createChangeTracker } from "../core/diff.ts";
import { defaultSource } from "../ffi/mod.ts";
// As `watch` lists: one source for every refresh (on Linux it keeps its fd-scan worker).
const source = await defaultSource({ repeated: true });
try {
  const tracker = createChangeTracker();
  const cache = {};
  let n = 0;
  await listConnections({ cache, source }).then((r) => tracker.update(r));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    const rows = await listConnections({ cache, source });
    n = rows.length;
    tracker.update(rows);
  }
  const c = process.cpuUsage(c0);
  const t = performance.now() - t0;
  console.log(
    JSON.stringify({
      rows: n,
      cpuMsPerRefresh: (c.user + c.system) / 1000 / 20,
      wallMsPerRefresh: t / 20,
    }),
  );
} finally {
  // The kept worker would keep the process alive.
  source.close?.();
}
