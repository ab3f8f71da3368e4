/** The run page (charts, Markdown) loads on first use, keeping the first load small. */
import { useEffect, useState } from "preact/hooks";
import type { FunctionComponent } from "preact";
import type { View } from "../app/url";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { loadRunPage } from "../app/boot";

type RunView = Extract<View, { page: "run" }>;
let loaded: FunctionComponent<{ view: RunView }> | null = null;

export function LazyRunPage({ view }: { view: RunView }) {
  const [page, setPage] = useState(() => loaded);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (page) return;
    loadRunPage().then(
      (module) => {
        loaded = module.RunPage;
        setPage(() => module.RunPage);
      },
      (caught: unknown) => setError(caught),
    );
  }, []);
  if (error) return <ErrorNote error={error} what="the run page" />;
  if (!page) return <Loading what="the run" />;
  const Page = page;
  return <Page view={view} />;
}
