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
