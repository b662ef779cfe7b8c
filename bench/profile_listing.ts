// Where one listing spends its time, stage by stage, on the live machine (run under a load).
import { createLinuxSource } from "../ffi/linux/engine.ts";
import { listConnections } from "../core/list.ts";
import { createFormatter } from "../formatters/mod.ts";
import { CONNECTION_FIELDS, FAMILIES, PROTOCOLS } from "../core/record.ts";

const source = createLinuxSource();
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - t;
    t = now;
    return ms.toFixed(0);
  };
  const sockets = await source.listSockets({ protocols: PROTOCOLS, families: FAMILIES });
  const tSockets = lap();
  const pids = new Set(sockets.flatMap((s) => s.pids));
  await source.describeProcesses(pids);
  const tDescribe = lap();
  const rows = await listConnections({ source });
  const tWhole = lap();
  const f = createFormatter("json", { fields: CONNECTION_FIELDS });
  let n = f.begin().length;
  for (const row of rows) n += f.record(row).length;
  n += f.end().length;
  const tJson = lap();
  console.log(
    `rows ${rows.length}: listSockets ${tSockets} ms, describe ${pids.size} pids ${tDescribe} ms, ` +
      `whole listing ${tWhole} ms, JSON ${tJson} ms (${(n / 1e6).toFixed(1)} MB)`,
  );
}
