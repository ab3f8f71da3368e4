/**
 * What the entry script asks for before the app renders: the session, and the first data
 * of the page the URL names (the runs table's first page; a run, its metrics and their
 * chart histories, and the run page's code). Each read is claimed by the component that
 * would have made it (api/http.ts `prefetch`), so nothing waits for the session or for a
 * chunk of code before its data is on the way.
 */
import { prefetch, setWorkspace, wsPath } from "../api/http";
import { HISTORY_POINTS, historyUrl, isScalarChart, metricsUrl, type MetricInfo } from "../api/metrics";
import { firstPageRequest } from "../runs/request";
import type { View } from "./url";

const WORKSPACE_KEY = "runyard.workspace";

/** The workspace of the last session in this browser ("default" before any). */
export function rememberedWorkspace(): string {
  try {
    return window.localStorage.getItem(WORKSPACE_KEY) ?? "default";
  } catch {
    return "default";
  }
}

/** Keep the session's workspace for the next page load's early reads. */
export function rememberWorkspace(name: string): void {
  try {
    if (window.localStorage.getItem(WORKSPACE_KEY) !== name) window.localStorage.setItem(WORKSPACE_KEY, name);
  } catch {
    // private mode or storage refused: early reads then assume "default"
  }
}

/** The run page's code, loaded once (the lazy page and the entry script share it). */
export const loadRunPage = (): Promise<typeof import("../run/RunPage")> => import("../run/RunPage");

/** Start the reads the view will make; called once, before the first render. */
export function startEarlyReads(view: View): void {
  setWorkspace(rememberedWorkspace());
  prefetch("GET", "/api/v1/session");
  if (view.page === "runs") {
    prefetch("POST", wsPath("/runs/table"), firstPageRequest(view.experiment, view.query));
    prefetch("GET", wsPath(`/experiments/${encodeURIComponent(view.experiment)}`));
  } else if (view.page === "run") {
    void loadRunPage().catch(() => undefined);
    const runId = view.runId;
    prefetch("GET", wsPath(`/runs/${encodeURIComponent(runId)}`));
    if (view.tab !== "metrics") return;
    // The chart histories depend on the metric list: read them as soon as it is here.
    prefetch("GET", metricsUrl(runId)).then(
      async (response) => {
        if (!response.ok) return;
        const infos = (await response.clone().json()) as MetricInfo[];
        const charted = new Set<string>();
        for (const info of infos) {
          if (charted.has(info.name) || info.kind === "image") continue;
          charted.add(info.name);
          if (isScalarChart(info)) prefetch("GET", historyUrl(runId, info.name, info.column, HISTORY_POINTS));
        }
      },
      () => undefined,
    ).catch(() => undefined);
  }
}
