"""System-managed environments: the packages a run's environment asks for, installed.

Azure builds a conda environment for `python.user_managed_dependencies = False`. Here the
local target builds a virtual environment (`python -m venv`) and installs with pip the pip
packages and those conda packages pip has under the same name. The environment layers
over the runner's interpreter (a `.pth` file adds its site-packages after the
environment's own), so runyard and what it needs are there without being installed again,
and the environment's packages win over the interpreter's.

One build per environment content: environments are cached under
`~/.runyard/cache/environments/<hash>` (RUNYARD_CACHE_DIR moves the cache); a build
happens under a file lock and counts only once its marker file is written, so concurrent
runs of one environment build it once and never use half of it.

This module reads the run definition's plain environment dict (what
`Environment.to_dict()` wrote); it does not import the SDK.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import site
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runyard.core.errors import EnvironmentBuildError

#: Packages runyard itself stands in for: never installed (the real `azureml` would
#: replace runyard's import hook and needs an Azure subscription).
_PROVIDED = re.compile(r"^(azureml([-_.].*)?|runyard|python|pip)$")
_NO_SUCH_PACKAGE = ("No matching distribution found", "Could not find a version")
_MARKER = "runyard-environment.json"

Emit = Callable[[str], None]


@dataclass(frozen=True)
class Requirements:
    """What an environment asks pip for, after dropping what runyard provides."""

    pip: list[str] = field(default_factory=list)
    #: Conda packages as pip specs: installed when pip has a package of that name.
    conda: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    provided: list[str] = field(default_factory=list)
    python_version: str | None = None

    @property
    def empty(self) -> bool:
        """Nothing to install: the runner's interpreter serves as it is."""
        return not (self.pip or self.conda)


def _name(spec: str) -> str:
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return found.group(1).lower() if found else spec.strip().lower()


def conda_to_pip(spec: str) -> str:
    """A conda match spec as pip's (`numpy=1.26` -> `numpy==1.26.*`; build strings and
    channel prefixes dropped)."""
    spec = spec.split("::")[-1].strip()
    found = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$", spec)
    if found is None:
        return spec
    name, rest = found.group(1), found.group(2).strip()
    if not rest:
        return name
    if rest.startswith(("==", ">=", "<=", "!=", "~=", ">", "<")):
        return name + rest.split()[0]
    version = rest.lstrip("= ").split("=")[0].split()[0]
    return f"{name}=={version}" if version.endswith("*") else f"{name}=={version}.*"


def requirements(environment: dict[str, Any]) -> Requirements:
    """The packages of an environment dict: its conda dependencies and its pip_packages."""
    python = environment.get("python") or {}
    conda_deps = python.get("conda_dependencies") or {}
    pip: list[str] = []
    conda: list[str] = []
    options: list[str] = []
    provided: list[str] = []
    version: str | None = None
    for item in conda_deps.get("dependencies") or []:
        if isinstance(item, dict):
            for line in item.get("pip") or []:
                line = str(line).strip()
                if line.startswith("-"):
                    options.extend(line.split(maxsplit=1))
                elif _PROVIDED.match(_name(line)):
                    provided.append(line)
                else:
                    pip.append(line)
            continue
        spec = str(item).strip()
        name = _name(spec.split("::")[-1])
        if name == "python":
            version = spec.split("::")[-1][len("python") :].lstrip("=<>!~ ") or None
        elif _PROVIDED.match(name):
            if name != "pip":
                provided.append(spec)
        else:
            conda.append(conda_to_pip(spec))
    for spec in environment.get("pip_packages") or []:
        (provided if _PROVIDED.match(_name(str(spec))) else pip).append(str(spec))
    return Requirements(pip, conda, options, provided, version)


def ray_pip_packages(environment: dict[str, Any]) -> list[str]:
    """What a Ray job's runtime_env installs with pip for this environment (user-managed
    environments bring only their explicit `pip_packages`)."""
    python = environment.get("python") or {}
    if python.get("user_managed_dependencies", True):
        return [str(p) for p in environment.get("pip_packages") or []]
    wanted = requirements(environment)
    return [*wanted.pip, *wanted.conda]


def cache_folder() -> Path:
    """Where built environments are kept (RUNYARD_CACHE_DIR, else ~/.runyard/cache)."""
    base = os.environ.get("RUNYARD_CACHE_DIR") or str(Path.home() / ".runyard" / "cache")
    return Path(base) / "environments"


