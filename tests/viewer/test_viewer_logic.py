"""Runs the viewer's pure-logic tests (``tests/viewer/*.test.mjs``) with ``node --test``.

The modules under test (``viewer/js/format.js``, ``rows.js``, ``extent.js``, ``config.js``,
``http.js``, and the catalogue's ``catalogue-query.js``, ``catalogue-style.js``,
``catalogue-api.js``, ``project-form-model.js``, ``project-geometry.js``, ``user.js``,
``strings.js``) touch neither the DOM nor CesiumJS, so Node runs them without a browser.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def test_viewer_logic_with_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the viewer's logic tests need Node 20+)")
    files = sorted(str(p.relative_to(REPO)) for p in HERE.glob("*.test.mjs"))
    assert files, "no *.test.mjs files found"
    # viewer/js/*.js are ES modules in a package without "type": "module"; Node detects that.
    cmd = [node, "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON", "--test", *files]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"node --test failed:\n{done.stdout[-6000:]}\n{done.stderr}"
