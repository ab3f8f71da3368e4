"""The azureml import hook and `runyard exec`: unchanged v1 scripts on runyard.

Every check that depends on what a fresh interpreter sees runs in a subprocess, so this
test process's own imports cannot hide a hook installed by `import runyard`.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import runyard
from runyard.sdk import azureml_imports


def python(
    *args: str, cwd: Path, extra_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("RUNYARD_RUN_ID", None)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def hook() -> Iterator[None]:
    """The hook installed in this process for one test."""
    assert azureml_imports.install()
    yield
    azureml_imports.uninstall()


def test_import_runyard_does_not_install_the_hook(tmp_path: Path) -> None:
    done = python("-c", "import runyard\nimport azureml.core", cwd=tmp_path)
    assert done.returncode == 1
    assert "No module named 'azureml'" in done.stderr


def test_mapped_modules_give_runyards_classes(hook: None) -> None:
    from azureml.core import (  # type: ignore[import-not-found]
        ComputeTarget,
        CondaDependencies,
        Environment,
        Experiment,
        Run,
        RunConfiguration,
        ScriptRunConfig,
        Workspace,
    )
    from azureml.core.conda_dependencies import (  # type: ignore[import-not-found]
        CondaDependencies as CD2,
    )
    from azureml.core.environment import Environment as E2  # type: ignore[import-not-found]
    from azureml.core.experiment import Experiment as X2  # type: ignore[import-not-found]
    from azureml.core.run import Run as R2  # type: ignore[import-not-found]
    from azureml.core.run import _OfflineRun
    from azureml.core.runconfig import RunConfiguration as RC2  # type: ignore[import-not-found]
    from azureml.core.script_run_config import (  # type: ignore[import-not-found]
        ScriptRunConfig as S2,
    )
    from azureml.core.workspace import Workspace as W2  # type: ignore[import-not-found]

    assert Run is R2 is runyard.Run
    assert Workspace is W2 is runyard.Workspace
    assert Experiment is X2 is runyard.Experiment
    assert ScriptRunConfig is S2 is runyard.ScriptRunConfig
    assert RunConfiguration is RC2 is runyard.RunConfiguration
    assert Environment is E2 is runyard.Environment
    assert CondaDependencies is CD2 is runyard.CondaDependencies
    assert ComputeTarget is runyard.ComputeTarget
    assert _OfflineRun is runyard.OfflineRun
    import azureml.core  # type: ignore[import-not-found]

    assert azureml.core.VERSION == runyard.VERSION


def test_every_mapped_module_imports_or_says_what_is_missing(hook: None) -> None:
    try:
        importlib.import_module("runyard.sdk.model")
        has_models = True
    except ModuleNotFoundError:
        has_models = False
    for name in azureml_imports.MAPPED:
        if name == "azureml.core.model" and not has_models:
            with pytest.raises(ImportError, match=r"runyard\.sdk\.model"):
                importlib.import_module(name)
            continue
        module = importlib.import_module(name)
        assert all(hasattr(module, attribute) for attribute in module.__all__)
    import azureml.core

    assert hasattr(azureml.core, "Model") == has_models


def test_unmapped_azureml_modules_are_not_found(hook: None) -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("azureml.train.hyperdrive")


def test_a_real_azureml_package_keeps_its_imports(tmp_path: Path) -> None:
    fake = tmp_path / "site"
    (fake / "azureml" / "core").mkdir(parents=True)
    (fake / "azureml" / "__init__.py").write_text("")
    (fake / "azureml" / "core" / "__init__.py").write_text("SOURCE = 'azure'\n")
    (tmp_path / "v1.py").write_text("import azureml.core\nprint(azureml.core.SOURCE)\n")
    done = python("-m", "runyard", "exec", "v1.py", cwd=tmp_path, extra_path=fake)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "azure\n"
    assert "an azureml package is installed" in done.stderr


V1_SCRIPT = """
import sys

from azureml.core import Run
from helper import double  # a module beside the script, as `python v1.py` finds it

run = Run.get_context()
print(type(run).__name__, __name__, sys.argv)
run.log_list("doubled", (double(v) for v in [1, 2]))
print(run.get_metrics())
if "--fail" in sys.argv:
    raise RuntimeError("failed on purpose")
sys.exit(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0)
"""


@pytest.fixture
def v1_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "v1.py").write_text(textwrap.dedent(V1_SCRIPT))
    (folder / "helper.py").write_text("def double(v):\n    return v * 2\n")
    return folder


def test_runyard_exec_runs_an_unchanged_script_offline(v1_folder: Path, tmp_path: Path) -> None:
    done = python("-m", "runyard", "exec", str(v1_folder / "v1.py"), "--lr", "0.1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"OfflineRun __main__ [{str(v1_folder / 'v1.py')!r}, '--lr', '0.1']"
    assert lines[-1] == "{'doubled': [2, 4]}"


def test_runyard_exec_keeps_the_scripts_exit_code_and_traceback(
    v1_folder: Path, tmp_path: Path
) -> None:
    assert python("-m", "runyard", "exec", "project/v1.py", "3", cwd=tmp_path).returncode == 3
    failed = python("-m", "runyard", "exec", "project/v1.py", "--fail", cwd=tmp_path)
    assert failed.returncode == 1
    assert "Traceback" in failed.stderr and "RuntimeError: failed on purpose" in failed.stderr


def test_runyard_exec_of_a_missing_script_is_a_usage_error(tmp_path: Path) -> None:
    done = python("-m", "runyard", "exec", "nope.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "no script at 'nope.py'" in done.stderr
