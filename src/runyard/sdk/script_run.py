"""What to run and where: ScriptRunConfig, RunConfiguration and Environment (Azure's shapes)."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runyard.core.errors import ValidationError
from runyard.sdk.conda import CondaDependencies

#: Azure's default: thirty days.
DEFAULT_MAX_RUN_DURATION = 2_592_000


@dataclass
class PythonSection:
    """The Python side of an environment, as Azure has it.

    System-managed (`user_managed_dependencies = False`, Azure's default): the packages of
    `conda_dependencies` are installed for the run (the local target builds a cached
    virtual environment; Ray installs them in the job's runtime_env). An environment that
    asks for no packages runs on the runner's interpreter as it is. User-managed: the
    interpreter at `interpreter_path` (default: the runner's) is used as it is.
    """

    interpreter_path: str | None = None
    user_managed_dependencies: bool = False
    conda_dependencies: CondaDependencies = field(default_factory=CondaDependencies)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (conda dependencies as the conda file's mapping)."""
        conda = self.conda_dependencies
        if not isinstance(conda, CondaDependencies):
            raise ValidationError(
                f"python.conda_dependencies must be a CondaDependencies, got {type(conda).__name__}"
            )
        return {
            "interpreter_path": self.interpreter_path,
            "user_managed_dependencies": bool(self.user_managed_dependencies),
            "conda_dependencies": conda.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PythonSection:
        """The inverse of to_dict."""
        conda = data.get("conda_dependencies")
        return cls(
            interpreter_path=data.get("interpreter_path"),
            user_managed_dependencies=bool(data.get("user_managed_dependencies", False)),
            conda_dependencies=(
                CondaDependencies() if conda is None else CondaDependencies.from_dict(conda)
            ),
        )


@dataclass
class DockerSection:
    """Recorded for compatibility; the local and Ray targets do not start containers."""

    enabled: bool = False
    base_image: str | None = None


@dataclass
class Environment:
    """Interpreter, environment variables and packages of a run (Azure's Environment).

    `pip_packages` is runyard's shorthand for pip packages beside `python.conda_dependencies`.
    """

    name: str = "runyard-default"
    environment_variables: dict[str, str] = field(default_factory=dict)
    python: PythonSection = field(default_factory=PythonSection)
    docker: DockerSection = field(default_factory=DockerSection)
    pip_packages: list[str] = field(default_factory=list)
    version: str | None = None

    @staticmethod
    def from_conda_specification(name: str, file_path: str | os.PathLike[str]) -> Environment:
        """A system-managed environment with the packages of a conda environment file."""
        env = Environment(name=name)
        env.python.conda_dependencies = CondaDependencies(conda_dependencies_file_path=file_path)
        env.python.user_managed_dependencies = False
        return env

    @staticmethod
    def from_pip_requirements(
        name: str, file_path: str | os.PathLike[str], pip_version: str | None = None
    ) -> Environment:
        """A system-managed environment with the packages of a pip requirements file."""
        path = Path(file_path)
        if not path.is_file():
            raise ValidationError(f"no requirements file at {str(path)!r}")
        conda = CondaDependencies()
        for raw in path.read_text().splitlines():
            line = raw.split(" #")[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("-r", "-c", "--requirement", "--constraint")):
                raise ValidationError(
                    f"{str(path)!r}: nested requirement files ({line!r}) are not supported; "
                    "list the packages in this file"
                )
            if line.startswith("-"):
                conda.set_pip_option(line)
            else:
                conda.add_pip_package(line)
        if pip_version is not None:
            conda.add_pip_package(f"pip=={pip_version}")
        env = Environment(name=name)
        env.python.conda_dependencies = conda
        env.python.user_managed_dependencies = False
        return env

    def to_dict(self) -> dict[str, Any]:
        """JSON form, kept in the run definition."""
        return {
            "name": self.name,
            "version": self.version,
            "environment_variables": dict(self.environment_variables),
            "python": self.python.to_dict(),
            "docker": asdict(self.docker),
            "pip_packages": list(self.pip_packages),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Environment:
        """The inverse of to_dict."""
        return cls(
            name=data.get("name", "runyard-default"),
            version=data.get("version"),
            environment_variables=dict(data.get("environment_variables", {})),
            python=PythonSection.from_dict(data.get("python", {})),
            docker=DockerSection(**data.get("docker", {})),
            pip_packages=list(data.get("pip_packages", [])),
        )


@dataclass
class RunConfiguration:
    """Where and how a script runs: the compute target, environment and variables."""

    target: str = "local"
    environment: Environment = field(default_factory=Environment)
    environment_variables: dict[str, str] = field(default_factory=dict)
    max_run_duration_seconds: int = DEFAULT_MAX_RUN_DURATION

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what a .runconfig file holds)."""
        return {
            "target": target_name(self.target),
            "environment": self.environment.to_dict(),
            "environment_variables": dict(self.environment_variables),
            "max_run_duration_seconds": self.max_run_duration_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfiguration:
        """The inverse of to_dict."""
        return cls(
            target=str(data.get("target", "local")),
            environment=Environment.from_dict(data.get("environment", {})),
            environment_variables=dict(data.get("environment_variables", {})),
            max_run_duration_seconds=int(
                data.get("max_run_duration_seconds", DEFAULT_MAX_RUN_DURATION)
            ),
        )

    def save(self, path: str | os.PathLike[str] | None = None, name: str | None = None) -> Path:
        """Write `<path>/.runyard/<name>.runconfig` (JSON), for `runyard run submit-script -c`."""
        folder = Path(path or os.getcwd()) / ".runyard"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name or self.target}.runconfig"
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str], name: str | None = None) -> RunConfiguration:
        """Read a .runconfig file (or `<path>/.runyard/<name>.runconfig`)."""
        candidate = Path(path)
        if name is not None:
            candidate = candidate / ".runyard" / f"{name}.runconfig"
        if not candidate.is_file():
            raise ValidationError(f"no run configuration at {str(candidate)!r}")
        try:
            return cls.from_dict(json.loads(candidate.read_text()))
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                f"{str(candidate)!r} is not a valid run configuration: {exc}"
            ) from None


class ScriptRunConfig:
    """A script to run as a tracked run: `exp.submit(ScriptRunConfig(...))`.

    As in Azure, it always holds a `run_config`: the one passed, or one built from
    `compute_target`, `environment` and `max_run_duration_seconds`. When a `run_config` is
    passed those three are ignored (with a warning), and whatever is set on
    `src.run_config` before `exp.submit(src)` is what the run uses.
    """

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: list[Any] | None = None,
        run_config: RunConfiguration | None = None,
        _telemetry_values: object = None,
        compute_target: object = None,
        environment: Environment | None = None,
        distributed_job_config: object = None,
        resume_from: object = None,
        max_run_duration_seconds: int | None = DEFAULT_MAX_RUN_DURATION,
        **_kwargs: Any,
    ) -> None:
        self.source_directory = str(source_directory)
        self.script = script
        self.arguments = list(arguments) if arguments is not None else []
        if run_config is not None:
            if not isinstance(run_config, RunConfiguration):
                raise ValidationError(
                    f"run_config must be a RunConfiguration, got {type(run_config).__name__}"
                )
            ignored = [
                name
                for name, given in (
                    ("compute_target", compute_target is not None),
                    ("environment", environment is not None),
                    (
                        "max_run_duration_seconds",
                        max_run_duration_seconds not in (None, DEFAULT_MAX_RUN_DURATION),
                    ),
                )
                if given
            ]
            if ignored:
                warnings.warn(
                    "a run_config was given, so these ScriptRunConfig arguments are ignored: "
                    + ", ".join(ignored)
                    + "; set them on run_config instead (run_config.target, "
                    "run_config.environment, run_config.max_run_duration_seconds)",
                    UserWarning,
                    stacklevel=2,
                )
            self.run_config = run_config
        else:
            self.run_config = RunConfiguration()
            if compute_target is not None:
                self.run_config.target = target_name(compute_target)
            if environment is not None:
                self.run_config.environment = environment
            if max_run_duration_seconds is not None:
                self.run_config.max_run_duration_seconds = int(max_run_duration_seconds)

    def resolved(self) -> tuple[str, RunConfiguration, list[str]]:
        """(script, a copy of the run configuration, arguments as strings), after checks."""
        if not self.script:
            raise ValidationError("ScriptRunConfig needs a script (a file in source_directory)")
        source = Path(self.source_directory)
        if not (source / self.script).is_file():
            raise ValidationError(
                f"script {self.script!r} is not a file in source_directory {str(source)!r}"
            )
        if not isinstance(self.run_config, RunConfiguration):
            raise ValidationError(
                f"run_config must be a RunConfiguration, got {type(self.run_config).__name__}"
            )
        config = RunConfiguration.from_dict(self.run_config.to_dict())
        if config.max_run_duration_seconds <= 0:
            raise ValidationError("max_run_duration_seconds must be positive")
        arguments = [str(a) for a in self.arguments]
        return self.script, config, arguments

    def __repr__(self) -> str:
        return (
            f"ScriptRunConfig(source_directory={self.source_directory!r}, script={self.script!r},"
            f" arguments={self.arguments!r}, target={self.run_config.target!r})"
        )


def target_name(target: object) -> str:
    """A compute target given as a name or an object with a `name` (Azure's ComputeTarget)."""
    name = getattr(target, "name", target)
    if not isinstance(name, str) or not name:
        raise ValidationError(
            f"a compute target is a name or a ComputeTarget, got {type(target).__name__}"
        )
    return name
