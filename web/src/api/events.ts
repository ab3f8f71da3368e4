/** Server-sent event streams (`EventSource` sends the session cookie on same-origin URLs). */

export type Handlers = Record<string, (data: unknown) => void>;

export interface Reopen {
  /** Where a broken stream reopens (a run's stream: with its resume cursor). */
  url?: () => string;
  /** Called when a broken stream has reopened (a stateless stream: re-read what it shows). */
  reopened?: () => void;
}

/**
 * Listen to a stream's named events until the returned function is called. A stream that
 * breaks is reopened after a pause, at `reopen.url()` (so it goes on where it stopped); an
 * `end` event closes it for good.
 */
export function subscribe(url: string, handlers: Handlers, reopen: Reopen = {}): () => void {
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const open = (target: string, again: boolean): void => {
    source = new EventSource(target);
    if (again && reopen.reopened) {
      const announce = reopen.reopened;
      source.addEventListener("open", () => announce(), { once: true });
    }
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
      if (!stopped) timer = setTimeout(() => open(reopen.url ? reopen.url() : url, true), 2000);
    };
  };

  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
    source = null;
  };

  open(url, false);
  return stop;
}
