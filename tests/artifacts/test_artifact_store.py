"""The artifact store's behaviour, the same on a local folder and on a real (moto) S3."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pytest

from runyard.artifacts import ArtifactStore
from runyard.core.errors import ConflictError, NotFoundError, ValidationError
from runyard.core.limits import Limits

from .conftest import MotoS3

RUN = "experiments/12/runs/3f2a-run"
OTHER_RUN = "experiments/12/runs/3f2a-run-2"  # shares RUN's spelling as a string prefix
ALL_BYTES = bytes(range(256)) * 64


@dataclass
class Backend:
    """A store, and a way to see every file on its storage, inside its root or not."""

    kind: str
    store: ArtifactStore
    everything: Callable[[], list[str]]


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        storage = tmp_path / "storage"
        store = ArtifactStore(str(storage / "root"))
        return Backend(
            "local",
            store,
            lambda: sorted(
                p.relative_to(storage).as_posix() for p in storage.rglob("*") if p.is_file()
            ),
        )
    moto: MotoS3 = request.getfixturevalue("moto_s3")
    bucket = moto.create_bucket()
    store = ArtifactStore(f"s3://{bucket}/root", moto.storage_options)
    fs = fsspec.filesystem("s3", use_listings_cache=False, **moto.storage_options)
    return Backend(
        "s3", store, lambda: sorted(p.removeprefix(f"{bucket}/") for p in fs.find(bucket))
    )


@pytest.fixture
def store(backend: Backend) -> ArtifactStore:
    return backend.store


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_uploaded_file_reads_back_identically(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(ALL_BYTES)

    assert store.put_file(RUN, "outputs/model.bin", source) == "outputs/model.bin"

    assert store.read_bytes(RUN, "outputs/model.bin") == ALL_BYTES
    with store.open_read(RUN, "outputs/model.bin") as stream:
        assert stream.read(10) == ALL_BYTES[:10]
        assert stream.read() == ALL_BYTES[10:]
    store.get_file(RUN, "outputs/model.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == ALL_BYTES


def test_put_bytes_returns_the_normalised_name(store: ArtifactStore) -> None:
    assert store.put_bytes(RUN, "./logs//driver.txt", b"hello") == "logs/driver.txt"
    assert store.read_bytes(RUN, "logs/driver.txt") == b"hello"


def test_writing_again_replaces_the_content(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "metrics.json", b"long first version")
    store.put_bytes(RUN, "metrics.json", b"v2")

    assert store.read_bytes(RUN, "metrics.json") == b"v2"
    assert store.size(RUN, "metrics.json") == 2
    assert store.list_files(RUN) == ["metrics.json"]


def test_empty_file_round_trips(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "empty.txt", b"")
    assert store.exists(RUN, "empty.txt")
    assert store.size(RUN, "empty.txt") == 0
    assert store.read_bytes(RUN, "empty.txt") == b""


def test_backslashes_become_slashes(store: ArtifactStore) -> None:
    assert store.put_bytes(RUN, "outputs\\plots\\loss.png", b"png") == "outputs/plots/loss.png"

    assert store.list_files(RUN) == ["outputs/plots/loss.png"]
    assert store.read_bytes(RUN, "outputs\\plots\\loss.png") == b"png"


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../escape.txt", "a/../b.txt", "..\\x"])
def test_name_with_dotdot_is_rejected_and_nothing_written(backend: Backend, name: str) -> None:
    with pytest.raises(ValidationError, match=r"'\.\.'"):
        backend.store.put_bytes(RUN, name, b"data")
    assert backend.everything() == []


@pytest.mark.parametrize("name", ["/etc/passwd", "\\etc\\passwd", "C:\\x.txt", "c:x.txt"])
def test_absolute_name_rejected(backend: Backend, name: str) -> None:
    with pytest.raises(ValidationError, match="relative to the run"):
        backend.store.put_bytes(RUN, name, b"data")
    assert backend.everything() == []


@pytest.mark.parametrize("prefix", ["", "../other", "runs/../x", "runs//x", "/runs/x", "a b"])
def test_malformed_run_prefix_is_rejected(backend: Backend, prefix: str) -> None:
    with pytest.raises(ValidationError, match="run prefix"):
        backend.store.put_bytes(prefix, "x.txt", b"data")
    assert backend.everything() == []


def test_files_are_stored_under_root_and_run_prefix(backend: Backend) -> None:
    backend.store.put_bytes(RUN, "a/b.txt", b"x")
    assert backend.everything() == [f"root/{RUN}/a/b.txt"]


def test_list_files_is_recursive_and_sorted(store: ArtifactStore) -> None:
    for name in ["z.txt", "outputs/b/deep/c.txt", "outputs/a.txt", "A.txt", "outputs/b/a.txt"]:
        store.put_bytes(RUN, name, b"x")

    assert store.list_files(RUN) == [
        "A.txt",
        "outputs/a.txt",
        "outputs/b/a.txt",
        "outputs/b/deep/c.txt",
        "z.txt",
    ]


def test_list_files_under_a_folder_keeps_only_that_folder(store: ArtifactStore) -> None:
    for name in ["out/a.txt", "out/sub/b.txt", "outputs/c.txt", "out.txt"]:
        store.put_bytes(RUN, name, b"x")

    assert store.list_files(RUN, under="out") == ["out/a.txt", "out/sub/b.txt"]
    assert store.list_files(RUN, under="out\\sub/") == ["out/sub/b.txt"]
    assert store.list_files(RUN, under="out.txt") == []
    assert store.list_files(RUN, under="missing") == []


def test_list_files_of_a_run_without_files_is_empty(store: ArtifactStore) -> None:
    assert store.list_files(RUN) == []


def test_runs_do_not_see_each_others_files(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "mine.txt", b"1")
    store.put_bytes(OTHER_RUN, "theirs.txt", b"2")

    assert store.list_files(RUN) == ["mine.txt"]
    assert store.list_files(OTHER_RUN) == ["theirs.txt"]
    assert not store.exists(RUN, "theirs.txt")


def test_missing_file_raises_not_found(store: ArtifactStore, tmp_path: Path) -> None:
    target = tmp_path / "download" / "missing.txt"
    attempts: list[Callable[[], object]] = [
        lambda: store.read_bytes(RUN, "missing.txt"),
        lambda: store.open_read(RUN, "missing.txt"),
        lambda: store.size(RUN, "missing.txt"),
        lambda: store.get_file(RUN, "missing.txt", target),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError, match=r"missing\.txt"):
            attempt()
    assert not store.exists(RUN, "missing.txt")
    assert list(target.parent.iterdir()) == []  # a failed download leaves nothing behind


def test_a_folder_is_not_a_file(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes(RUN, "outputs/model.bin", b"x")

    assert not store.exists(RUN, "outputs")
    attempts: list[Callable[[], object]] = [
        lambda: store.read_bytes(RUN, "outputs"),
        lambda: store.open_read(RUN, "outputs"),
        lambda: store.size(RUN, "outputs"),
        lambda: store.get_file(RUN, "outputs", tmp_path / "outputs.bin"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError, match="outputs"):
            attempt()
    assert not (tmp_path / "outputs.bin").exists()


def test_exists_and_size_describe_a_stored_file(store: ArtifactStore) -> None:
    assert not store.exists(RUN, "data.csv")
    store.put_bytes(RUN, "data.csv", b"a,b\n1,2\n")
    assert store.exists(RUN, "data.csv")
    assert store.size(RUN, "data.csv") == 8


def test_put_file_of_a_missing_local_file_raises_not_found(
    backend: Backend, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        backend.store.put_file(RUN, "x.txt", tmp_path / "nope.txt")
    assert backend.everything() == []


def test_put_file_of_a_folder_is_rejected(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="put_folder"):
        backend.store.put_file(RUN, "x", tmp_path)
    assert backend.everything() == []


def test_put_folder_uploads_tree(store: ArtifactStore, tmp_path: Path) -> None:
    files = {"model.pt": b"weights", "plots/loss.png": b"png", "plots/deep/er/x.txt": b"x"}
    local = _tree(tmp_path / "outputs", files)

    names = store.put_folder(RUN, "outputs", local)

    expected = sorted(f"outputs/{relative}" for relative in files)
    assert names == expected
    assert store.list_files(RUN) == expected
    for relative, data in files.items():
        assert store.read_bytes(RUN, f"outputs/{relative}") == data


def test_put_folder_with_empty_name_prefix_uploads_to_the_run_root(
    store: ArtifactStore, tmp_path: Path
) -> None:
    local = _tree(tmp_path / "src", {"train.py": b"print()", "conf/a.yaml": b"a: 1"})
    assert store.put_folder(RUN, "", local) == ["conf/a.yaml", "train.py"]
    assert store.list_files(RUN) == ["conf/a.yaml", "train.py"]


def test_put_folder_of_an_empty_folder_uploads_nothing(backend: Backend, tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    assert backend.store.put_folder(RUN, "outputs", tmp_path / "empty") == []
    assert backend.everything() == []


def test_put_folder_with_a_bad_name_uploads_nothing(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    local = _tree(tmp_path / "outputs", {"a.txt": b"a", "b.txt": b"b"})
    with pytest.raises(ValidationError, match=r"'\.\.'"):
        store.put_folder(RUN, "../elsewhere", local)
    (local / "bad\x01name.txt").write_bytes(b"c")
    with pytest.raises(ValidationError, match="control character"):
        store.put_folder(RUN, "outputs", local)
    assert backend.everything() == []


def test_put_folder_of_a_missing_folder_raises_not_found(
    store: ArtifactStore, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        store.put_folder(RUN, "outputs", tmp_path / "nope")


def test_get_file_creates_parent_folders(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes(RUN, "outputs/model.bin", ALL_BYTES)
    target = tmp_path / "a" / "b" / "c" / "model.bin"

    store.get_file(RUN, "outputs/model.bin", str(target))

    assert target.read_bytes() == ALL_BYTES
    assert os.listdir(target.parent) == ["model.bin"]  # no temporary file left beside it


def test_get_file_replaces_an_existing_local_file(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes(RUN, "a.txt", b"new")
    target = tmp_path / "a.txt"
    target.write_bytes(b"old and longer")
    store.get_file(RUN, "a.txt", target)
    assert target.read_bytes() == b"new"


def test_delete_prefix_removes_only_that_run(store: ArtifactStore) -> None:
    store.put_bytes(RUN, "a.txt", b"1")
    store.put_bytes(RUN, "deep/b.txt", b"2")
    store.put_bytes(OTHER_RUN, "c.txt", b"3")

    store.delete_prefix(RUN)

    assert store.list_files(RUN) == []
    assert store.list_files(OTHER_RUN) == ["c.txt"]
    store.delete_prefix(RUN)  # deleting again, or a run that never had files, is fine


def test_name_at_the_length_limit_is_accepted_and_longer_rejected(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "root"), limits=Limits(max_file_name_length=12))
    assert store.put_bytes(RUN, "a/123456.txt", b"x") == "a/123456.txt"
    with pytest.raises(ValidationError, match="limit is 12"):
        store.put_bytes(RUN, "a/1234567.txt", b"x")


def test_local_root_folder_is_created(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet"
    ArtifactStore(str(root))
    assert root.is_dir()


def test_file_url_root_is_a_local_folder(tmp_path: Path) -> None:
    store = ArtifactStore((tmp_path / "root").as_uri())
    store.put_bytes(RUN, "a.txt", b"x")
    assert (tmp_path / "root" / RUN / "a.txt").read_bytes() == b"x"


def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "root"))
    source = _tree(tmp_path / "src", {"a.txt": b"a", "sub/b.txt": b"b"})
    store.put_bytes(RUN, "x.txt", b"x")
    store.put_file(RUN, "x.txt", source / "a.txt")
    store.put_folder(RUN, "out", source)

    on_disk = sorted(
        p.relative_to(tmp_path / "root" / RUN).as_posix()
        for p in (tmp_path / "root").rglob("*")
        if p.is_file()
    )
    assert on_disk == ["out/a.txt", "out/sub/b.txt", "x.txt"]


def test_leftover_of_an_interrupted_local_write_is_not_listed(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "root"))
    store.put_bytes(RUN, "out/a.txt", b"a")
    leftover = tmp_path / "root" / RUN / "out" / f".runyard-partial-{uuid.uuid4().hex}"
    leftover.write_bytes(b"half a fi")

    assert store.list_files(RUN) == ["out/a.txt"]


def test_local_file_and_folder_with_one_name_conflict(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "root"))
    store.put_bytes(RUN, "model", b"file")
    with pytest.raises(ConflictError, match=r"model/weights\.bin"):
        store.put_bytes(RUN, "model/weights.bin", b"x")
    store.put_bytes(RUN, "plots/loss.png", b"png")
    with pytest.raises(ConflictError, match="plots"):
        store.put_bytes(RUN, "plots", b"x")
    assert store.list_files(RUN) == ["model", "plots/loss.png"]


def test_any_fsspec_url_works() -> None:
    store = ArtifactStore(f"memory://runyard-test-{uuid.uuid4().hex}")
    store.put_bytes(RUN, "outputs/a.txt", b"a")
    assert store.list_files(RUN) == ["outputs/a.txt"]
    assert store.read_bytes(RUN, "outputs/a.txt") == b"a"
    store.delete_prefix(RUN)
    assert store.list_files(RUN) == []


def test_delete_file_removes_one_file_and_refuses_missing_ones_and_folders(
    store: ArtifactStore,
) -> None:
    store.put_bytes(RUN, "outputs/a.txt", b"a")
    store.put_bytes(RUN, "outputs/b.txt", b"b")
    store.put_bytes(OTHER_RUN, "outputs/a.txt", b"other")
    store.delete_file(RUN, "outputs/a.txt")
    assert store.list_files(RUN) == ["outputs/b.txt"]
    assert store.list_files(OTHER_RUN) == ["outputs/a.txt"]
    with pytest.raises(NotFoundError):
        store.delete_file(RUN, "outputs/a.txt")
    with pytest.raises(NotFoundError):
        store.delete_file(RUN, "outputs")
    with pytest.raises(ValidationError):
        store.delete_file(RUN, "../3f2a-run-2/outputs/a.txt")
    assert store.list_files(RUN) == ["outputs/b.txt"]
