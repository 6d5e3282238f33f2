import { type AddressInfo, connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of the test database that a test takes down and brings back: down, it
 * cuts every connection through it and refuses new ones (ECONNREFUSED, as a stopped
 * Postgres does). The database is away for the clients behind the proxy only, for real
 * (sockets, not a stub), while the rest of the run keeps using it.
 */
export async function dbProxy(dbUrl: string) {
  const target = new URL(dbUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => s.destroy());
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const via = new URL(dbUrl);
  via.port = String(port);
  const down = () => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    return closed;
  };
  return {
    /** The database URL through the proxy. */
    url: via.toString(),
    down,
    up: () => listen(port),
    close: () => server.listening ? down() : Promise.resolve(),
  };
}
