"""The user-facing API: Workspace, Experiment, Run, Model."""

from runyard.sdk.compute_target import ComputeTarget
from runyard.sdk.conda import CondaDependencies
from runyard.sdk.experiment import Experiment
from runyard.sdk.model import Model
from runyard.sdk.offline import OfflineRun
from runyard.sdk.run import Run
from runyard.sdk.script_run import (
    DockerSection,
    Environment,
    PythonSection,
    RunConfiguration,
    ScriptRunConfig,
)
from runyard.sdk.workspace import Workspace

__all__ = [
    "ComputeTarget",
    "CondaDependencies",
    "DockerSection",
    "Environment",
    "Experiment",
    "Model",
    "OfflineRun",
    "PythonSection",
    "Run",
    "RunConfiguration",
    "ScriptRunConfig",
    "Workspace",
]
