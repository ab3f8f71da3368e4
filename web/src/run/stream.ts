/** The open run's live events, fanned out to the tabs that show them. */
import { createContext } from "preact";
import { useContext, useEffect } from "preact/hooks";

export interface MetricEvent {
  name: string;
  column: string;
  kind: string;
  steps: number[];
  values: unknown[];
  times: number[];
  /** Sequence number of the last point (the stream's resume cursor). */
  last_seq?: number | null;
}

export interface LogEvent {
  stream: string;
  lines: string[];
  first: number;
}

export interface StatusEvent {
  status: string;
  error: { code: string; message: string } | null;
}

interface Events {
  metric: MetricEvent;
  log: LogEvent;
  status: StatusEvent;
}

/** A small publish/subscribe hub: one EventSource per run page, many listeners. */
export class RunStream {
  private listeners: { [K in keyof Events]: Set<(event: Events[K]) => void> } = {
    metric: new Set(),
    log: new Set(),
    status: new Set(),
  };

  on<K extends keyof Events>(kind: K, listener: (event: Events[K]) => void): () => void {
    const set = this.listeners[kind] as Set<(event: Events[K]) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof Events>(kind: K, event: Events[K]): void {
    for (const listener of this.listeners[kind] as Set<(event: Events[K]) => void>) listener(event);
  }
}

export const RunStreamContext = createContext<RunStream>(new RunStream());

/** Call `listener` for each live event of a kind while the component is mounted. */
export function useRunEvent<K extends keyof Events>(kind: K, listener: (event: Events[K]) => void, keys: unknown[] = []): void {
  const stream = useContext(RunStreamContext);
  useEffect(() => stream.on(kind, listener), [stream, ...keys]);
}
