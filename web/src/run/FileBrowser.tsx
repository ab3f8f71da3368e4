/** A file tree with sizes and download links, and a preview of the chosen file. */
import { useEffect, useState } from "preact/hooks";
import type { FileEntry, Preview } from "../api/files";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { formatBytes } from "../format/values";
import { baseName, buildTree, type Folder } from "./tree";

function FolderView(props: {
  folder: Folder;
  selected: string | null;
  onSelect: (name: string) => void;
  urlOf: (name: string) => string;
}) {
  const { folder } = props;
  return (
    <ul class="tree-list" role="group">
      {folder.folders.map((sub) => (
        <li key={sub.path} role="treeitem" aria-expanded="true">
          <details open>
            <summary>
              <span class="folder-name">{sub.name}/</span>
              <span class="size">{formatBytes(sub.size)}</span>
            </summary>
            <FolderView {...props} folder={sub} />
          </details>
        </li>
      ))}
      {folder.files.map((file) => (
        <li key={file.name} role="treeitem" aria-selected={props.selected === file.name} class={props.selected === file.name ? "selected" : undefined}>
          <button type="button" class="file-button" onClick={() => props.onSelect(file.name)} title={file.name}>
            {baseName(file.name)}
          </button>
          <span class="size">{formatBytes(file.size)}</span>
          <a class="download" href={props.urlOf(file.name)} download={baseName(file.name)} aria-label={`Download ${file.name}`}>
            ⤓
          </a>
        </li>
      ))}
    </ul>
  );
}

export function FileBrowser(props: {
  files: FileEntry[];
  selected: string | null;
  onSelect: (name: string) => void;
  urlOf: (name: string) => string;
  preview: (name: string) => Promise<Preview>;
  testId: string;
  label: string;
}) {
  const tree = buildTree(props.files);
  const [preview, setPreview] = useState<{ name: string; value: Preview } | { name: string; error: unknown } | null>(null);
  useEffect(() => {
    const name = props.selected;
    if (!name) {
      setPreview(null);
      return;
    }
    let live = true;
    props.preview(name).then(
      (value) => live && setPreview({ name, value }),
      (error: unknown) => live && setPreview({ name, error }),
    );
    return () => {
      live = false;
    };
  }, [props.selected]);

  return (
    <div class="file-browser">
      <nav class="file-tree card" aria-label={props.label} data-testid={props.testId}>
        {props.files.length === 0 ? (
          <p class="muted">No files.</p>
        ) : (
          <div role="tree" aria-label={props.label}>
            <FolderView folder={tree} selected={props.selected} onSelect={props.onSelect} urlOf={props.urlOf} />
          </div>
        )}
      </nav>
      <section class="file-preview card" aria-label="File preview" data-testid="file-preview">
        {!props.selected ? (
          <p class="muted">Choose a file to preview it.</p>
        ) : !preview || preview.name !== props.selected ? (
          <Loading what={props.selected} />
        ) : "error" in preview ? (
          <ErrorNote error={preview.error} what={props.selected} />
        ) : (
          <>
            <div class="card-head">
              <h3 class="mono">{preview.value.name}</h3>
              <span class="muted">{formatBytes(preview.value.size)}</span>
              <a class="btn btn-small" href={props.urlOf(preview.value.name)} download={baseName(preview.value.name)}>
                Download
              </a>
            </div>
            {preview.value.kind === "image" ? (
              <img class="preview-image" src={props.urlOf(preview.value.name)} alt={preview.value.name} />
            ) : preview.value.kind === "text" ? (
              <>
                <pre class="code-block preview-text">{preview.value.text ?? ""}</pre>
                {preview.value.truncated ? <p class="muted">Only the start of the file is shown; download it for the rest.</p> : null}
              </>
            ) : (
              <p class="muted">Binary file ({preview.value.content_type}); download it to open it.</p>
            )}
          </>
        )}
      </section>
    </div>
  );
}
