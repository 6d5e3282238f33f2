import { readSse, type SseEvent } from "../../packages/shared/http/sse-reader.ts";

/** Opens an SSE stream and collects its events as they arrive. */
export async function openSse(url: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: ctrl.signal });
  const events: SseEvent[] = [];
  const done = res.ok && res.body ? readSse(res.body, (e) => void events.push(e)) : Promise.resolve();
  return {
    status: res.status,
    events,
    async waitFor(pred: (e: SseEvent) => boolean, ms: number): Promise<SseEvent | null> {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const hit = events.find(pred);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 25));
      }
      return events.find(pred) ?? null;
    },
    async close() {
      ctrl.abort();
      await done;
    },
  };
}
