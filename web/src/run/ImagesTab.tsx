/** The run's logged images (files and matplotlib figures), newest first; click to enlarge. */
import { useEffect, useState } from "preact/hooks";
import { fileUrl } from "../api/files";
import { getSeries, listMetrics } from "../api/metrics";
import type { RunDocument } from "../api/runs";
import { useAsync } from "../app/useAsync";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { useRunEvent } from "./stream";

interface Image {
  name: string;
  step: number;
  time: number;
  file: string;
}

async function loadImages(runId: string, signal: AbortSignal): Promise<Image[]> {
  const names = (await listMetrics(runId, signal)).filter((m) => m.kind === "image").map((m) => m.name);
  if (!names.length) return [];
  const series = await getSeries(runId, names, signal);
  const images: Image[] = [];
  for (const s of series) {
    s.values.forEach((value, i) => {
      if (typeof value === "string") images.push({ name: s.name, step: s.steps[i] ?? i, time: s.times[i] ?? 0, file: value });
    });
  }
  return images.sort((a, b) => b.time - a.time || b.step - a.step);
}

export function ImagesTab({ run }: { run: RunDocument }) {
  const [images, , reload] = useAsync((signal) => loadImages(run.runId, signal), [run.runId]);
  const [open, setOpen] = useState<Image | null>(null);
  useRunEvent("metric", (event) => event.kind === "image" && reload(), [run.runId]);
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") setOpen(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);

  if (images.state === "loading") return <Loading what="images" />;
  if (images.state === "error") return <ErrorNote error={images.error} what="images" />;
  if (images.value.length === 0) return <p class="empty">This run logged no images.</p>;
  return (
    <>
      <ul class="gallery" data-testid="image-gallery">
        {images.value.map((image) => (
          <li key={image.file}>
            <figure class="card gallery-item">
              <button type="button" class="image-button" onClick={() => setOpen(image)} aria-label={`Enlarge ${image.name}, step ${image.step}`}>
                <img src={fileUrl(run.runId, image.file)} alt={`${image.name} at step ${image.step}`} loading="lazy" />
              </button>
              <figcaption>
                <span class="image-name">{image.name}</span>
                <span class="muted">step {image.step}</span>
              </figcaption>
            </figure>
          </li>
        ))}
      </ul>
      {open ? (
        <div class="modal-backdrop" onClick={() => setOpen(null)}>
          <div class="modal modal-image" role="dialog" aria-modal="true" aria-label={`${open.name}, step ${open.step}`} onClick={(e) => e.stopPropagation()}>
            <div class="card-head">
              <h2>
                {open.name} <span class="muted">step {open.step}</span>
              </h2>
              <button type="button" class="btn btn-small" onClick={() => setOpen(null)} autoFocus>
                Close
              </button>
            </div>
            <img src={fileUrl(run.runId, open.file)} alt={`${open.name} at step ${open.step}`} data-testid="enlarged-image" />
            <p class="muted mono small">{open.file}</p>
          </div>
        </div>
      ) : null}
    </>
  );
}
