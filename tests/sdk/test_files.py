from pathlib import Path

import pytest

from runyard import Experiment, NotFoundError, ValidationError


def test_uploaded_file_downloads_identically(experiment: Experiment, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(bytes(range(256)) * 10)
    run = experiment.start_logging()
    assert run.upload_file("outputs/model.bin", str(source)) == "outputs/model.bin"
    target = run.download_file("outputs/model.bin", tmp_path / "copy.bin")
    assert target.read_bytes() == source.read_bytes()


def test_upload_folder_and_download_files_keep_the_tree(
    experiment: Experiment, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    run = experiment.start_logging()
    run.upload_folder("outputs", str(folder))
    assert run.get_file_names() == ["outputs/a.txt", "outputs/sub/b.txt"]
    written = run.download_files(prefix="outputs", output_directory=tmp_path / "dl")
    assert sorted(p.read_text() for p in written) == ["a", "b"]
    assert (tmp_path / "dl" / "outputs" / "sub" / "b.txt").read_text() == "b"
    run.download_files(prefix="outputs", output_directory=tmp_path / "flat", append_prefix=False)
    assert (tmp_path / "flat" / "sub" / "b.txt").read_text() == "b"


def test_upload_files_pairs_names_with_paths(experiment: Experiment, tmp_path: Path) -> None:
    paths = []
    for name in ("x", "y"):
        (tmp_path / name).write_text(name)
        paths.append(str(tmp_path / name))
    run = experiment.start_logging()
    run.upload_files(["files/x", "files/y"], paths)
    assert run.get_file_names() == ["files/x", "files/y"]
    with pytest.raises(ValidationError, match="as many names as paths"):
        run.upload_files(["only-one"], paths)


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a/../../b", "", "a\x00b"])
def test_file_names_that_escape_the_run_are_refused(
    experiment: Experiment, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    run = experiment.start_logging()
    with pytest.raises(ValidationError):
        run.upload_file(name, str(source))
    assert run.get_file_names() == []
    assert not (tmp_path / "escape.txt").exists()


def test_stream_upload(experiment: Experiment, tmp_path: Path) -> None:
    import io

    run = experiment.start_logging()
    run.upload_file("notes.txt", io.BytesIO(b"hello"))
    assert run.download_file("notes.txt", tmp_path).read_bytes() == b"hello"


def test_downloading_a_missing_file_says_which(experiment: Experiment, tmp_path: Path) -> None:
    run = experiment.start_logging()
    with pytest.raises(NotFoundError, match=r"nothing\.txt"):
        run.download_file("nothing.txt", tmp_path / "x")


def test_files_of_two_runs_are_kept_apart(experiment: Experiment, tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    a = experiment.start_logging()
    b = experiment.start_logging()
    a.upload_file("f.txt", str(source))
    assert a.get_file_names() == ["f.txt"]
    assert b.get_file_names() == []


def test_log_image_from_a_file_and_a_figure(experiment: Experiment, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    Image.new("RGB", (4, 4), "orange").save(tmp_path / "bread.jpg")
    fig = plt.figure()
    plt.plot([1, 2, 3])
    run = experiment.start_logging()
    run.log_image("food", path=str(tmp_path / "bread.jpg"), description="dessert")
    run.log_image("curve", plot=fig)
    plt.close(fig)
    metrics = run.get_metrics()
    assert metrics["food"].endswith(".jpg") and metrics["curve"].endswith(".png")
    png = run.download_file(metrics["curve"], tmp_path / "curve.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert Image.open(run.download_file(metrics["food"], tmp_path / "f.jpg")).size == (4, 4)


def test_log_image_refuses_non_images_and_ambiguous_calls(
    experiment: Experiment, tmp_path: Path
) -> None:
    (tmp_path / "data.csv").write_text("a,b")
    run = experiment.start_logging()
    with pytest.raises(ValidationError, match="not an image"):
        run.log_image("x", path=str(tmp_path / "data.csv"))
    with pytest.raises(ValidationError, match="either path= or plot="):
        run.log_image("x")
    with pytest.raises(ValidationError, match="no image file"):
        run.log_image("x", path=str(tmp_path / "missing.png"))
    assert run.get_metrics() == {}
