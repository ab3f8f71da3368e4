"""What `wait_for_completion(show_output=True)` prints: Azure's frame around the log lines.

RunId: <run id>
Web View: <the run's page>          (only when the workspace is on a server)

Streaming logs/stdout.txt
=========================
<lines, with a new "Streaming" header whenever another log file's lines begin>

Execution Summary
=================
RunId: <run id>
Web View: <the run's page>
"""

from __future__ import annotations

from urllib.parse import quote


def portal_url(server_url: str | None, run_id: str) -> str | None:
    """The run's page in the studio of its server (`/?run=ID`, the studio's URL of a run
    page); None for a workspace without a server."""
    if server_url is None:
        return None
    return f"{server_url.rstrip('/')}/?run={quote(run_id, safe='')}"


def _identity(run_id: str, url: str | None) -> str:
    lines = f"RunId: {run_id}\n"
    if url is not None:
        lines += f"Web View: {url}\n"
    return lines


class FramePrinter:
    """Prints the frame of one run's output, a log file's header when its lines begin."""

    def __init__(self, run_id: str, url: str | None) -> None:
        self.run_id = run_id
        self.url = url
        self._current: str | None = None

    def header(self) -> None:
        """The RunId / Web View lines before anything else."""
        print(_identity(self.run_id, self.url), flush=True)

    def line(self, stream: str, text: str) -> None:
        """One log line of `stream` (stdout, stderr, environment, …)."""
        if stream != self._current:
            title = f"Streaming logs/{stream}.txt"
            prefix = "" if self._current is None else "\n"
            print(f"{prefix}{title}\n{'=' * len(title)}\n", flush=True)
            self._current = stream
        print(text, flush=True)

    def summary(self) -> None:
        """The Execution Summary block after the last line."""
        print(
            f"\nExecution Summary\n=================\n{_identity(self.run_id, self.url)}",
            flush=True,
        )
