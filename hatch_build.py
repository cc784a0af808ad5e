"""Builds GraphiQL's browser files into the wheel, so an installed ocm-gql serves its
playground offline with no checkout and no npm.

The files are exactly those the server serves (gql/http/playground_files.py), taken from
the locked npm install in gql/playground and put at gql/_playground_assets/<package>/ in
the wheel, beside each package's package.json. When the install is missing or not what the
lock file pins, `npm ci` makes it; without npm the build fails, saying so. Editable
installs run from the checkout and use its npm install directly, so they copy nothing.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class PlaygroundAssetsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        files = _load(root / "gql" / "http" / "playground_files.py")
        project = root / "gql" / "playground"
        node_modules = project / "node_modules"
        if _stale(project, files):
            _npm_ci(project)
            if problems := _stale(project, files):
                raise RuntimeError(f"`npm ci` in {project} left {', '.join(problems)}")
        for file in files.required_files():
            build_data["force_include"][str(node_modules / file)] = (
                f"gql/{files.PACKAGED_FOLDER}/{file}"
            )


def _load(path: Path) -> ModuleType:
    """The shared list, by its path: importing `gql` would need its dependencies."""
    spec = importlib.util.spec_from_file_location("playground_files", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stale(project: Path, files: ModuleType) -> list[str]:
    """What keeps the npm install from going into a wheel: missing files, or a package
    whose installed version is not the one the lock file pins."""
    node_modules = project / "node_modules"
    problems = [
        f"{file} missing" for file in files.required_files() if not (node_modules / file).is_file()
    ]
    if problems:
        return problems
    locked = json.loads((project / "package-lock.json").read_text())["packages"]
    for package in files.PACKAGES:
        installed = json.loads((node_modules / package / "package.json").read_text())["version"]
        wanted = locked[f"node_modules/{package}"]["version"]
        if installed != wanted:
            problems.append(f"{package} {installed} installed, {wanted} locked")
    return problems


def _npm_ci(project: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "The wheel carries GraphiQL's files from gql/playground/node_modules, which is "
            "missing or out of date, and npm is not installed to make it: install Node.js "
            "and npm, or run `npm ci --prefix gql/playground` where npm is, then build again."
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=project, check=True)
