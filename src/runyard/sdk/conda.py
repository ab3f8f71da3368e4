"""CondaDependencies: the packages of an environment, in a conda environment file (Azure's).

The file form is conda's (`name`, `channels`, `dependencies` with a `pip:` list), so files
written for Azure load unchanged and what `save()` writes loads in conda too. How the local
target installs them (pip, in a cached virtual environment) is `compute/environments.py`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from runyard.core.errors import ValidationError

DEFAULT_NAME = "project_environment"
DEFAULT_CHANNELS = ("anaconda", "conda-forge")
_HEADER = (
    "# Conda environment specification. The dependencies defined in this file will\n"
    "# be automatically provisioned for runs with userManagedDependencies=False.\n\n"
)
#: A package spec's name: letters, digits, `.`, `_`, `-` (pip's and conda's names).
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def current_python_version() -> str:
    """The version of the interpreter runs are started with here (`3.11.9`)."""
    return ".".join(str(part) for part in sys.version_info[:3])


def package_name(spec: str) -> str:
    """The name in a package spec (`scikit-learn==1.2` -> `scikit-learn`), lower case."""
    found = _NAME.match(spec)
    if found is None:
        raise ValidationError(f"{spec!r} is not a package spec such as 'numpy' or 'numpy==1.26'")
    return found.group(1).lower()


def _check_spec(what: str, spec: object) -> str:
    if not isinstance(spec, str) or not spec.strip():
        raise ValidationError(f"a {what} must be a non-empty string, got {spec!r}")
    if any(c in spec for c in "\n\r\x00"):
        raise ValidationError(f"a {what} must be one line: {spec!r}")
    if not spec.startswith("-"):
        package_name(spec)
    return spec.strip()


class CondaDependencies:
    """The conda and pip packages (and Python version) an environment needs.

    `CondaDependencies()` is an environment with only Python; `CondaDependencies(path)`
    loads a conda environment file; `CondaDependencies.create(...)` builds one.
    """

    def __init__(
        self,
        conda_dependencies_file_path: str | os.PathLike[str] | None = None,
        _underlying_structure: dict[str, Any] | None = None,
    ) -> None:
        if conda_dependencies_file_path is not None:
            path = Path(conda_dependencies_file_path)
            if not path.is_file():
                raise ValidationError(f"no conda environment file at {str(path)!r}")
            _underlying_structure = _parse(path.read_text(), str(path))
        if _underlying_structure is None:
            _underlying_structure = {
                "name": DEFAULT_NAME,
                "dependencies": [f"python={current_python_version()}"],
                "channels": list(DEFAULT_CHANNELS),
            }
        self._name = str(_underlying_structure.get("name") or DEFAULT_NAME)
        self._channels: list[str] = []
        self._conda: list[str] = []
        self._pip: list[str] = []
        self._python: str | None = None
        for channel in _underlying_structure.get("channels") or []:
            self.add_channel(str(channel))
        for item in _underlying_structure.get("dependencies") or []:
            if isinstance(item, dict):
                pip = item.get("pip")
                if set(item) != {"pip"} or not isinstance(pip, list):
                    raise ValidationError(
                        "a mapping in a conda file's dependencies must be {pip: [packages]}, "
                        f"got {item!r}"
                    )
                for spec in pip:
                    self._add_pip_line(spec)
            else:
                self.add_conda_package(str(item))

    # Building
    @staticmethod
    def create(
        pip_indexurl: str | None = None,
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
        python_version: str | None = None,
        pin_sdk_version: bool = True,
    ) -> CondaDependencies:
        """An environment with these packages (Python: `python_version`, else this one's)."""
        cd = CondaDependencies()
        if python_version is not None:
            cd.set_python_version(python_version)
        if pip_indexurl is not None:
            cd.set_pip_option(f"--index-url {pip_indexurl}")
        for spec in conda_packages or []:
            cd.add_conda_package(spec)
        for spec in pip_packages or []:
            cd.add_pip_package(spec)
        return cd

    @staticmethod
    def merge_requirements(requirements: Iterable[str]) -> list[str]:
        """Requirements without duplicates of the same package (the last one wins)."""
        by_name: dict[str, str] = {}
        for spec in requirements:
            by_name[spec if spec.startswith("-") else package_name(spec)] = spec
        return list(by_name.values())

    def add_conda_package(self, conda_package: str) -> None:
        """Add a conda package (`python=…` sets the Python version instead)."""
        spec = _check_spec("conda package", conda_package)
        name = package_name(spec)
        if name == "python":
            self._python = spec[len("python") :].lstrip("=<>!~ ") or None
            return
        if name == "pip":  # always there to install the pip list; written once by as_dict
            return
        self._conda = [s for s in self._conda if package_name(s) != name] + [spec]

    def remove_conda_package(self, conda_package: str) -> None:
        """Remove a conda package by name."""
        name = package_name(conda_package)
        self._conda = [s for s in self._conda if package_name(s) != name]

    def add_pip_package(self, pip_package: str) -> None:
        """Add a pip package (a later spec for the same name replaces the earlier one)."""
        spec = _check_spec("pip package", pip_package)
        if spec.startswith("-"):
            raise ValidationError(f"{spec!r} is an option: use set_pip_option")
        name = package_name(spec)
        self._pip = [s for s in self._pip if s.startswith("-") or package_name(s) != name]
        self._pip.append(spec)

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove a pip package by name."""
        name = package_name(pip_package)
        self._pip = [s for s in self._pip if s.startswith("-") or package_name(s) != name]

    def set_pip_option(self, pip_option: str) -> None:
        """Add a pip option line (`--extra-index-url URL`); one per option name."""
        spec = _check_spec("pip option", pip_option)
        if not spec.startswith("-"):
            raise ValidationError(f"a pip option starts with '-', got {spec!r}")
        option = spec.split()[0]
        self._pip = [s for s in self._pip if not s.startswith(option)]
        self._pip.insert(len([s for s in self._pip if s.startswith("-")]), spec)

    def add_channel(self, channel: str) -> None:
        """Add a conda channel (kept in the file; pip does not use channels)."""
        channel = _check_spec("channel", channel)
        if channel not in self._channels:
            self._channels.append(channel)

    def remove_channel(self, channel: str) -> None:
        """Remove a conda channel."""
        self._channels = [c for c in self._channels if c != channel]

    def set_python_version(self, version: str) -> None:
        """The Python version the environment asks for (`3.11` or `3.11.9`)."""
        if not re.fullmatch(r"\d+(\.\d+){0,2}", str(version)):
            raise ValidationError(
                f"a Python version looks like '3.11' or '3.11.9', got {version!r}"
            )
        self._python = str(version)

    def _add_pip_line(self, spec: object) -> None:
        if isinstance(spec, str) and spec.strip().startswith("-"):
            self.set_pip_option(spec)
        else:
            self.add_pip_package(str(spec))

    # Reading
    def get_python_version(self) -> str | None:
        """The Python version asked for, if any."""
        return self._python

    @property
    def conda_packages(self) -> Iterator[str]:
        """The conda packages (without python)."""
        return iter(list(self._conda))

    @property
    def pip_packages(self) -> Iterator[str]:
        """The pip packages (without options)."""
        return iter([s for s in self._pip if not s.startswith("-")])

    @property
    def pip_options(self) -> Iterator[str]:
        """The pip option lines."""
        return iter([s for s in self._pip if s.startswith("-")])

    @property
    def conda_channels(self) -> Iterator[str]:
        """The conda channels."""
        return iter(list(self._channels))

    def as_dict(self) -> dict[str, Any]:
        """The conda environment file as a dict (what the run definition records)."""
        dependencies: list[Any] = []
        if self._python is not None:
            dependencies.append(f"python={self._python}")
        dependencies.extend(self._conda)
        if self._pip:
            dependencies.extend(["pip", {"pip": list(self._pip)}])
        return {"name": self._name, "dependencies": dependencies, "channels": list(self._channels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CondaDependencies:
        """The inverse of as_dict."""
        if not isinstance(data, dict):
            raise ValidationError(
                f"conda dependencies must be a mapping, got {type(data).__name__}"
            )
        return cls(_underlying_structure=data)

    def serialize_to_string(self) -> str:
        """The conda environment file's text (YAML)."""
        body: str = yaml.safe_dump(self.as_dict(), sort_keys=False, default_flow_style=False)
        return _HEADER + body

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the file (default `./conda_dependencies.yml`; a folder gets that name
        inside it); returns its path."""
        target = Path(path) if path is not None else Path("conda_dependencies.yml")
        if target.is_dir():
            target = target / "conda_dependencies.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.serialize_to_string())
        return str(target)

    def save_to_file(
        self, base_directory: str | os.PathLike[str], conda_file_path: str | None = None
    ) -> str:
        """Azure's older form of save: `<base_directory>/<conda_file_path>`."""
        return self.save(Path(base_directory) / (conda_file_path or "conda_dependencies.yml"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CondaDependencies) and other.as_dict() == self.as_dict()

    def __repr__(self) -> str:
        return f"CondaDependencies({self.as_dict()!r})"


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{where} is not a valid conda environment file: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(
            f"{where} is not a conda environment file (a mapping with name, channels, dependencies)"
        )
    return data
