/** A run's files (tree, sizes, download, preview) and its log streams. */
import { fileUrl, listFileTree, previewFile } from "../api/files";
import type { RunDocument } from "../api/runs";
import { useAsync } from "../app/useAsync";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { FileBrowser } from "./FileBrowser";
import { LogView } from "./LogView";

export function OutputsTab(props: { run: RunDocument; file: string | null; onFile: (name: string) => void; live: boolean }) {
  const runId = props.run.runId;
  const [files] = useAsync(() => listFileTree(runId), [runId, props.live]);
  return (
    <div class="outputs">
      <section aria-labelledby="logs-title" class="card">
        <h2 id="logs-title">Logs</h2>
        <LogView key={runId} runId={runId} live={props.live} />
      </section>
      <section aria-labelledby="files-title">
        <h2 id="files-title" class="section-title">
          Outputs
        </h2>
        {files.state === "loading" ? (
          <Loading what="files" />
        ) : files.state === "error" ? (
          <ErrorNote error={files.error} what="files" />
        ) : (
          <FileBrowser
            files={files.value}
            selected={props.file}
            onSelect={props.onFile}
            urlOf={(name) => fileUrl(runId, name)}
            preview={(name) => previewFile(runId, name)}
            testId="file-tree"
            label="Run files"
          />
        )}
      </section>
    </div>
  );
}
