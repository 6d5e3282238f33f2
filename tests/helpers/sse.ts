/** A Server-Sent Events reader over fetch, collecting events as they arrive. */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
  at: number;
}

export async function openSse(url: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: ctrl.signal });
  const events: SseEvent[] = [];
  const done = (async () => {
    if (!res.ok || !res.body) return;
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEvent = { id: null, event: "message", data: "", at: Date.now() };
          let data = false;
          for (const line of frame.split("\n")) {
            if (line.startsWith("id: ")) e.id = line.slice(4);
            else if (line.startsWith("event: ")) e.event = line.slice(7);
            else if (line.startsWith("data: ")) (e.data += line.slice(6), data = true);
          }
          if (data) events.push(e);
        }
      }
    } catch { /* aborted */ }
  })();
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
