"""Snapshots of a source folder: what is taken, the content-based id, limits, safe unpacking."""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runyard import Experiment, LimitExceededError, ScriptRunConfig, ValidationError
from runyard.compute.snapshot import Snapshot, extract_snapshot, snapshot_directory
from runyard.core.limits import Limits
from tests.conftest import stop_runs

LIMITS = Limits()


def make_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create files (relative name -> content) under root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def take(source: Path, limits: Limits = LIMITS) -> Snapshot:
    """Snapshot a folder and delete the zip right away (only the listing and id are kept)."""
    snapshot = snapshot_directory(source, limits)
    with zipfile.ZipFile(snapshot.zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(snapshot.files)
    snapshot.zip_path.unlink()
    return snapshot


def test_runyardignore_rules_leave_files_out(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".runyardignore": "data/\n*.ckpt\n!keep.ckpt\n",
            "train.py": "print(1)",
            "data/big.csv": "1,2",
            "model.ckpt": "w",
            "keep.ckpt": "w",
            "pkg/util.py": "x = 1",
        },
    )
    assert sorted(take(tmp_path).files) == [
        ".runyardignore",
        "keep.ckpt",
        "pkg/util.py",
        "train.py",
    ]


def test_gitignore_is_used_when_there_is_no_runyardignore(tmp_path: Path) -> None:
    make_tree(tmp_path, {".gitignore": "*.log\n", "train.py": "", "out.log": "", "a/b.log": ""})
    assert sorted(take(tmp_path).files) == [".gitignore", "train.py"]


def test_runyardignore_wins_over_gitignore(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "data/\n",
            ".runyardignore": "*.log\n",
            "train.py": "",
            "data/x.csv": "1",
            "out.log": "",
        },
    )
    assert sorted(take(tmp_path).files) == [
        ".gitignore",
        ".runyardignore",
        "data/x.csv",
        "train.py",
    ]


def test_git_and_runyard_folders_are_never_taken(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "train.py": "",
            ".git/HEAD": "ref: refs/heads/main",
            ".git/objects/ab/cdef": "blob",
            ".runyard/config.json": '{"token": "secret"}',
            "vendored/lib/.git/config": "[core]",
            "sub/.runyard/runyard.db": "db",
        },
    )
    assert take(tmp_path).files == ["train.py"]


def test_git_and_runyard_folders_are_never_taken_even_if_the_ignore_file_negates_them(
    tmp_path: Path,
) -> None:
    make_tree(
        tmp_path,
        {
            ".runyardignore": "!.git/\n!.runyard/\n!.runyard/**\n",
            "train.py": "",
            ".git/HEAD": "ref: refs/heads/main",
            ".runyard/config.json": '{"token": "secret"}',
        },
    )
    assert sorted(take(tmp_path).files) == [".runyardignore", "train.py"]


def test_same_content_gives_the_same_snapshot_id_whatever_the_mtimes(tmp_path: Path) -> None:
    files = {"train.py": "print('hi')", "pkg/model.py": "W = 1", "data.bin": os.urandom(1000)}
    first = make_tree(tmp_path / "a", files)
    snapshot_a = take(first)
    old = time.time() - 86_400
    for path in first.rglob("*"):
        os.utime(path, (old, old))
    assert take(first).snapshot_id == snapshot_a.snapshot_id
    copy = make_tree(tmp_path / "elsewhere" / "b", files)
    assert take(copy).snapshot_id == snapshot_a.snapshot_id


def test_changed_content_or_name_gives_a_new_snapshot_id(tmp_path: Path) -> None:
    make_tree(tmp_path, {"train.py": "lr = 0.1", "util.py": "x = 1"})
    before = take(tmp_path).snapshot_id
    (tmp_path / "train.py").write_text("lr = 0.2")
    changed = take(tmp_path).snapshot_id
    assert changed != before
    (tmp_path / "util.py").rename(tmp_path / "utils.py")
    renamed = take(tmp_path).snapshot_id
    assert renamed not in (before, changed)
    (tmp_path / "new.py").write_text("")
    assert take(tmp_path).snapshot_id not in (before, changed, renamed)


def test_too_many_files_is_a_clear_limit_error(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"f{i}.txt": str(i) for i in range(5)})
    with pytest.raises(LimitExceededError) as caught:
        snapshot_directory(tmp_path, Limits(max_snapshot_files=3))
    message = str(caught.value)
    assert "more than 3 files" in message
    assert ".runyardignore" in message
    assert len(take(tmp_path, Limits(max_snapshot_files=5)).files) == 5


