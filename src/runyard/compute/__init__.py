"""Running scripts as tracked runs: snapshots, the runner, and the targets (local, Ray)."""
