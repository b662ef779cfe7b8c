// A child process holding a known set of sockets, for the tests that check how procconn reports
// another process's endpoints (the Windows tier under Wine and the executable tests). Run as a
// script it opens the sockets, prints them as one JSON line and holds them until stdin closes;
// imported, it starts itself as that child and describes the rows it must produce.
import { createSocket } from "node:dgram";
import { fileURLToPath } from "node:url";
import type { Connection } from "../core/record.ts";

/** What the child prints: its pid and the local ports of the sockets it holds. */
export interface ChildSockets {
  /** The child's process id. */
  pid: number;
  /** TCP on 127.0.0.1: a listener and a client connected to it. */
  tcp4: { listenPort: number; clientPort: number };
  /** The same on ::1, or null where the host has no IPv6 loopback. */
  tcp6: { listenPort: number; clientPort: number } | null;
  /** UDP bound to 127.0.0.1. */
  udp4: { port: number };
}

/** A started child. */
export interface RunningChild {
  /** What it holds. */
  sockets: ChildSockets;
  /** When it was spawned and when it reported its sockets (ms since the epoch). */
  spawnedAt: number;
  readyAt: number;
  /** Closes its stdin, ends it and waits for it. */
  stop(): Promise<void>;
}

/** The socket part of a row: what identifies one expected endpoint. */
export type Endpoint = Pick<
  Connection,
  "protocol" | "family" | "localAddress" | "localPort" | "remoteAddress" | "remotePort" | "state"
>;

const SCRIPT = fileURLToPath(import.meta.url);

/**
 * Starts this file as a child and waits for its JSON line.
 *
 * @param execPath The Deno executable to run it with: the running one unless given (a link to it
 *   under another name, to see how that name is reported).
 */
export async function startSocketChild(execPath = Deno.execPath()): Promise<RunningChild> {
  const spawnedAt = Date.now();
  const proc = new Deno.Command(execPath, {
    args: ["run", "-A", "--no-lock", SCRIPT],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = proc.stdin.getWriter();
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stdin.close().catch(() => {});
    try {
      proc.kill();
    } catch {
      // Already gone: closing stdin let it finish.
    }
    await lines.cancel().catch(() => {});
    await proc.status;
  };
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) {
        const { code } = await proc.status;
        throw new Error(`The child exited with code ${code} before reporting its sockets`);
      }
      text += value;
    }
    const sockets = JSON.parse(text.slice(0, text.indexOf("\n"))) as ChildSockets;
    return { sockets, spawnedAt, readyAt: Date.now(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The endpoints the child holds, as records describe them. */
export function expectedEndpoints(s: ChildSockets): Endpoint[] {
  const tcp = (
    family: "IPv4" | "IPv6",
    host: string,
    ports: { listenPort: number; clientPort: number },
  ): Endpoint[] => {
    const row = (localPort: number, remotePort: number | null): Endpoint => ({
      protocol: "TCP",
      family,
      localAddress: host,
      localPort,
      remoteAddress: remotePort === null ? null : host,
      remotePort,
      state: remotePort === null ? "LISTEN" : "ESTABLISHED",
    });
    return [
      row(ports.listenPort, null),
      row(ports.clientPort, ports.listenPort),
      row(ports.listenPort, ports.clientPort),
    ];
  };
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

async function connectedPair(hostname: string) {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  const [client, accepted] = await Promise.all([
    Deno.connect({ hostname, port: listener.addr.port, transport: "tcp" }),
    listener.accept(),
  ]);
  return { listener, client, accepted };
}

/** Binds a UDP socket; node:dgram because Deno.listenDatagram needs --unstable-net. */
function boundUdp(address: string) {
  const socket = createSocket("udp4");
  return new Promise<typeof socket>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, address, () => resolve(socket));
  });
}

if (import.meta.main) {
  const v4 = await connectedPair("127.0.0.1");
  const v6 = await connectedPair("::1").catch(() => null);
  const udp = await boundUdp("127.0.0.1");
  const report: ChildSockets = {
    pid: Deno.pid,
    tcp4: { listenPort: v4.listener.addr.port, clientPort: v4.client.localAddr.port },
    tcp6: v6 && { listenPort: v6.listener.addr.port, clientPort: v6.client.localAddr.port },
    udp4: { port: udp.address().port },
  };
  console.log(JSON.stringify(report));
  // Hold everything until the parent closes our stdin (or goes away).
  for await (const _ of Deno.stdin.readable) { /* discard */ }
  for (const pair of [v4, v6]) {
    pair?.client.close();
    pair?.accepted.close();
    pair?.listener.close();
  }
  udp.close();
}
