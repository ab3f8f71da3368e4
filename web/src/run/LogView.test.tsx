import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LogLine } from "../api/logs";
import { LogView } from "./LogView";
import { RunStream, RunStreamContext } from "./stream";

// What the server holds: lines per stream, as the live events deliver them.
let stored: Record<string, string[]> = {};

vi.mock("../api/logs", () => ({
  listStreams: () => Promise.resolve(Object.fromEntries(Object.entries(stored).map(([name, lines]) => [name, lines.length]))),
  readLines: (_runId: string, stream: string, after = -1, limit = 10000): Promise<LogLine[]> =>
    Promise.resolve(
      (stored[stream] ?? [])
        .map((line, seq) => ({ stream, seq, time: 0, line }))
        .filter((l) => l.seq > after)
        .slice(0, limit),
    ),
}));

/** Let pending promises settle and Preact render what they changed. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await act(async () => {
      await Promise.resolve();
    });
  }
}

function print(events: RunStream, stream: string, lines: string[]): void {
  const first = (stored[stream] ??= []).length;
  stored[stream].push(...lines);
  act(() => events.emit("log", { stream, first, lines }));
}

describe("LogView", () => {
  let root: HTMLElement;
  beforeEach(() => {
    root = document.createElement("div");
    document.body.append(root);
    stored = {};
  });
  afterEach(() => {
    render(null, root);
    root.remove();
  });

  const view = (): HTMLElement | null => root.querySelector<HTMLElement>("[data-testid=log-view]");

  it("selects the first stream a live run prints to and shows its lines as they arrive", async () => {
    const events = new RunStream();
    act(() =>
      render(
        <RunStreamContext.Provider value={events}>
          <LogView runId="r1" live={true} />
        </RunStreamContext.Provider>,
        root,
      ),
    );
    await settle();
    expect(view()?.textContent).toBe("Waiting for output…");

    print(events, "stdout", ["epoch 1"]);
    await settle();
    expect(view()?.dataset.stream).toBe("stdout");
    expect(view()?.textContent).toBe("epoch 1");

    print(events, "stdout", ["epoch 2", "epoch 3"]);
    await settle();
    expect(view()?.textContent).toBe("epoch 1\nepoch 2\nepoch 3");

    // Another stream is listed, not switched to.
    print(events, "stderr", ["warning"]);
    await settle();
    expect(view()?.dataset.stream).toBe("stdout");
    expect([...root.querySelectorAll("[role=tab]")].map((t) => t.textContent)).toEqual(["stderr", "stdout"]);
  });

  it("keeps the lines printed while the first read of a new stream is in flight", async () => {
    const events = new RunStream();
    act(() =>
      render(
        <RunStreamContext.Provider value={events}>
          <LogView runId="r3" live={true} />
        </RunStreamContext.Provider>,
        root,
      ),
    );
    await settle();
    // The first batch selects stdout and starts the read (which sees only "a")...
    print(events, "stdout", ["a"]);
    // ...and this batch arrives before that read's answer.
    print(events, "stdout", ["b"]);
    await settle();
    expect(view()?.textContent).toBe("a\nb");
  });

  it("selects stdout among the streams already written", async () => {
    stored.stderr = ["oops"];
    stored.stdout = ["hello"];
    act(() => render(<LogView runId="r2" live={false} />, root));
    await settle();
    expect(view()?.dataset.stream).toBe("stdout");
    expect(view()?.textContent).toBe("hello");
  });
});
