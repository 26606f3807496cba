"""Where the real exports are: ``../shared/data`` beside the repository or $TWIN_SHARED_DATA.

A fresh clone has no ``../shared``: tests marked ``shared_data`` are then skipped, with the
reason below, by ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TWIN_SHARED_DATA") or REPO.parent / "shared" / "data")
SKIP_REASON = f"shared data not found at {SHARED_DATA} (set TWIN_SHARED_DATA to its folder)"


def shared_data_dir() -> Path | None:
    """The folder, or None when it is absent."""
    return SHARED_DATA if SHARED_DATA.is_dir() else None
