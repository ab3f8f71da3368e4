/** The source snapshot of a submitted run: its files, viewable, and the whole as a zip. */
import { ApiError } from "../api/http";
import type { RunDocument } from "../api/runs";
import { getSnapshot, previewSnapshotFile, snapshotFileUrl, snapshotZipUrl } from "../api/snapshots";
import { useAsync } from "../app/useAsync";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { formatBytes } from "../format/values";
import { FileBrowser } from "./FileBrowser";

export function SnapshotTab(props: { run: RunDocument; file: string | null; onFile: (name: string) => void }) {
  const runId = props.run.runId;
  const [snapshot] = useAsync(() => getSnapshot(runId), [runId]);
  if (snapshot.state === "loading") return <Loading what="the snapshot" />;
  if (snapshot.state === "error") {
    if (snapshot.error instanceof ApiError && snapshot.error.status === 404) {
      return <p class="empty">This run has no snapshot: only runs submitted from a source folder have one.</p>;
    }
    return <ErrorNote error={snapshot.error} what="the snapshot" />;
  }
  const total = snapshot.value.files.reduce((sum, f) => sum + f.size, 0);
  return (
    <div>
      <div class="toolbar">
        <p class="muted">
          {snapshot.value.files.length.toLocaleString()} files · {formatBytes(total)} · snapshot{" "}
          <span class="mono">{snapshot.value.snapshot_id.slice(0, 12)}</span>
        </p>
        <a class="btn" href={snapshotZipUrl(runId)} download={`${runId}-snapshot.zip`}>
          Download snapshot (zip)
        </a>
      </div>
      <FileBrowser
        files={snapshot.value.files}
        selected={props.file}
        onSelect={props.onFile}
        urlOf={(name) => snapshotFileUrl(runId, name)}
        preview={(name) => previewSnapshotFile(runId, name)}
        testId="snapshot-tree"
        label="Snapshot files"
      />
    </div>
  );
}
