// A TCP proxy in front of the server that delays every chunk by a fixed time
// in each direction (order preserved), to put one device on a slow link.
import net from "node:net";

export class LatencyProxy {
  static async start(server, delayMs) {
    const target = new URL(server.origin);
    const sockets = new Set();
    const relay = (from, to) => {
      from.on("data", chunk => setTimeout(() => to.writable && to.write(chunk), delayMs));
      from.on("close", () => setTimeout(() => to.destroy(), delayMs));
      from.on("error", () => {});
    };
    const listener = net.createServer(client => {
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      }
      relay(client, upstream);
      relay(upstream, client);
    });
    await new Promise(resolveListen => listener.listen(0, "127.0.0.1", resolveListen));
    return new LatencyProxy(listener, sockets);
  }

  constructor(listener, sockets) {
    this.listener = listener;
    this.sockets = sockets;
  }

  /** Same as FieldbookServer.syncUrl, through the proxy. */
  syncUrl(token) {
    return `ws://token:${encodeURIComponent(token)}@127.0.0.1:${this.listener.address().port}/sync`;
  }

  async close() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise(resolveClose => this.listener.close(() => resolveClose()));
  }
}
