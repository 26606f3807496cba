"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real exports in ``../shared/data`` beside the repository, or ``$TWIN_SHARED_DATA``.

    Skips the test when the folder is absent (a fresh clone has no ``../shared``).
    """
    path = Path(os.environ.get("TWIN_SHARED_DATA") or REPO.parent / "shared" / "data")
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set TWIN_SHARED_DATA to its folder)")
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every glb any test wrote under its tmp_path passes the Khronos glTF validator.

    Tests that check glTF on purpose do so themselves; this catches every other glb a
    test produced (API, CLI and viewer tests convert too), in one batch at the end.
    Files in folders named ``invalid*`` are deliberately broken and left out.
    """
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or exitstatus not in (0, 1):
        return
    try:
        base = factory.getbasetemp()
    except (OSError, ValueError):
        return
    glbs = [
        p
        for p in base.rglob("*.glb")
        if not any(part.startswith("invalid") for part in p.relative_to(base).parts)
    ]
    if not glbs:
        return
    from tiles.gltf_validator import validate_glbs

    bad = {p: r for p, r in validate_glbs(glbs).items() if not r.ok}
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"glTF validator: {len(glbs)} glb files written by tests, {len(bad)} with errors"
        )
    if bad:
        for path, report in list(bad.items())[:10]:
            codes = sorted({m.get("code", "?") for m in report.messages if m.get("severity") == 0})
            if reporter is not None:
                reporter.write_line(f"  {path}: {report.errors} errors {codes}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
