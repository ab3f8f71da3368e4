"""Model versions' own copies of their files, on a local folder and on a real (moto) S3."""

from __future__ import annotations

from pathlib import Path

import pytest

from runyard.artifacts.models import copy_stored_files, put_local_files, staged_model
from runyard.core.errors import NotFoundError, ValidationError
from runyard.core.paths import model_prefix

from .test_artifact_store import Backend, backend  # noqa: F401  (the parametrized fixture)

RUN = "exp/run-1"


def seed_run(where: Backend) -> None:
    """A run holding outputs/model.pkl, outputs/sub/vocab.txt and outputs2/x."""
    for name, data in (
        ("outputs/model.pkl", b"weights"),
        ("outputs/sub/vocab.txt", b"vocab"),
        ("outputs2/x", b"not under outputs/"),
    ):
        where.store.put_bytes(RUN, name, data)


def test_a_file_is_copied_under_its_own_name(backend: Backend) -> None:  # noqa: F811
    seed_run(backend)

    with staged_model(backend.store, "ws", "clf") as staged:
        copy_stored_files(backend.store, RUN, "outputs/model.pkl", staged, "run 'run-1'")

    assert (staged.path, staged.files) == ("model.pkl", ["model.pkl"])
    assert staged.prefix == model_prefix("ws", "clf", staged.storage_key)
    assert backend.store.read_bytes(staged.prefix, "model.pkl") == b"weights"


def test_a_folder_keeps_its_name_and_only_its_own_files(backend: Backend) -> None:  # noqa: F811
    seed_run(backend)

    with staged_model(backend.store, "ws", "clf") as staged:
        copy_stored_files(backend.store, RUN, "outputs/", staged, "run 'run-1'")

    assert staged.files == ["outputs/model.pkl", "outputs/sub/vocab.txt"]
    assert backend.store.list_files(staged.prefix) == staged.files
    backend.store.put_bytes(RUN, "outputs/model.pkl", b"changed")
    assert backend.store.read_bytes(staged.prefix, "outputs/model.pkl") == b"weights"


def test_a_registration_that_fails_leaves_no_files(backend: Backend) -> None:  # noqa: F811
    seed_run(backend)
    before = backend.everything()

    with pytest.raises(RuntimeError), staged_model(backend.store, "ws", "clf") as staged:
        copy_stored_files(backend.store, RUN, "outputs", staged, "run 'run-1'")
        assert backend.store.list_files(staged.prefix) != []
        raise RuntimeError("the store refused the version")

    assert backend.everything() == before


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("outputs/missing", NotFoundError, "no file or folder 'outputs/missing'"),
        ("output", NotFoundError, "no file or folder"),
        ("../escape", ValidationError, "'..'"),
        ("", ValidationError, "must not be empty"),
    ],
)
def test_paths_a_run_does_not_hold_are_refused(
    backend: Backend,  # noqa: F811
    path: str,
    error: type[Exception],
    message: str,
) -> None:
    seed_run(backend)
    before = backend.everything()

    with pytest.raises(error, match=message), staged_model(backend.store, "ws", "m") as staged:
        copy_stored_files(backend.store, RUN, path, staged, "run 'run-1'")

    assert backend.everything() == before


def test_local_files_and_folders_are_uploaded_under_their_names(
    backend: Backend,  # noqa: F811
    tmp_path: Path,
) -> None:
    folder = tmp_path / "my_model"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")

    with staged_model(backend.store, "ws", "m") as staged:
        put_local_files(backend.store, folder, staged)

    assert (staged.path, staged.files) == ("my_model", ["my_model/a.txt", "my_model/sub/b.txt"])
    assert backend.store.read_bytes(staged.prefix, "my_model/sub/b.txt") == b"b"
