"""Unchanged Azure ML v1 scripts: `import azureml.core` answered by runyard's modules.

An import hook (a `sys.meta_path` finder) serves the modules in `MAPPED` from runyard's
classes, so `from azureml.core import Run` gives `runyard.Run`. It is installed only where
runyard starts a script (the runner of a submitted run, `runyard exec`), never by
`import runyard`, and only when no real `azureml` package is installed: with the Azure
SDK present, `azureml` stays Azure's.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

log = logging.getLogger("runyard")

#: azureml module -> [(runyard module, names it gives; None: its __all__)].
MAPPED: dict[str, list[tuple[str, Sequence[str] | None]]] = {
    "azureml": [],
    "azureml.core": [("runyard", None), ("runyard.sdk.model", ["Model"])],
    "azureml.core.run": [("runyard.sdk.run", ["Run"]), ("runyard.sdk.offline", ["OfflineRun"])],
    "azureml.core.experiment": [("runyard.sdk.experiment", ["Experiment"])],
    "azureml.core.workspace": [("runyard.sdk.workspace", ["Workspace"])],
    "azureml.core.runconfig": [
        ("runyard.sdk.script_run", ["RunConfiguration", "PythonSection", "DockerSection"])
    ],
    "azureml.core.script_run_config": [("runyard.sdk.script_run", ["ScriptRunConfig"])],
    "azureml.core.environment": [
        ("runyard.sdk.script_run", ["Environment", "PythonSection", "DockerSection"]),
        ("runyard.sdk.conda", ["CondaDependencies"]),
    ],
    "azureml.core.conda_dependencies": [("runyard.sdk.conda", ["CondaDependencies"])],
    "azureml.core.compute": [("runyard.sdk.compute_target", ["ComputeTarget"])],
    "azureml.core.model": [("runyard.sdk.model", ["Model"])],
}
#: Modules that are packages (others import below them).
_PACKAGES = {"azureml", "azureml.core"}
#: Modules that make no sense without one of their sources (the others take what exists).
_REQUIRED = {"azureml.core.model": "runyard.sdk.model"}
#: Azure's private names some scripts use.
_ALIASES = {"azureml.core.run": {"_OfflineRun": "OfflineRun"}}


def real_azureml_installed() -> bool:
    """Whether an `azureml` package (Azure's SDK) is importable without the hook."""
    return importlib.machinery.PathFinder.find_spec("azureml") is not None


class AzuremlFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and builds the modules of `MAPPED`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for a mapped module; None for anything else."""
        if fullname not in MAPPED:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, self, origin="runyard", is_package=fullname in _PACKAGES
        )

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """The default module object."""
        return None

    def exec_module(self, module: ModuleType) -> None:
        """Fill a mapped module with runyard's classes."""
        name = module.__name__
        required = _REQUIRED.get(name)
        exported: list[str] = []
        for source, names in MAPPED[name]:
            try:
                found = importlib.import_module(source)
            except ModuleNotFoundError as exc:
                if exc.name != source or source == required:
                    if source == required:
                        raise ImportError(
                            f"{name} maps to {source}, which this runyard does not have "
                            "(upgrade runyard for its model registry)",
                            name=name,
                        ) from exc
                    raise
                continue  # an optional source runyard does not have (yet)
            for attribute in names if names is not None else getattr(found, "__all__", []):
                if hasattr(found, attribute):
                    setattr(module, attribute, getattr(found, attribute))
                    exported.append(attribute)
        for alias, target in _ALIASES.get(name, {}).items():
            if hasattr(module, target):
                setattr(module, alias, getattr(module, target))
        module.__all__ = exported  # type: ignore[attr-defined]
        module.__doc__ = f"runyard's stand-in for {name} (see runyard.sdk.azureml_imports)."


_finder: AzuremlFinder | None = None


def install() -> bool:
    """Serve `azureml.core` imports from runyard; returns whether the hook is active.

    Does nothing (and returns False) when Azure's own `azureml` package is installed.
    """
    global _finder
    if _finder is not None:
        return True
    if real_azureml_installed():
        log.info("an azureml package is installed: azureml imports stay Azure's")
        return False
    _finder = AzuremlFinder()
    sys.meta_path.append(_finder)
    return True


def uninstall() -> None:
    """Remove the hook and forget the modules it made (tests)."""
    global _finder
    if _finder is None:
        return
    sys.meta_path[:] = [f for f in sys.meta_path if f is not _finder]
    for name in [n for n in sys.modules if n == "azureml" or n.startswith("azureml.")]:
        if getattr(sys.modules[name], "__spec__", None) is not None and (
            sys.modules[name].__spec__.loader is _finder  # type: ignore[union-attr]
        ):
            del sys.modules[name]
    _finder = None
