"""Online mode with a server that restarts: no mutation raises, none is lost, and they
arrive in the order they were made; only reads say the server is away."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from runyard import Experiment, Run, TransportError, Workspace
from runyard.sdk.workspace import close_all
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow


def test_mutations_while_the_server_restarts_are_spooled_and_delivered_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    store = f"sqlite:///{tmp_path / 'runyard.db'}"
    server = ServerProcess(store, tmp_path / "artifacts").start(120)
    again = ServerProcess(store, tmp_path / "artifacts")
    again.port, again.url = server.port, server.url
    model = tmp_path / "model.bin"
    model.write_bytes(bytes(range(256)) * 40)
    picture = tmp_path / "plot.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    try:
        ws = Workspace("restarts", server_url=server.url)
        run = Experiment(ws, "restart").start_logging()
        run.tag("stage", "before")
        server.kill()
        # Training goes on: none of these may raise.
        for i in range(1000):
            run.log("x", float(i))
        run.tag("stage", "one")
        run.set_tags({"stage": "two", "temp": "x", "keep": "y"})
        run.remove_tags("temp")
        run.add_properties({"seed": "42"})
        run.display_name = "restarted run"
        run.description = "logged across a server restart"
        run.upload_file("outputs/model.bin", str(model))
        model.write_bytes(b"changed after the call")  # the spooled copy is what counts
        run.upload_file("outputs/notes.txt", io.BytesIO(b"notes"))
        run.log_image("plot", path=str(picture))
        with pytest.raises(TransportError):
            run.get_tags()  # a read needs the answer: it may raise
        again.start(120)
        run.complete()
        close_all()
        found = Run.get(Workspace("restarts", server_url=again.url), run.id)
        assert found.get_tags() == {"stage": "two", "keep": "y"}
        assert found.get_properties()["seed"] == "42"
        assert found.display_name == "restarted run"
        assert found.description == "logged across a server restart"
        assert found.get_status() == "Completed"
        assert found.get_metrics("x")["x"] == [float(i) for i in range(1000)]
        names = found.get_file_names()
        assert "outputs/model.bin" in names and "outputs/notes.txt" in names
        assert any(n.startswith("images/plot_") for n in names)
        target = found.download_file("outputs/model.bin", tmp_path / "back.bin")
        assert target.read_bytes() == bytes(range(256)) * 40
        files = list((tmp_path / "spool").rglob("files/*"))
        assert files == [], f"spooled copies left behind: {files}"
    finally:
        close_all()
        server.stop()
        again.stop()


def test_a_mutation_made_while_the_server_is_up_still_raises_its_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_server: object
) -> None:
    """Spooling is for an unreachable server only: a refusal is the caller's to see."""
    from runyard import ImmutablePropertyError

    monkeypatch.setenv("RUNYARD_SPOOL_DIR", str(tmp_path / "spool"))
    url = shared_server("sqlite")  # type: ignore[operator]
    run = Experiment(Workspace("refusals", server_url=url), "refuse").start_logging()
    run.add_properties({"seed": "1"})
    with pytest.raises(ImmutablePropertyError):
        run.add_properties({"seed": "2"})
    run.complete()
    close_all()
