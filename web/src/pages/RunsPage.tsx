/** An experiment's runs: filters, chosen metric columns and the virtualized runs table. */
import { getExperiment } from "../api/experiments";
import { useStudio } from "../app/context";
import { useAsync } from "../app/useAsync";
import { updateRunsView, type QueryUpdate, type RunsQuery } from "../app/url";
import { Link } from "../components/Link";
import { RunFilters } from "../runs/RunFilters";
import { RunsTable } from "../runs/RunsTable";
import { formatTime } from "../format/values";

export function RunsPage({ experiment, query }: { experiment: string; query: RunsQuery }) {
  const { navigate } = useStudio();
  const [info] = useAsync(() => getExperiment(experiment), [experiment]);
  const change = (update: QueryUpdate, replace = false): void =>
    navigate((current) => updateRunsView(current, experiment, update), { replace });
  return (
    <section aria-labelledby="runs-title">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <Link to={{ page: "experiments", archived: false }}>Experiments</Link>
        <span aria-hidden="true">›</span>
        <span>{experiment}</span>
      </nav>
      <div class="page-head">
        <div>
          <h1 id="runs-title">{experiment}</h1>
          {info.state === "done" ? (
            <p class="muted">
              {info.value.runCount.toLocaleString()} runs · {info.value.activeRunCount.toLocaleString()} active · created{" "}
              {formatTime(info.value.createdUtc)}
              {info.value.archived ? " · archived" : ""}
            </p>
          ) : null}
        </div>
      </div>
      <RunFilters experiment={experiment} query={query} onChange={change} />
      <RunsTable experiment={experiment} query={query} onSort={(sort) => change({ ...query, sort })} label={`Runs of ${experiment}`} />
    </section>
  );
}
