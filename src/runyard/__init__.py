"""runyard: track, run, monitor and compare machine-learning experiments.

A script written for the Azure ML SDK v1 (`from azureml.core import Workspace,
Experiment, Run`) runs here after changing its imports to `from runyard import ...`.

The SDK's classes load on first use (PEP 562), so `import runyard.core.status` or the
server does not pull the SDK, its transports and SQLAlchemy in with the package.
"""

import importlib
import typing

from runyard.core.errors import (
    AuthenticationError,
    ConflictError,
    EnvironmentBuildError,
    HeadersTooLargeError,
    HostNotAllowedError,
    ImmutablePropertyError,
    InvalidStatusTransitionError,
    LimitExceededError,
    ModelNotFoundError,
    NotFoundError,
    OfflineError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RunyardError,
    StoreError,
    StoreUnavailableError,
    TransportError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from runyard.core.status import Status
from runyard.version import __version__

if typing.TYPE_CHECKING:
    from runyard.sdk import (
        ComputeTarget,
        CondaDependencies,
        Environment,
        Experiment,
        Model,
        OfflineRun,
        Run,
        RunConfiguration,
        ScriptRunConfig,
        Workspace,
    )

#: Azure's `azureml.core.VERSION`, for scripts that print it.
VERSION = __version__

#: The SDK's public names, imported from `runyard.sdk` when first asked for.
_SDK_NAMES = frozenset(
    {
        "ComputeTarget",
        "CondaDependencies",
        "Environment",
        "Experiment",
        "Model",
        "OfflineRun",
        "Run",
        "RunConfiguration",
        "ScriptRunConfig",
        "Workspace",
    }
)


def __getattr__(name: str) -> object:
    if name in _SDK_NAMES:
        value: object = getattr(importlib.import_module("runyard.sdk"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'runyard' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SDK_NAMES})


__all__ = [
    "VERSION",
    "AuthenticationError",
    "ComputeTarget",
    "CondaDependencies",
    "ConflictError",
    "Environment",
    "EnvironmentBuildError",
    "Experiment",
    "HeadersTooLargeError",
    "HostNotAllowedError",
    "ImmutablePropertyError",
    "InvalidStatusTransitionError",
    "LimitExceededError",
    "Model",
    "ModelNotFoundError",
    "NotFoundError",
    "OfflineError",
    "OfflineRun",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Run",
    "RunConfiguration",
    "RunyardError",
    "ScriptRunConfig",
    "Status",
    "StoreError",
    "StoreUnavailableError",
    "TransportError",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "Workspace",
    "__version__",
]
