// Shared by the executable tests: starts the listener child and says which rows it must show.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Connection } from "../../core/record.ts";
import type { ListenerSockets } from "./_listener.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The listener script. */
export const LISTENER = fileURLToPath(new URL("./_listener.ts", import.meta.url));
/** procconn's Deno entry point. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** A running listener child. */
export interface RunningListener {
  sockets: ListenerSockets;
  stop(): Promise<void>;
}

/** Starts tests/exe/_listener.ts with this Deno and waits for its JSON line. */
export async function startListener(): Promise<RunningListener> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", LISTENER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stdin.close().catch(() => {});
    try {
      child.kill();
    } catch {
      // Already gone: closing stdin let it finish.
    }
    await lines.cancel().catch(() => {});
    await child.status;
  };
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("The listener exited before reporting its sockets");
      text += value;
    }
    return { sockets: JSON.parse(text.slice(0, text.indexOf("\n"))), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The socket part of a row. */
export type Endpoint = Pick<
  Connection,
  "protocol" | "family" | "localAddress" | "localPort" | "remoteAddress" | "remotePort" | "state"
>;

/** The endpoints the listener holds, as records describe them. */
export function expectedEndpoints(s: ListenerSockets): Endpoint[] {
  const tcp = (
    family: "IPv4" | "IPv6",
    host: string,
    ports: { listenPort: number; clientPort: number },
  ): Endpoint[] => [
    {
      protocol: "TCP",
      family,
      localAddress: host,
      localPort: ports.listenPort,
      remoteAddress: null,
      remotePort: null,
      state: "LISTEN",
    },
    {
      protocol: "TCP",
      family,
      localAddress: host,
      localPort: ports.clientPort,
      remoteAddress: host,
      remotePort: ports.listenPort,
      state: "ESTABLISHED",
    },
    {
      protocol: "TCP",
      family,
      localAddress: host,
      localPort: ports.listenPort,
      remoteAddress: host,
      remotePort: ports.clientPort,
      state: "ESTABLISHED",
    },
  ];
  return [
    ...tcp("IPv4", "127.0.0.1", s.tcp4),
    ...(s.tcp6 ? tcp("IPv6", "::1", s.tcp6) : []),
    {
      protocol: "UDP",
      family: "IPv4",
      localAddress: "127.0.0.1",
      localPort: s.udp4.port,
      remoteAddress: null,
      remotePort: null,
      state: null,
    },
  ];
}

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
  sockets: ListenerSockets,
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
