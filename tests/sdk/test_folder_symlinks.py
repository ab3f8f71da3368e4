"""`upload_folder` and snapshots take links that stay inside the folder and skip, with a
warning, links that leave it (a link to ~/.ssh/id_rsa must not upload the key)."""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

import pytest

from runyard import Experiment
from runyard.compute.snapshot import snapshot_directory
from runyard.core.limits import Limits

SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- not for upload"


def folder_with_links(tmp_path: Path) -> Path:
    """outputs/ with a file, an inside link, links to a file and a folder outside, and a
    link climbing out through '..'."""
    outside = tmp_path / "home" / ".ssh"
    outside.mkdir(parents=True)
    (outside / "id_rsa").write_bytes(SECRET)
    folder = tmp_path / "project" / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.txt").write_text("weights")
    (folder / "sub" / "alias.txt").symlink_to(folder / "model.txt")
    (folder / "relative.txt").symlink_to("sub/../model.txt")
    (folder / "id_rsa").symlink_to(outside / "id_rsa")
    (folder / "climb.txt").symlink_to("../../home/.ssh/id_rsa")
    (folder / "ssh").symlink_to(outside, target_is_directory=True)
    (folder / "broken").symlink_to(tmp_path / "nothing-here")
    return folder


def test_upload_folder_skips_links_that_leave_the_folder(
    experiment: Experiment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = folder_with_links(tmp_path)
    run = experiment.start_logging()

    with caplog.at_level(logging.WARNING, logger="runyard.files"):
        stored = run.upload_folder("outputs", str(folder))
    run.complete()

    expected = ["outputs/model.txt", "outputs/relative.txt", "outputs/sub/alias.txt"]
    assert stored == expected
    assert run.get_file_names() == expected
    assert (run.download_file("outputs/sub/alias.txt", tmp_path / "a.txt")).read_text() == (
        "weights"
    )
    warned = caplog.text
    assert "id_rsa" in warned and "climb.txt" in warned and "outside the folder" in warned
    for name in run.get_file_names():
        assert SECRET not in run.download_file(name, tmp_path / "check").read_bytes()


def test_snapshot_skips_links_that_leave_the_source_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = folder_with_links(tmp_path)
    (source / "train.py").write_text("print('hi')\n")

    with caplog.at_level(logging.WARNING, logger="runyard.snapshot"):
        snapshot = snapshot_directory(source, Limits())
    try:
        with zipfile.ZipFile(snapshot.zip_path) as archive:
            names = sorted(archive.namelist())
            contents = [archive.read(n) for n in names]
    finally:
        snapshot.zip_path.unlink()

    assert names == ["model.txt", "relative.txt", "sub/alias.txt", "train.py"]
    assert all(SECRET not in content for content in contents)
    assert "id_rsa" in caplog.text and "climb.txt" in caplog.text


def test_a_folder_reached_through_a_link_keeps_its_inside_links(
    experiment: Experiment, tmp_path: Path
) -> None:
    """The folder given may itself be a symlink: 'inside' means inside what it points to."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_text("a")
    (real / "b.txt").symlink_to(real / "a.txt")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    run = experiment.start_logging()

    stored = run.upload_folder("out", os.fspath(link))
    run.complete()

    assert stored == ["out/a.txt", "out/b.txt"]
