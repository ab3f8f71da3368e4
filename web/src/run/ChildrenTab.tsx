/** A run's child runs, in the same table as an experiment's runs. */
import { useState } from "preact/hooks";
import type { RunDocument } from "../api/runs";
import { emptyQuery, type RunsQuery } from "../app/url";
import { RunsTable } from "../runs/RunsTable";

export function ChildrenTab({ run }: { run: RunDocument }) {
  const [query, setQuery] = useState<RunsQuery>(emptyQuery());
  return (
    <RunsTable
      experiment={run.experimentName}
      query={query}
      parent={run.runId}
      onSort={(sort) => setQuery({ ...query, sort })}
      label={`Child runs of ${run.displayName || run.runId}`}
    />
  );
}
