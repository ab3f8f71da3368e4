"""Limits are checked where values are written, never where they are read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runyard import Experiment

_READER = """
import json, sys
from runyard import Run, Workspace

ws = Workspace.from_dict(json.loads(sys.argv[1]))
print(json.dumps(Run.get(ws, sys.argv[2]).get_metrics("message")), flush=True)
"""


def test_a_long_string_stored_by_one_process_is_readable_with_smaller_limits(
    experiment: Experiment, tmp_path: Path
) -> None:
    run = experiment.start_logging()
    text = "a" * 500
    run.log("message", text)
    run.complete()
    script = tmp_path / "reader.py"
    script.write_text(_READER)
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(experiment.workspace.to_dict()), run.id],
        capture_output=True,
        text=True,
        env={**os.environ, "RUNYARD_LIMIT_MAX_STRING_VALUE_LENGTH": "100"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"message": text}
