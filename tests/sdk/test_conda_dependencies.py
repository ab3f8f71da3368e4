"""CondaDependencies and Environment's package sources, as in Azure ML v1.

Reference: azureml.core.conda_dependencies.CondaDependencies (create, add_pip_package,
add_conda_package, serialize_to_string, save, load from a file) and
azureml.core.Environment (python.conda_dependencies, from_conda_specification,
from_pip_requirements); both serialise into .runconfig files and run definitions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from runyard import CondaDependencies, Environment, RunConfiguration, ValidationError

THIS_PYTHON = ".".join(str(p) for p in sys.version_info[:3])


def test_create_holds_the_packages_and_python_version() -> None:
    cd = CondaDependencies.create(
        pip_packages=["tomli>=2", "azureml-defaults"],
        conda_packages=["numpy=1.26", "scikit-learn"],
        python_version="3.11",
    )
    assert list(cd.pip_packages) == ["tomli>=2", "azureml-defaults"]
    assert list(cd.conda_packages) == ["numpy=1.26", "scikit-learn"]
    assert cd.get_python_version() == "3.11"


def test_default_python_is_the_running_one() -> None:
    assert CondaDependencies().get_python_version() == THIS_PYTHON


def test_serialize_to_string_is_a_conda_environment_file() -> None:
    cd = CondaDependencies.create(pip_packages=["six"], conda_packages=["numpy"])
    cd.add_pip_package("tomli")
    cd.add_conda_package("scipy")
    cd.add_channel("pytorch")
    text = cd.serialize_to_string()
    assert text.startswith("# Conda environment specification.")
    parsed = yaml.safe_load(text)
    assert parsed["name"] == "project_environment"
    assert parsed["channels"] == ["anaconda", "conda-forge", "pytorch"]
    assert parsed["dependencies"] == [
        f"python={THIS_PYTHON}",
        "numpy",
        "scipy",
        "pip",
        {"pip": ["six", "tomli"]},
    ]


def test_a_later_spec_of_a_package_replaces_the_earlier_one() -> None:
    cd = CondaDependencies()
    cd.add_pip_package("tomli==2.0")
    cd.add_pip_package("Tomli>=2.1")
    cd.add_conda_package("numpy=1.25")
    cd.add_conda_package("numpy=1.26")
    assert list(cd.pip_packages) == ["Tomli>=2.1"]
    assert list(cd.conda_packages) == ["numpy=1.26"]
    cd.remove_pip_package("tomli")
    assert list(cd.pip_packages) == []


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    cd = CondaDependencies.create(pip_packages=["tomli"], conda_packages=["numpy=1.26"])
    cd.set_pip_option("--extra-index-url https://example.invalid/simple")
    path = cd.save(tmp_path / "env.yml")
    assert path == str(tmp_path / "env.yml")
    loaded = CondaDependencies(conda_dependencies_file_path=path)
    assert loaded == cd
    assert list(loaded.pip_options) == ["--extra-index-url https://example.invalid/simple"]
    # A folder gets conda_dependencies.yml inside it.
    assert cd.save(tmp_path) == str(tmp_path / "conda_dependencies.yml")


def test_a_hand_written_azure_conda_file_loads(tmp_path: Path) -> None:
    (tmp_path / "env.yml").write_text(
        "name: sklearn-env\n"
        "dependencies:\n"
        "- python=3.8.5\n"
        "- scikit-learn\n"
        "- pip\n"
        "- pip:\n"
        "  - azureml-defaults\n"
        "  - tomli\n"
    )
    cd = CondaDependencies(str(tmp_path / "env.yml"))
    assert cd.get_python_version() == "3.8.5"
    assert list(cd.conda_packages) == ["scikit-learn"]
    assert list(cd.pip_packages) == ["azureml-defaults", "tomli"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: [unclosed", "not a valid conda environment file"),
        ("- just\n- a list\n", "not a conda environment file"),
        ("dependencies:\n- {notpip: [x]}\n", r"must be \{pip: \[packages\]\}"),
        ("dependencies:\n- 'bad spec!'\n- '=='\n", "not a package spec"),
    ],
)
def test_a_broken_conda_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "env.yml").write_text(content)
    with pytest.raises(ValidationError, match=message):
        CondaDependencies(tmp_path / "env.yml")


def test_missing_conda_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no conda environment file"):
        CondaDependencies(tmp_path / "nope.yml")


@pytest.mark.parametrize("bad", ["", "two\nlines", 5])
def test_bad_package_specs_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        CondaDependencies().add_pip_package(bad)  # type: ignore[arg-type]


def test_environment_takes_conda_dependencies_and_is_system_managed_by_default() -> None:
    env = Environment("sklearn")
    assert env.python.user_managed_dependencies is False  # Azure's default
    cd = CondaDependencies.create(pip_packages=["tomli"])
    env.python.conda_dependencies = cd
    again = Environment.from_dict(env.to_dict())
    assert again.python.conda_dependencies == cd
    assert again.python.user_managed_dependencies is False


def test_from_conda_specification(tmp_path: Path) -> None:
    path = CondaDependencies.create(pip_packages=["tomli"]).save(tmp_path / "env.yml")
    env = Environment.from_conda_specification("from-file", path)
    assert env.name == "from-file"
    assert list(env.python.conda_dependencies.pip_packages) == ["tomli"]
    assert env.python.user_managed_dependencies is False


def test_from_pip_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "# training\ntomli>=2  # parser\n\nsix==1.17.0\n--extra-index-url https://x.invalid\n"
    )
    env = Environment.from_pip_requirements("reqs", tmp_path / "requirements.txt")
    conda = env.python.conda_dependencies
    assert list(conda.pip_packages) == ["tomli>=2", "six==1.17.0"]
    assert list(conda.pip_options) == ["--extra-index-url https://x.invalid"]
    (tmp_path / "nested.txt").write_text("-r requirements.txt\n")
    with pytest.raises(ValidationError, match="nested requirement files"):
        Environment.from_pip_requirements("n", tmp_path / "nested.txt")


def test_conda_dependencies_round_trip_through_a_runconfig_file(tmp_path: Path) -> None:
    config = RunConfiguration()
    config.environment.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["tomli"], conda_packages=["numpy"]
    )
    path = config.save(tmp_path, name="train")
    assert "conda_dependencies" in path.read_text()
    loaded = RunConfiguration.load(tmp_path, "train")
    assert loaded.environment.python.conda_dependencies == (
        config.environment.python.conda_dependencies
    )


def test_conda_dependencies_must_be_a_conda_dependencies_object() -> None:
    env = Environment("x")
    env.python.conda_dependencies = {"dependencies": []}  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="must be a CondaDependencies"):
        env.to_dict()
