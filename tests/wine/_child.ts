// The process the Wine scenario inspects: it holds a known set of sockets, prints them as one
// JSON line ({@linkcode ChildSockets}), then keeps them open until its stdin closes.
//
//   deno run -A tests/wine/_child.ts
import { createSocket } from "node:dgram";

/** What the child prints: its pid and the local ports of each socket it holds. */
export interface ChildSockets {
  /** The child's process id (`Deno.pid`). */
  pid: number;
  /** TCP over IPv4 on 127.0.0.1: the listener, and the client connected to it. */
  tcp4: { listenPort: number; clientPort: number };
  /** TCP over IPv6 on ::1: the listener, and the client connected to it. */
  tcp6: { listenPort: number; clientPort: number };
  /** UDP over IPv4, bound to 127.0.0.1. */
  udp4: { port: number };
}

/** A listener with one client connected to it; both sides of the connection stay open. */
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
  const v6 = await connectedPair("::1");
  const udp = await boundUdp("127.0.0.1");
  const report: ChildSockets = {
    pid: Deno.pid,
    tcp4: { listenPort: v4.listener.addr.port, clientPort: v4.client.localAddr.port },
    tcp6: { listenPort: v6.listener.addr.port, clientPort: v6.client.localAddr.port },
    udp4: { port: udp.address().port },
  };
  console.log(JSON.stringify(report));
  // Hold everything until the parent closes our stdin (or goes away).
  for await (const _ of Deno.stdin.readable) { /* discard */ }
  for (const pair of [v4, v6]) {
    pair.client.close();
    pair.accepted.close();
    pair.listener.close();
  }
  udp.close();
}
