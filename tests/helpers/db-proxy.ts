import { type AddressInfo, connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of the test database that a test takes down and brings back: while
 * down, every connection through it is cut and new ones are closed at once. The database is
 * away for the clients behind the proxy only, for real (sockets, not a stub), while the rest
 * of the run keeps using it.
 */
export async function dbProxy(dbUrl: string) {
  const target = new URL(dbUrl);
  let open = true;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!open) return client.destroy();
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
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const via = new URL(dbUrl);
  via.port = String((server.address() as AddressInfo).port);
  const down = () => {
    open = false;
    for (const s of sockets) s.destroy();
  };
  return {
    /** The database URL through the proxy. */
    url: via.toString(),
    down,
    up: () => void (open = true),
    close: () => new Promise<void>((r) => (down(), server.close(() => r()))),
  };
}
