"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from shared import SKIP_REASON, shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real exports in ``../shared/data`` beside the repository, or ``$TWIN_SHARED_DATA``.

    Skips the test when the folder is absent (a fresh clone has no ``../shared``).
    """
    path = shared_data_dir()
    if path is None:
        pytest.skip(SKIP_REASON)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``shared_data`` marker skips its test, visibly, when the real exports are absent."""
    if shared_data_dir() is not None:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("shared_data"):
            item.add_marker(skip)


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


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (skips when none can be started,
    unless ``TWIN_REQUIRE_POSTGRES`` is set, as CI does)."""
    url = os.environ.get("TWIN_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from pgserver import find_bindir, postgres_server

    if find_bindir() is None:
        if os.environ.get("TWIN_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (TWIN_REQUIRE_POSTGRES) but initdb is missing")
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    import shutil
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="twin-test-postgres-"))
    try:
        with postgres_server(workdir) as admin_url:
            yield admin_url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test, on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'twin.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text

    admin = request.getfixturevalue("postgres_admin_url")
    name = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
