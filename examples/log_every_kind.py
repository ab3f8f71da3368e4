"""Log every kind of metric into the workspace (the local one by default) and print a summary.

Run it from anywhere: with no config.json around, runyard keeps the runs in ./.runyard.
"""

from __future__ import annotations

import io
import math
import struct
import zlib

from rich.console import Console
from rich.table import Table

from runyard import Experiment, Workspace


def _tiny_png(width: int = 32, height: int = 32) -> bytes:
    """A small gradient PNG, made without any imaging library."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 8 % 256, y * 8 % 256, 128))
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


def main() -> None:
    """Log one run with every metric kind and a child run, then print what was stored."""
    ws = Workspace.from_config()
    exp = Experiment(workspace=ws, name="explore-runs")
    with exp.start_logging(display_name="every metric kind") as run:
        run.log("message", "Hello from run!")
        for i in range(-10, 10):
            run.log(name="Sigmoid", value=1 / (1 + math.exp(-i)))
        run.log_list("Fibonacci", [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89])
        sines: dict[str, list[float]] = {"angle": [], "sine": []}
        for i in range(10):
            angle = i / 2.0
            run.log_row("Cosine Wave", angle=angle, cos=math.cos(angle))
            sines["angle"].append(angle)
            sines["sine"].append(math.sin(angle))
        run.log_table("Sine Wave", sines)
        image = io.BytesIO(_tiny_png())
        run.upload_file("inputs/gradient.png", image)
        run.download_file("inputs/gradient.png", ".runyard/gradient.png")
        run.log_image("gradient", path=".runyard/gradient.png", description="a generated image")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig = plt.figure()
            plt.plot(sines["angle"], sines["sine"])
            run.log_image("sine plot", plot=fig)
        except ImportError:
            pass
        run.log_confusion_matrix(
            "confusion",
            {
                "schema_type": "confusion_matrix",
                "data": {"class_labels": ["cat", "dog"], "matrix": [[40, 2], [5, 53]]},
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
        run.add_properties({"author": "azureml-user"})
        run.tag("quality", "great run")
        for c in range(3):
            with run.child_run(name=f"child {c}") as child:
                child.log(name="Hello from child run", value=c)

    table = Table(title=f"run {run.id} ({run.get_status()})")
    table.add_column("metric")
    table.add_column("value")
    for name, value in run.get_metrics().items():
        text = repr(value)
        table.add_row(name, text if len(text) < 70 else text[:67] + "...")
    console = Console()
    console.print(table)
    console.print(f"tags: {run.get_tags()}  properties: {run.get_properties()}")
    console.print(f"children: {[c.id for c in run.get_children()]}")
    console.print(f"runs in {exp.name}: {len(list(exp.get_runs()))}; store: {ws.store_url}")


if __name__ == "__main__":
    main()