def environment_hash(wanted: Requirements, interpreter: str = sys.executable) -> str:
    """Identifies a built environment: its packages, pip options and base interpreter."""
    content = {
        "pip": wanted.pip,
        "conda": wanted.conda,
        "options": wanted.options,
        "interpreter": interpreter,
        "version": sys.version,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:24]


def _python_of(folder: Path) -> Path:
    return folder / "bin" / "python"


def prepare_environment(environment: dict[str, Any], emit: Emit) -> str | None:
    """The interpreter a run of this environment uses, built first if needed.

    None when the environment is user-managed or asks for no packages (the run uses the
    interpreter it names, or the runner's). `emit` receives the build's output line by line.
    """
    python = environment.get("python") or {}
    if python.get("user_managed_dependencies", True):
        return None
    wanted = requirements(environment)
    for spec in wanted.provided:
        emit(f"{spec}: provided by runyard, not installed")
    this = ".".join(str(p) for p in sys.version_info[:3])
    if wanted.python_version and not this.startswith(wanted.python_version.rstrip(".*")):
        emit(
            f"python={wanted.python_version} asked for; the local target builds environments "
            f"with the runner's Python {this}"
        )
    if wanted.empty:
        return None
    digest = environment_hash(wanted)
    cache = cache_folder()
    cache.mkdir(parents=True, exist_ok=True)
    final = cache / digest
    with (cache / f"{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building this one right now
        if (final / _MARKER).is_file():
            emit(f"Using the cached environment {digest} ({final})")
            return str(_python_of(final))
        emit(f"Building environment {digest} in {final}")
        shutil.rmtree(final, ignore_errors=True)  # a build that died half way
        try:
            # Built in place (entry-point scripts record their path); complete only once
            # the marker is written, and others look only while holding the lock.
            _build(final, wanted, emit)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
        emit(f"Environment {digest} is ready")
        return str(_python_of(final))


def _build(folder: Path, wanted: Requirements, emit: Emit) -> None:
    started = time.monotonic()
    own_pip = importlib.util.find_spec("pip") is not None
    # With pip in the runner's interpreter, that pip installs into the environment
    # (`pip --python`): no copy of pip per environment, and seconds faster.
    venv = [sys.executable, "-m", "venv", *(["--without-pip"] if own_pip else []), str(folder)]
    _stream(venv, emit, "creating the virtual environment")
    _layer_over_runner(folder)
    pip = (
        [sys.executable, "-m", "pip", "--python", str(_python_of(folder))]
        if own_pip
        else [str(_python_of(folder)), "-m", "pip"]
    )
    install = [*pip, "install", "--disable-pip-version-check", "--no-input", *wanted.options]
    if wanted.pip:
        _stream([*install, *wanted.pip], emit, "installing the pip packages")
    for spec in wanted.conda:
        try:
            _stream([*install, spec], emit, f"installing conda package {spec}")
        except EnvironmentBuildError as exc:
            if not any(marker in str(exc) for marker in _NO_SUCH_PACKAGE):
                raise
            emit(f"conda package {spec}: pip has no package of that name; skipped")
    (folder / _MARKER).write_text(
        json.dumps(
            {
                "pip": wanted.pip,
                "conda": wanted.conda,
                "options": wanted.options,
                "interpreter": sys.executable,
                "built": time.time(),
                "seconds": round(time.monotonic() - started, 1),
            },
            indent=2,
        )
    )


def _site_packages(folder: Path) -> Path:
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return folder / "lib" / version / "site-packages"


def _layer_over_runner(folder: Path) -> None:
    """Make the runner's packages (runyard, its dependencies) visible after the
    environment's own: site dirs appended by a `.pth` line, which site runs at start-up."""
    dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    user = site.getusersitepackages()
    if site.ENABLE_USER_SITE and Path(user).is_dir():
        dirs.append(user)
    lines = "".join(f"import site; site.addsitedir({d!r})\n" for d in dirs)
    target = _site_packages(folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / "_runyard_base.pth").write_text(lines)


def _stream(argv: list[str], emit: Emit, what: str) -> None:
    """Run a build step, passing each output line on as it comes; failing raises with the
    step's last lines (pip's error)."""
    emit("$ " + " ".join(argv))
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PIP_NO_INPUT": "1", "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    tail: list[str] = []
    try:
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            emit(line)  # may raise: the run was canceled while it built
            tail = [*tail[-19:], line]
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    code = proc.wait()
    if code != 0:
        errors = [line for line in tail if "ERROR" in line] or tail[-5:]
        raise EnvironmentBuildError(
            f"building the environment failed while {what} (exit code {code}):\n"
            + "\n".join(errors)
        )
