"""What the browser tests look at, logged through the SDK into a real server."""

from __future__ import annotations

import io
import math
import struct
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from runyard import Experiment, Run, ScriptRunConfig, Workspace

EXPERIMENT = "studio-e2e"
INJECT_EXPERIMENT = "studio-inject"
#: Strings that would run script if any page put them in as HTML or a link.
INJECTIONS = (
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'; alert('img')\">",
    "[click me](javascript:window.__pwned='md';alert('md'))",
    "javascript:alert('href')",
)


def tiny_png(width: int = 24, height: int = 24) -> bytes:
    """A small gradient PNG, made without any imaging library."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 10 % 256, y * 10 % 256, 160))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class Seeded:
    """Run ids the tests open."""

    every_kind: str = ""
    failed: str = ""
    sweep: list[str] = field(default_factory=list)
    submitted: str = ""
    injected: str = ""


def log_every_kind(exp: Experiment, image_path: Path) -> Run:
    """A run with every metric kind, an image, files, tags, properties and children."""
    run = exp.start_logging(display_name="every metric kind")
    run.description = "Logs **every** kind of metric."
    run.log("message", "Hello from run!")
    for i in range(-10, 10):
        run.log("Sigmoid", 1 / (1 + math.exp(-i)))
    for value in (1.0, math.nan, math.inf, -math.inf, 0.5):
        run.log("with non-finite", value)
    run.log_list("Fibonacci", [0, 1, 1, 2, 3, 5, 8, 13, 21, 34])
    sines: dict[str, list[float]] = {"angle": [], "sine": []}
    for i in range(10):
        angle = i / 2.0
        run.log_row("Cosine Wave", angle=angle, cos=math.cos(angle))
        sines["angle"].append(angle)
        sines["sine"].append(math.sin(angle))
    run.log_table("Sine Wave", sines)
    run.log_image("gradient", path=str(image_path), description="a generated image")
    run.log_confusion_matrix(
        "confusion",
        {
            "schema_type": "confusion_matrix",
            "data": {"class_labels": ["cat", "dog"], "matrix": [[40, 2], [5, 53]]},
        },
    )
    run.log_accuracy_table(
        "accuracy",
        {
            "schema_type": "accuracy_table",
            "data": {
                "probability_tables": [
                    [[50, 50, 0, 0], [40, 10, 5, 45], [0, 0, 50, 50]],
                    [[50, 50, 0, 0], [30, 20, 10, 40], [0, 0, 50, 50]],
                ],
                "percentile_tables": [
                    [[50, 50, 0, 0], [25, 25, 5, 45], [0, 0, 50, 50]],
                    [[50, 50, 0, 0], [20, 30, 10, 40], [0, 0, 50, 50]],
                ],
                "probability_thresholds": [0.0, 0.5, 1.0],
                "percentile_thresholds": [0.0, 50.0, 100.0],
                "class_labels": ["cat", "dog"],
            },
        },
    )
    run.log_residuals("residuals", {"data": {"bin_edges": [-1, 0, 1], "bin_counts": [4, 6]}})
    run.log_predictions(
        "predictions",
        {
            "data": {
                "bin_averages": [0.2, 0.8],
                "bin_errors": [0.05, 0.04],
                "bin_counts": [10, 12],
                "bin_edges": [0, 0.5, 1],
            }
        },
    )
    run.upload_file("outputs/notes.txt", io.BytesIO(b"first line\nsecond line\n"))
    run.upload_file("outputs/plots/gradient.png", io.BytesIO(tiny_png()))
    run.add_properties({"author": "studio-test"})
    run.tag("quality", "great run")
    for c in range(3):
        child = run.child_run(name=f"child {c}")
        child.log("child metric", c)
        child.complete()
    run.complete()
    return run


LIVE_SCRIPT = textwrap.dedent(
    """
    import math, time
    from runyard import Run

    run = Run.get_context()
    for step in range(3000):
        run.log("live_loss", math.exp(-step / 50))
        print(f"live line {step}", flush=True)
        time.sleep(0.2)
    """
)


def seed(server_url: str, folder: Path) -> Seeded:
    """Log the runs the browser tests look at; returns their ids."""
    ws = Workspace(server_url=server_url)
    exp = Experiment(ws, EXPERIMENT)
    seeded = Seeded()
    image = folder / "gradient.png"
    image.write_bytes(tiny_png())
    seeded.every_kind = log_every_kind(exp, image).id
    for i, lr in enumerate((0.3, 0.1, 0.03)):
        run = exp.start_logging(display_name=f"sweep lr={lr}")
        run.tag("lr", str(lr))
        for step in range(20):
            run.log("loss", (1 + i) * math.exp(-step / 5))
        run.complete()
        seeded.sweep.append(run.id)
    failed = exp.start_logging(display_name="broken run")
    failed.fail(error_details="ValueError: the data was empty")
    seeded.failed = failed.id
    return seeded


def submit_live_run(server_url: str, folder: Path) -> Run:
    """Submit a script that logs a metric point and a line every 0.2 s for ten minutes."""
    source = folder / "live-source"
    source.mkdir(exist_ok=True)
    (source / "train.py").write_text(LIVE_SCRIPT)
    (source / "README.md").write_text("# live training\n")
    ws = Workspace(server_url=server_url)
    return Experiment(ws, EXPERIMENT).submit(ScriptRunConfig(str(source), "train.py"))


def seed_injections(server_url: str) -> str:
    """A run whose every user field holds markup and script links; returns its id."""
    ws = Workspace(server_url=server_url)
    exp = Experiment(ws, INJECT_EXPERIMENT)
    run = exp.start_logging(display_name=INJECTIONS[0])
    run.description = "\n\n".join(INJECTIONS)
    for i, text in enumerate(INJECTIONS):
        run.tag(f"tag{i}", text)
        run.add_properties({f"prop{i}": text})
        run.log(f"metric {i} {text[:20]}", i)
        run.log(f"text{i}", text)
        run.upload_file(f"outputs/file{i}.txt", io.BytesIO(text.encode()))
    run.upload_file("outputs/<img src=x onerror=alert(1)>.txt", io.BytesIO(b"named badly"))
    lines = {"lines": list(INJECTIONS)}
    httpx.post(f"{server_url}/api/v1/workspaces/default/runs/{run.id}/logs/stdout", json=lines)
    child = run.child_run(name=INJECTIONS[1])
    child.complete()
    run.fail(error_details=INJECTIONS[1])
    return run.id
