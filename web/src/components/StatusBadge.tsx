/** A run's status as a coloured badge (colour and text, never colour alone). */
export function statusTone(status: string): string {
  switch (status) {
    case "Completed":
      return "ok";
    case "Failed":
      return "bad";
    case "Canceled":
    case "CancelRequested":
      return "muted";
    case "Running":
    case "Finalizing":
      return "live";
    case "NotResponding":
      return "warn";
    default:
      return "pending";
  }
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`status status-${statusTone(status)}`} data-testid="status-badge" data-status={status}>
      <span class="status-dot" aria-hidden="true" />
      {status}
    </span>
  );
}
