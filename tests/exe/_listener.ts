// The process the executable tests inspect: it holds a known set of sockets, prints them as one
// JSON line ({@linkcode ListenerSockets}), then keeps them open until its stdin closes.
//
//   deno run -A tests/exe/_listener.ts
import { createSocket } from "node:dgram";

/** What the listener prints: its pid and the local ports of the sockets it holds. */
export interface ListenerSockets {
  /** The listener's process id. */
  pid: number;
  /** TCP on 127.0.0.1: a listener and a client connected to it. */
  tcp4: { listenPort: number; clientPort: number };
  /** TCP on ::1, or null where the host has no IPv6 loopback. */
  tcp6: { listenPort: number; clientPort: number } | null;
  /** UDP bound to 127.0.0.1. */
  udp4: { port: number };
}

async function connectedPair(hostname: string) {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  const [client, accepted] = await Promise.all([
    Deno.connect({ hostname, port: listener.addr.port, transport: "tcp" }),
    listener.accept(),
  ]);
  return { listener, client, accepted };
}

async function optionalPair(hostname: string) {
  try {
    return await connectedPair(hostname);
  } catch {
    return null;
  }
}

function boundUdp(address: string) {
  const socket = createSocket("udp4");
  return new Promise<typeof socket>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, address, () => resolve(socket));
  });
}

if (import.meta.main) {
  const v4 = await connectedPair("127.0.0.1");
  const v6 = await optionalPair("::1");
  const udp = await boundUdp("127.0.0.1");
  const report: ListenerSockets = {
    pid: Deno.pid,
    tcp4: { listenPort: v4.listener.addr.port, clientPort: v4.client.localAddr.port },
    tcp6: v6 && { listenPort: v6.listener.addr.port, clientPort: v6.client.localAddr.port },
    udp4: { port: udp.address().port },
  };
  console.log(JSON.stringify(report));
  for await (const _ of Deno.stdin.readable) { /* hold the sockets until stdin closes */ }
  udp.close();
}
