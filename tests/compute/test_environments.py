"""Building system-managed environments: real `python -m venv` + pip from the local mirror.

`tomli` is a small pure-Python package the test interpreter does not have, so importing it
from the built environment proves the install; a made-up name proves the failure path.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from runyard import CondaDependencies, Environment, EnvironmentBuildError
from runyard.compute.environments import (
    cache_folder,
    conda_to_pip,
    prepare_environment,
    ray_pip_packages,
    requirements,
)

NO_SUCH_PACKAGE = "runyard-no-such-package-4f2a9c"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNYARD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def system_managed(pip: list[str], conda: list[str] | None = None) -> dict[str, object]:
    env = Environment("test-env")
    env.python.conda_dependencies = CondaDependencies.create(
        pip_packages=pip, conda_packages=conda or []
    )
    return env.to_dict()


@pytest.mark.parametrize(
    ("conda", "pip"),
    [
        ("numpy", "numpy"),
        ("numpy=1.26", "numpy==1.26.*"),
        ("numpy=1.26.4=py311h64a7726_0", "numpy==1.26.4.*"),
        ("numpy 1.26", "numpy==1.26.*"),
        ("numpy>=1.26", "numpy>=1.26"),
        ("numpy==1.26.4", "numpy==1.26.4"),
        ("conda-forge::numpy=1.26", "numpy==1.26.*"),
        ("numpy=1.*", "numpy==1.*"),
    ],
)
def test_conda_specs_become_pip_specs(conda: str, pip: str) -> None:
    assert conda_to_pip(conda) == pip


def test_requirements_leave_out_what_runyard_provides() -> None:
    wanted = requirements(
        system_managed(["azureml-defaults", "azureml-core==1.50", "tomli"], ["python=3.8", "six"])
    )
    assert wanted.pip == ["tomli"]
    assert wanted.conda == ["six"]
    assert wanted.provided == ["azureml-defaults", "azureml-core==1.50"]
    assert wanted.python_version == "3.8"


def test_ray_gets_the_same_packages_and_user_managed_only_its_own() -> None:
    managed = system_managed(["tomli"], ["tabulate=0.9"])
    assert ray_pip_packages(managed) == ["tomli", "tabulate==0.9.*"]
    user = Environment("u", pip_packages=["six"])
    user.python.user_managed_dependencies = True
    user.python.conda_dependencies = CondaDependencies.create(pip_packages=["tomli"])
    assert ray_pip_packages(user.to_dict()) == ["six"]


def test_no_packages_means_the_runners_interpreter() -> None:
    lines: list[str] = []
    assert prepare_environment(system_managed(["azureml-defaults"]), lines.append) is None
    assert lines == ["azureml-defaults: provided by runyard, not installed"]
    assert not cache_folder().exists() or not any(cache_folder().iterdir())


def test_environment_is_built_once_and_reused(_own_cache: Path) -> None:
    environment = system_managed(["tomli"], ["tabulate", NO_SUCH_PACKAGE])
    first: list[str] = []
    python = prepare_environment(environment, first.append)
    assert python is not None and Path(python).parent.parent.parent == _own_cache / "environments"
    text = "\n".join(first)
    assert "Building environment" in text
    assert "Successfully installed tomli" in text
    assert f"conda package {NO_SUCH_PACKAGE}: pip has no package of that name; skipped" in text
    # The environment has its packages, and runyard from the runner's interpreter.
    probe = "import tomli, tabulate, runyard; print(tomli.__file__)"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.startswith(str(Path(python).parent.parent))
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run([sys.executable, "-c", "import tomli"], capture_output=True, check=True)

    second: list[str] = []
    assert prepare_environment(environment, second.append) == python
    assert any(line.startswith("Using the cached environment") for line in second)
    assert not any("pip" in line and "install" in line for line in second)


def test_two_runs_building_one_environment_build_it_once() -> None:
    environment = system_managed(["tomli"])
    outputs: list[list[str]] = [[], []]
    found: list[str | None] = [None, None]

    def build(i: int) -> None:
        found[i] = prepare_environment(environment, outputs[i].append)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert found[0] == found[1] is not None
    built = [o for o in outputs if any("Building environment" in line for line in o)]
    reused = [o for o in outputs if any("Using the cached environment" in line for line in o)]
    assert (len(built), len(reused)) == (1, 1)


def test_a_package_pip_cannot_install_fails_with_pips_error() -> None:
    lines: list[str] = []
    with pytest.raises(EnvironmentBuildError, match="No matching distribution") as caught:
        prepare_environment(system_managed([NO_SUCH_PACKAGE]), lines.append)
    assert NO_SUCH_PACKAGE in str(caught.value)
    assert any(line.startswith("ERROR:") for line in lines)
    # Nothing half-built is left to be reused.
    assert not [p for p in cache_folder().iterdir() if p.is_dir()]


def test_user_managed_environment_is_used_as_it_is() -> None:
    env = Environment("u")
    env.python.user_managed_dependencies = True
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["tomli"])
    assert prepare_environment(env.to_dict(), print) is None
