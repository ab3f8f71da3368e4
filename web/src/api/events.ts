/** Server-sent event streams (`EventSource` sends the session cookie on same-origin URLs). */

export type Handlers = Record<string, (data: unknown) => void>;

/**
 * Listen to a stream's named events until the returned function is called. A stream that
 * breaks is reopened after a pause through `reopenUrl` (which should not replay what was
 * already received); an `end` event closes it for good.
 */
export function subscribe(url: string, handlers: Handlers, reopenUrl: string = url): () => void {
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const open = (target: string): void => {
    source = new EventSource(target);
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        const text = (event as MessageEvent<string>).data;
        let data: unknown;
        try {
          data = JSON.parse(text);
        } catch {
          return;
        }
        handle(data);
        if (name === "end") stop();
      });
    }
    if (!("end" in handlers)) {
      source.addEventListener("end", () => stop());
    }
    source.onerror = () => {
      source?.close();
      source = null;
      if (!stopped) timer = setTimeout(() => open(reopenUrl), 2000);
    };
  };

  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
    source = null;
  };

  open(url);
  return stop;
}
