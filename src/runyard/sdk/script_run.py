"""What to run and where: ScriptRunConfig, RunConfiguration and Environment (Azure's shapes)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runyard.core.errors import ValidationError

#: Azure's default: thirty days.
DEFAULT_MAX_RUN_DURATION = 2_592_000


@dataclass
class PythonSection:
    """The interpreter a run uses (None: the submitter's own) and dependencies on record."""

    interpreter_path: str | None = None
    user_managed_dependencies: bool = True
    conda_dependencies: dict[str, Any] | None = None


@dataclass
class DockerSection:
    """Recorded for compatibility; the local and Ray targets do not start containers."""

    enabled: bool = False
    base_image: str | None = None


@dataclass
class Environment:
    """Interpreter, environment variables and packages of a run.

    `pip_packages` are installed for the run by the Ray target (its runtime_env); the local
    target uses the interpreter as it is.
    """

    name: str = "runyard-default"
    environment_variables: dict[str, str] = field(default_factory=dict)
    python: PythonSection = field(default_factory=PythonSection)
    docker: DockerSection = field(default_factory=DockerSection)
    pip_packages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, kept in the run definition."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Environment:
        """The inverse of to_dict."""
        return cls(
            name=data.get("name", "runyard-default"),
            environment_variables=dict(data.get("environment_variables", {})),
            python=PythonSection(**data.get("python", {})),
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
            "target": self.target,
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


@dataclass
class ScriptRunConfig:
    """A script to run as a tracked run: `exp.submit(ScriptRunConfig(...))`."""

    source_directory: str = "."
    script: str | None = None
    arguments: list[Any] | None = None
    run_config: RunConfiguration | None = None
    compute_target: str | None = None
    environment: Environment | None = None
    max_run_duration_seconds: int | None = None

    def resolved(self) -> tuple[str, RunConfiguration, list[str]]:
        """(script, effective run configuration, arguments as strings), after checks."""
        if not self.script:
            raise ValidationError("ScriptRunConfig needs a script (a file in source_directory)")
        source = Path(self.source_directory)
        if not (source / self.script).is_file():
            raise ValidationError(
                f"script {self.script!r} is not a file in source_directory {str(source)!r}"
            )
        config = RunConfiguration.from_dict((self.run_config or RunConfiguration()).to_dict())
        if self.compute_target is not None:
            config.target = str(getattr(self.compute_target, "name", self.compute_target))
        if self.environment is not None:
            config.environment = self.environment
        if self.max_run_duration_seconds is not None:
            config.max_run_duration_seconds = int(self.max_run_duration_seconds)
        if config.max_run_duration_seconds <= 0:
            raise ValidationError("max_run_duration_seconds must be positive")
        arguments = [str(a) for a in (self.arguments or [])]
        return self.script, config, arguments
