import { ApiError } from "../api/http";

/** An error shown where the data would have been, as text. */
export function ErrorNote({ error, what }: { error: unknown; what: string }) {
  const message =
    error instanceof ApiError
      ? `${error.type}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <div class="note note-error" role="alert">
      <strong>Could not load {what}.</strong> {message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      Loading {what}…
    </div>
  );
}
