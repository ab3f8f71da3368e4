"""The public API of `runyard`, pinned (as httpx's tests/test_exported_members.py does)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import runyard
import runyard.core.errors

#: What `from runyard import *` gives. Changing it is changing the public API: on purpose.
PUBLIC = [
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


def test_all_is_the_pinned_public_api() -> None:
    assert runyard.__all__ == PUBLIC


def test_every_name_in_all_exists() -> None:
    missing = [name for name in runyard.__all__ if not hasattr(runyard, name)]
    assert missing == []


def test_nothing_public_is_left_out_of_all() -> None:
    """Every public attribute of the package (its modules aside) is in `__all__`."""
    public = {
        name
        for name, value in vars(runyard).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(runyard.__all__) == set()


def test_every_error_the_sdk_can_raise_is_exported() -> None:
    errors = {
        name
        for name, value in vars(runyard.core.errors).items()
        if inspect.isclass(value) and issubclass(value, runyard.RunyardError)
    }
    assert errors - set(runyard.__all__) == set()
    for name in errors:
        assert getattr(runyard, name) is getattr(runyard.core.errors, name)


def test_offline_error_is_in_the_one_hierarchy() -> None:
    from runyard.client.offline import _needs_server

    try:
        _needs_server("reading metrics")
    except runyard.RunyardError as exc:
        assert type(exc) is runyard.OfflineError
        assert "RUNYARD_MODE=offline" in str(exc)
    else:
        raise AssertionError("_needs_server returned")


def test_star_import_gives_the_sdk_classes() -> None:
    code = "from runyard import *\nprint(Run.__module__, Workspace.__module__, OfflineError)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[:2] == ["runyard.sdk.run", "runyard.sdk.workspace"]


def test_version_is_the_distributions() -> None:
    from importlib.metadata import version

    assert runyard.__version__ == runyard.VERSION == version("runyard")
