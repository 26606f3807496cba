"""Run the Khronos glTF validator (npm ``gltf-validator``) over many files in one Node process.

Starting Node costs about as much as validating a small tile, so the files go to
``validate_gltf.mjs`` as one batch on stdin and come back as one JSON report per line.
GLB, glTF JSON and b3dm (its embedded GLB, plus checks of the b3dm header reported with
``TWIN_B3DM_*`` codes) are accepted.

``gltf-validator`` 2.0.0-dev.3.10 does not know ``EXT_mesh_features`` or
``EXT_structural_metadata``: it reports ``UNSUPPORTED_EXTENSION`` (an info, not an error
or warning) and does not look inside them. See :func:`validator_info`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ValidatorUnavailable

SCRIPT = Path(__file__).with_name("validate_gltf.mjs")
PACKAGE = "gltf-validator"
ENV_NODE_MODULES = "TWIN_NODE_MODULES"
MAX_ISSUES = 100
#: Seconds for Node to start plus seconds per file; a batch gets the sum as its timeout.
BASE_TIMEOUT = 30.0
PER_FILE_TIMEOUT = 5.0


@dataclass(frozen=True)
class GltfReport:
    """The validator's verdict on one file; ``messages`` as the validator gives them
    (``code``, ``message``, ``severity`` 0 error .. 3 hint, ``pointer`` or ``offset``)."""

    errors: int
    warnings: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    infos: int = 0
    hints: int = 0
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.errors == 0

    @property
    def codes(self) -> set[str]:
        return {str(m.get("code")) for m in self.messages}


def find_node_modules() -> Path:
    """The ``node_modules`` directory holding ``gltf-validator``.

    ``$TWIN_NODE_MODULES`` if set; else the first found walking up from this module's
    directory, then from the working directory.
    """
    given = os.environ.get(ENV_NODE_MODULES)
    if given:
        path = Path(given)
        if not (path / PACKAGE / "package.json").is_file():
            raise ValidatorUnavailable(
                f"${ENV_NODE_MODULES} is {given!r}, which holds no {PACKAGE}; "
                "run `npm install` in the repository or fix the variable"
            )
        return path.resolve()
    for origin in (SCRIPT.parent, Path.cwd()):
        for directory in (origin.resolve(), *origin.resolve().parents):
            candidate = directory / "node_modules"
            if (candidate / PACKAGE / "package.json").is_file():
                return candidate
    raise ValidatorUnavailable(
        f"npm package {PACKAGE} not found in any node_modules above {SCRIPT.parent} or the "
        f"working directory; run `npm install` in the repository or set ${ENV_NODE_MODULES}"
    )


def _node_executable(node: str) -> str:
    found = shutil.which(node)
    if found is None:
        raise ValidatorUnavailable(f"Node.js executable {node!r} not found; install Node 20+")
    return found


def _run(args: list[str], *, node: str, stdin: str, timeout: float, max_issues: int) -> list[str]:
    env = dict(os.environ)
    env[ENV_NODE_MODULES] = str(find_node_modules())
    env["TWIN_GLTF_MAX_ISSUES"] = str(max_issues)
    try:
        done = subprocess.run(
            [_node_executable(node), str(SCRIPT), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidatorUnavailable(f"glTF validator gave no answer within {timeout:.0f} s") from exc
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise ValidatorUnavailable(f"glTF validator failed (exit {done.returncode}): {detail[0]}")
    return done.stdout.splitlines()


def validate_glbs(
    paths: list[Path],
    *,
    node: str = "node",
    max_issues: int = MAX_ISSUES,
    timeout: float | None = None,
) -> dict[Path, GltfReport]:
    """Validate every file in ``paths`` with one Node process; one report per path.

    A file that cannot be read or is not glTF at all gets one error
    (``TWIN_READ_FAILED`` or ``TWIN_UNREADABLE_ASSET``). At most ``max_issues`` messages
    are kept per file (``truncated`` says so; counts then cover only those kept; 0 keeps
    all).
    Raises :class:`~tiles.errors.ValidatorUnavailable` when Node or the package is missing,
    the process fails or ``timeout`` seconds (default: 30 + 5 per file) pass.
    """
    if not paths:
        return {}
    files = [str(Path(p).resolve()) for p in paths]
    limit = timeout if timeout is not None else BASE_TIMEOUT + PER_FILE_TIMEOUT * len(files)
    lines = _run([], node=node, stdin=json.dumps(files), timeout=limit, max_issues=max_issues)
    if len(lines) != len(files):
        raise ValidatorUnavailable(
            f"glTF validator answered for {len(lines)} of {len(files)} files"
        )
    reports: dict[Path, GltfReport] = {}
    for original, line in zip(paths, lines, strict=True):
        raw = json.loads(line)
        reports[original] = GltfReport(
            errors=int(raw["numErrors"]),
            warnings=int(raw["numWarnings"]),
            messages=list(raw["messages"]),
            infos=int(raw["numInfos"]),
            hints=int(raw["numHints"]),
            truncated=bool(raw["truncated"]),
        )
    return reports


def validator_info(*, node: str = "node") -> dict[str, Any]:
    """``{"version": ..., "supportedExtensions": [...]}`` of the installed validator."""
    lines = _run(["--info"], node=node, stdin="", timeout=BASE_TIMEOUT, max_issues=0)
    info: dict[str, Any] = json.loads(lines[0])
    return info
