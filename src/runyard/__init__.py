"""runyard: track, run, monitor and compare machine-learning experiments.

A script written for the Azure ML SDK v1 (`from azureml.core import Workspace,
Experiment, Run`) runs here after changing its imports to `from runyard import ...`.
"""

from runyard.core.errors import (
    AuthenticationError,
    EnvironmentBuildError,
    ImmutablePropertyError,
    InvalidStatusTransitionError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
    RunyardError,
    TransportError,
    ValidationError,
)
from runyard.core.status import Status
from runyard.sdk import (
    ComputeTarget,
    CondaDependencies,
    Environment,
    Experiment,
    OfflineRun,
    Run,
    RunConfiguration,
    ScriptRunConfig,
    Workspace,
)

__version__ = "0.1.0"
#: Azure's `azureml.core.VERSION`, for scripts that print it.
VERSION = __version__

__all__ = [
    "VERSION",
    "AuthenticationError",
    "ComputeTarget",
    "CondaDependencies",
    "Environment",
    "EnvironmentBuildError",
    "Experiment",
    "ImmutablePropertyError",
    "InvalidStatusTransitionError",
    "LimitExceededError",
    "NotFoundError",
    "OfflineRun",
    "PermissionDeniedError",
    "Run",
    "RunConfiguration",
    "RunyardError",
    "ScriptRunConfig",
    "Status",
    "TransportError",
    "ValidationError",
    "Workspace",
]
