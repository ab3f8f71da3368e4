/** Load data for a component, re-loading when its keys change, dropping stale answers. */
import { useEffect, useRef, useState } from "preact/hooks";

export type Async<T> = { state: "loading" } | { state: "error"; error: unknown } | { state: "done"; value: T };

/**
 * The result of `load`, run again whenever `keys` change (then showing "loading") or when
 * `reload` is called (then keeping the old value on screen until the new one is there).
 */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  keys: unknown[],
): [Async<T>, (value: T) => void, () => void] {
  const [result, setResult] = useState<Async<T>>({ state: "loading" });
  const [generation, setGeneration] = useState(0);
  const loadedKeys = useRef<string | null>(null);
  const keyText = JSON.stringify(keys);
  useEffect(() => {
    const controller = new AbortController();
    const sameKeys = loadedKeys.current === keyText;
    loadedKeys.current = keyText;
    if (!sameKeys) setResult({ state: "loading" });
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setResult({ state: "done", value });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setResult({ state: "error", error });
      },
    );
    return () => controller.abort();
  }, [keyText, generation]);
  return [result, (value: T) => setResult({ state: "done", value }), () => setGeneration((g) => g + 1)];
}

/** The current time, ticking every `ms` while `active` (live durations). */
export function useNow(active: boolean, ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return now;
}