def test_too_many_bytes_is_a_clear_limit_error_naming_the_biggest_files(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {"train.py": "print(1)", "weights.bin": b"\0" * 3_000_000, "small.txt": "x"},
    )
    with pytest.raises(LimitExceededError) as caught:
        snapshot_directory(tmp_path, Limits(max_snapshot_bytes=2_000_000))
    message = str(caught.value)
    assert "the limit is 2 MB" in message
    assert "weights.bin (3.0 MB)" in message
    assert ".runyardignore" in message
    (tmp_path / ".runyardignore").write_text("*.bin\n")
    assert sorted(take(tmp_path, Limits(max_snapshot_bytes=2_000_000)).files) == [
        ".runyardignore",
        "small.txt",
        "train.py",
    ]


def test_a_missing_source_folder_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not a folder"):
        snapshot_directory(tmp_path / "nope", LIMITS)


def test_extract_gives_back_the_files_and_their_modes(tmp_path: Path) -> None:
    source = make_tree(
        tmp_path / "src", {"run.sh": "#!/bin/sh\necho hi\n", "pkg/a.py": "A = 1", "b.bin": b"\x00"}
    )
    (source / "run.sh").chmod(0o755)
    snapshot = snapshot_directory(source, LIMITS)
    try:
        names = extract_snapshot(snapshot.zip_path, tmp_path / "out", LIMITS)
    finally:
        snapshot.zip_path.unlink()
    assert sorted(names) == ["b.bin", "pkg/a.py", "run.sh"]
    for name in names:
        assert (tmp_path / "out" / name).read_bytes() == (source / name).read_bytes()
    assert os.access(tmp_path / "out" / "run.sh", os.X_OK)


@pytest.mark.parametrize("evil", ["../evil", "a/../../evil", "/tmp/evil-absolute"])
def test_extract_refuses_members_that_would_escape_the_folder(tmp_path: Path, evil: str) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(evil, b"pwned")
    target = tmp_path / "deep" / "target"
    with pytest.raises(ValidationError):
        extract_snapshot(archive, target, LIMITS)
    assert not (tmp_path / "deep" / "evil").exists()
    assert not (tmp_path / "evil").exists()
    assert not Path("/tmp/evil-absolute").exists()


# --- restore_snapshot of a submitted run ----------------------------------------------

SNAPSHOTTED = {
    ".runyardignore": "data/\n",
    "train.py": "print('trained')\n",
    "pkg/__init__.py": "",
    "pkg/model.py": "W = [1, 2, 3]\n",
}


@pytest.fixture
def submitted(experiment: Experiment, tmp_path: Path) -> Iterator[tuple[Experiment, Path]]:
    """A source folder with an ignored data/ folder; after the test, runners are waited for."""
    source = make_tree(
        tmp_path / "src",
        {**SNAPSHOTTED, "data/huge.csv": "1,2,3", ".runyard/config.json": "{}"},
    )
    yield experiment, source
    stop_runs(experiment)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "transport"), [("sqlite", "local"), ("postgres", "http")], indirect=True
)
def test_restore_snapshot_gives_back_exactly_the_snapshotted_files(
    submitted: tuple[Experiment, Path], tmp_path: Path
) -> None:
    experiment, source = submitted
    run = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
    definition = run.get_details()["runDefinition"]
    assert definition["snapshotFiles"] == len(SNAPSHOTTED)

    restored = Path(run.restore_snapshot(path=tmp_path / "restored"))
    found = sorted(p.relative_to(restored).as_posix() for p in restored.rglob("*") if p.is_file())
    assert found == sorted(SNAPSHOTTED)
    for name, content in SNAPSHOTTED.items():
        assert (restored / name).read_text() == content

    zipped = run.restore_snapshot(path=str(tmp_path / "snapshot.zip"))
    assert zipped == str(tmp_path / "snapshot.zip")
    with zipfile.ZipFile(zipped) as archive:
        assert sorted(archive.namelist()) == sorted(SNAPSHOTTED)
        assert archive.read("pkg/model.py").decode() == SNAPSHOTTED["pkg/model.py"]

    again = experiment.submit(ScriptRunConfig(source_directory=str(source), script="train.py"))
    assert again.get_details()["runDefinition"]["snapshotId"] == definition["snapshotId"]
    for each in (run, again):
        assert each.wait_for_completion(timeout_seconds=60)["status"] == "Completed"


@pytest.mark.parametrize(("backend", "transport"), [("sqlite", "local")], indirect=True)
def test_restore_snapshot_of_an_interactive_run_says_it_has_none(
    experiment: Experiment, tmp_path: Path
) -> None:
    with experiment.start_logging() as run:
        pass
    with pytest.raises(ValidationError, match="has no snapshot"):
        run.restore_snapshot(path=tmp_path / "x")
