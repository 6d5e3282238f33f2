/**
 * A webhook receiver the suite controls: it records every request it sees by webhook-id
 * (arrival time, what it answered, whether the answer reached the sender) and answers as its
 * current mode says: ok (204), 500, 429 (Retry-After: 2), 410, or hang (holds the request
 * 30 s, then 200 if the sender is still there).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type ReceiverMode = "ok" | "500" | "429" | "410" | "hang";

export interface Seen {
  at: number;
  mode: ReceiverMode;
  /** The status the receiver sent, and whether it reached the sender (false: it hung up). */
  status: number | null;
  answered: boolean;
}

export interface Receiver {
  url: string;
  mode: ReceiverMode;
  /** webhook-id -> every request that carried it. */
  seen: Map<string, Seen[]>;
  close: () => Promise<void>;
}

/** `hangMs`: how long the hang mode holds a request (30 s; shorter in the suite's own unit test). */
export async function startReceiver(hangMs = 30_000): Promise<Receiver> {
  const seen = new Map<string, Seen[]>();
  const timers = new Set<NodeJS.Timeout>();
  const r = { mode: "ok" as ReceiverMode, seen } as Receiver;
  const server: Server = createServer((req, res) => {
    const id = String(req.headers["webhook-id"] ?? "");
    const rec: Seen = { at: Date.now(), mode: r.mode, status: null, answered: false };
    if (id) seen.set(id, [...(seen.get(id) ?? []), rec]);
    const answer = (status: number, headers: Record<string, string> = {}) => {
      if (res.destroyed || req.socket.destroyed) return; // the sender gave up
      rec.status = status;
      res.once("finish", () => {
        rec.answered = true;
      });
      res.writeHead(status, headers).end();
    };
    req.resume().on("end", () => {
      switch (rec.mode) {
        case "ok":
          return answer(204);
        case "500":
          return answer(500);
        case "429":
          return answer(429, { "retry-after": "2" });
        case "410":
          return answer(410);
        case "hang": {
          const t = setTimeout(() => {
            timers.delete(t);
            answer(200);
          }, hangMs);
          timers.add(t);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () =>
    new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

/** webhook-ids the receiver took (a 2xx that reached the sender) with the first such time. */
export function deliveredAt(r: Receiver): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, list] of r.seen) {
    const ok = list.filter((s) => s.answered && s.status !== null && s.status < 300);
    if (ok.length > 0) out.set(id, Math.min(...ok.map((s) => s.at)));
  }
  return out;
}

/** webhook-ids taken (2xx that reached the sender) more than once: true duplicates. */
export function duplicates(r: Receiver): number {
  let n = 0;
  for (const list of r.seen.values()) {
    if (list.filter((s) => s.answered && s.status !== null && s.status < 300).length > 1) n++;
  }
  return n;
}
