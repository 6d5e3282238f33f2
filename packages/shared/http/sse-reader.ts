/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
  at: number;
}

/**
 * Reads an SSE response body, calling `onEvent` per event (comments and retry lines are
 * skipped), until the stream ends, `onEvent` returns true, or the body is cancelled.
 */
export async function readSse(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => boolean | void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const e: SseEvent = { id: null, event: "message", data: "", at: Date.now() };
        let hasData = false;
        for (const line of frame.split("\n")) {
          if (line.startsWith("id: ")) e.id = line.slice(4);
          else if (line.startsWith("event: ")) e.event = line.slice(7);
          else if (line.startsWith("data: ")) (e.data += line.slice(6), hasData = true);
        }
        if (hasData && onEvent(e) === true) return;
      }
    }
  } catch {
    // cancelled or aborted: the reader's caller decided to stop
  } finally {
    await reader.cancel().catch(() => {});
  }
}
