/**
 * A Server-Sent Events reader for tests (what a browser's EventSource does, without the reconnects): the response's
 * status and headers, then its events one by one (comments are counted, not yielded). `close()` aborts the request.
 */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface SseResponse {
  status: number;
  headers: Headers;
  events: AsyncIterable<SseEvent>;
  /** Comment lines (heartbeats) received so far. */
  readonly comments: number;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseResponse> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  let comments = 0;
  async function* events(): AsyncGenerator<SseEvent> {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: "message", data: "" };
          let isComment = true;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            isComment = false;
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") event.event = value;
            else if (field === "id") event.id = value;
            else if (field === "data") event.data = event.data ? `${event.data}\n${value}` : value;
          }
          if (isComment) comments++;
          else yield event;
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  }
  return {
    status: res.status,
    headers: res.headers,
    events: events(),
    get comments() {
      return comments;
    },
    close: () => abort.abort(),
  };
}
